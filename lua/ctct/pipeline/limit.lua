--- ctct.pipeline.limit: the client-side rate limit stage. Before each attempt the
-- limiter (ctct.ratelimit, or one shared by several clients) says how long to
-- wait; the stage waits, unless that would pass the call's deadline or the day's
-- budget is spent.
local deadline = require "ctct.pipeline.deadline"
local errors = require "ctct.errors"

local M = {}

--- Waits for the limiter: the seconds waited (0: none), or nil and a `rate_limited` error.
---@param state table the client
---@param at number the call's deadline
---@param method string
---@param path string
---@return number|nil waited
---@return ctct.Error? err
function M.wait(state, at, method, path)
  local limiter = state.limiter
  if not limiter then return 0 end
  local wait, reset_in = limiter:take()
  if wait == false then -- a shared budget booked further ahead than the limiter may reserve
    return nil, errors.new {
      kind = "rate_limited", error_key = "budget_booked", retry_after = reset_in, method = method, path = path,
      message = "the API key's shared rate budget has no free slot soon enough; try again in " ..
        string.format("%.1f", reset_in or 1) .. " s",
    }
  end
  if not wait then
    return nil, errors.new {
      kind = "rate_limited", error_key = "quota_exceeded", retry_after = reset_in,
      message = "the client's daily request budget is used up; it resets at 00:00 UTC",
      method = method, path = path,
    }
  end
  if wait > 0 then
    if not deadline.fits(state, at, wait) then
      return nil, errors.new {
        kind = "rate_limited", retry_after = wait, method = method, path = path,
        message = "waiting for the client rate limiter would pass the call's deadline",
      }
    end
    state.sleep(wait)
    state.waited = (state.waited or 0) + wait
  end
  return wait
end

--- The API said the day's quota is spent (429 quota_exceeded): the limiter stops
-- sending until midnight UTC, when it has a daily budget.
---@param state table
---@param err ctct.Error
function M.observe(state, err)
  local limiter = state.limiter
  if err.status == 429 and err.error_key == "quota_exceeded" and limiter and limiter.exhaust_day then
    limiter:exhaust_day()
  end
end

return M
