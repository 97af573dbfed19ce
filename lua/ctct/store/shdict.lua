--- ctct.store.shdict: tokens in an nginx lua_shared_dict, shared by all workers.
--
--   # nginx.conf, http {}:   lua_shared_dict ctct_tokens 1m;
--   local store = require("ctct.store.shdict").new{ dict = "ctct_tokens" }
--   local client = ctct.new{ token_store = store, account = "user:42", client_id = ..., ... }
--
-- The store interface of ctct.store.memory (get, set, delete, lock). lock(key, fn)
-- is a cross-worker lock (ctct.ngx.lock: dict:add with a TTL, waiters poll with
-- ngx.sleep), so when 4 workers x 50 requests find one expired token, exactly
-- one refreshes it and the others find the fresh token in the dict.
--
-- A shared dict lives as long as the nginx master: tokens survive reloads
-- (HUP) but not a restart. Keep the refresh tokens somewhere durable too if
-- a new login after a restart is not acceptable (see README, OpenResty).
local json = require "ctct.json"
local errors = require "ctct.errors"
local options = require "ctct.options"
local lock = require "ctct.ngx.lock"

local M = {}
local Store = {}
Store.__index = Store

--- new{ dict = "ctct_tokens", prefix = "token:", lock_ttl = 30, lock_timeout = 30 }
-- Raises when nginx.conf has no lua_shared_dict of that name.
M.OPTIONS = { dict = "string", prefix = "string", lock_ttl = "number", lock_timeout = "number" }

function M.new(opts)
  opts = options.check("ctct.store.shdict.new", opts, M.OPTIONS, 2)
  local name = opts.dict or "ctct_tokens"
  return setmetatable({
    dict = require("ctct.ngx.shdict").get(name, "ctct.store.shdict", 2),
    dict_name = name,
    prefix = opts.prefix or "token:",
    lock_ttl = opts.lock_ttl or 30,
    lock_timeout = opts.lock_timeout or 30,
    name = "shdict",
  }, Store)
end

function Store:get(key)
  local text = self.dict:get(self.prefix .. key)
  if text == nil then return nil end
  local token = json.decode(text)
  if type(token) ~= "table" then
    return nil, errors.new { kind = "validation", message = "the token of '" .. key .. "' in lua_shared_dict '" ..
      self.dict_name .. "' is not JSON" }
  end
  return token
end

function Store:set(key, token)
  local text, why = json.encode(token)
  if not text then return nil, errors.new { kind = "validation", message = "cannot encode the token: " .. why } end
  -- safe_set never evicts other keys (other accounts' tokens) to make room.
  local ok, err = self.dict:safe_set(self.prefix .. key, text)
  if not ok then
    return nil, errors.new { kind = "validation", message = "cannot store the token in lua_shared_dict '" ..
      self.dict_name .. "': " .. tostring(err) .. " (make it larger)" }
  end
  return true
end

function Store:delete(key)
  self.dict:delete(self.prefix .. key)
  return true
end

--- fn runs while no other coroutine of any worker holds key's lock.
function Store:lock(key, fn)
  return lock.run(self.dict, "lock:" .. self.prefix .. key, fn,
    { ttl = self.lock_ttl, timeout = self.lock_timeout })
end

return M
