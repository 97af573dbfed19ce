-- A fleet under faults: plain Lua workers of one API key sharing tokens and the budget
-- through Redis found by Sentinel (a master, a replica, one Sentinel; AOF
-- `appendfsync always`; every token write waits for the replica), against the
-- sandbox in fleet mode. While they run, the test kills workers with SIGKILL at
-- random moments (each replaced by a new one), kills and restarts Redis, then kills
-- the master for good so that Sentinel fails over to the replica. Afterwards every
-- account must still work from what is stored (no token lost to a crash, a restart
-- or the failover), the sandbox must have answered no 429, and every refresh must
-- have given a token that was put to use (no duplicate refresh).
--
-- Prints: fleet faults: K kill -9, X redis restarts, Y failovers: L tokens lost, Q 429s, D duplicate refreshes
local cjson = require "cjson"
local core = require "ctct.core"
local redis = require "spec.helpers.redis"
local sandbox = require "spec.helpers.sandbox"
local expired_login = require "spec.support.fleet.login"

local WORKERS, ACCOUNTS, DURATION = 4, 6, 24
local LIMIT, PER_SECOND = 4, 3.85

describe("#once fleet faults", function()
  local sb, master, replica, sentinel
  local pids = {}
  lazy_setup(function()
    master = redis.start {}
    replica = redis.start { replica_of = master }
    assert(replica:wait_sync(10), "the replica did not sync")
    -- Down after 3 s: the restart below is quicker; the final kill is not.
    sentinel = redis.sentinel { master = master, name = "ctct", down_after_ms = 3000, failover_timeout_ms = 6000 }
    sb = sandbox.start { workers = 2 }
  end)
  lazy_teardown(function()
    for pid in pairs(pids) do sandbox.run("kill -KILL " .. pid .. " 2>/dev/null") end
    if sb then sb:stop() end
    redis.stop_all()
  end)

  local function login(account) return expired_login(sb, account) end

  local root = sandbox.repo_root()
  local function spawn(cfg, who)
    local path = os.tmpname()
    sandbox.write_file(path, cjson.encode(cfg))
    local code = ("package.path = %q .. package.path; package.cpath = %q .. ';' .. package.cpath; " ..
      "local f = io.open(%q); local cfg = require('ctct.json').decode(f:read('a')); f:close(); " ..
      "require('spec.support.fleet.worker').run(cfg, %q)"):format(root .. "/lua/?.lua;" .. root ..
      "/lua/?/init.lua;" .. root .. "/?.lua;", root .. "/build/5.4/?.so", path, who)
    local out = sandbox.run("cd " .. sandbox.quote(root) .. " && (lua5.4 -e " .. sandbox.quote(code) ..
      " >/dev/null 2>&1 & echo $!)")
    local pid = tonumber(out:match("%d+"))
    pids[pid] = true
    return pid
  end
  local function alive(pid) return select(2, sandbox.run("kill -0 " .. pid .. " 2>/dev/null")) == 0 end

  it("loses no token and makes no duplicate refresh through kills, a restart and a failover", function()
    sb:config { rate_limit_per_second = LIMIT, daily_quota = 0, token_rate_limit_per_second = 0,
                rate_limit_scope = "api_key" }
    -- A client refreshes a token set once it has less than refresh_skew (3 s) left, so at
    -- 3 s of age or more: one refreshed younger than 2.5 s was refreshed twice.
    sb:oauth_config { access_token_ttl = 6, refresh_rotation = true, early_refresh_age = 2.5 }
    local client_id = sb.oauth.client_id
    local via_sentinel = { sentinels = { { host = sentinel.host, port = sentinel.port } }, master = "ctct",
                           timeout = 1, connect_timeout = 0.5 }
    local store = require("ctct.store.redis").new { redis = via_sentinel, api_key = client_id, replicas = 1 }
    local accounts = {}
    for i = 1, ACCOUNTS do
      accounts[i] = "faults-" .. i
      assert(store:set(accounts[i], login(accounts[i])))
    end
    local before = sb:stats()
    local start_at = core.time() + 3 -- the seeded token sets older than early_refresh_age by then
    local cfg = { redis = via_sentinel, client_id = client_id, client_secret = sb.oauth.client_secret,
                  token_url = sb.oauth.token_url, base_url = sb.base_url, accounts = accounts,
                  per_second = PER_SECOND, refresh_skew = 3, start_at = start_at, duration = DURATION,
                  results = "faults:results", lease_ttl = 10, replicas = 1, hosts = WORKERS,
                  -- while Redis is away, send nothing (the "local" fallback would meet the
                  -- Redis-admitted stream when Redis comes back: see docs/SCALING.md)
                  on_redis_error = "fail" }
    local running, n = {}, 0
    for i = 1, WORKERS do
      n = n + 1
      cfg.offset = i
      running[i] = spawn(cfg, "w" .. n)
    end
    local function at(t) while core.time() < start_at + t do core.sleep(0.05) end end
    -- SIGKILL a random worker at random moments, and start another in its place.
    math.randomseed(os.time())
    local kills = 0
    for _ = 1, 12 do
      at(math.min(10, (kills + 1) * 0.8 + math.random() * 0.3))
      local i = math.random(WORKERS)
      sandbox.run("kill -KILL " .. running[i])
      pids[running[i]] = nil
      kills = kills + 1
      n = n + 1
      cfg.offset = n
      running[i] = spawn(cfg, "w" .. n)
    end
    -- Redis killed and started again (AOF: nothing acknowledged is lost), faster than
    -- Sentinel declares it down.
    at(11)
    master:kill()
    master:start()
    local restarts = 1
    -- The master dies for good: Sentinel promotes the replica.
    at(15)
    master:kill()
    local failovers = 0
    for _ = 1, 300 do
      local _, port = sentinel:master_addr()
      if port == replica.port then failovers = 1 break end
      core.sleep(0.05)
    end
    -- The old master comes back; Sentinel makes it the new master's replica, so token
    -- writes (which wait for one replica) are acknowledged again.
    master:start()
    at(DURATION)
    for _ = 1, 300 do -- the workers' last calls, then their reports
      local any = false
      for _, pid in ipairs(running) do any = any or alive(pid) end
      if not any then break end
      core.sleep(0.1)
    end
    for _, pid in ipairs(running) do pids[pid] = nil end
    local after = sb:stats()
    local throttled = after.throttled - before.throttled
    -- Every account from what is stored now, through Sentinel (the new master).
    local lost, why = 0, {}
    for _, a in ipairs(accounts) do
      local c = require("ctct").new { token_store = store, account = a, client_id = client_id,
                                      client_secret = sb.oauth.client_secret, token_url = sb.oauth.token_url,
                                      base_url = sb.base_url, rate_limit = false, refresh_skew = 3 }
      local ok, err = c:request("GET", "/account/summary")
      if not ok then lost, why[#why + 1] = lost + 1, a .. ": " .. tostring(err) end
    end
    after = sb:stats()
    -- Duplicates, by the sandbox: a refresh token presented twice (reuse), or a token
    -- set refreshed again before it was near expiry.
    local duplicates = (after.oauth.refresh_reuse - before.oauth.refresh_reuse) +
      (after.oauth.early_refresh - before.oauth.early_refresh)
    print(("fleet faults: %d kill -9, %d redis restarts, %d failovers: %d tokens lost, %d 429s, " ..
      "%d duplicate refreshes"):format(kills, restarts, failovers, lost, throttled, duplicates))
    assert.is_true(kills >= 10)
    assert.equal(1, failovers, "Sentinel did not fail over")
    assert.equal(0, lost, table.concat(why, "\n"))
    assert.equal(0, throttled)
    assert.equal(0, duplicates)
  end)
end)
