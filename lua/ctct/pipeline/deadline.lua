--- ctct.pipeline.deadline: every call has a deadline (the deadline option, 120 s
-- by default) that rate-limit waits, attempts and retry delays all count against;
-- each attempt gets the per-attempt timeout or what is left, whichever is less.
local errors = require "ctct.errors"

local M = {}

--- When a call started now must be over (the client's clock).
---@param state table the client
---@return number at
function M.start(state)
  return state.clock() + state.deadline
end

--- True when waiting `seconds` more still ends before `at`.
---@param state table
---@param at number
---@param seconds number
---@return boolean
function M.fits(state, at, seconds)
  return state.clock() + seconds <= at
end

--- The timeout of the next attempt, or nil and a `timeout` error when the deadline passed.
---@param state table
---@param at number
---@param per_attempt number
---@param method string
---@param path string
---@return number|nil timeout
---@return ctct.Error? err
function M.attempt_timeout(state, at, per_attempt, method, path)
  local remaining = at - state.clock()
  if remaining <= 0 then
    return nil, errors.new { kind = "timeout", message = "the call's deadline passed before it could be sent",
                             method = method, path = path }
  end
  return math.min(per_attempt, remaining)
end

return M
