--- ctct_example.cookie: a signed, HttpOnly cookie holding the OAuth login's
-- state (state, PKCE verifier, redirect URI) between /connect and the callback.
--
-- value = base64url(JSON payload) "." base64url(HMAC-SHA256(secret, payload)),
-- checked in constant time (core.equal) and refused after `max_age` seconds.
-- The verifier is a secret, but only for the few minutes of a login and only to
-- the browser that started it; a deployment that wants it hidden from that
-- browser too can keep it server side, keyed by the state.
local core = require "ctct.core"
local json = require "ctct.json"

local M = {}

M.NAME = "ctct_login"

local function sign(secret, payload)
  return core.b64url_encode(core.hmac_sha256(secret, payload))
end

--- The Set-Cookie value for `data` (a table), valid for max_age seconds.
function M.make(secret, data, max_age, secure)
  data.exp = ngx.time() + max_age
  local payload = core.b64url_encode(json.encode(data))
  return M.NAME .. "=" .. payload .. "." .. sign(secret, payload) .. "; Path=/connect; Max-Age=" .. max_age ..
    "; HttpOnly; SameSite=Lax" .. (secure and "; Secure" or "")
end

--- The Set-Cookie value that deletes it.
function M.clear(secure)
  return M.NAME .. "=; Path=/connect; Max-Age=0; HttpOnly; SameSite=Lax" .. (secure and "; Secure" or "")
end

--- The data of this request's cookie | nil, reason.
function M.read(secret)
  local value = ngx.var["cookie_" .. M.NAME]
  if not value or value == "" then return nil, "no login cookie (start at /connect)" end
  local payload, mac = value:match("^([%w_-]+)%.([%w_-]+)$")
  if not payload then return nil, "malformed login cookie" end
  if not core.equal(sign(secret, payload), mac) then return nil, "login cookie signature does not match" end
  local ok, text = pcall(core.b64url_decode, payload)
  local data = ok and json.decode(text)
  if type(data) ~= "table" then return nil, "malformed login cookie" end
  if type(data.exp) ~= "number" or data.exp < ngx.time() then return nil, "login cookie expired" end
  return data
end

return M
