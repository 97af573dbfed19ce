--- ctct.ratelimit.bucket: the in-process limiter: a token bucket (4 requests/s,
-- burst 1 by default) and the daily budget (ctct.ratelimit.daily, in memory).
-- ctct.ratelimit.new makes one unless told to share (shared_dict, redis).
---@class ctct.ratelimit.bucket
local M = {}

local daily = require "ctct.ratelimit.daily"

local min = math.min

--- A token bucket plus a daily budget; `take()` before each request.
---@class ctct.ratelimit.Limiter
---@field rate number requests per second (the per_second option)
---@field burst number how many requests may go at once
---@field daily number|false the daily budget, false for none
local Limiter = {}
Limiter.__index = Limiter

local DEFAULTS = { per_second = 4, burst = 1, daily = 10000 }

local function positive(opts, name)
  local v = opts[name]
  if v == nil then return DEFAULTS[name] end
  if v == false and name == "daily" then return false end
  if type(v) ~= "number" or not (v > 0) then
    error("rate_limit." .. name .. " must be a positive number", 3)
  end
  if name == "burst" and v < 1 then error("rate_limit.burst must be at least 1", 3) end
  return v
end

M.OPTIONS = { per_second = "number", burst = "number", daily = "number|false", clock = "function",
              time = "function" }

--- A bucket (see ctct.ratelimit.new). Raises on an unknown option or a bad value.
---@param opts table
---@return ctct.ratelimit.Limiter
function M.new(opts)
  for k in pairs(opts) do
    if M.OPTIONS[k] == nil then
      local near = type(k) == "string" and require("ctct.options").nearest(k, M.OPTIONS)
      error("rate_limit: unknown option '" .. tostring(k) .. "'" .. (near and ("; use '" .. near .. "'") or ""), 2)
    end
  end
  local self = setmetatable({
    rate = positive(opts, "per_second"),
    name = "local",
    burst = positive(opts, "burst"),
    daily = positive(opts, "daily"),
    clock = opts.clock or require("ctct.core").monotonic,
    time = opts.time or require("ctct.core").time,
  }, Limiter)
  self.tokens = self.burst
  self.updated = self.clock()
  self.budget = self.daily and daily.new(self.daily, self.time, daily.memory()) or nil
  return self
end

--- Seconds until the next 00:00 UTC.
---@return number seconds
function Limiter:until_reset()
  return daily.new(0, self.time):until_reset()
end

--- Reserve one request. Returns the seconds to wait before sending it (0 when
--- it may go now), or nil and the seconds until the daily budget resets.
---@return number|nil wait seconds to wait before sending (0: now); nil when the day's budget is used up
---@return number? reset_in seconds until the daily budget resets (when wait is nil)
function Limiter:take()
  if self.budget then
    local ok, reset_in = self.budget:take()
    if not ok then return nil, reset_in end
  end
  local now = self.clock()
  self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
  self.updated = now
  self.tokens = self.tokens - 1
  if self.tokens >= 0 then return 0 end
  return -self.tokens / self.rate
end

--- The server said the daily quota is gone: stop sending until 00:00 UTC.
function Limiter:exhaust_day()
  if self.budget then self.budget:exhaust() end
end

--- Requests left today (nil when there is no daily budget).
---@return integer|nil left
function Limiter:remaining_today()
  return self.budget and self.budget:remaining() or nil
end

return M
