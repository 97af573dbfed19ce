--- ctct.ratelimit: the client-side limiter that keeps a client under the API's
-- limits: a token bucket (default 4 requests/s, the documented per-second
-- limit) and a daily budget (default 10,000) that resets at 00:00 UTC.
--
-- `take()` reserves a slot and tells how long to wait for it, so callers that
-- share one limiter (several clients of one API key, coroutines) queue fairly.
---@class ctct.ratelimit
---@field OPTIONS table<string, string> new's option names -> their types (ctct.options rules)
local M = {}

--- new{ per_second = 4, burst = 1, daily = 10000 | false, clock = fn, time = fn }
-- clock: monotonic seconds; time: Unix seconds (for the UTC day).
-- With `redis = <connection options>` (and api_key) it is ctct.ratelimit.redis: one
-- budget for a whole fleet of hosts.
-- With `shared_dict = <lua_shared_dict name>` (inside nginx) the limiter is
-- ctct.ngx.ratelimit: one bucket for all workers.
M.OPTIONS = { per_second = "number", burst = "number", daily = "number|false", clock = "function",
              time = "function", shared_dict = "string", redis = "table" }

--- Make a limiter (see the options above). Raises on an unknown option or a bad value.
--- With shared_dict it is a ctct.ngx.ratelimit limiter, with the same methods.
---@param opts? ctct.ratelimit.Options
---@return ctct.ratelimit.Limiter|ctct.ratelimit.redis.Limiter
function M.new(opts)
  opts = opts or {}
  if opts.shared_dict ~= nil then return require("ctct.ngx.ratelimit").new(opts) end
  if opts.redis ~= nil then return require("ctct.ratelimit.redis").new(opts) end
  return require("ctct.ratelimit.bucket").new(opts)
end

return M
