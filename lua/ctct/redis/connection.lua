--- ctct.redis.connection: one way to send a command to Redis from either runtime,
-- for the Redis token store and rate limiter (and ctct.redis.scripts.run):
--
--   local conn = require("ctct.redis.connection").new{ host = "127.0.0.1", port = 6379 }
--   local reply, err = conn:call{ "GET", "k" }      -- reply | nil, { kind, code?, message }
--
-- Plain Lua: ctct.core's hiredis client, connected on first use and again after
-- an I/O error (the core drops a connection whose reply stream cannot be trusted).
-- Inside nginx: Debian's lua-nginx-redis (lua-resty-redis, `nginx.redis`) over
-- cosockets, a connection from nginx's keep-alive pool per call: nothing blocks a
-- worker. Either way a nil reply is core.redis_nil, an error reply is
-- { kind = "redis", code, message }, a failure { kind = "network"|"timeout"|"auth", message }.
local core = require "ctct.core"

---@class ctct.redis.connection
local M = {}

---@class ctct.redis.Options
---@field host? string default 127.0.0.1
---@field port? integer default 6379
---@field unix? string a unix socket path instead of host and port
---@field username? string an ACL user (with password)
---@field password? string
---@field db? integer
---@field timeout? number seconds per command (default 2)
---@field connect_timeout? number seconds (default 2)
---@field pool_size? integer nginx: connections kept per worker (default 32)
---@field idle_timeout? number nginx: seconds an idle pooled connection lives (default 60)
---@field sentinels? {host: string, port: integer}[] ask these Sentinels for the master (instead of host/port)
---@field master? string the master's name at the Sentinels (default "ctct")

local KNOWN = { host = true, port = true, unix = true, username = true, password = true, db = true, timeout = true,
                connect_timeout = true, pool_size = true, idle_timeout = true, sentinels = true, master = true }

-- Errors after which the connection is dropped and, with Sentinels, the master asked
-- for again: the link failed, or the server is a replica now (a failover happened).
local function stale(err)
  return type(err) == "table" and (err.kind == "network" or err.kind == "timeout" or err.code == "READONLY"
    or err.code == "MASTERDOWN")
end

local function in_nginx()
  local ngx_ = rawget(_G, "ngx")
  return type(ngx_) == "table" and type(ngx_.socket) == "table" and ngx_.get_phase ~= nil
end

---@class ctct.redis.Connection
---@field opts ctct.redis.Options
local Conn = {}
Conn.__index = Conn

--- A connection for these options (nothing is sent until the first call).
---@param opts ctct.redis.Options
---@return ctct.redis.Connection
function M.new(opts)
  if type(opts) ~= "table" then error("ctct.redis.connection.new: expected a table of options", 2) end
  for k in pairs(opts) do
    if not KNOWN[k] then error("ctct.redis.connection.new: unknown option '" .. tostring(k) .. "'", 2) end
  end
  return setmetatable({ opts = opts, conn = nil }, Conn)
end

-- Plain Lua ----------------------------------------------------------------------------

-- The master's address from the first Sentinel that knows it.
local function core_master(o)
  local why = "no Sentinel given"
  for _, s in ipairs(o.sentinels) do
    local sc, err = core.redis_connect { host = s.host, port = s.port, connect_timeout = o.connect_timeout or 2,
                                         timeout = o.timeout or 2 }
    if sc then
      local addr
      addr, err = sc:command { "SENTINEL", "get-master-addr-by-name", o.master or "ctct" }
      sc:close()
      if type(addr) == "table" and addr[1] and addr[2] then return addr[1], tonumber(addr[2]) end
    end
    why = err and err.message or "the Sentinel does not know the master"
  end
  return nil, { kind = "network", message = "redis: no Sentinel named the master (" .. tostring(why) .. ")" }
end

local function core_call(self, argv, retried)
  local c = self.conn
  local reused = c ~= nil and c:connected() and self.answered
  if not (c and c:connected()) then
    local o = self.opts
    local host, port = o.host, o.port
    if o.sentinels then
      host, port = core_master(o)
      if not host then return nil, port end
    end
    local err
    c, err = core.redis_connect { host = host, port = port, unix = o.unix, username = o.username,
                                  password = o.password, db = o.db, timeout = o.timeout,
                                  connect_timeout = o.connect_timeout }
    if not c then return nil, err end
    self.conn = c
  end
  local reply, err = c:command(argv)
  if reply == nil and stale(err) then
    self:close()
    -- A connection that had answered before went stale (a restart, a failover, an idle
    -- timeout): once more on a new one. (A command whose reply was lost may then run
    -- twice: the scripts are safe for that — a budget slot spent, a lease that waits
    -- out its TTL, a compare-and-set refused.)
    if reused and not retried and err.kind == "network" then return core_call(self, argv, true) end
    return reply, err
  end
  self.answered = true
  return reply, err
end

-- nginx --------------------------------------------------------------------------------

local function from_resty(v)
  if v == rawget(_G, "ngx").null then return core.redis_nil end
  if type(v) == "table" then
    if v[1] == false and type(v[2]) == "string" and #v == 2 then -- an error inside an array
      return { kind = "redis", code = v[2]:match("^(%u+)"), message = v[2] }
    end
    for i = 1, #v do v[i] = from_resty(v[i]) end
  end
  return v
end

-- A server text that would contain the password, with the password taken out.
local function hide(text, secret)
  local at, stop = text:find(secret, 1, true)
  if not at then return text end
  return text:sub(1, at - 1) .. "[secret]" .. hide(text:sub(stop + 1), secret)
end

local function resty_failure(err)
  local kind = err == "timeout" and "timeout" or "network"
  return { kind = kind, message = "redis: " .. tostring(err) }
end

-- The master's address from the Sentinels, over cosockets; cached on the connection
-- object until a command fails in a way that says it moved.
local function resty_master(self)
  if self.master_addr then return self.master_addr[1], self.master_addr[2] end
  local o, why = self.opts, "no Sentinel given"
  for _, s in ipairs(o.sentinels) do
    local red = require("nginx.redis"):new()
    red:set_timeouts(math.floor((o.connect_timeout or 2) * 1000), 2000, 2000)
    local ok, err = red:connect(s.host, s.port)
    if ok then
      local addr
      addr, err = red:sentinel("get-master-addr-by-name", o.master or "ctct")
      red:close()
      if type(addr) == "table" and addr[1] and addr[2] then
        self.master_addr = { addr[1], tonumber(addr[2]) }
        return addr[1], tonumber(addr[2])
      end
    end
    why = err or "the Sentinel does not know the master"
  end
  return nil, { kind = "network", message = "redis: no Sentinel named the master (" .. tostring(why) .. ")" }
end

local function resty_call(self, argv)
  local o = self.opts
  if o.sentinels then
    local host, port = resty_master(self)
    if not host then return nil, port end
    o = setmetatable({ host = host, port = port, sentinels = false }, { __index = o })
  end
  local red = require("nginx.redis"):new()
  local ms = math.floor((o.timeout or 2) * 1000)
  red:set_timeouts(math.floor((o.connect_timeout or 2) * 1000), ms, ms)
  -- One pool per server, database and user: a pooled connection is already logged in.
  local pool = { pool = "ctct:" .. (o.unix or ((o.host or "127.0.0.1") .. ":" .. (o.port or 6379))) .. ":" ..
    (o.db or 0) .. ":" .. (o.username or "") }
  local ok, err
  if o.unix then
    ok, err = red:connect("unix:" .. o.unix, pool)
  else
    ok, err = red:connect(o.host or "127.0.0.1", o.port or 6379, pool)
  end
  if not ok then return nil, resty_failure(err) end
  if red:get_reused_times() == 0 then -- a new connection: log in once
    if o.password then
      if o.username then ok, err = red:auth(o.username, o.password) else ok, err = red:auth(o.password) end
      if not ok then
        red:close()
        return nil, { kind = "auth", message = "redis: AUTH refused (" .. hide(tostring(err), o.password) .. ")" }
      end
    end
    if o.db then
      ok, err = red:select(o.db)
      if not ok then red:close() return nil, resty_failure(err) end
    end
  end
  local reply
  reply, err = red[argv[1]:lower()](red, (table.unpack or unpack)(argv, 2)) -- luacheck: ignore 143
  if reply == nil then -- the connection failed: never pooled
    red:close()
    self.master_addr = nil
    return nil, resty_failure(err)
  end
  red:set_keepalive(math.floor((o.idle_timeout or 60) * 1000), o.pool_size or 32)
  if reply == false then
    local e = { kind = "redis", code = tostring(err):match("^(%u+)"), message = err }
    if stale(e) then self.master_addr = nil end
    return nil, e
  end
  return from_resty(reply)
end

--- Send one command; its reply, or nil and { kind, code?, message }.
---@param argv (string|number)[] the command and its arguments
---@return any reply the decoded reply (any Redis value), or nil
---@return table? err { kind, code?, message }
function Conn:call(argv)
  if in_nginx() then return resty_call(self, argv) end
  return core_call(self, argv)
end

--- Close the plain-Lua connection (nginx's pooled ones are nginx's).
function Conn:close()
  if self.conn then self.conn:close() end
  self.conn, self.answered = nil, nil
end

--- A function(argv) -> reply | nil, err over this connection, for ctct.redis.scripts.run.
---@return fun(argv: (string|number)[]): any, table? caller: a reply (any Redis value), or nil and the error
function Conn:caller()
  return function(argv) return self:call(argv) end
end

return M
