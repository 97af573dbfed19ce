--- ctct.store.redis: tokens in Redis, shared by every host and process of a fleet
-- that uses one API key (the store interface of ctct.store.memory: get, set,
-- delete, lock). With ctct.new{ token_store = ... } a token is refreshed once per
-- expiry for the whole fleet: the refresh runs under lock(), a Redis lease.
--
--   local store = require("ctct.store.redis").new { redis = { host = "127.0.0.1", port = 6379 },
--                                                   api_key = CLIENT_ID }
--   local client = ctct.new { token_store = store, account = "acct-1", client_id = CLIENT_ID }
--
-- Keys (ctct.redis.scripts.keyspace, one Redis Cluster slot per API key):
--   {ctct:<api key>}:token:<account>   hash { version, doc = the token as JSON }
--   {ctct:<api key>}:lease:token:<account>   the refresh lease (its holder's fence, PX ttl)
--   {ctct:<api key>}:fence             the fencing counter (only grows)
-- Every write is a compare-and-set on the version (token_cas_set): under the lease
-- the version is the lease's fence, so a holder whose lease expired mid-refresh can
-- never overwrite the token a newer holder wrote; outside a lease a new fence is drawn.
local compat = require "ctct.compat"
local core = require "ctct.core"
local errors = require "ctct.errors"
local json = require "ctct.json"
local lock = require "ctct.lock"
local options = require "ctct.options"
local scripts = require "ctct.redis.scripts"

---@class ctct.store.redis
---@field OPTIONS table<string, string> new's option names -> their types
local M = {}

M.OPTIONS = { redis = "table", api_key = "string", prefix = "string", lease_ttl = "number",
              lock_timeout = "number", sleep = "function", replicas = "integer", replica_timeout = "number" }

--- Tokens of one API key in Redis.
---@class ctct.store.redis.Store
---@field keys table the key names (ctct.redis.scripts.keyspace)
---@field redis ctct.redis.Connection
---@field lease_ttl number seconds a refresh lease lasts at most
---@field lock_timeout number seconds to wait for a lease
---@field name string "redis"
local Store = {}
Store.__index = Store

local function storage_error(what, err)
  return errors.new { kind = "storage", message = "redis token store: " .. what .. ": " ..
    tostring(type(err) == "table" and err.message or err) }
end

--- A store. opts.redis: connection options (ctct.redis.Options, Sentinels too) or a
--- connection; opts.api_key: the API key (client id) whose accounts these are;
--- replicas: wait (WAIT, replica_timeout seconds) for that many replicas after each write.
---@param opts ctct.store.redis.Options
---@return ctct.store.redis.Store
function M.new(opts)
  opts = options.check("ctct.store.redis.new", opts, M.OPTIONS, 2)
  if type(opts.api_key) ~= "string" then error("ctct.store.redis.new: api_key (the client id) is required", 2) end
  if type(opts.redis) ~= "table" then error("ctct.store.redis.new: redis (connection options) is required", 2) end
  local conn = opts.redis
  if type(conn.call) ~= "function" then conn = require("ctct.redis.connection").new(conn) end
  local ngx_ = rawget(_G, "ngx")
  return setmetatable({
    keys = scripts.keyspace(opts.api_key, { prefix = opts.prefix }),
    redis = conn,
    lease_ttl = opts.lease_ttl or 30,
    lock_timeout = opts.lock_timeout or 30,
    -- Inside nginx, waiting must yield (ngx.sleep), never block the worker.
    sleep = opts.sleep or (type(ngx_) == "table" and ngx_.sleep) or core.sleep,
    fences = {}, -- account -> the fence of the lease this store holds now
    replicas = opts.replicas or 0, replica_timeout = opts.replica_timeout or 1,
    name = "redis",
  }, Store)
end

--- The token stored for `account`, or nil.
---@param account string
---@return ctct.TokenRecord|nil token
---@return ctct.Error? err Redis unreachable, or a stored document that is not JSON
function Store:get(account)
  local doc, err = self.redis:call { "HGET", self.keys:token(account), "doc" }
  if doc == nil then return nil, storage_error("reading " .. account, err) end
  if doc == core.redis_nil then return nil end
  local token = json.decode(doc)
  if type(token) ~= "table" then return nil, storage_error("reading " .. account, "the stored token is not JSON") end
  return token
end

-- A version newer than every one written so far (the fence counter only grows).
local function new_version(self)
  local v, err = self.redis:call { "INCR", self.keys.fence }
  if v == nil then return nil, err end
  return v
end

--- Store `token` for `account`: true, or nil and a `storage` error (Redis
--- unreachable, or a newer token was written meanwhile: then the stored one stays).
---@param account string
---@param token ctct.TokenRecord
---@return true|nil ok
---@return ctct.Error? err
function Store:set(account, token)
  local doc, why = json.encode(token)
  if not doc then return nil, storage_error("writing " .. account, why) end
  local version = self.fences[account]
  local err
  if not version then
    version, err = new_version(self)
    if not version then return nil, storage_error("writing " .. account, err) end
  end
  local reply
  reply, err = scripts.run(self.redis:caller(), "token_cas_set", { self.keys:token(account) }, { version, doc })
  if not reply then return nil, storage_error("writing " .. account, err) end
  if reply[1] ~= 1 then
    return nil, storage_error("writing " .. account, "a newer token (version " .. tostring(reply[2]) ..
      ") was stored meanwhile; ours (version " .. version .. ") was not written")
  end
  -- With replicas: wait until that many replicas have the token before it is used, so
  -- a failover right after (asynchronous replication) cannot bring back the rotated one.
  -- Fewer acknowledgements (a master cut off from its replicas, which Sentinel is about
  -- to demote) is a failed write: the caller writes again, to whichever is master then.
  if self.replicas > 0 then
    local acked = self.redis:call { "WAIT", self.replicas, math.floor(self.replica_timeout * 1000) }
    if (tonumber(acked) or 0) < self.replicas then
      return nil, storage_error("writing " .. account, "written, but only " .. tostring(tonumber(acked) or 0) ..
        " of " .. self.replicas .. " replicas have it")
    end
  end
  return true
end

--- Forget `account`'s token.
---@param account string
---@return true|nil ok
---@return ctct.Error? err
function Store:delete(account)
  local ok, err = self.redis:call { "DEL", self.keys:token(account) }
  if ok == nil then return nil, storage_error("deleting " .. account, err) end
  return true
end

-- The lock backend (ctct.lock) of a Redis lease with a fencing token.
local function lease_backend(self)
  return {
    try = function(_, account)
      local r, err = scripts.run(self.redis:caller(), "lease_acquire",
        { self.keys:lease("token:" .. account), self.keys.fence }, { math.floor(self.lease_ttl * 1000) })
      if not r then return nil, storage_error("taking the lease of " .. account, err) end
      if r[1] ~= 1 then return false end
      -- With replicas, the lease (and its fence) must survive a failover before the
      -- refresh starts: a lease lost with the old master would let a second host refresh.
      if self.replicas > 0 then
        local acked = self.redis:call { "WAIT", self.replicas, math.floor(self.replica_timeout * 1000) }
        if (tonumber(acked) or 0) < self.replicas then -- not safe yet: give it back, try again
          scripts.run(self.redis:caller(), "lease_release", { self.keys:lease("token:" .. account) }, { r[2] })
          return false
        end
      end
      return r[2]
    end,
    release = function(_, account, fence)
      scripts.run(self.redis:caller(), "lease_release", { self.keys:lease("token:" .. account) }, { fence })
    end,
  }
end

--- Run fn holding `account`'s lease (fleet-wide: one holder at a time on any host);
--- fn's results, or nil and a `timeout` or `storage` error when the lease was not had.
---@param account string
---@param fn fun(): ...
---@return any ... fn's results (any values), or nil and a ctct.Error
function Store:lock(account, fn)
  return lock.with_lock(lease_backend(self), account, function(fence)
    self.fences[account] = fence -- set() writes with the lease's fence as the version
    return compat.ensure(fn, function() self.fences[account] = nil end)
  end, { timeout = self.lock_timeout, sleep = self.sleep, step = 0.01, max_step = 0.1,
         message = "timed out after " .. self.lock_timeout .. " s waiting for the refresh lease of " .. account })
end

return M
