--- ctct.oauth.partner: technology partners' tokens, the client credentials grant at
-- the partner token endpoint (they cannot be refreshed: a new one is asked for).
local core = require "ctct.core"
local json = require "ctct.json"
local request = require "ctct.oauth.request"

local M = {}

M.PARTNER_TOKEN_URL = "https://v3api-partner.auth.us-east-1.amazoncognito.com/oauth2/token"
M.PARTNER_SCOPE = "v3api/general.partner"

--- A partner token (client credentials grant at the partner token endpoint).
-- opts: client_id, client_secret, scope? (default v3api/general.partner),
-- token_url? (default M.PARTNER_TOKEN_URL), transport?, time?, timeout?, cafile?.
-- Returns a token { access_token, token_type, expires_at, obtained_at, scope? }
-- (it cannot be refreshed: ask for a new one) or nil, err (kind "auth" with the
-- server's OAuth error in error_key, or network/timeout/tls). The secret never
-- appears in an error.
local function client_credentials(opts)
  if type(opts) ~= "table" then request.bad("options", "expected a table") end
  local id = request.need_string(opts, "client_id")
  local secret = opts.client_secret
  if type(secret) ~= "string" or secret == "" then request.bad("client_secret", "required (a non-empty string)") end
  local scope = opts.scope or M.PARTNER_SCOPE
  if type(scope) == "table" then scope = table.concat(scope, " ") end
  if type(scope) ~= "string" or scope == "" or scope:find("%c") then
    request.bad("scope", "a non-empty string such as " .. M.PARTNER_SCOPE)
  end
  local token_url = opts.token_url or M.PARTNER_TOKEN_URL
  if type(token_url) ~= "string" or not token_url:match("^https?://[^/%s]+") then
    request.bad("token_url", "must be an absolute http(s) URL")
  end
  local transport = request.transport_of(opts)
  local ok, req = pcall(core.oauth_client_credentials_request, token_url, id, secret, scope)
  if not ok then request.bad("client_id", "cannot build the token request (too long or invalid)") end
  local res, err = transport:request(req)
  if not res then return nil, err end
  local decoded = json.decode(res.body or "")
  local token, e = core.oauth_token(res.status, decoded, request.wall_clock(opts, transport)())
  if not token then
    if e.error_key == "server_error" and res.status == 415 then
      e.error_key = "unsupported_media_type"
    end
    e = request.auth_error(e)
    -- A server may echo what it was sent: the secret never leaves in error text.
    if e.message and e.message:find(secret, 1, true) then
      e.message = e.message:gsub(secret:gsub("%p", "%%%0"), "[secret]")
    end
    return nil, e
  end
  return token
end

M.client_credentials = client_credentials

return M
