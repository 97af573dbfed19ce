-- What the OAuth endpoints share: OAuth error answers (RFC 6749 5.2), form bodies,
-- unguessable values and scopes.
local http = require "sandbox.http"
local jose = require "sandbox.jose"

local _M = {}

-- Token responses and errors must not be cached (RFC 6749 5.1).
function _M.no_store(extra)
  local h = { ["Cache-Control"] = "no-store", Pragma = "no-cache" }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

-- Raises an OAuth error answer {"error", "error_description"}; headers adds some.
function _M.fail(status, code, description, headers)
  http.fail_body(status, { error = code, error_description = description }, _M.no_store(headers))
end

-- The OAuth error code of a raised answer (for stats), or nil.
function _M.error_code(err)
  return http.is_error(err) and type(err.body) == "table" and err.body.error or nil
end

-- A fresh unguessable value: n bytes from OpenSSL's CSPRNG, base64url.
function _M.random(n)
  return jose.b64url(jose.random_bytes(n))
end

-- application/x-www-form-urlencoded decoding ("+" is a space; RFC 6749 appendix B).
function _M.form_decode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

function _M.b64url_decode(s)
  if type(s) ~= "string" or s:find("[^%w%-_]") then return nil end
  s = s:gsub("-", "+"):gsub("_", "/")
  return ngx.decode_base64(s .. string.rep("=", (4 - #s % 4) % 4))
end

-- Parameters as single strings: a repeated one is an error (RFC 6749 3.1, 3.2) and an
-- empty one counts as absent. Returns the table, or nil and the repeated name.
function _M.single_values(args)
  local out = {}
  for k, v in pairs(args) do
    if type(v) == "table" then return nil, k end
    if type(v) == "string" and v ~= "" then out[k] = v end
  end
  return out
end

-- The request's x-www-form-urlencoded body. No Content-Type at all answers 415, as
-- the API does; another type is an OAuth invalid_request (400).
function _M.form()
  local ctype = ngx.var.content_type
  if ctype == nil or ctype == "" then
    _M.fail(415, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
  end
  if not ctype:lower():match("^%s*application/x%-www%-form%-urlencoded%s*;?") then
    _M.fail(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded, got '"
      .. ctype .. "'")
  end
  http.read_body()
  local args, err = ngx.req.get_post_args(100)
  if not args or err then
    _M.fail(400, "invalid_request", "cannot read the form body: " .. tostring(err))
  end
  local form, repeated = _M.single_values(args)
  if not form then _M.fail(400, "invalid_request", "parameter '" .. repeated .. "' is repeated") end
  return form
end

-- Scopes the sandbox grants: Constant Contact's plus OpenID Connect's openid.
_M.SCOPES = {
  account_read = true, account_update = true, contact_data = true, campaign_data = true,
  billing_data = true, offline_access = true, openid = true,
}

-- "a b a" -> { "a", "b" }, or nil and an error description. Scopes are separated by
-- single spaces (RFC 6749 3.3).
function _M.parse_scopes(s)
  if s == nil then return nil, "the 'scope' parameter is required" end
  local out, seen = {}, {}
  for scope in s:gmatch("[^ ]+") do
    if not _M.SCOPES[scope] then
      return nil, "One or more scopes are not configured for the authorization server resource: '"
        .. scope .. "'"
    end
    if not seen[scope] then
      seen[scope] = true
      out[#out + 1] = scope
    end
  end
  if #out == 0 then return nil, "the 'scope' parameter is empty" end
  return out
end

function _M.has(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

-- RFC 7636 4.1: 43-128 characters of [A-Za-z0-9-._~] (verifiers and challenges alike).
function _M.valid_pkce(s)
  return type(s) == "string" and #s >= 43 and #s <= 128 and not s:find("[^%w%-%._~]")
end

return _M
