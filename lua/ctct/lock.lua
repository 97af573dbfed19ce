--- ctct.lock: the one way ctct waits — for a condition (wait_until) or for a lock
-- (with_lock over a backend). The memory and file stores, nginx's shared-dict lock
-- and the partner token's single flight all use it; a backend is two methods, the
-- shape any other shared lock (Redis) plugs into:
--
--   backend:try(key)            -> handle (taken) | false (someone holds it) | nil, err
--   backend:release(key, handle)
--
--   lock.with_lock(lock.memory(), "acct", fn, { timeout = 30, sleep = core.sleep })
--   lock.wait_until(function() return flight.done end, { timeout = 30, step = 0.01, sleep = s })
local compat = require "ctct.compat"
local errors = require "ctct.errors"

---@class ctct.lock
local M = {}

---@class ctct.lock.WaitOptions
---@field timeout number seconds to wait at most (counted in steps slept)
---@field sleep fun(seconds: number) core.sleep, or ngx.sleep inside nginx (yields)
---@field step number the first wait, seconds
---@field max_step? number waits double up to this (default: step, no backoff)
---@field message string the timeout error's message

--- Calls ready() until its first result is truthy, then returns its results;
-- ready() returning nil, err stops with err; after opts.timeout, a `timeout` error.
---@param ready fun(): ...
---@param opts ctct.lock.WaitOptions
---@return any ... ready's results (any values), or nil and a ctct.Error
function M.wait_until(ready, opts)
  local step, max_step = opts.step, opts.max_step or opts.step
  local waited = 0
  while true do
    local results = compat.pack(ready())
    if results[1] then return compat.unpack(results, 1, results.n) end
    if results[1] == nil and results[2] ~= nil then return nil, results[2] end
    if waited >= opts.timeout then return nil, errors.new { kind = "timeout", message = opts.message } end
    opts.sleep(step)
    waited = waited + step
    step = math.min(step * 2, max_step)
  end
end

--- Runs fn(handle) holding `key`'s lock on `backend` (waiting for it as opts say), and
-- releases it however fn ends; fn's results, or nil and why the lock was not had.
---@param backend {try: fun(self: table, key: string): any, release: fun(self: table, key: string, handle: any)}
---@param key string
---@param fn fun(handle: any): ... gets what backend:try answered (a fencing token, say)
---@param opts ctct.lock.WaitOptions
---@return any ... fn's results (any values), or nil and a ctct.Error
function M.with_lock(backend, key, fn, opts)
  local handle, err = M.wait_until(function()
    local h, why = backend:try(key)
    if h == nil then return nil, why end
    return h
  end, opts)
  if not handle then return nil, err end
  return compat.ensure(function() return fn(handle) end, function() backend:release(key, handle) end)
end

local Memory = {}
Memory.__index = Memory
function Memory:try(key)
  if self.held[key] then return false end
  self.held[key] = true
  return true
end
function Memory:release(key)
  self.held[key] = nil
end

--- A lock backend in this process's memory (coroutines of one process).
---@return table backend
function M.memory()
  return setmetatable({ held = {} }, Memory)
end

return M
