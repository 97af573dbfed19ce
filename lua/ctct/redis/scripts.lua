--- ctct.redis.scripts: the one set of Redis Lua scripts that holds the fleet's
-- atomic logic (rate budget, token compare-and-set, lease locks), used by every
-- runtime, so plain Lua and nginx can never disagree; plus the key layout and a
-- runner.
--
--   local scripts = require "ctct.redis.scripts"
--   local ks = scripts.keyspace("api-key-id")          -- { prefix = "ctct" }
--   local r, err = scripts.run(conn, "gcra_take", { ks.rate, ks.daily }, { 4, 1, 10000, 0 })
--
-- `run(conn_or_fn, name, keys, args)` sends EVALSHA and, on NOSCRIPT (a restarted or
-- failed-over server, SCRIPT FLUSH), SCRIPT LOAD and EVALSHA once more. `conn_or_fn`
-- is anything with `:command(argv)` (ctct.core's redis connection) or a function
-- `fn(argv) -> reply | nil, err` (an adapter over lua-resty-redis inside nginx).
-- ctct.core has no SHA-1, so each script's SHA1 is the one Redis answers to SCRIPT
-- LOAD (the same on every server), kept per process.
--
-- Every time comes from Redis `TIME`, never from a client's clock: hosts with
-- skewed clocks still share one budget and one notion of "today" (UTC).
-- All keys of one API key share the hash tag `{<prefix>:<api key>}`: one Redis
-- Cluster slot, so each script touches a single slot. docs/SCALING.md has the layout.
local M = {}

-- Shared preamble: argument checks that answer an error reply naming the script.
local CHECKS = [[
local function fail(what) return redis.error_reply('ERR ctct ' .. SCRIPT .. ': ' .. what) end
local function int(v, lo, hi)
  v = tonumber(v)
  if v and v >= lo and v <= hi and v == math.floor(v) then return v end
end
]]

local function script(name, nkeys, body)
  return { name = name, nkeys = nkeys, source = "local SCRIPT = '" .. name .. "'\n" .. CHECKS .. body }
end

M.scripts = {}

--- gcra_take: one request against the API key's shared budget.
-- GCRA (generic cell rate algorithm) over a theoretical arrival time (TAT, in µs
-- of Redis TIME), plus a daily quota that resets at 00:00 UTC, in one atomic step.
--   KEYS[1] rate:  TAT (µs) as a string, with a PX expiry just past it
--   KEYS[2] daily: hash { day = <UTC day number: floor(unix / 86400)>, used = n }
--   ARGV[1] per_second (0 < n <= 1e6, may be fractional)
--   ARGV[2] burst (integer >= 1): requests that may go at once after an idle time;
--           any 1-second window then sees at most per_second + burst - 1
--   ARGV[3] daily quota (integer >= 0; 0: none)
--   ARGV[4] max_wait_ms (>= 0, default 0): a request whose slot is at most this far
--           ahead is admitted now with its slot reserved (the caller sleeps wait_ms,
--           then sends); a request whose slot is further ahead is refused
--           and reserves nothing
-- Returns { allowed (0/1), wait_ms, remaining_today (-1: no daily quota), now_us }:
--   allowed = 1: send after wait_ms (0: now); the request is counted for today.
--   allowed = 0, remaining_today > 0 (or -1): rate limited, ask again after wait_ms.
--   allowed = 0, remaining_today = 0: the daily quota is spent; wait_ms is the time
--   to the next 00:00 UTC.
-- now_us is the Redis TIME the decision was made at (µs since the epoch).
-- The emission interval is rounded up to a whole µs, so the rate is never exceeded.
-- A request admitted with a reservation counts for the day it was admitted on. A
-- Redis clock that goes back (a failover) only ever makes waits longer: a TAT in
-- the future is kept, and a stored day later than TIME's keeps being counted.
M.scripts.gcra_take = script("gcra_take", 2, [[
local rate = tonumber(ARGV[1])
if not rate or not (rate > 0 and rate <= 1e6) then return fail('per_second must be in (0, 1e6]') end
local burst = int(ARGV[2], 1, 1e6)
if not burst then return fail('burst must be an integer from 1 to 1e6') end
local daily = int(ARGV[3], 0, 1e12)
if not daily then return fail('daily must be an integer >= 0') end
local max_wait = tonumber(ARGV[4] or '0')
if not max_wait or not (max_wait >= 0 and max_wait <= 86400000) then
  return fail('max_wait_ms must be in [0, 86400000]')
end
local t = redis.call('TIME')
local sec = tonumber(t[1])
local now = sec * 1000000 + tonumber(t[2])
local day = math.floor(sec / 86400)
local used = 0
if daily > 0 then
  local d = redis.call('HMGET', KEYS[2], 'day', 'used')
  -- A stored day after ours (a failover to a server whose clock is behind) keeps
  -- counting that day: a clock going back never hands out a second quota.
  local stored = tonumber(d[1])
  if stored and stored >= day then day, used = stored, tonumber(d[2]) or 0 end
  if used >= daily then
    return { 0, math.ceil(((day + 1) * 86400000000 - now) / 1000), 0, now }
  end
end
local interval = math.ceil(1000000 / rate)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
-- The request may go once now >= tat - (burst - 1) * interval.
local wait = tat - (burst - 1) * interval - now
if wait > max_wait * 1000 then
  return { 0, math.ceil(wait / 1000), daily > 0 and daily - used or -1, now }
end
if wait < 0 then wait = 0 end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
local remaining = -1
if daily > 0 then
  used = used + 1
  redis.call('HSET', KEYS[2], 'day', day, 'used', used)
  redis.call('EXPIREAT', KEYS[2], (day + 1) * 86400 + 3600)
  remaining = daily - used
end
return { 1, math.ceil(wait / 1000), remaining, now }
]])

--- quota_exhaust: the API answered quota_exceeded: mark today's quota as spent
-- for every host (it may have been spent outside this fleet).
--   KEYS[1] daily hash (as gcra_take's KEYS[2]);  ARGV[1] daily quota (integer >= 1)
-- Returns the ms until the next 00:00 UTC.
M.scripts.quota_exhaust = script("quota_exhaust", 1, [[
local daily = int(ARGV[1], 1, 1e12)
if not daily then return fail('daily must be an integer >= 1') end
local t = redis.call('TIME')
local sec = tonumber(t[1])
local day = math.max(math.floor(sec / 86400), tonumber(redis.call('HGET', KEYS[1], 'day')) or 0)
redis.call('HSET', KEYS[1], 'day', day, 'used', daily)
redis.call('EXPIREAT', KEYS[1], (day + 1) * 86400 + 3600)
return math.ceil(((day + 1) * 86400000000 - (sec * 1000000 + tonumber(t[2]))) / 1000)
]])

--- token_cas_set: write a token document only if its version is newer than the
-- stored one, so a slow writer can never overwrite a newer token.
--   KEYS[1] token hash { version, doc }
--   ARGV[1] version (integer, 0 <= v < 2^53): the writer's fencing token
--   ARGV[2] doc (opaque string: the caller's JSON)
--   ARGV[3] ttl_ms (optional integer; > 0 sets an expiry, absent or 0 keeps none)
-- Returns { written (0/1), stored_version }: after a refusal, the version that won.
M.scripts.token_cas_set = script("token_cas_set", 1, [[
local v = int(ARGV[1], 0, 9007199254740991)
if not v then return fail('version must be an integer from 0 to 2^53 - 1') end
if ARGV[2] == nil then return fail('a document is required') end
local ttl = int(ARGV[3] or '0', 0, 1e12)
if not ttl then return fail('ttl_ms must be an integer >= 0') end
local cur = tonumber(redis.call('HGET', KEYS[1], 'version'))
if cur and cur >= v then return { 0, cur } end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'doc', ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
return { 1, v }
]])

--- lease_acquire: a lease lock (SET NX PX style) that hands out a fencing token:
-- a counter that only grows, per API key, never reset (it has no expiry).
--   KEYS[1] lease: the holder's fencing token, with a PX expiry
--   KEYS[2] fence counter (INCR)
--   ARGV[1] ttl_ms (integer >= 1): the lease frees itself after this
-- Returns { acquired (0/1), fence, ttl_ms }: my token and ttl_ms when acquired; the
-- holder's token and its time left when not.
M.scripts.lease_acquire = script("lease_acquire", 2, [[
local ttl = int(ARGV[1], 1, 86400000)
if not ttl then return fail('ttl_ms must be an integer from 1 to 86400000') end
local cur = redis.call('GET', KEYS[1])
if cur then return { 0, tonumber(cur), redis.call('PTTL', KEYS[1]) } end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], fence, 'PX', ttl)
return { 1, fence, ttl }
]])

--- lease_release: free the lease, only for the holder of this fencing token (a
-- holder whose lease expired, and was taken by someone else, frees nothing).
--   KEYS[1] lease;  ARGV[1] fence
-- Returns 1 when released, 0 when the lease was not (or no longer) this token's.
M.scripts.lease_release = script("lease_release", 1, [[
local fence = int(ARGV[1], 1, 9007199254740991)
if not fence then return fail('fence must be a positive integer') end
if tonumber(redis.call('GET', KEYS[1])) == fence then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
]])

--- lease_renew: extend the lease to ttl_ms from now, only for its holder.
--   KEYS[1] lease;  ARGV[1] fence;  ARGV[2] ttl_ms (integer >= 1)
-- Returns 1 when extended, 0 when the lease is not this token's (any more).
M.scripts.lease_renew = script("lease_renew", 1, [[
local fence = int(ARGV[1], 1, 9007199254740991)
if not fence then return fail('fence must be a positive integer') end
local ttl = int(ARGV[2], 1, 86400000)
if not ttl then return fail('ttl_ms must be an integer from 1 to 86400000') end
if tonumber(redis.call('GET', KEYS[1])) == fence then
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 1
end
return 0
]])

--- keyspace(api_key, { prefix = "ctct" }): the key names of one API key.
--   .tag  "{ctct:<api key>}"       .rate  "{ctct:<api key>}:rate"
--   .daily "{ctct:<api key>}:daily" .fence "{ctct:<api key>}:fence"
--   :token(account) "{ctct:<api key>}:token:<account>"
--   :lease(name)    "{ctct:<api key>}:lease:<name>"
-- Braces are refused in the prefix and the API key: they would move the hash tag.
local function tag_part(v, what)
  if type(v) ~= "string" or v == "" or v:find("[{}%c%s]") then
    error("ctct.redis.scripts.keyspace: " .. what .. " must be a non-empty string without braces, " ..
      "spaces or control characters", 3)
  end
  return v
end

local function suffix(v, what)
  if type(v) ~= "string" or v == "" then error("ctct.redis.scripts.keyspace: " .. what .. " must be a string", 3) end
  return v
end

local Keyspace = {}
Keyspace.__index = Keyspace

function Keyspace:token(account) return self.tag .. ":token:" .. suffix(account, "account") end
function Keyspace:lease(name) return self.tag .. ":lease:" .. suffix(name, "lease name") end

function M.keyspace(api_key, opts)
  local prefix = tag_part((opts and opts.prefix) or "ctct", "prefix")
  local tag = "{" .. prefix .. ":" .. tag_part(api_key, "api_key") .. "}"
  return setmetatable({
    tag = tag, rate = tag .. ":rate", daily = tag .. ":daily", fence = tag .. ":fence",
  }, Keyspace)
end

-- SCRIPT LOAD's answers, by script name: a SHA1 of the source, the same everywhere.
local shas = {}

local function caller(conn_or_fn)
  if type(conn_or_fn) == "function" then return conn_or_fn end
  return function(argv) return conn_or_fn:command(argv) end
end

-- Errors keep the core's { kind, message } shape, whatever the adapter returned.
local function as_error(err)
  if type(err) == "table" then return err end
  return { kind = "redis", message = tostring(err) }
end

local function is_noscript(err)
  local msg = type(err) == "table" and err.message or err
  return type(msg) == "string" and msg:find("^NOSCRIPT") ~= nil
end

local function load(call, s)
  local sha, err = call { "SCRIPT", "LOAD", s.source }
  if not sha then return nil, as_error(err) end
  if type(sha) ~= "string" or #sha ~= 40 or not sha:match("^%x+$") then
    return nil, { kind = "protocol", message = "SCRIPT LOAD answered no SHA1 for " .. s.name }
  end
  shas[s.name] = sha:lower()
  return shas[s.name]
end

--- load_all(conn_or_fn): SCRIPT LOAD every script (at start-up, or to check a server).
-- Returns { name = sha1 } | nil, err.
function M.load_all(conn_or_fn)
  local call, out = caller(conn_or_fn), {}
  for name, s in pairs(M.scripts) do
    local sha, err = load(call, s)
    if not sha then return nil, err end
    out[name] = sha
  end
  return out
end

--- run(conn_or_fn, name, keys, args) -> the script's reply | nil, err
function M.run(conn_or_fn, name, keys, args)
  local s = M.scripts[name]
  if not s then error("ctct.redis.scripts: unknown script '" .. tostring(name) .. "'", 2) end
  if type(keys) ~= "table" or #keys ~= s.nkeys then
    error("ctct.redis.scripts: " .. name .. " takes " .. s.nkeys .. " keys", 2)
  end
  local call = caller(conn_or_fn)
  local argv = { "EVALSHA", "", s.nkeys }
  for _, k in ipairs(keys) do argv[#argv + 1] = k end
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local sha, err = shas[name], nil
  for _ = 1, 2 do
    if not sha then
      sha, err = load(call, s)
      if not sha then return nil, err end
    end
    argv[2] = sha
    local reply
    reply, err = call(argv)
    -- (lua-resty-redis answers an error reply with false, ctct.core with nil)
    if reply then return reply end
    if not is_noscript(err) then return nil, as_error(err) end
    sha = nil -- the server forgot it (restart, failover, SCRIPT FLUSH): load it there again
  end
  return nil, as_error(err)
end

return M
