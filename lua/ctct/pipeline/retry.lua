--- ctct.pipeline.retry: after a failed attempt, whether to try again and when,
-- by the client's retry policy (ctct.retry: idempotent methods, 429/5xx and
-- network failures, backoff with jitter, Retry-After), within the deadline.
local M = {}

--- The delay before the next attempt, or nil when the call ends with err (then
-- err.attempts says how many were made, when more than one).
---@param state table the client
---@param err ctct.Error the attempt's error
---@param method string
---@param path string
---@param attempt integer this attempt's number, from 1
---@param at number the call's deadline
---@return number|nil delay seconds
function M.delay(state, err, method, path, attempt, at)
  local policy = state.retry_policy
  if not policy then return nil end
  local delay, why_not = policy:decide(method, attempt, err)
  if not delay then
    if attempt > 1 then err.attempts = attempt end
    state:log("debug", string.format("%s %s: not retrying (%s): %s", method, path, why_not, err.message))
    return nil
  end
  if state.clock() + delay >= at then -- the attempt after the wait would start past the deadline
    err.attempts = attempt
    return nil
  end
  state:log("info", string.format("%s %s: attempt %d failed (%s%s), retrying in %.2f s",
    method, path, attempt, err.status and ("HTTP " .. err.status) or err.kind,
    err.error_key and (" " .. err.error_key) or "", delay))
  return delay
end

return M
