-- OAuth counters for GET /__sandbox/stats ("oauth"). Every count is a shared-dict
-- incr, so parallel requests on several workers are counted exactly.
--   stats:oauth:<name>          grants per type, refresh_reuse, code_reuse, revocations, ...
--   stats:oauth:error:<code>    error answers of the token endpoint per OAuth error code
local store = require "sandbox.store"

local m = store.m

local _M = {}

local COUNTS = {
  "authorization_code", "refresh_token", "device_code",   -- tokens issued, per grant type
  "refresh_reuse",          -- used (rotated-away) refresh tokens presented
  "early_refresh",          -- refreshes of token sets younger than early_refresh_age
  "code_reuse",             -- authorization codes presented again
  "revocations",            -- /revoke calls that revoked a live token
  "authorizations",         -- codes issued by /authorize
  "device_authorizations",  -- device codes issued
  "throttled",              -- token requests over token_rate_limit_per_second (429)
}

local ERRORS = {
  "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
  "unsupported_grant_type", "invalid_scope", "authorization_pending", "slow_down",
  "access_denied", "expired_token", "too_many_requests",
}

function _M.bump(name)
  m.incr("stats:oauth:" .. name, 1, 0)
end

function _M.token_error(code)
  m.incr("stats:oauth:error:" .. code, 1, 0)
end

function _M.summary()
  local out, errors = {}, {}
  for _, name in ipairs(COUNTS) do out[name] = m.get("stats:oauth:" .. name) or 0 end
  for _, code in ipairs(ERRORS) do errors[code] = m.get("stats:oauth:error:" .. code) or 0 end
  out.token_errors = errors
  return out
end

return _M
