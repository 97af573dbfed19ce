--- ctct.oauth.request: what every OAuth flow shares — Constant Contact's endpoints
-- and scopes, argument checks that raise naming the argument, the transport, and
-- the token request (built and parsed in C: ctct.core.oauth_*).
local config = require "ctct.config"
local core = require "ctct.core"
local errors = require "ctct.errors"
local json = require "ctct.json"

local M = {}

M.AUTHZ_URL = "https://authz.constantcontact.com/oauth2/default/v1"

--- The scopes Constant Contact defines (protocol reference), plus OpenID's.
M.SCOPES = { "account_read", "account_update", "contact_data", "campaign_data", "billing_data",
             "offline_access", "openid" }
local KNOWN_SCOPE = {}
for _, s in ipairs(M.SCOPES) do KNOWN_SCOPE[s] = true end

--- The four endpoints under an authorization server base URL.
---@param base? string the authorization server's base URL (default AUTHZ_URL)
---@return {authorize: string, token: string, device: string, revoke: string} urls
function M.endpoints(base)
  base = (base or M.AUTHZ_URL):gsub("/+$", "")
  return { authorize = base .. "/authorize", token = base .. "/token",
           device = base .. "/device/authorize", revoke = base .. "/revoke" }
end

-- Raise a programmer error naming the argument (level 3: the caller of the flow).
function M.bad(name, rule)
  error("ctct.oauth: bad argument '" .. name .. "': " .. rule, 3)
end

function M.need_string(opts, name)
  local v = opts[name]
  if type(v) ~= "string" or v == "" then M.bad(name, "required (a non-empty string)") end
  return v
end

function M.endpoint(opts, which)
  local given = opts[which .. "_url"]
  if given ~= nil then
    if type(given) ~= "string" or not given:match("^https?://[^/%s]+") then
      M.bad(which .. "_url", "must be an absolute http(s) URL")
    end
    return given
  end
  return M.endpoints(opts.authz_url)[which]
end

-- Scopes as one space-separated string; unknown names are refused with the
-- valid list (a typo would otherwise surface as a confusing server error),
-- unless opts.strict_scopes == false (other servers), which only warns.
function M.scope_string(opts)
  local scope = opts.scope
  if type(scope) == "string" then
    local list = {}
    for s in scope:gmatch("%S+") do list[#list + 1] = s end
    scope = list
  end
  if type(scope) ~= "table" or #scope == 0 then
    M.bad("scope", "a non-empty list such as { \"contact_data\", \"offline_access\" }")
  end
  for _, s in ipairs(scope) do
    if type(s) ~= "string" or s:find("[%s%c\"\\]") then M.bad("scope", "scope names are plain words") end
    if not KNOWN_SCOPE[s] then
      local msg = "unknown scope '" .. s .. "'; Constant Contact's scopes are " .. table.concat(M.SCOPES, ", ")
      if opts.strict_scopes == false then
        if opts.logger then opts.logger("warn", "ctct.oauth: " .. msg) end
      else
        M.bad("scope", msg)
      end
    end
  end
  return table.concat(scope, " ")
end

function M.check_redirect_uri(uri)
  if type(uri) ~= "string" or not uri:match("^https?://[^/%s]+") then
    M.bad("redirect_uri", "must be an absolute http(s) URL registered for the app")
  end
  if uri:find("#", 1, true) then M.bad("redirect_uri", "must not contain a fragment") end
  return uri
end

function M.client_of(opts)
  local id = M.need_string(opts, "client_id")
  local secret = opts.client_secret
  if secret ~= nil and (type(secret) ~= "string" or secret == "") then
    M.bad("client_secret", "must be a non-empty string when given")
  end
  return { id = id, secret = secret }
end

-- The transport for a call: the caller's, or a new one (ngx inside nginx, else curl).
function M.transport_of(opts)
  return config.transport { transport = opts.transport, timeout = opts.timeout or 30,
                            connect_timeout = opts.connect_timeout, cafile = opts.cafile, insecure = opts.insecure }
end

function M.wall_clock(opts, transport)
  return opts.time or transport.time or core.time
end

function M.auth_error(e)
  if errors.is(e) then return e end
  return errors.new { kind = "auth", error_key = e.error_key, status = e.status,
                      message = "OAuth: " .. (e.error_key or "error") .. ": " .. (e.message or "") }
end

-- POST a form request; returns status, decoded JSON (or nil) | nil, err.
function M.send(transport, req)
  local res, err = transport:request(req)
  if not res then return nil, err end
  return res.status, json.decode(res.body or "")
end

-- Run a token request and parse the answer into a token.
function M.token_call(opts, params)
  local transport = M.transport_of(opts)
  local req = core.oauth_form_request(M.endpoint(opts, "token"), params, M.client_of(opts))
  local status, decoded = M.send(transport, req)
  if not status then return nil, decoded end
  local token, e = core.oauth_token(status, decoded, M.wall_clock(opts, transport)())
  if not token then return nil, M.auth_error(e) end
  return token
end

return M
