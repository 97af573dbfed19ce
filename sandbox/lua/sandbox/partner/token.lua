-- The partner token endpoint (stands in for Amazon Cognito's
-- https://v3api-partner.auth.us-east-1.amazoncognito.com/oauth2/token):
-- POST /partner-auth/oauth2/token with HTTP Basic client credentials,
-- grant_type=client_credentials and scope=v3api/general.partner (in the query string
-- or the form body). Answers Cognito's shapes: {"access_token", "token_type",
-- "expires_in"} or {"error"}. Partner tokens cannot be refreshed.
--   ptoken:<jwt>        -> "<client_id> <generation>" (TTL = the token's lifetime)
--   partner:generation  -> bumped by POST /__sandbox/partner/revoke: tokens of an older
--                          generation answer 401
local store = require "sandbox.store"
local http = require "sandbox.http"
local util = require "sandbox.util"
local config = require "sandbox.config"
local issuer = require "sandbox.issuer"
local clients = require "sandbox.partner.clients"

local m = store.m

local _M = {}

_M.PATH = "/partner-auth/oauth2/token"
_M.SCOPE = "v3api/general.partner"

local function generation() return m.get("partner:generation") or 0 end

-- Cognito's error answer: {"error": code} and nothing else.
local function fail(status, code, headers)
  local h = { ["Cache-Control"] = "no-store", Pragma = "no-cache" }
  for k, v in pairs(headers or {}) do h[k] = v end
  http.fail_body(status, { error = code }, h)
end

-- Query and form parameters together (the form wins); a repeated one is an error.
local function params()
  local out = {}
  local function take(args)
    for k, v in pairs(args) do
      if type(v) == "table" then fail(400, "invalid_request") end
      if v == true then v = "" end
      out[k] = v
    end
  end
  take(ngx.req.get_uri_args(100))
  http.read_body()
  local form, err = ngx.req.get_post_args(100)
  if not form or err then fail(400, "invalid_request") end
  take(form)
  return out
end

local function client_from_basic()
  local header = ngx.var.http_authorization
  local encoded = header and header:match("^%s*[Bb][Aa][Ss][Ii][Cc]%s+(%S+)%s*$")
  local decoded = encoded and ngx.decode_base64(encoded)
  local id, secret = (decoded or ""):match("^([^:]*):(.*)$")
  if not id then return nil end
  local client = clients.get(id)
  if not client or not clients.same(secret, client.client_secret) then return nil end
  return client
end

-- A partner access token: a JWT signed with the sandbox's access-token key, with the
-- claims of a Cognito client-credentials token. Returns the JWT and its lifetime.
function _M.issue(client)
  local ttl = config.get().partner_token_ttl
  local now = ngx.time()
  local null = http.null
  local jwt = issuer.token({
    expires_in = ttl,
    claims = {
      iss = issuer.base_url() .. "/partner-auth", sub = client.client_id, client_id = client.client_id,
      token_use = "access", scope = _M.SCOPE, version = 2, auth_time = now, iat = now, exp = now + ttl,
      jti = util.uuid(),
      aud = null, cid = null, uid = null, platform_user_id = null, scp = null,
    },
  })
  m.set("ptoken:" .. jwt, client.client_id .. " " .. generation(), ttl)
  return jwt, ttl
end

-- The partner of a live, unrevoked partner token, or nil.
function _M.lookup(token)
  local value = m.get("ptoken:" .. token)
  if not value then return nil end
  local client_id, gen = value:match("^(%S+) (%d+)$")
  if tonumber(gen) ~= generation() then return nil end
  return clients.get(client_id)
end

-- Every partner token issued so far answers 401 from now on.
function _M.revoke_all()
  m.incr("partner:generation", 1, 0)
end

function _M.serve(method)
  if method ~= "POST" then fail(405, "invalid_request", { Allow = "POST" }) end
  local ctype = ngx.var.content_type or ""
  if not ctype:lower():match("^%s*application/x%-www%-form%-urlencoded%s*;?") then
    fail(415, "unsupported_media_type")
  end
  local client = client_from_basic()
  if not client then fail(400, "invalid_client") end
  local p = params()
  if p.grant_type == nil or p.grant_type == "" then fail(400, "invalid_request") end
  if p.grant_type ~= "client_credentials" then fail(400, "unsupported_grant_type") end
  -- No scope: Cognito grants every scope the app may have, here the one.
  for scope in (p.scope or _M.SCOPE):gmatch("[^ ]+") do
    if scope ~= _M.SCOPE then fail(400, "invalid_scope") end
  end
  local jwt, ttl = _M.issue(client)
  return http.send(200, { access_token = jwt, token_type = "Bearer", expires_in = ttl },
    { ["Cache-Control"] = "no-store", Pragma = "no-cache" })
end

return _M
