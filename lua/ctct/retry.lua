--- ctct.retry: when to try a request again, and how long to wait first.
--
-- Retried: 429 `throttled` (never `quota_exceeded`, the daily quota), and for
-- idempotent methods 502/503/504 and connection failures. A POST (or PATCH)
-- is retried only when the server provably did not process it: a 429, or a
-- connection that failed before the request was sent. Waits grow
-- exponentially with jitter; a longer Retry-After from the server wins (the
-- backoff stays the floor, so `Retry-After: 0` cannot make a burst).
local M = {}

local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }
M.IDEMPOTENT = IDEMPOTENT

local RETRY_STATUS = { [502] = true, [503] = true, [504] = true }

local Policy = {}
Policy.__index = Policy

--- "Equal jitter": half the backoff plus a random half, so waits still grow.
function M.equal_jitter(delay, random)
  return delay / 2 + (random or math.random)() * delay / 2
end

local DEFAULTS = { max_attempts = 4, base_delay = 0.5, max_delay = 30, max_retry_after = 60 }

--- new{ max_attempts = 4, base_delay = 0.5, max_delay = 30, max_retry_after = 60,
--       jitter = function(delay) -> seconds, random = function() -> [0,1) }
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({}, Policy)
  for k, v in pairs(opts) do
    if DEFAULTS[k] ~= nil then
      if type(v) ~= "number" or not (v >= 0) or (k == "max_attempts" and v < 1) then
        error("retry." .. k .. " must be a " .. (k == "max_attempts" and "number >= 1" or "number >= 0"), 2)
      end
    elseif k ~= "jitter" and k ~= "random" then
      error("retry: unknown option '" .. tostring(k) .. "'", 2)
    elseif type(v) ~= "function" then
      error("retry." .. k .. " must be a function", 2)
    end
  end
  for k, v in pairs(DEFAULTS) do self[k] = opts[k] or v end
  local random = opts.random
  self.jitter = opts.jitter or function(delay) return M.equal_jitter(delay, random) end
  return self
end

--- The backoff before attempt `attempt + 1`, before jitter.
function Policy:backoff(attempt)
  return math.min(self.max_delay, self.base_delay * 2 ^ (attempt - 1))
end

--- Decide about a failed attempt. `failure` is a ctct.Error: from the server
-- (status set) or from the transport (kind network/timeout/..., field `sent`).
-- Returns the seconds to wait before retrying, or nil and why not.
function Policy:decide(method, attempt, failure)
  local retryable
  if failure.status == 429 then
    if failure.error_key == "quota_exceeded" then return nil, "daily quota" end
    retryable = true -- throttled: the request was refused, not processed
  elseif failure.status then
    retryable = RETRY_STATUS[failure.status] and IDEMPOTENT[method]
  elseif failure.kind == "network" or failure.kind == "timeout" then
    retryable = IDEMPOTENT[method] or failure.sent == false
  end
  if not retryable then return nil, "not retryable" end
  if attempt >= self.max_attempts then return nil, "attempts exhausted" end
  local backoff = self.jitter(self:backoff(attempt))
  if failure.retry_after then
    if failure.retry_after > self.max_retry_after then return nil, "retry-after too long" end
    -- The backoff is the floor: "Retry-After: 0" or a past date must not make
    -- the retries a burst with no delay.
    return math.max(failure.retry_after, backoff)
  end
  return backoff
end

return M
