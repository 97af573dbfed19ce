--- ctct.ratelimit.redis: one rate budget for an API key across a whole fleet (every
-- host, process and nginx worker), in Redis: GCRA for the per-second limit and the
-- daily quota in one atomic script (ctct.redis.scripts gcra_take), timed by Redis
-- TIME, so hosts with skewed clocks still share one budget and one UTC day.
--
--   local limiter = require("ctct.ratelimit.redis").new { redis = { host = "127.0.0.1" },
--                                                         api_key = CLIENT_ID, per_second = 4 }
--   local client = ctct.new { ..., rate_limit = limiter }
--   -- or ctct.new{ rate_limit = { redis = {...}, api_key = CLIENT_ID, per_second = 4 } }
--
-- take() reserves a slot: the seconds to wait before sending (0: now), nil and the
-- seconds to 00:00 UTC when the day's quota is spent, or false and a retry time when
-- the next free slot is more than max_wait away (the budget is booked that far ahead).
--
-- When Redis cannot be reached (on_redis_error): "local" (the default) counts on a
-- local limiter of per_second / hosts for this process, logging the failure, until
-- Redis answers again: the fleet as a whole stays within the budget when `hosts`
-- says how many processes share it; "fail" refuses to send (take() answers false).
-- Never an unbounded burst either way.
local core = require "ctct.core"
local options = require "ctct.options"
local scripts = require "ctct.redis.scripts"

---@class ctct.ratelimit.redis
---@field OPTIONS table<string, string> new's option names -> their types
local M = {}

M.OPTIONS = { redis = "table", api_key = "string", prefix = "string", per_second = "number", burst = "integer",
              daily = "integer|false", max_wait = "number", hosts = "integer", on_redis_error = "string",
              logger = "function", clock = "function", time = "function" }

--- A fleet-wide limiter of one API key.
---@class ctct.ratelimit.redis.Limiter
---@field rate number requests per second, for the API key
---@field burst integer
---@field daily integer|false
---@field keys table the key names (ctct.redis.scripts.keyspace)
---@field fallback table the local limiter used while Redis is unreachable (on_redis_error = "local")
---@field redis_errors integer how many takes Redis could not answer (tests, metrics)
local Limiter = {}
Limiter.__index = Limiter

-- Without a logger, nginx's error log hears of it (a silent fallback would hide an
-- outage); plain Lua stays quiet unless given one.
local function default_logger()
  local ngx_ = rawget(_G, "ngx")
  if type(ngx_) == "table" and ngx_.log then
    return function(level, msg) ngx_.log(level == "warn" and ngx_.WARN or ngx_.INFO, msg) end
  end
end

--- opts: redis (ctct.redis.Options or a connection), api_key, per_second (4), burst (1),
--- daily (10000, false: none), max_wait (seconds a reservation may lie ahead, 60), hosts
--- (processes sharing the key, for the local fallback: 1), on_redis_error ("local" | "fail"), logger.
---@param opts ctct.ratelimit.redis.Options
---@return ctct.ratelimit.redis.Limiter
function M.new(opts)
  opts = options.check("ctct.ratelimit.redis.new", opts, M.OPTIONS, 2)
  if type(opts.api_key) ~= "string" then error("ctct.ratelimit.redis.new: api_key (the client id) is required", 2) end
  if type(opts.redis) ~= "table" then error("ctct.ratelimit.redis.new: redis (connection options) is required", 2) end
  local mode = opts.on_redis_error or "local"
  if mode ~= "local" and mode ~= "fail" then
    error("ctct.ratelimit.redis.new: on_redis_error must be \"local\" or \"fail\"", 2)
  end
  local rate, hosts = opts.per_second or 4, opts.hosts or 1
  if not (rate > 0) then error("ctct.ratelimit.redis.new: per_second must be a positive number", 2) end
  if not (hosts >= 1) then error("ctct.ratelimit.redis.new: hosts must be at least 1", 2) end
  local conn = opts.redis
  if type(conn.call) ~= "function" then conn = require("ctct.redis.connection").new(conn) end
  local daily = opts.daily
  if daily == nil then daily = 10000 end
  return setmetatable({
    redis = conn, keys = scripts.keyspace(opts.api_key, { prefix = opts.prefix }),
    rate = rate, burst = opts.burst or 1, daily = daily, max_wait = opts.max_wait or 60, mode = mode,
    logger = opts.logger or default_logger(), redis_errors = 0, failing = false,
    fallback = require("ctct.ratelimit.bucket").new { per_second = rate / hosts, burst = 1, daily = false,
                                               clock = opts.clock, time = opts.time },
    time = opts.time or core.time,
    name = "redis",
  }, Limiter)
end

local function redis_failed(self, err)
  self.redis_errors = self.redis_errors + 1
  if not self.failing and self.logger then
    local why = tostring(type(err) == "table" and err.message or err)
    local now = self.mode == "local" and ("counting locally at " .. string.format("%g", self.fallback.rate) .. "/s")
      or "not sending until it answers"
    self.logger("warn", "ctct rate limiter: Redis unreachable (" .. why .. "); " .. now)
  end
  self.failing = true
  if self.mode == "local" then return self.fallback:take() end
  return false, 1
end

--- Reserve one request: seconds to wait (0: now); nil and the seconds until 00:00 UTC
--- when the quota is spent; false and seconds to try again when no slot is within max_wait.
---@return number|false|nil wait
---@return number? retry_in
function Limiter:take()
  local r, err = scripts.run(self.redis:caller(), "gcra_take", { self.keys.rate, self.keys.daily },
    { self.rate, self.burst, self.daily or 0, math.floor(self.max_wait * 1000) })
  if not r then return redis_failed(self, err) end
  if self.failing and self.logger then self.logger("info", "ctct rate limiter: Redis answers again") end
  self.failing = false
  local allowed, wait_ms, remaining = r[1], r[2], r[3]
  if allowed == 1 then return wait_ms / 1000 end
  if remaining == 0 then return nil, wait_ms / 1000 end
  return false, wait_ms / 1000
end

--- The API answered quota_exceeded: today's quota is spent for every host.
function Limiter:exhaust_day()
  if not self.daily then return end
  local r, err = scripts.run(self.redis:caller(), "quota_exhaust", { self.keys.daily }, { self.daily })
  if not r then redis_failed(self, err) end
end

--- Requests left today for the whole fleet (nil without a daily quota, or when
--- Redis cannot say).
---@return integer|nil left
function Limiter:remaining_today()
  if not self.daily then return nil end
  local r = self.redis:call { "HMGET", self.keys.daily, "day", "used" }
  local t = self.redis:call { "TIME" }
  if type(r) ~= "table" or type(t) ~= "table" then return nil end
  local today = math.floor(tonumber(t[1]) / 86400)
  if tonumber(r[1]) ~= today then return self.daily end
  return math.max(0, self.daily - (tonumber(r[2]) or 0))
end

--- Seconds until 00:00 UTC (this host's clock).
---@return number
function Limiter:until_reset()
  local now = self.time()
  return (math.floor(now / 86400) + 1) * 86400 - now
end

return M
