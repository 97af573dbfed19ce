--- ctct.store.memory: tokens in this process only (tests, short scripts).
--
-- The interface every token store has (file, ngx shared dict, Redis too):
--   store:get(key) -> token | nil[, err]
--   store:set(key, token) -> true | nil, err
--   store:delete(key) -> true | nil, err
--   store:lock(key, fn) -> fn's results: fn runs while no one else holds key's lock
-- `key` names the account (one API key, many accounts: one token each).
local compat = require "ctct.compat"
local core = require "ctct.core"
local errors = require "ctct.errors"
local options = require "ctct.options"

local M = {}
local Store = {}
Store.__index = Store

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

--- new{ sleep = fn, lock_timeout = 30 }
M.OPTIONS = { sleep = "function", lock_timeout = "number" }

function M.new(opts)
  opts = options.check("ctct.store.memory.new", opts, M.OPTIONS, 2)
  -- Inside nginx, waiting must yield (ngx.sleep), never block the worker.
  local ngx_ = rawget(_G, "ngx")
  local default_sleep = type(ngx_) == "table" and ngx_.sleep or core.sleep
  return setmetatable({ tokens = {}, locks = {}, sleep = opts.sleep or default_sleep,
                        lock_timeout = opts.lock_timeout or 30, name = "memory" }, Store)
end

function Store:get(key)
  local t = self.tokens[key]
  return t and copy(t) or nil
end

function Store:set(key, token)
  self.tokens[key] = copy(token)
  return true
end

function Store:delete(key)
  self.tokens[key] = nil
  return true
end

-- Coroutines (OpenResty light threads) may share a store: the lock makes the
-- others wait (sleep yields there) until the holder is done.
function Store:lock(key, fn)
  local waited = 0
  while self.locks[key] do
    if waited >= self.lock_timeout then
      return nil, errors.new { kind = "timeout", message = "timed out waiting for the token lock of " .. key }
    end
    self.sleep(0.01)
    waited = waited + 0.01
  end
  self.locks[key] = true
  return compat.ensure(fn, function() self.locks[key] = nil end)
end

return M
