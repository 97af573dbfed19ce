-- How /v3/partner/... callers prove who they are: a partner token from the partner
-- token endpoint (Authorization: Bearer; else 401) and the partner's API key
-- (x-api-key; missing or wrong: 403 {"message": "Forbidden"}, as the API gateway
-- answers). Account tokens are not partner tokens (401).
local http = require "sandbox.http"
local token = require "sandbox.partner.token"
local clients = require "sandbox.partner.clients"

local _M = {}

-- Returns token, nil (no account), partner; nil when the token is not a live partner
-- token; raises the 403 when the API key is wrong.
function _M.authenticate()
  local h = ngx.var.http_authorization
  local t = h and h:match("^%s*[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
  if not t then return nil end
  local partner = token.lookup(t)
  if not partner then return nil end
  local key = ngx.var.http_x_api_key
  if not clients.same(key, partner.api_key) then
    http.fail_body(403, { message = "Forbidden" })
  end
  return t, nil, partner
end

return _M
