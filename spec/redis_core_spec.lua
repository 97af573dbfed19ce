-- ctct.core's Redis client (src/redis.c) against real redis-server processes:
-- TCP and unix socket, reply types, arguments, timeouts, AUTH and ACL users (the
-- password never in an error), a server going away and coming back, close/__gc,
-- and SIGPIPE from a server that closes mid-command.
local core = require "ctct.core"
local redis = require "spec.helpers.redis"
local sandbox = require "spec.helpers.sandbox"

local NIL = core.redis_nil

-- Every string anywhere in v (an error table), for "the secret is not in it" checks.
local function strings(v, out)
  out = out or {}
  if type(v) == "string" then out[#out + 1] = v
  elseif type(v) == "table" then
    for k, x in pairs(v) do strings(k, out) strings(x, out) end
  end
  return out
end

local function assert_secret_free(err, ...)
  local all = table.concat(strings(err), "\n")
  for i = 1, select("#", ...) do
    local secret = select(i, ...)
    assert.is_nil(all:find(secret, 1, true), "the error shows a secret: " .. all)
  end
end

local function clients(srv)
  return tonumber(srv:cli("INFO", "clients"):match("connected_clients:(%d+)"))
end

local function elapsed(fn)
  local t0 = core.monotonic()
  local a, b = fn()
  return core.monotonic() - t0, a, b
end

describe("ctct.core redis", function()
  local srv, conn
  lazy_setup(function()
    srv = redis.start()
    conn = assert(srv:connect())
  end)
  lazy_teardown(function() redis.stop_all() end)
  before_each(function() assert(conn:command { "FLUSHALL" }) end)

  describe("connecting", function()
    it("over TCP and over the unix socket", function()
      local tcp = assert(srv:connect())
      local unix = assert(srv:connect { unix = true })
      assert.equal("PONG", tcp:command { "PING" })
      assert.equal("OK", unix:command { "SET", "k", "v" })
      assert.equal("v", tcp:command { "GET", "k" })
      assert.equal(("ctct.core.redis (127.0.0.1:%d, open)"):format(srv.port), tostring(tcp))
      assert.equal("ctct.core.redis (unix:" .. srv.unix .. ", open)", tostring(unix))
      assert.is_true(tcp:connected())
      -- the server sees a unix client: its addr is the socket path
      assert.truthy(unix:command { "CLIENT", "INFO" }:find("laddr=" .. srv.unix, 1, true))
      tcp:close()
      unix:close()
    end)

    it("selects a database", function()
      local db3 = assert(srv:connect { db = 3 })
      assert(db3:command { "SET", "only-in-3", "1" })
      assert.equal(NIL, conn:command { "GET", "only-in-3" })
      assert.equal("1", assert(srv:connect { db = 3 }):command { "GET", "only-in-3" })
      local r, err = srv:connect { db = 99 } -- 16 databases by default
      assert.is_nil(r)
      assert.equal("redis", err.kind)
      assert.equal("ERR", err.code)
    end)

    it("reports a refused connection and a missing socket as network errors", function()
      local port = redis.free_port()
      local r, err = core.redis_connect { port = port }
      assert.is_nil(r)
      assert.equal("network", err.kind)
      assert.equal(("redis 127.0.0.1:%d: cannot connect: Connection refused"):format(port), err.message)
      r, err = core.redis_connect { unix = srv.dir .. "/nope.sock" }
      assert.is_nil(r)
      assert.equal("network", err.kind)
      assert.truthy(err.message:find("nope.sock", 1, true))
    end)

    it("raises on options that cannot work", function()
      for _, bad in ipairs {
        { unix = "/tmp/x.sock", host = "127.0.0.1" },
        { unix = "/tmp/" .. ("x"):rep(120) },
        { port = 0 }, { port = 70000 }, { port = 1.5 }, { port = "6379" },
        { connect_timeout = 0 }, { timeout = -1 }, { timeout = 0 / 0 },
        { username = "u" }, { password = "" }, { db = -1 }, { host = "" },
      } do
        assert.has_error(function() core.redis_connect(bad) end)
      end
      assert.has_error(function() core.redis_connect() end)
    end)
  end)

  describe("replies", function()
    it("maps status, bulk, integer and nil", function()
      assert.equal("OK", conn:command { "SET", "s", "hello" })
      assert.equal("hello", conn:command { "GET", "s" })
      assert.equal(NIL, conn:command { "GET", "missing" })
      assert.equal("ctct.core.redis_nil", tostring(NIL))
      assert.equal("userdata", type(NIL))
      local n = conn:command { "INCR", "n" }
      assert.equal(1, n)
      if math.type then assert.equal("integer", math.type(n)) end
      assert.equal(-41, conn:command { "INCRBY", "n", -42 })
      if math.type then -- Lua 5.4: 64-bit integers exactly (LuaJIT: doubles, exact to 2^53)
        assert.equal(4611686018427387904, conn:command { "INCRBY", "big", 4611686018427387904 })
      end
      assert.equal(9007199254740992, conn:command { "INCRBY", "big53", 9007199254740992 })
      -- a script's status reply is a string too
      assert.equal("FINE", conn:command { "EVAL", "return { ok = 'FINE' }", 0 })
    end)

    it("is binary safe, large values included", function()
      local bin = "a\0b\r\n$3\r\n\255"
      local big = ("0123456789abcdef"):rep(65536) -- 1 MiB
      assert(conn:command { "SET", "bin", bin })
      assert(conn:command { "SET", "big", big })
      assert.equal(bin, conn:command { "GET", "bin" })
      assert.equal(big, conn:command { "GET", "big" })
    end)

    it("maps arrays, empty and nested, keeping nil positions", function()
      assert.equal(3, conn:command { "RPUSH", "l", "a", "b", "c" })
      assert.same({ "a", "b", "c" }, conn:command { "LRANGE", "l", 0, -1 })
      assert.same({}, conn:command { "LRANGE", "nothing", 0, -1 })
      assert(conn:command { "SET", "a", "1" })
      local m = conn:command { "MGET", "a", "missing", "a" }
      assert.equal(3, #m)
      assert.same({ "1", NIL, "1" }, m)
      assert.same({ 1, { 2, { "x", {} } }, "y" },
        conn:command { "EVAL", "return { 1, { 2, { 'x', {} } }, 'y' }", 0 })
    end)

    it("turns error replies into nil, err with the code", function()
      assert(conn:command { "SET", "str", "x" })
      local r, err = conn:command { "LPUSH", "str", "y" }
      assert.is_nil(r)
      assert.equal("redis", err.kind)
      assert.equal("WRONGTYPE", err.code)
      assert.truthy(err.message:find("^WRONGTYPE Operation against a key"))
      r, err = conn:command { "EVALSHA", ("0"):rep(40), 0 }
      assert.is_nil(r)
      assert.equal("NOSCRIPT", err.code)
      assert.truthy(err.message:find("^NOSCRIPT"))
      r, err = conn:command { "NOSUCHCOMMAND" }
      assert.is_nil(r)
      assert.equal("ERR", err.code)
      -- the connection is still good after an error reply
      assert.equal("PONG", conn:command { "PING" })
      assert.is_true(conn:connected())
    end)

    it("puts an error inside an array as an error table", function()
      assert.equal("OK", conn:command { "MULTI" })
      assert.equal("QUEUED", conn:command { "SET", "t", "x" })
      assert.equal("QUEUED", conn:command { "INCR", "t" })
      assert.equal("QUEUED", conn:command { "GET", "t" })
      local r = conn:command { "EXEC" }
      assert.equal("OK", r[1])
      assert.same({ kind = "redis", code = "ERR", message = "ERR value is not an integer or out of range" }, r[2])
      assert.equal("x", r[3])
    end)
  end)

  describe("arguments", function()
    it("sends numbers as Redis reads them, on both runtimes", function()
      assert.equal(3, conn:command { "INCRBY", "n", 3.0 })   -- "3", not "3.0"
      assert.equal(9007199254740995, conn:command { "INCRBY", "n", 2 ^ 53 }) -- a float argument
      assert.equal("1.5", conn:command { "INCRBYFLOAT", "f", 1.5 })
      assert.equal("0.1", conn:command { "INCRBYFLOAT", "g", 0.1 })
      assert.equal(1, conn:command { "ZADD", "z", math.huge, "top" })
      assert.equal("inf", conn:command { "ZSCORE", "z", "top" })
    end)

    it("raises on arguments that are not strings or numbers", function()
      assert.has_error(function() conn:command {} end)
      assert.has_error(function() conn:command { "SET", "k", true } end)
      assert.has_error(function() conn:command { "SET", "k", {} } end)
      assert.has_error(function() conn:command { "SET", "k", 0 / 0 } end)
      assert.has_error(function() conn:command "PING" end)
      assert.equal("PONG", conn:command { "PING" }) -- nothing was sent
    end)
  end)

  describe("timeouts", function()
    it("gives up on a server that does not answer, and drops the connection", function()
      local slow = assert(srv:connect { timeout = 0.3 })
      assert.equal("PONG", slow:command { "PING" })
      assert.equal("OK", srv:cli("CLIENT", "PAUSE", "1200", "ALL"))
      local t, r, err = elapsed(function() return slow:command { "PING" } end)
      assert.is_nil(r)
      assert.equal("timeout", err.kind)
      assert.equal(("redis 127.0.0.1:%d: timed out after 300 ms during PING"):format(srv.port),
        err.message)
      assert.is_true(t >= 0.28 and t < 1.0, "took " .. t)
      -- The late PONG must never answer a later command: the connection is gone.
      assert.is_false(slow:connected())
      r, err = slow:command { "GET", "k" }
      assert.is_nil(r)
      assert.equal("network", err.kind)
      assert.equal(("redis 127.0.0.1:%d: connection lost earlier (timed out after 300 ms during PING); connect again")
        :format(srv.port), err.message)
      assert.equal(("ctct.core.redis (127.0.0.1:%d, broken)"):format(srv.port), tostring(slow))
      -- once the pause is over a new connection works
      local fresh = assert(srv:connect { timeout = 2 })
      assert.equal("PONG", fresh:command { "PING" })
    end)

    it("times out a connect that the kernel never completes", function()
      local l = redis.silent_listener { backlog_full = true }
      finally(l.stop)
      local t, r, err = elapsed(function()
        return core.redis_connect { port = l.port, connect_timeout = 0.3, password = "never-shown-pw" }
      end)
      assert.is_nil(r)
      assert.equal("timeout", err.kind)
      assert.equal(("redis 127.0.0.1:%d: connect timed out after 300 ms"):format(l.port), err.message)
      assert.is_true(t >= 0.28 and t < 1.2, "took " .. t)
      assert_secret_free(err, "never-shown-pw")
    end)

    it("times out AUTH to a listener that never replies, without showing the password", function()
      local l = redis.silent_listener()
      finally(l.stop)
      local t, r, err = elapsed(function()
        return core.redis_connect { port = l.port, timeout = 0.3, username = "bob", password = "hunter2-secret" }
      end)
      assert.is_nil(r)
      assert.equal("timeout", err.kind)
      assert.truthy(err.message:find("timed out after 300 ms during AUTH", 1, true), err.message)
      assert.is_true(t >= 0.28 and t < 1.2, "took " .. t)
      assert_secret_free(err, "hunter2-secret")
    end)

    it("set_timeout changes the wait of later commands", function()
      local c = assert(srv:connect { timeout = 5 })
      assert.is_true(c:set_timeout(0.2))
      assert.equal("OK", srv:cli("CLIENT", "PAUSE", "800", "ALL"))
      local t, r, err = elapsed(function() return c:command { "PING" } end)
      assert.is_nil(r)
      assert.equal("timeout", err.kind)
      assert.is_true(t < 0.7, "took " .. t)
      assert.has_error(function() c:set_timeout(0) end)
      sandbox.run("sleep 0.7")
    end)
  end)

  describe("AUTH", function()
    local PW, APW = "s3cret-PW-for-default", "alice-Pw-42x"
    local locked
    lazy_setup(function()
      locked = redis.start { password = PW }
      assert.equal("OK", locked:cli("ACL", "SETUSER", "alice", "on", ">" .. APW, "~app:*", "+@all"))
    end)

    it("logs in with the password", function()
      local c = assert(locked:connect())
      assert.equal("default", c:command { "ACL", "WHOAMI" })
      assert.is_nil(tostring(c):find(PW, 1, true))
    end)

    it("without a password gets NOAUTH", function()
      local c = assert(core.redis_connect { port = locked.port })
      local r, err = c:command { "GET", "x" }
      assert.is_nil(r)
      assert.equal("NOAUTH", err.code)
    end)

    it("refuses a wrong password as an auth error that shows neither password", function()
      local r, err = core.redis_connect { port = locked.port, password = "wrong-guess-pw" }
      assert.is_nil(r)
      assert.equal("auth", err.kind)
      assert.equal("WRONGPASS", err.code)
      assert.equal(("redis 127.0.0.1:%d: AUTH refused: WRONGPASS invalid username-password pair or user is " ..
        "disabled."):format(locked.port), err.message)
      assert_secret_free(err, "wrong-guess-pw", PW)
    end)

    it("logs in as an ACL user, whose rules then apply", function()
      local c = assert(core.redis_connect { port = locked.port, username = "alice", password = APW })
      assert.equal("alice", c:command { "ACL", "WHOAMI" })
      assert.equal("OK", c:command { "SET", "app:1", "v" })
      local r, err = c:command { "SET", "other:1", "v" }
      assert.is_nil(r)
      assert.equal("NOPERM", err.code)
      r, err = core.redis_connect { port = locked.port, username = "alice", password = PW }
      assert.is_nil(r)
      assert.equal("auth", err.kind)
      assert_secret_free(err, PW, APW)
      r, err = core.redis_connect { unix = locked.unix, username = "nobody", password = APW }
      assert.is_nil(r)
      assert.equal("auth", err.kind)
      assert_secret_free(err, APW)
    end)

    it("keeps AUTH and HELLO arguments out of errors from command", function()
      local c = assert(core.redis_connect { port = locked.port })
      local r, err = c:command { "AUTH", "alice", "typo-secret-1" }
      assert.is_nil(r)
      assert.equal("WRONGPASS", err.code)
      assert_secret_free(err, "typo-secret-1")
      r, err = c:command { "HELLO", "2", "AUTH", "alice", "typo-secret-2" }
      assert.is_nil(r)
      assert_secret_free(err, "typo-secret-2")
      assert.equal("OK", c:command { "AUTH", "alice", APW })
      assert.equal("alice", c:command { "ACL", "WHOAMI" })
    end)
  end)

  describe("a server that goes away", function()
    it("gives a clear error, then a new connection works and the data is there (AOF)", function()
      local other = redis.start()
      local c = assert(other:connect())
      assert.equal("OK", c:command { "SET", "kept", "yes" })
      assert.is_true(other:shutdown())
      local r, err = c:command { "GET", "kept" }
      assert.is_nil(r)
      assert.equal("network", err.kind)
      assert.truthy(err.message:find(("redis 127.0.0.1:%d: "):format(other.port), 1, true), err.message)
      assert.is_false(c:connected())
      r, err = c:command { "GET", "kept" }
      assert.is_nil(r)
      assert.truthy(err.message:find("connect again", 1, true))
      r, err = other:connect()
      assert.is_nil(r)
      assert.equal("network", err.kind)
      other:start()
      local c2 = assert(other:connect())
      assert.equal("yes", c2:command { "GET", "kept" })
      -- a crash (kill -9) loses nothing either: appendfsync always
      assert.equal(1, c2:command { "INCR", "counter" })
      assert.is_true(other:kill())
      r = c2:command { "PING" }
      assert.is_nil(r)
      other:start()
      assert.equal("1", assert(other:connect()):command { "GET", "counter" })
      other:stop()
    end)

    it("survives writing to a unix socket the server closed (SIGPIPE)", function()
      -- On a unix socket, writing after the peer closed raises SIGPIPE, which kills
      -- a plain lua process; run it in a child so a failure is seen as such.
      local victim = redis.start()
      finally(function() victim:stop() end)
      local outs, codes = redis.run_workers(1, [[
        local core = require "ctct.core"
        local c = assert(core.redis_connect { unix = select(2, ...), timeout = 5 })
        assert(c:command { "CLIENT", "KILL", "SKIPME", "no" } == 1)
        core.sleep(0.2) -- the server closes killed clients after replying
        local r, err = c:command { "PING" }
        io.write(tostring(r), "|", err.kind, "|", err.message, "|", tostring(c:connected()))
      ]], { victim.unix })
      assert.equal(0, codes[1], outs[1])
      assert.equal("nil|network|redis unix:" .. victim.unix .. ": Broken pipe (during PING)|false", outs[1])
    end)
  end)

  describe("lifetime", function()
    it("close is final and idempotent; a closed connection raises", function()
      local c = assert(srv:connect())
      c:close()
      c:close()
      assert.is_false(c:connected())
      assert.equal(("ctct.core.redis (127.0.0.1:%d, closed)"):format(srv.port), tostring(c))
      assert.has_error(function() c:command { "PING" } end, "ctct.core: the redis connection is closed")
    end)

    it("frees the socket of a connection left to the collector", function()
      collectgarbage()
      collectgarbage()
      local before = clients(srv)
      for _ = 1, 20 do assert(srv:connect()):command { "PING" } end
      assert.is_true(clients(srv) >= before + 1)
      collectgarbage()
      collectgarbage()
      local after
      for _ = 1, 50 do
        after = clients(srv)
        if after <= before then break end
        sandbox.run("sleep 0.02")
      end
      assert.is_true(after <= before, ("clients before %d, after %d"):format(before, after))
    end)
  end)
end)
