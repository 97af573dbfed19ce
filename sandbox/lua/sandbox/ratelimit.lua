-- Per-token limits as strict as the real API's: N requests per fixed one-second window
-- (keyed on the current second) and a daily quota that resets at 00:00 UTC. Over
-- either: 429 with a single error object (not an array), as the API answers,
--   {"error_key":"throttled","error_message":"Too Many Requests"}
--   {"error_key":"quota_exceeded","error_message":"..."}
-- and no Retry-After header, because the real API sends none.
local store = require "sandbox.store"
local http = require "sandbox.http"
local stats = require "sandbox.stats"

local m = store.m

local _M = {}

-- Raises the 429 when the request is over a limit; counts it otherwise.
function _M.check(token, cfg)
  local now = ngx.time()
  if cfg.daily_quota > 0 then
    local day = ngx.utctime():sub(1, 10)
    local used = m.incr("rl:day:" .. day .. ":" .. token, 1, 0, 2 * 86400)
    if used and used > cfg.daily_quota then
      stats.bump("quota_exceeded")
      http.fail_body(429, { error_key = "quota_exceeded",
        error_message = "Daily quota of " .. cfg.daily_quota .. " requests exceeded; it resets at 00:00 UTC" })
    end
  end
  if cfg.rate_limit_per_second > 0 then
    local used = m.incr("rl:sec:" .. now .. ":" .. token, 1, 0, 2)
    if used and used > cfg.rate_limit_per_second then
      stats.bump("throttled")
      http.fail_body(429, { error_key = "throttled", error_message = "Too Many Requests" })
    end
  end
end

return _M
