-- ctct.redis.scripts against a real redis-server: the runner (EVALSHA, NOSCRIPT ->
-- SCRIPT LOAD), the key layout (one Cluster slot per API key, checked on a one-node
-- cluster), the GCRA budget measured in Redis TIME with several processes hammering
-- it, the daily quota, token compare-and-set and lease locks with fencing tokens.
local core = require "ctct.core"
local redis = require "spec.helpers.redis"
local sandbox = require "spec.helpers.sandbox"
local scripts = require "ctct.redis.scripts"

local run, quote = sandbox.run, sandbox.quote

local DAY_US = 86400 * 1000000

-- Worker processes print numbers with %.0f: LuaJIT's tostring would round µs.
local function numbers(text)
  local out = {}
  for n in text:gmatch("%-?%d+") do out[#out + 1] = tonumber(n) end
  return out
end

local function all_numbers(outs, codes)
  local all = {}
  for i, o in ipairs(outs) do
    assert.equal(0, codes[i], "worker " .. i .. " failed: " .. o)
    for _, n in ipairs(numbers(o)) do all[#all + 1] = n end
  end
  table.sort(all)
  return all
end

-- The most events in any window [t, t + width) (µs), t at an event.
local function max_in_window(times, width)
  local best, j = 0, 1
  for i = 1, #times do
    while times[j] < times[i] - width + 1 do j = j + 1 end
    if i - j + 1 > best then best = i - j + 1 end
  end
  return best
end

local function min_gap(times)
  local gap = math.huge
  for i = 2, #times do gap = math.min(gap, times[i] - times[i - 1]) end
  return gap
end

-- Counts per whole second of Redis TIME, leaving out the first and last seconds.
local function per_second(times)
  local counts, first, last = {}, math.floor(times[1] / 1e6), math.floor(times[#times] / 1e6)
  for s = first + 1, last - 1 do counts[s - first] = 0 end
  for _, t in ipairs(times) do
    local s = math.floor(t / 1e6)
    if s > first and s < last then counts[s - first] = counts[s - first] + 1 end
  end
  return counts
end

-- Hammering workers: each takes from one budget for `seconds`, all starting at the
-- same wall-clock moment, and prints the Redis TIME of every request it may send.
local HAMMER = [[
local id, port, rate, burst, max_wait, seconds, start_at = ...
local core = require "ctct.core"
local scripts = require "ctct.redis.scripts"
local c = assert(core.redis_connect { port = tonumber(port) })
local ks = scripts.keyspace("hammer")
while core.time() < tonumber(start_at) do core.sleep(0.002) end
local stop = core.monotonic() + tonumber(seconds)
local out = {}
while core.monotonic() < stop do
  local r = assert(scripts.run(c, "gcra_take", { ks.rate, ks.daily }, { rate, burst, 0, max_wait }))
  if r[1] == 1 then
    -- the moment this request may go: now_us + wait (wait_ms is rounded up)
    out[#out + 1] = string.format("%.0f", r[4] + r[2] * 1000)
    if r[2] > 0 then core.sleep(r[2] / 1000) end
  elseif tonumber(id) % 2 == 0 then
    core.sleep(r[2] / 1000)   -- half the workers wait as told, half retry at once
  end
end
io.write(table.concat(out, "\n"))
]]

describe("ctct.redis.scripts", function()
  local srv, conn
  lazy_setup(function()
    srv = redis.start()
    conn = assert(srv:connect())
  end)
  lazy_teardown(function() redis.stop_all() end)
  before_each(function() assert(conn:command { "FLUSHALL" }) end)

  local function take(ks, rate, burst, daily, max_wait)
    return assert(scripts.run(conn, "gcra_take", { ks.rate, ks.daily }, { rate, burst, daily, max_wait or 0 }))
  end

  describe("keys", function()
    it("puts every key of an API key under one hash tag", function()
      local ks = scripts.keyspace("key-123")
      assert.equal("{ctct:key-123}", ks.tag)
      assert.equal("{ctct:key-123}:rate", ks.rate)
      assert.equal("{ctct:key-123}:daily", ks.daily)
      assert.equal("{ctct:key-123}:fence", ks.fence)
      assert.equal("{ctct:key-123}:token:acct-9", ks:token("acct-9"))
      assert.equal("{ctct:key-123}:lease:refresh:acct-9", ks:lease("refresh:acct-9"))
      assert.equal("{fleet:k}:rate", scripts.keyspace("k", { prefix = "fleet" }).rate)
    end)

    it("refuses names that would move the hash tag", function()
      for _, bad in ipairs { "", "a}b", "a{b", "a b", "a\nb", 42 } do
        assert.has_error(function() scripts.keyspace(bad) end)
      end
      assert.has_error(function() scripts.keyspace("k", { prefix = "x}" }) end)
      assert.has_error(function() scripts.keyspace("k"):token("") end)
    end)

    it("works on Redis Cluster: one slot per API key, every script runs", function()
      local node = redis.start { conf = { "cluster-enabled yes", "cluster-config-file nodes.conf",
                                          "cluster-port " .. redis.free_port() } }
      finally(function() node:stop() end)
      assert.equal("OK", node:cli("CLUSTER", "ADDSLOTSRANGE", "0", "16383"))
      for _ = 1, 100 do
        if node:cli("CLUSTER", "INFO"):find("cluster_state:ok", 1, true) then break end
        run("sleep 0.05")
      end
      local c = assert(node:connect())
      local ks = scripts.keyspace("clustered")
      local slot = c:command { "CLUSTER", "KEYSLOT", ks.tag }
      for _, k in ipairs { ks.rate, ks.daily, ks.fence, ks:token("a"), ks:lease("a") } do
        assert.equal(slot, c:command { "CLUSTER", "KEYSLOT", k })
      end
      assert.equal(1, assert(scripts.run(c, "gcra_take", { ks.rate, ks.daily }, { 4, 1, 10, 0 }))[1])
      assert.is_number(assert(scripts.run(c, "quota_exhaust", { ks.daily }, { 10 })))
      assert.same({ 1, 1 }, assert(scripts.run(c, "token_cas_set", { ks:token("a") }, { 1, "{}" })))
      local lease = assert(scripts.run(c, "lease_acquire", { ks:lease("a"), ks.fence }, { 1000 }))
      assert.equal(1, assert(scripts.run(c, "lease_renew", { ks:lease("a") }, { lease[2], 1000 })))
      assert.equal(1, assert(scripts.run(c, "lease_release", { ks:lease("a") }, { lease[2] })))
    end)
  end)

  describe("run", function()
    it("loads each script under the SHA1 of its source", function()
      local shas = assert(scripts.load_all(conn))
      local dir = run("mktemp -d"):gsub("%s+$", "")
      finally(function() run("rm -rf " .. quote(dir)) end)
      for name, s in pairs(scripts.scripts) do
        sandbox.write_file(dir .. "/" .. name, s.source)
        local sum = run("sha1sum " .. quote(dir .. "/" .. name)):match("^(%x+)")
        assert.equal(sum, shas[name], name)
        assert.equal(1, conn:command { "SCRIPT", "EXISTS", sum }[1])
      end
    end)

    it("reloads a script the server forgot (SCRIPT FLUSH) and retries once", function()
      local ks = scripts.keyspace("k")
      local calls = {}
      local function fn(argv)
        calls[#calls + 1] = argv[1] .. (argv[2] and (" " .. argv[2]) or "")
        return conn:command(argv)
      end
      assert(scripts.run(fn, "token_cas_set", { ks:token("a") }, { 1, "x" }))
      calls = {}
      assert.same({ 1, 2 }, assert(scripts.run(fn, "token_cas_set", { ks:token("a") }, { 2, "y" })))
      assert.equal(1, #calls)
      assert.equal("EVALSHA", calls[1]:match("^%S+"))
      assert.equal("OK", conn:command { "SCRIPT", "FLUSH" })
      calls = {}
      assert.same({ 1, 3 }, assert(scripts.run(fn, "token_cas_set", { ks:token("a") }, { 3, "z" })))
      assert.equal(3, #calls)
      assert.equal("EVALSHA", calls[1]:match("^%S+"))
      assert.equal("SCRIPT LOAD", calls[2])
      assert.equal("EVALSHA", calls[3]:match("^%S+"))
    end)

    it("works again after a server restart", function()
      local other = redis.start()
      finally(function() other:stop() end)
      local ks = scripts.keyspace("k")
      local c = assert(other:connect())
      assert(scripts.run(c, "token_cas_set", { ks:token("a") }, { 1, "x" }))
      assert.is_true(other:shutdown())
      local r, err = scripts.run(c, "token_cas_set", { ks:token("a") }, { 2, "y" })
      assert.is_nil(r)
      assert.equal("network", err.kind)
      other:start()
      c = assert(other:connect())
      assert.same({ 1, 2 }, assert(scripts.run(c, "token_cas_set", { ks:token("a") }, { 2, "y" })))
    end)

    it("takes adapters that answer like lua-resty-redis (false, 'ERR ...')", function()
      local ks = scripts.keyspace("k")
      local r, err = scripts.run(function() return nil, "ERR boom" end, "lease_release", { ks:lease("a") }, { 1 })
      assert.is_nil(r)
      assert.same({ kind = "redis", message = "ERR boom" }, err)
      local n = 0
      local function resty_like(argv)
        n = n + 1
        if argv[1] == "EVALSHA" and n == 1 then return false, "NOSCRIPT No matching script." end
        return conn:command(argv)
      end
      assert.equal(0, assert(scripts.run(resty_like, "lease_release", { ks:lease("a") }, { 1 })))
      assert.equal(3, n)
    end)

    it("raises on unknown scripts and wrong key counts", function()
      assert.has_error(function() scripts.run(conn, "nope", {}, {}) end,
        "ctct.redis.scripts: unknown script 'nope'")
      assert.has_error(function() scripts.run(conn, "gcra_take", { "only-one" }, {}) end,
        "ctct.redis.scripts: gcra_take takes 2 keys")
    end)

    it("answers bad arguments with an error reply naming the script", function()
      local ks = scripts.keyspace("k")
      for _, case in ipairs {
        { "gcra_take", { ks.rate, ks.daily }, { 0, 1, 0 }, "per_second" },
        { "gcra_take", { ks.rate, ks.daily }, { 4, 0, 0 }, "burst" },
        { "gcra_take", { ks.rate, ks.daily }, { 4, 1, -1 }, "daily" },
        { "gcra_take", { ks.rate, ks.daily }, { 4, 1, 0, -5 }, "max_wait_ms" },
        { "token_cas_set", { ks:token("a") }, { 1.5, "x" }, "version" },
        { "token_cas_set", { ks:token("a") }, { 1 }, "a document" },
        { "lease_acquire", { ks:lease("a"), ks.fence }, { 0 }, "ttl_ms" },
        { "lease_release", { ks:lease("a") }, { "x" }, "fence" },
      } do
        local r, err = scripts.run(conn, case[1], case[2], case[3])
        assert.is_nil(r)
        assert.equal("redis", err.kind)
        assert.truthy(err.message:find("^ERR ctct " .. case[1] .. ": " .. case[4]), err.message)
      end
    end)
  end)

  describe("gcra_take", function()
    it("admits exactly N per second to several processes hammering it (times from Redis TIME)", function()
      local rate, seconds = 25, 3
      local start_at = core.time() + 0.5
      local outs, codes = redis.run_workers(4, HAMMER, { srv.port, rate, 1, 0, seconds, start_at })
      local times = all_numbers(outs, codes)
      local interval = 1e6 / rate
      local span = (times[#times] - times[1]) / 1e6
      local counts = per_second(times)
      print(("\n  gcra deny mode, 4 processes, %d/s: %d admitted over %.3f s (%.2f/s, %.1f%% of the limit); " ..
        "most in any 1 s window %d; smallest gap %.3f ms; per whole second %s"):format(rate, #times, span,
        (#times - 1) / span, 100 * (#times - 1) / (span * rate), max_in_window(times, 1e6), min_gap(times) / 1e3,
        table.concat(counts, ",")))
      assert.is_true(min_gap(times) >= interval, "two requests closer than the interval")
      assert.is_true(max_in_window(times, 1e6) <= rate)
      for _, n in ipairs(counts) do assert.is_true(n <= rate) end
      -- close to the limit: what is left is the time between a slot and the next take
      assert.is_true((#times - 1) / span >= rate * 0.9, "used " .. (#times - 1) / span .. "/s")
    end)

    it("with max_wait_ms reserves slots exactly 1/N s apart", function()
      local rate, seconds = 25, 3
      local start_at = core.time() + 0.5
      local outs, codes = redis.run_workers(4, HAMMER, { srv.port, rate, 1, 500, seconds, start_at })
      local slots = all_numbers(outs, codes)
      local interval = 1e6 / rate
      local span = (slots[#slots] - slots[1]) / 1e6
      local counts = per_second(slots)
      local worst = 0
      for i = 2, #slots do worst = math.max(worst, math.abs(slots[i] - slots[i - 1] - interval)) end
      print(("\n  gcra reserve mode, 4 processes, %d/s: %d slots over %.3f s (%.3f/s); gaps within %.3f ms " ..
        "of %.0f ms; per whole second %s"):format(rate, #slots, span, (#slots - 1) / span, worst / 1e3,
        interval / 1e3, table.concat(counts, ",")))
      -- Slot times are now_us + wait_ms, rounded up to 1 ms: 1 ms of slack each. The
      -- limits hold whatever the load; a longer gap only means every worker was late.
      assert.is_true(min_gap(slots) > interval - 1000, "two slots closer than the interval")
      assert.is_true(max_in_window(slots, 1e6 - 1000) <= rate)
      for _, n in ipairs(counts) do assert.is_true(n <= rate) end
      assert.is_true((#slots - 1) / span >= rate * 0.95, "used " .. (#slots - 1) / span .. "/s")
    end)

    it("lets a burst through after an idle time, then spaces requests", function()
      local ks = scripts.keyspace("burst")
      for i = 1, 5 do
        local r = take(ks, 10, 5, 0)
        assert.same({ 1, 0, -1 }, { r[1], r[2], r[3] }, "request " .. i)
      end
      local r = take(ks, 10, 5, 0)
      assert.equal(0, r[1])
      -- 100 ms less the time the six round trips took (a loaded machine: tens of ms)
      assert.is_true(r[2] > 50 and r[2] <= 100, "wait " .. r[2])
      core.sleep(r[2] / 1000)
      assert.equal(1, take(ks, 10, 5, 0)[1])
      assert.equal(0, take(ks, 10, 5, 0)[1])
      -- idle until the bucket is full again: 5 more at once, not 6
      core.sleep(0.65)
      for i = 1, 5 do assert.equal(1, take(ks, 10, 5, 0)[1], "request " .. i) end
      assert.equal(0, take(ks, 10, 5, 0)[1])
    end)

    it("max_wait_ms admits requests whose slot is near, refuses (without reserving) the rest", function()
      local ks = scripts.keyspace("reserve")
      local waits = {}
      for i = 1, 4 do
        local r = take(ks, 10, 1, 0, 350)
        assert.equal(1, r[1], "request " .. i)
        waits[i] = r[2]
      end
      assert.equal(0, waits[1])
      -- 100 ms apart, less the time between the calls (a few ms; more on a loaded machine)
      for i = 2, 4 do
        assert.is_true(waits[i] <= 100 * (i - 1) and waits[i] > 100 * (i - 1) - 25, "wait " .. waits[i])
      end
      local r1 = take(ks, 10, 1, 0, 350)
      local r2 = take(ks, 10, 1, 0, 350)
      assert.equal(0, r1[1])
      assert.equal(0, r2[1])
      assert.is_true(r1[2] > 325 and r1[2] <= 400, "wait " .. r1[2])
      assert.is_true(r2[2] <= r1[2], "a refusal reserved a slot")
    end)

    it("counts the daily quota and says how long until 00:00 UTC", function()
      local ks = scripts.keyspace("daily")
      for i = 1, 3 do
        local r = take(ks, 1000, 1000, 3)
        assert.same({ 1, 0, 3 - i }, { r[1], r[2], r[3] })
      end
      local r = take(ks, 1000, 1000, 3)
      assert.same({ 0, 0 }, { r[1], r[3] })
      -- exactly the time from this TIME to the next multiple of 86400 s ...
      local now = r[4]
      assert.equal(math.ceil(((math.floor(now / DAY_US) + 1) * DAY_US - now) / 1000), r[2])
      -- ... which is the next 00:00 UTC by this machine's own clock too
      local to_midnight = 86400 - os.time() % 86400 -- POSIX time counts UTC days of 86400 s
      assert.is_true(math.abs(r[2] / 1000 - to_midnight) < 5, r[2] / 1000 .. " vs " .. to_midnight)
      -- the count lives until past that midnight, not forever
      local ttl = conn:command { "TTL", ks.daily }
      assert.is_true(math.abs(ttl - (r[2] / 1000 + 3600)) < 5, "ttl " .. ttl)
    end)

    it("does not count refused requests against the day", function()
      local ks = scripts.keyspace("refused")
      assert.equal(1, take(ks, 1, 1, 5)[1])
      local r = take(ks, 1, 1, 5)
      assert.same({ 0, 4 }, { r[1], r[3] })
      assert.equal("1", conn:command { "HGET", ks.daily, "used" })
    end)

    -- Redis TIME cannot be moved, and libfaketime clashes with Debian's
    -- jemalloc-linked redis-server, so the reset is shown in two honest halves:
    -- "today" is floor(TIME / 86400) (the wait above is to that boundary, checked
    -- against this machine's clock), and a count stored under an earlier day
    -- number no longer counts.
    it("starts a fresh quota when the stored count is from an earlier UTC day", function()
      local ks = scripts.keyspace("rollover")
      local today = math.floor(take(ks, 1000, 1000, 3)[4] / DAY_US)
      assert.equal(tostring(today), conn:command { "HGET", ks.daily, "day" })
      assert.equal(0, select(2, srv:cli("HSET", ks.daily, "day", tostring(today - 1), "used", "3")))
      local r = take(ks, 1000, 1000, 3)
      assert.same({ 1, 2 }, { r[1], r[3] })
      assert.same({ tostring(today), "1" }, conn:command { "HMGET", ks.daily, "day", "used" })
      -- a stored day *after* TIME's (failover to a server whose clock is behind)
      -- keeps counting: a clock going back never gives a second quota
      assert.equal(0, select(2, srv:cli("HSET", ks.daily, "day", tostring(today + 1), "used", "3")))
      r = take(ks, 1000, 1000, 3)
      assert.same({ 0, 0 }, { r[1], r[3] })
      assert.is_true(r[2] > 86400000, "wait " .. r[2])
    end)

    it("quota_exhaust spends the day for every host", function()
      local ks = scripts.keyspace("exhaust")
      assert.equal(1, take(ks, 1000, 1000, 100)[1])
      local ms = assert(scripts.run(conn, "quota_exhaust", { ks.daily }, { 100 }))
      assert.is_true(ms > 0 and ms <= 86400000)
      local r = take(ks, 1000, 1000, 100)
      assert.same({ 0, 0 }, { r[1], r[3] })
      assert.is_true(math.abs(r[2] - ms) < 1000)
    end)

    it("without a daily quota reports -1 remaining and keeps no daily key", function()
      local ks = scripts.keyspace("nodaily")
      local r = take(ks, 4, 1, 0)
      assert.same({ 1, 0, -1 }, { r[1], r[2], r[3] })
      assert.equal(0, conn:command { "EXISTS", ks.daily })
      local pttl = conn:command { "PTTL", ks.rate }
      assert.is_true(pttl > 0 and pttl <= 1250, "the rate key must expire: " .. pttl)
    end)
  end)

  describe("token_cas_set", function()
    local ks = scripts.keyspace("cas")
    local function set(v, doc, ttl)
      return assert(scripts.run(conn, "token_cas_set", { ks:token("a") }, { v, doc, ttl }))
    end

    it("never lets an older or equal version overwrite a newer one", function()
      assert.same({ 1, 5 }, set(5, "doc-5"))
      assert.same({ 0, 5 }, set(4, "doc-4"))
      assert.same({ 0, 5 }, set(5, "doc-5-again"))
      assert.same({ "5", "doc-5" }, conn:command { "HMGET", ks:token("a"), "version", "doc" })
      assert.same({ 1, 6 }, set(6, "doc-6"))
      assert.same({ "6", "doc-6" }, conn:command { "HMGET", ks:token("a"), "version", "doc" })
      assert.same({ 1, 0 }, assert(scripts.run(conn, "token_cas_set", { ks:token("b") }, { 0, "first" })))
    end)

    it("keeps the newest version whatever order concurrent writers arrive in", function()
      local outs, codes = redis.run_workers(4, [[
        local id, port = ...
        local core = require "ctct.core"
        local scripts = require "ctct.redis.scripts"
        local c = assert(core.redis_connect { port = tonumber(port) })
        local key = scripts.keyspace("cas"):token("shared")
        local bad = 0
        for i = 1, 100 do
          local v = ((i * 37) % 100) * 4 + tonumber(id) -- every version once, shuffled
          local r = assert(scripts.run(c, "token_cas_set", { key }, { v, "doc-" .. v }))
          if (r[1] == 1 and r[2] ~= v) or (r[1] == 0 and r[2] < v) then bad = bad + 1 end
        end
        io.write(bad)
      ]], { srv.port })
      for i = 1, 4 do
        assert.equal(0, codes[i], outs[i])
        assert.equal("0", outs[i])
      end
      assert.same({ "400", "doc-400" }, conn:command { "HMGET", ks:token("shared"), "version", "doc" })
    end)

    it("sets an expiry when asked, and clears it otherwise", function()
      set(1, "x", 150)
      local pttl = conn:command { "PTTL", ks:token("a") }
      assert.is_true(pttl > 0 and pttl <= 150)
      set(2, "y")
      assert.equal(-1, conn:command { "PTTL", ks:token("a") })
    end)
  end)

  describe("leases", function()
    local ks = scripts.keyspace("lease")
    local function acquire(ttl)
      return assert(scripts.run(conn, "lease_acquire", { ks:lease("r"), ks.fence }, { ttl }))
    end
    local function release(f) return assert(scripts.run(conn, "lease_release", { ks:lease("r") }, { f })) end
    local function renew(f, ttl) return assert(scripts.run(conn, "lease_renew", { ks:lease("r") }, { f, ttl })) end

    it("has one holder at a time, and fencing tokens only grow", function()
      local a = acquire(1000)
      assert.same({ 1, 1, 1000 }, a)
      local b = acquire(1000)
      assert.equal(0, b[1])
      assert.equal(1, b[2]) -- the holder's token
      assert.is_true(b[3] > 0 and b[3] <= 1000)
      local last = a[2]
      for _ = 1, 10 do
        assert.equal(1, release(last))
        local n = acquire(1000)
        assert.equal(1, n[1])
        assert.is_true(n[2] > last)
        last = n[2]
      end
    end)

    it("ignores a release or renew by a holder whose lease expired and was taken", function()
      local stale = acquire(100)
      core.sleep(0.15)
      local fresh = acquire(1000)
      assert.equal(1, fresh[1])
      assert.is_true(fresh[2] > stale[2])
      assert.equal(0, release(stale[2]))
      assert.equal(0, renew(stale[2], 5000))
      assert.equal(tostring(fresh[2]), conn:command { "GET", ks:lease("r") })
      assert.equal(1, renew(fresh[2], 5000))
      assert.is_true(conn:command { "PTTL", ks:lease("r") } > 1000)
      assert.equal(1, release(fresh[2]))
      assert.equal(0, release(fresh[2]))
    end)

    it("frees itself when it expires", function()
      assert.equal(1, acquire(100)[1])
      assert.equal(0, acquire(100)[1])
      core.sleep(0.15)
      assert.equal(1, acquire(100)[1])
    end)

    it("keeps its fencing counter across a restart (AOF)", function()
      local other = redis.start()
      finally(function() other:stop() end)
      local c = assert(other:connect())
      local before = assert(scripts.run(c, "lease_acquire", { ks:lease("r"), ks.fence }, { 60000 }))[2]
      assert.is_true(other:kill()) -- a crash: the lease is lost only if it expires
      other:start()
      c = assert(other:connect())
      local held = assert(scripts.run(c, "lease_acquire", { ks:lease("r"), ks.fence }, { 60000 }))
      assert.same({ 0, before }, { held[1], held[2] })
      assert.equal(1, assert(scripts.run(c, "lease_release", { ks:lease("r") }, { before })))
      assert.is_true(assert(scripts.run(c, "lease_acquire", { ks:lease("r"), ks.fence }, { 60000 }))[2] > before)
    end)

    it("excludes concurrent holders across processes", function()
      local outs, codes = redis.run_workers(4, [[
        local _, port = ...
        local core = require "ctct.core"
        local scripts = require "ctct.redis.scripts"
        local c = assert(core.redis_connect { port = tonumber(port) })
        local ks = scripts.keyspace("lease")
        local fences, overlaps = {}, 0
        local stop = core.monotonic() + 1.5
        while core.monotonic() < stop do
          local r = assert(scripts.run(c, "lease_acquire", { ks:lease("x"), ks.fence }, { 2000 }))
          if r[1] == 1 then
            if c:command { "INCR", "holders" } ~= 1 then overlaps = overlaps + 1 end
            core.sleep(0.002)
            c:command { "DECR", "holders" }
            assert(assert(scripts.run(c, "lease_release", { ks:lease("x") }, { r[2] })) == 1)
            fences[#fences + 1] = string.format("%.0f", r[2])
          end
        end
        io.write(overlaps, " ", table.concat(fences, " "))
      ]], { srv.port })
      local seen, total = {}, 0
      for i = 1, 4 do
        assert.equal(0, codes[i], outs[i])
        local ns = numbers(outs[i])
        assert.equal(0, ns[1], "worker " .. i .. " saw another holder")
        for j = 2, #ns do
          assert.is_nil(seen[ns[j]], "fence " .. ns[j] .. " handed out twice")
          seen[ns[j]] = true
          if j > 2 then assert.is_true(ns[j] > ns[j - 1]) end
          total = total + 1
        end
      end
      assert.is_true(total > 20, "only " .. total .. " leases in 1.5 s")
    end)
  end)
end)
