-- Bearer tokens: which account a token acts for.
--   token:<access_token>   -> "<account>" or "<account> <grant>" (in sandbox_meta;
--                             optional TTL = expiry)
--   grant_revoked:<grant>  -> set when an OAuth grant (a token family) is revoked
-- Tokens issued by the OAuth endpoints name their grant, so revoking a family is one
-- write, however many access tokens it issued.
local store = require "sandbox.store"
local http = require "sandbox.http"
local account = require "sandbox.resources.account"

local m = store.m

local _M = {}

_M.DEFAULT_ACCOUNT = "default"

local function token_key(token) return "token:" .. token end

function _M.valid_account_name(name)
  return type(name) == "string" and #name <= 64 and name:match("^[%w_.%-]+$") ~= nil
end

function _M.valid_token(token)
  return type(token) == "string" and #token > 0 and #token <= 4096 and token:match("^[%w%-._~+/=]+$") ~= nil
end

-- Registers token for account (created on first use). ttl: seconds, optional;
-- grant: the OAuth grant id the token belongs to, optional.
function _M.register(token, account_name, ttl, grant)
  account_name = account_name or _M.DEFAULT_ACCOUNT
  if not _M.valid_token(token) then
    http.fail(400, "sandbox.token.invalid", "access_token must be a non-empty token68 string")
  end
  if not _M.valid_account_name(account_name) then
    http.fail(400, "sandbox.token.invalid", "account must be 1-64 of letters, digits and _.-")
  end
  account.ensure(account_name)
  m.set(token_key(token), grant and (account_name .. " " .. grant) or account_name, ttl)
end

-- The account and grant (or nil) of a live token; nil when it is unknown, expired or
-- its grant was revoked.
function _M.lookup(token)
  local value = m.get(token_key(token))
  if not value then return nil end
  local account_name, grant = value:match("^(%S+) (%S+)$")
  if not grant then return value end
  if m.get("grant_revoked:" .. grant) then return nil end
  return account_name, grant
end

-- Revokes every token of an OAuth grant, now and later.
function _M.revoke_grant(grant)
  m.set("grant_revoked:" .. grant, true)
end

function _M.grant_revoked(grant)
  return m.get("grant_revoked:" .. grant) ~= nil
end

-- true when the token existed.
function _M.revoke(token)
  local key = token_key(token)
  local existed = m.get(key) ~= nil
  m.delete(key)
  return existed
end

-- "Bearer"/"none"/"other" for the request log (never the token itself).
function _M.scheme()
  local h = ngx.var.http_authorization
  if h == nil then return "none" end
  if h:match("^%s*[Bb][Ee][Aa][Rr][Ee][Rr]%s") then return "Bearer" end
  return "other"
end

-- The request's bearer token and its account, or nil.
function _M.authenticate()
  local h = ngx.var.http_authorization
  local token = h and h:match("^%s*[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
  if not token then return nil end
  local account_name = _M.lookup(token)
  if not account_name then return nil end
  return token, account_name
end

return _M
