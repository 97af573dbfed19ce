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

---@class ctct.store.shdict
---@field OPTIONS table<string, string> new's option names -> their types (ctct.options rules)
local M = {}

--- Tokens (as JSON) in an nginx lua_shared_dict, with a cross-worker lock per key.
---@class ctct.store.shdict.Store
---@field name 'shdict'
---@field dict table the ngx.shared dictionary
---@field dict_name string its name in nginx.conf
---@field prefix string prepended to each key (default "token:")
---@field lock_ttl number seconds a lock lives if its holder dies
---@field lock_timeout number seconds lock() waits for a held lock
local Store = {}
Store.__index = Store

--- new{ dict = "ctct_tokens", prefix = "token:", lock_ttl = 30, lock_timeout = 30 }
-- Raises when nginx.conf has no lua_shared_dict of that name.
M.OPTIONS = { dict = "string", prefix = "string", lock_ttl = "number", lock_timeout = "number" }

--- Make a store on the lua_shared_dict `opts.dict` (default "ctct_tokens").
--- Raises on a bad option, outside nginx, or when nginx.conf has no such dict.
---@param opts? ctct.store.shdict.Options
---@return ctct.store.shdict.Store
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

--- The token stored under `key`, or nil.
---@param key string the account
---@return ctct.TokenRecord|nil token
---@return ctct.Error? err the stored value is not JSON
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

--- Store `token` (as JSON) under `key`; never evicts other keys to make room.
---@param key string the account
---@param token ctct.TokenRecord
---@return true|nil ok
---@return ctct.Error? err it cannot be encoded, or the dict is full
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

--- Forget the token of `key`.
---@param key string the account
---@return true ok
function Store:delete(key)
  self.dict:delete(self.prefix .. key)
  return true
end

--- fn runs while no other coroutine of any worker holds key's lock.
---@param key string the account
---@param fn fun(): ... runs holding the lock
---@return any ... fn's results (any values), or nil and a ctct.Error when the lock cannot be had
function Store:lock(key, fn)
  return lock.run(self.dict, "lock:" .. self.prefix .. key, fn,
    { ttl = self.lock_ttl, timeout = self.lock_timeout })
end

return M
