--- ctct.ngx.lock: a lock shared by all nginx workers, on a lua_shared_dict.
--
--   local lock = require "ctct.ngx.lock"
--   local a, b = lock.run(dict, "lock:account", function() ... end, { ttl = 30, timeout = 30 })
--
-- Taking it is `dict:add(key, owner, ttl)`: atomic across workers, and the TTL
-- frees a lock whose holder died (a worker crash, a killed light thread).
-- Waiters poll with ngx.sleep (which yields: other requests of the worker run
-- meanwhile), starting at 2 ms and backing off to 50 ms. Lua 5.1 (LuaJIT) code.
local errors = require "ctct.errors"
local lock = require "ctct.lock"

local M = {}

local seq = 0
local function owner_id()
  seq = seq + 1
  local pid = (ngx.worker and ngx.worker.pid and ngx.worker.pid()) or 0
  return pid .. ":" .. seq .. ":" .. ngx.now()
end

-- The lock backend (ctct.lock) over a shared dict, for one taker: the lock is a
-- key added with a TTL, its value the taker's owner id.
local Backend = {}
Backend.__index = Backend
function Backend:try(key)
  local ok, err = self.dict:add(key, self.me, self.ttl)
  if ok then return self.me end
  if err == "exists" then return false end
  return nil, errors.new { kind = "validation", message = "cannot take the lock " .. key .. ": " .. tostring(err) }
end
function Backend:release(key, me)
  if self.dict:get(key) == me then self.dict:delete(key) end
end

local function backend(dict, opts)
  return setmetatable({ dict = dict, ttl = opts.ttl or 30, me = owner_id() }, Backend)
end

-- Waits poll with ngx.sleep (it yields), 2 ms doubling up to 50 ms.
local function wait_options(key, opts)
  local timeout = opts.timeout or 30
  return { timeout = timeout, sleep = ngx.sleep, step = 0.002, max_step = 0.05,
           message = "timed out after " .. timeout .. " s waiting for the shared lock " .. key }
end

--- Wait for the lock `key` in `dict`; returns an owner token | nil, ctct.Error (timeout).
-- opts: ttl (seconds the lock lives at most, default 30), timeout (seconds to wait, default 30).
function M.acquire(dict, key, opts)
  opts = opts or {}
  local b = backend(dict, opts)
  return lock.wait_until(function()
    local me, err = b:try(key)
    if me == nil then return nil, err end
    return me
  end, wait_options(key, opts))
end

--- Release the lock if we still hold it (an expired one may belong to someone else now).
function M.release(dict, key, me)
  Backend.release({ dict = dict }, key, me)
end

--- Run fn holding the lock; returns fn's results, or nil, err when the lock could not be had.
function M.run(dict, key, fn, opts)
  opts = opts or {}
  return lock.with_lock(backend(dict, opts), key, fn, wait_options(key, opts))
end

return M
