--- ctct.store.memory: tokens in this process only (tests, short scripts).
--
-- The interface every token store has (file, ngx shared dict, Redis too):
--   store:get(key) -> token | nil[, err]
--   store:set(key, token) -> true | nil, err
--   store:delete(key) -> true | nil, err
--   store:lock(key, fn) -> fn's results: fn runs while no one else holds key's lock
-- `key` names the account (one API key, many accounts: one token each).
local core = require "ctct.core"
local lock = require "ctct.lock"
local options = require "ctct.options"

--- The token set a store keeps per account (what the OAuth flows return; ctct.auth saves refreshed ones).
---@class ctct.TokenRecord
---@field access_token string
---@field refresh_token? string
---@field token_type? string "Bearer"
---@field expires_at? number Unix seconds when the access token expires
---@field obtained_at? number Unix seconds when it was issued
---@field scope? string the granted scopes, space-separated
---@field id_token? string the OpenID Connect ID token (scope openid)

---@class ctct.store.memory
---@field OPTIONS table<string, string> new's option names -> their types (ctct.options rules)
local M = {}

--- Tokens in a Lua table of this process; a lock per key, shared by its coroutines.
---@class ctct.store.memory.Store
---@field name 'memory'
---@field tokens table<string, ctct.TokenRecord> copies of the tokens, by key
---@field locks table<string, true> the keys whose lock is held
---@field lock_timeout number seconds lock() waits for a held lock
---@field sleep fun(seconds: number) how lock() waits (ngx.sleep inside nginx)
local Store = {}
Store.__index = Store

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

--- new{ sleep = fn, lock_timeout = 30 }
M.OPTIONS = { sleep = "function", lock_timeout = "number" }

--- Make an empty memory store. Raises on an unknown option or a wrong type.
---@param opts? ctct.store.memory.Options
---@return ctct.store.memory.Store
function M.new(opts)
  opts = options.check("ctct.store.memory.new", opts, M.OPTIONS, 2)
  -- Inside nginx, waiting must yield (ngx.sleep), never block the worker.
  local ngx_ = rawget(_G, "ngx")
  local default_sleep = type(ngx_) == "table" and ngx_.sleep or core.sleep
  return setmetatable({ tokens = {}, locks = lock.memory(), sleep = opts.sleep or default_sleep,
                        lock_timeout = opts.lock_timeout or 30, name = "memory" }, Store)
end

--- The token stored under `key` (a copy), or nil.
---@param key string the account
---@return ctct.TokenRecord|nil token
function Store:get(key)
  local t = self.tokens[key]
  return t and copy(t) or nil
end

--- Store (a copy of) `token` under `key`.
---@param key string the account
---@param token ctct.TokenRecord
---@return true ok
function Store:set(key, token)
  self.tokens[key] = copy(token)
  return true
end

--- Forget the token of `key`.
---@param key string the account
---@return true ok
function Store:delete(key)
  self.tokens[key] = nil
  return true
end

--- Run fn holding key's lock.
--- Coroutines (OpenResty light threads) may share a store: the lock makes the
--- others wait (sleep yields there) until the holder is done.
---@param key string the account
---@param fn fun(): ... runs holding the lock
---@return any ... fn's results (any values), or nil and a timeout ctct.Error when the lock stayed held
function Store:lock(key, fn)
  return lock.with_lock(self.locks, key, fn, { timeout = self.lock_timeout, sleep = self.sleep, step = 0.01,
                                               message = "timed out waiting for the token lock of " .. key })
end

return M
