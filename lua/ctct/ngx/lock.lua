--- ctct.ngx.lock: a lock shared by all nginx workers, on a lua_shared_dict.
--
--   local lock = require "ctct.ngx.lock"
--   local a, b = lock.run(dict, "lock:account", function() ... end, { ttl = 30, timeout = 30 })
--
-- Taking it is `dict:add(key, owner, ttl)`: atomic across workers, and the TTL
-- frees a lock whose holder died (a worker crash, a killed light thread).
-- Waiters poll with ngx.sleep (which yields: other requests of the worker run
-- meanwhile), starting at 2 ms and backing off to 50 ms. Lua 5.1 (LuaJIT) code.
local compat = require "ctct.compat"
local errors = require "ctct.errors"

local M = {}

local seq = 0
local function owner_id()
  seq = seq + 1
  local pid = (ngx.worker and ngx.worker.pid and ngx.worker.pid()) or 0
  return pid .. ":" .. seq .. ":" .. ngx.now()
end

--- Wait for the lock `key` in `dict`; returns an owner token | nil, ctct.Error (timeout).
-- opts: ttl (seconds the lock lives at most, default 30), timeout (seconds to wait, default 30).
function M.acquire(dict, key, opts)
  opts = opts or {}
  local ttl, timeout = opts.ttl or 30, opts.timeout or 30
  local me = owner_id()
  local step, waited = 0.002, 0
  while true do
    local ok, err = dict:add(key, me, ttl)
    if ok then return me end
    if err ~= "exists" then
      return nil, errors.new { kind = "validation", message = "cannot take the lock " .. key .. ": " .. tostring(err) }
    end
    if waited >= timeout then
      return nil, errors.new { kind = "timeout", message = "timed out after " .. timeout ..
        " s waiting for the shared lock " .. key }
    end
    ngx.sleep(step)
    waited = waited + step
    step = math.min(step * 2, 0.05)
  end
end

--- Release the lock if we still hold it (an expired one may belong to someone else now).
function M.release(dict, key, me)
  if dict:get(key) == me then dict:delete(key) end
end

--- Run fn holding the lock; returns fn's results, or nil, err when the lock could not be had.
function M.run(dict, key, fn, opts)
  local me, err = M.acquire(dict, key, opts)
  if not me then return nil, err end
  return compat.ensure(fn, function() M.release(dict, key, me) end)
end

return M
