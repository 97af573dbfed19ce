-- ctct.store.redis and ctct.ratelimit.redis against a real redis-server (started by
-- the test on 127.0.0.1, AOF on): the store interface, compare-and-set by fence, the
-- refresh lease across processes, the shared budget, and what happens when Redis
-- goes away (a clear `storage` error; the limiter's documented fallback).
local core = require "ctct.core"
local redis = require "spec.helpers.redis"
local store_mod = require "ctct.store.redis"
local limiter_mod = require "ctct.ratelimit.redis"

describe("Redis shared state", function()
  local srv
  lazy_setup(function() srv = redis.start {} end)
  lazy_teardown(function() redis.stop_all() end)
  before_each(function() srv:cli("FLUSHALL") end)

  local function conn_opts() return { host = srv.host, port = srv.port, timeout = 1, connect_timeout = 1 } end
  local function new_store(extra)
    local o = { redis = conn_opts(), api_key = "key-1", lock_timeout = 2 }
    for k, v in pairs(extra or {}) do o[k] = v end
    return store_mod.new(o)
  end

  describe("token store", function()
    it("stores, reads and deletes a token per account, under the API key's hash tag", function()
      local s = new_store()
      assert.is_nil(s:get("acct-1"))
      assert.is_true(s:set("acct-1", { access_token = "a1", refresh_token = "r1", expires_at = 123 }))
      local t = s:get("acct-1")
      assert.equal("a1", t.access_token)
      assert.equal(123, t.expires_at)
      local keys = srv:cli("KEYS", "*")
      assert.matches("{ctct:key%-1}:token:acct%-1", keys)
      assert.is_true(s:delete("acct-1"))
      assert.is_nil(s:get("acct-1"))
    end)

    it("writes under a lease with the lease's fence: a holder whose lease was taken over cannot overwrite", function()
      local a, b = new_store { lease_ttl = 0.2 }, new_store()
      assert(a:set("acct", { access_token = "v0" }))
      local late
      local ok = a:lock("acct", function()
        core.sleep(0.3) -- the lease expires; b takes it and writes a newer token
        assert.is_true(b:lock("acct", function() return b:set("acct", { access_token = "from-b" }) end))
        late = { a:set("acct", { access_token = "from-a-too-late" }) }
        return true
      end)
      assert.is_true(ok)
      assert.is_nil(late[1])
      assert.equal("storage", late[2].kind)
      assert.matches("a newer token", late[2].message)
      assert.equal("from-b", b:get("acct").access_token)
    end)

    it("lets one process at a time hold an account's lease, across processes", function()
      local outs, codes = redis.run_workers(4, [[
        local _, host, port = ...
        local s = require("ctct.store.redis").new { redis = { host = host, port = tonumber(port) },
                                                    api_key = "key-1", lock_timeout = 10 }
        local core = require "ctct.core"
        local conn = require("ctct.redis.connection").new { host = host, port = tonumber(port) }
        for _ = 1, 5 do
          assert(s:lock("acct", function()
            local n = conn:call { "INCR", "inside" }
            assert(n == 1, "two holders at once")
            core.sleep(0.01)
            conn:call { "DECR", "inside" }
            conn:call { "INCR", "done" }
            return true
          end))
        end
        io.write("ok")
      ]], { srv.host, tostring(srv.port) })
      for i = 1, 4 do
        assert.equal(0, codes[i], outs[i])
        assert.equal("ok", outs[i])
      end
      assert.matches("^20", srv:cli("GET", "done"))
    end)

    it("gives up waiting for a held lease with a timeout error", function()
      local a, b = new_store(), new_store { lock_timeout = 0.2 }
      local r, err
      a:lock("acct", function() r, err = b:lock("acct", function() return "never" end) end)
      assert.is_nil(r)
      assert.equal("timeout", err.kind)
      assert.matches("refresh lease of acct", err.message)
    end)

    it("reports Redis unreachable as a storage error naming the account", function()
      local s = store_mod.new { redis = { host = "127.0.0.1", port = redis.free_port(), connect_timeout = 0.5 },
                                api_key = "key-1" }
      local t, err = s:get("acct-9")
      assert.is_nil(t)
      assert.equal("storage", err.kind)
      assert.matches("redis token store: reading acct%-9", err.message)
      local ok
      ok, err = s:set("acct-9", { access_token = "x" })
      assert.is_nil(ok)
      assert.equal("storage", err.kind)
    end)

    it("refuses unknown options and a missing api_key", function()
      assert.has_error(function() store_mod.new { redis = conn_opts(), api_key = "k", lease_tl = 1 } end,
        "ctct.store.redis.new: unknown option 'lease_tl'; use 'lease_ttl'")
      assert.has_error(function() store_mod.new { redis = conn_opts() } end,
        "ctct.store.redis.new: api_key (the client id) is required")
    end)
  end)

  describe("rate limiter", function()
    local function new_limiter(extra)
      local o = { redis = conn_opts(), api_key = "key-1", per_second = 10, burst = 1, daily = 5 }
      for k, v in pairs(extra or {}) do o[k] = v end
      return limiter_mod.new(o)
    end

    it("spaces requests at the rate, shared by every limiter of the key", function()
      local a, b = new_limiter { daily = false }, new_limiter { daily = false }
      assert.equal(0, a:take())
      local w1, w2 = b:take(), a:take()
      assert.is_true(w1 > 0.09 and w1 <= 0.1, tostring(w1))
      assert.is_true(w2 > 0.19 and w2 <= 0.2, tostring(w2))
    end)

    it("counts the daily quota for the fleet, and exhaust_day spends it for all", function()
      local a, b = new_limiter { per_second = 1000 }, new_limiter { per_second = 1000 }
      for _ = 1, 3 do assert.is_number(a:take()) end
      assert.equal(2, b:remaining_today())
      assert.is_number(b:take())
      assert.is_number(b:take())
      local wait, reset_in = a:take()
      assert.is_nil(wait)
      assert.is_true(reset_in > 0 and reset_in <= 86400)
      srv:cli("DEL", "{ctct:key-1}:daily")
      assert.equal(5, a:remaining_today())
      b:exhaust_day()
      assert.equal(0, a:remaining_today())
      assert.is_nil((a:take()))
    end)

    it("answers false when the next free slot is further ahead than max_wait", function()
      local l = new_limiter { per_second = 1, daily = false, max_wait = 0.5 }
      assert.equal(0, l:take())
      local wait, retry_in = l:take()
      assert.is_false(wait)
      assert.is_true(retry_in > 0.5 and retry_in <= 1, tostring(retry_in))
    end)

    it("falls back to per_second / hosts locally while Redis is down, and says so once", function()
      local logs = {}
      local t = 0
      local l = limiter_mod.new { redis = { host = "127.0.0.1", port = redis.free_port(), connect_timeout = 0.2 },
                                  api_key = "key-1", per_second = 4, hosts = 2, daily = false,
                                  clock = function() return t end, logger = function(level, msg)
                                    logs[#logs + 1] = level .. ": " .. msg end }
      assert.equal(0, l:take())
      assert.equal(0.5, l:take()) -- 2/s here: the fleet's 4/s shared by 2 hosts
      assert.equal(1, l:take())
      assert.equal(3, l.redis_errors)
      assert.equal(1, #logs)
      assert.matches("^warn: ctct rate limiter: Redis unreachable .*counting locally at 2/s", logs[1])
    end)

    it("with on_redis_error = \"fail\" sends nothing, and the client says why", function()
      local ctct = require "ctct"
      local sent = 0
      local l = limiter_mod.new { redis = { host = "127.0.0.1", port = redis.free_port(), connect_timeout = 0.2 },
                                  api_key = "key-1", on_redis_error = "fail" }
      local c = ctct.new { access_token = "t", rate_limit = l, retry = false,
                           transport = { request = function() sent = sent + 1 end } }
      local ok, err = c:request("GET", "/contacts")
      assert.is_nil(ok)
      assert.equal("rate_limited", err.kind)
      assert.equal("budget_booked", err.error_key)
      assert.equal(0, sent)
    end)

    it("ctct quota reads the fleet's budget from Redis, and this process's without it", function()
      local sandbox = require "spec.helpers.sandbox"
      local l = new_limiter { api_key = "cli-key", per_second = 1000, daily = 10000 }
      for _ = 1, 3 do assert.is_number(l:take()) end
      local function ctct(env)
        return sandbox.run(". tools/lua-env.sh && ctct_lua_env \"$PWD\" && env -u CTCT_REDIS " .. env ..
          " bin/ctct -o json quota 2>&1")
      end
      local out, code = ctct("CTCT_REDIS=" .. srv.host .. ":" .. srv.port .. " CTCT_CLIENT_ID=cli-key")
      assert.equal(0, code, out)
      local u = require("cjson").decode(out)
      assert.is_true(u.shared)
      assert.equal(9997, u.remaining_today)
      assert.equal(3, u.used_today)
      assert.equal(4, u.per_second)
      out, code = ctct("CTCT_ACCESS_TOKEN=t HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent")
      assert.equal(0, code, out)
      u = require("cjson").decode(out)
      assert.is_false(u.shared)
      assert.equal("local", u.limiter)
      assert.equal(10000, u.remaining_today)
      assert.equal(0, u.requests)
      out, code = ctct("CTCT_REDIS=nonsense CTCT_CLIENT_ID=cli-key")
      assert.equal(2, code, out)
      assert.matches("CTCT_REDIS must be host:port", out)
    end)
  end)
end)
