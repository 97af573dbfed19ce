--- ctct.ngx.ratelimit: the client-side rate limiter shared by all nginx workers.
--
--   # nginx.conf, http {}:   lua_shared_dict ctct_ratelimit 1m;
--   local limiter = require("ctct.ngx.ratelimit").new{ dict = "ctct_ratelimit", per_second = 4 }
--   local client = ctct.new{ ..., rate_limit = limiter }
--   -- or: ctct.new{ ..., rate_limit = { shared_dict = "ctct_ratelimit", per_second = 4 } }
--
-- The same interface as ctct.ratelimit (take, exhaust_day, remaining_today), but
-- the counts live in the shared dict, so the 4 requests per second (and the daily
-- budget) of an API key hold for the whole nginx instance, not per worker.
-- Requests are counted per one-second window with dict:incr (atomic across
-- workers): a request that finds its second full reserves a slot in the next
-- second that has room, and take() says how long to wait for it. `key` separates
-- API keys sharing one dict.
local budget = require "ctct.ratelimit.daily"

local M = {}

-- The daily budget's counter (ctct.ratelimit.daily) in the dict: counts live two days.
local DictCounter = {}
DictCounter.__index = DictCounter
function DictCounter.new(dict, prefix) return setmetatable({ dict = dict, prefix = prefix }, DictCounter) end
function DictCounter:incr(key) return self.dict:incr(self.prefix .. key, 1, 0, 2 * 86400) end
function DictCounter:get(key) return self.dict:get(self.prefix .. key) end
function DictCounter:set(key, n) self.dict:set(self.prefix .. key, n, 2 * 86400) end

local Limiter = {}
Limiter.__index = Limiter

local KNOWN = { dict = true, key = true, per_second = true, burst = true, daily = true, clock = true, time = true,
                shared_dict = true }

--- new{ dict | shared_dict = name, key = "default", per_second = 4, daily = 10000 | false, time = fn }
-- (burst is accepted for compatibility with ctct.ratelimit: a window holds per_second requests.)
function M.new(opts)
  opts = opts or {}
  for k in pairs(opts) do
    if not KNOWN[k] then error("rate_limit: unknown option '" .. tostring(k) .. "'", 2) end
  end
  local rate = opts.per_second or 4
  if type(rate) ~= "number" or not (rate > 0) then error("rate_limit.per_second must be a positive number", 2) end
  local daily = opts.daily
  if daily == nil then daily = 10000 end
  if daily ~= false and (type(daily) ~= "number" or not (daily > 0)) then
    error("rate_limit.daily must be a positive number or false", 2)
  end
  local name = opts.dict or opts.shared_dict
  -- Below 1 per second a window is long enough to hold one request.
  local window = rate >= 1 and 1 or math.ceil(1 / rate)
  local self = setmetatable({
    dict = require("ctct.ngx.shdict").get(name, "ctct.ngx.ratelimit", 2),
    prefix = "rl:" .. (opts.key or "default") .. ":",
    window = window,
    capacity = math.max(1, math.floor(rate * window)),
    daily = daily,
    time = opts.time or function() ngx.update_time() return ngx.now() end,
    name = "shdict",
    rate = rate,
  }, Limiter)
  if daily ~= false then
    self.budget = budget.new(daily, self.time, DictCounter.new(self.dict, self.prefix))
  end
  return self
end

function Limiter:until_reset()
  return budget.new(0, self.time):until_reset()
end

-- How far ahead a request may be scheduled before we stop looking (seconds).
local HORIZON = 600

--- Reserve one request: seconds to wait (0: go now), or nil and the seconds
-- until the daily budget resets.
function Limiter:take()
  local now = self.time()
  local dict = self.dict
  if self.budget then
    local ok, reset_in = self.budget:take()
    if not ok then return nil, reset_in end
  end
  local w = math.floor(now / self.window)
  local last = w + math.ceil(HORIZON / self.window)
  while w <= last do
    local n, err = dict:incr(self.prefix .. "w:" .. w, 1, 0, HORIZON + 2 * self.window)
    if not n then -- a full dict: do not block the API on our own bookkeeping
      ngx.log(ngx.WARN, "ctct rate limiter: ", err)
      return 0
    end
    if n <= self.capacity then
      return math.max(0, w * self.window - now)
    end
    w = w + 1
  end
  return HORIZON
end

--- The server said the daily quota is gone: stop sending until 00:00 UTC.
function Limiter:exhaust_day()
  if self.budget then self.budget:exhaust() end
end

--- Requests left today (nil when there is no daily budget).
function Limiter:remaining_today()
  return self.budget and self.budget:remaining() or nil
end

return M
