--- ctct.ratelimit.daily: the API key's daily request budget (10,000 by default),
-- which resets at 00:00 UTC. The one implementation both limiters use; the count
-- lives where the limiter keeps its state, behind a counter:
--
--   counter:incr(key) -> the new count | nil, err      counter:get(key) -> count | nil
--   counter:set(key, n)
--
-- memory() counts in the process (ctct.ratelimit); ctct.ngx.ratelimit counts in a
-- shared dict (every worker of an nginx).
local floor = math.floor

---@class ctct.ratelimit.daily
local M = {}

local function utc_day(t) return floor(t / 86400) end

---@class ctct.ratelimit.Budget
---@field daily integer requests a UTC day allows
---@field time fun(): number Unix time
---@field counter table where the count lives (incr, get, set)
local Budget = {}
Budget.__index = Budget

--- A budget of `daily` requests per UTC day, counted by `counter`.
---@param daily integer
---@param time fun(): number Unix time
---@param counter table
---@return ctct.ratelimit.Budget
function M.new(daily, time, counter)
  return setmetatable({ daily = daily, time = time, counter = counter }, Budget)
end

local function key(self) return "day:" .. utc_day(self.time()) end

--- Seconds until the budget resets (the next 00:00 UTC).
---@return number
function Budget:until_reset()
  local t = self.time()
  return (utc_day(t) + 1) * 86400 - t
end

--- Counts one request: true, or nil and the seconds until the reset when today's
-- budget is spent (or true when the counter fails: our bookkeeping never blocks the API).
---@return true|nil ok
---@return number? reset_in
function Budget:take()
  local used = self.counter:incr(key(self))
  if used and used > self.daily then return nil, self:until_reset() end
  return true
end

--- Marks today's budget as spent (the API answered quota_exceeded).
function Budget:exhaust()
  self.counter:set(key(self), self.daily)
end

--- Requests left today.
---@return integer
function Budget:remaining()
  return math.max(0, self.daily - (self.counter:get(key(self)) or 0))
end

local Memory = {}
Memory.__index = Memory
function Memory:incr(k)
  if k ~= self.key then self.key, self.n = k, 0 end
  self.n = self.n + 1
  return self.n
end
function Memory:get(k) return k == self.key and self.n or nil end
function Memory:set(k, n) self.key, self.n = k, n end

--- A counter in this process's memory (it keeps only the current day).
---@return table counter
function M.memory()
  return setmetatable({ key = nil, n = 0 }, Memory)
end

return M
