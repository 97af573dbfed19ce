-- A fleet: several nginx hosts (each its own nginx, 2 workers, own shared dicts) and
-- plain Lua processes, all one API key, sharing tokens and the rate budget through one
-- real redis-server, against the sandbox in fleet mode: its per-second limit counts the
-- API key's requests across every account (429 throttled past it), access tokens live
-- seconds, refresh tokens rotate with reuse detection (a refresh token used twice
-- revokes its family: invalid_grant). The sandbox's own counters are the oracle:
-- requests, 429s, refresh grants, access tokens put to use.
--
-- Prints: fleet: H hosts, W workers, P scripts, S s: R requests, Q 429s, budget used U%,
--         F refreshes for E expiries, G invalid_grant
local cjson = require "cjson"
local core = require "ctct.core"
local nginx = require "spec.helpers.nginx"
local redis = require "spec.helpers.redis"
local sandbox = require "spec.helpers.sandbox"
local expired_login = require "spec.support.fleet.login"
local scripts = require "ctct.redis.scripts"

local HOSTS, NGINX_WORKERS, PLAIN = 3, 2, 2
local ACCOUNTS, DURATION = 6, 10
local LIMIT = 4            -- the sandbox's per-second limit for the API key
local PER_SECOND = 3.85    -- the fleet's budget: under the limit by what a late send may need
local TOKEN_TTL, SKEW = 6, 3

describe("#once fleet", function()
  local sb, srv, hosts = nil, nil, {}
  lazy_setup(function()
    srv = redis.start {}
    sb = sandbox.start { workers = 2 }
  end)
  lazy_teardown(function()
    for _, h in ipairs(hosts) do h:stop() end
    if sb then sb:stop() end
    redis.stop_all()
  end)

  local function login(account) return expired_login(sb, account) end

  it("shares one budget and one refresh per expiry across hosts", function()
    sb:config { rate_limit_per_second = LIMIT, daily_quota = 0, token_rate_limit_per_second = 0,
                rate_limit_scope = "api_key" }
    sb:oauth_config { access_token_ttl = TOKEN_TTL, refresh_rotation = true }
    local client_id = sb.oauth.client_id
    local redis_opts = { host = srv.host, port = srv.port, timeout = 5, connect_timeout = 2 }
    local store = require("ctct.store.redis").new { redis = redis_opts, api_key = client_id }
    local accounts = {}
    for i = 1, ACCOUNTS do
      accounts[i] = "fleet-" .. i
      assert(store:set(accounts[i], login(accounts[i])))
    end
    local before = sb:stats()
    local start_at = core.time() + 3 -- time for the hosts to start
    local cfg = {
      redis = redis_opts, client_id = client_id, client_secret = sb.oauth.client_secret,
      token_url = sb.oauth.token_url, base_url = sb.base_url, accounts = accounts, per_second = PER_SECOND,
      refresh_skew = SKEW, start_at = start_at, duration = DURATION, results = "fleet:results",
    }
    for h = 1, HOSTS do
      local c = {}
      for k, v in pairs(cfg) do c[k] = v end
      c.host, c.offset = "nginx-" .. h, h * NGINX_WORKERS
      local path = os.tmpname()
      sandbox.write_file(path, cjson.encode(c))
      finally(function() os.remove(path) end)
      hosts[h] = nginx.start { template = sandbox.repo_root() .. "/spec/support/fleet/nginx.conf",
                               workers = NGINX_WORKERS, vars = { CONFIG = path } }
    end
    -- The plain Lua processes run now (blocking until their window ends) while the
    -- nginx hosts' timers run theirs.
    local outs, codes = redis.run_workers(PLAIN, [[
      local i, config = ...
      local cfg = require("ctct.json").decode(config)
      cfg.host, cfg.offset = "lua-" .. i, tonumber(i)
      require("spec.support.fleet.worker").run(cfg, cfg.host)
      io.write("done")
    ]], { cjson.encode(cfg) })
    for i = 1, PLAIN do assert.equal(0, codes[i], outs[i]) end
    local workers = HOSTS * NGINX_WORKERS + PLAIN
    for _ = 1, 200 do -- the nginx workers finish their last call and report
      if tonumber(srv:cli("SCARD", "fleet:results:workers"):match("%d+")) >= workers then break end
      core.sleep(0.1)
    end
    local function hget(field) return tonumber(srv:cli("HGET", "fleet:results", field):match("%-?%d+")) or 0 end
    local seen_workers = tonumber(srv:cli("SCARD", "fleet:results:workers"):match("%d+"))
    local seen_hosts = 0
    for name in srv:cli("SMEMBERS", "fleet:results:hosts"):gmatch("%S+") do
      if name:match("^nginx%-") then seen_hosts = seen_hosts + 1 end
    end
    local last = start_at
    for v in srv:cli("HVALS", "fleet:results:last"):gmatch("[%d.]+") do last = math.max(last, tonumber(v)) end
    local elapsed = last - start_at

    local after = sb:stats()
    local requests = (after.by_route["GET /v3/account/summary"] or 0) - (before.by_route["GET /v3/account/summary"]
      or 0)
    local throttled = after.throttled - before.throttled
    local refreshes = after.oauth.refresh_token - before.oauth.refresh_token
    -- Access tokens put to use: each one an expiry the fleet went through.
    local expiries = after.access_tokens_used - before.access_tokens_used
    local invalid_grant = (after.oauth.refresh_reuse - before.oauth.refresh_reuse) + hget("login_required")
    local used = requests / (LIMIT * elapsed) * 100
    -- Scripts of ctct.redis.scripts the fleet loaded into Redis: SCRIPT EXISTS of each
    -- source's SHA1 (sha1sum, not the client: nothing here loads them).
    local loaded = 0
    for _, sc in pairs(scripts.scripts) do
      local path = os.tmpname()
      sandbox.write_file(path, sc.source)
      local sha = sandbox.run("sha1sum " .. sandbox.quote(path)):match("^%x+")
      os.remove(path)
      if srv:cli("SCRIPT", "EXISTS", sha):match("^1") then loaded = loaded + 1 end
    end
    print(("fleet: %d hosts, %d workers, %d scripts, %.1f s: %d requests, %d 429s, budget used %.0f%%, " ..
      "%d refreshes for %d expiries, %d invalid_grant"):format(seen_hosts, seen_workers, loaded, elapsed, requests,
      throttled, used, refreshes, expiries, invalid_grant))
    local errors_seen = srv:cli("HGETALL", "fleet:results:errors")
    assert.equal(workers, seen_workers, "workers that reported: " .. seen_workers .. "\n" ..
      table.concat((function() local l = {} for _, h in ipairs(hosts) do l[#l + 1] = h:log() end return l end)(),
        "\n"))
    assert.is_true(seen_hosts >= 3)
    assert.equal(0, throttled, errors_seen)
    assert.equal(0, hget("other"), errors_seen)
    assert.equal(0, invalid_grant, errors_seen)
    assert.equal(requests, hget("requests"))
    assert.is_true(used >= 95, ("budget used %.1f%%"):format(used))
    assert.is_true(expiries >= ACCOUNTS, "too few expiries to tell: " .. expiries)
    assert.equal(expiries, refreshes)
  end)

  it("runs examples/fleet.lua: tokens from the Redis store, the budget from Redis", function()
    sb:config { rate_limit_per_second = LIMIT, rate_limit_scope = "api_key" }
    local redis_opts = { host = srv.host, port = srv.port }
    local store = require("ctct.store.redis").new { redis = redis_opts, api_key = sb.oauth.client_id }
    assert(store:set("example-1", login("example-1")))
    assert(store:set("example-2", login("example-2")))
    local q = sandbox.quote
    local out, code = sandbox.run(". tools/lua-env.sh && ctct_lua_env \"$PWD\" && CTCT_REDIS=" ..
      q(srv.host .. ":" .. srv.port) .. " CTCT_CLIENT_ID=" .. q(sb.oauth.client_id) .. " CTCT_CLIENT_SECRET=" ..
      q(sb.oauth.client_secret) .. " CTCT_TOKEN_URL=" .. q(sb.oauth.token_url) .. " CTCT_BASE_URL=" ..
      q(sb.base_url) .. " CTCT_ACCOUNTS=example-1,example-2 lua5.4 examples/fleet.lua 2>&1")
    assert.equal(0, code, out)
    assert.matches("^example%-1: .+ %(%w+%)\nexample%-2: .+ %(%w+%)\n$", out)
    -- both stored tokens were expired: each was refreshed, and the new one stored
    assert.are_not.equal(login("example-1").refresh_token, store:get("example-1").refresh_token)
    assert.is_true(store:get("example-2").expires_at > core.time())
  end)

  it("inside nginx: the same store and limiter over cosockets, and Redis down gives a clear error", function()
    local probe = [[
location /probe {
  content_by_lua_block {
    local args = ngx.req.get_uri_args()
    local redis = { host = "127.0.0.1", port = tonumber(args.port), connect_timeout = 0.3, timeout = 0.5 }
    local store = require("ctct.store.redis").new { redis = redis, api_key = "probe" }
    local limiter = require("ctct.ratelimit.redis").new { redis = redis, api_key = "probe", per_second = 2,
                                                          hosts = 2, daily = false }
    local out = {}
    local ok, err = store:set("a", { access_token = "t-" .. args.port })
    out.set = ok and "ok" or (err.kind .. ": " .. err.message)
    local tok
    tok, err = store:get("a")
    out.get = tok and tok.access_token or (err.kind .. ": " .. err.message)
    out.waits = { limiter:take(), limiter:take() }
    out.redis_errors = limiter.redis_errors
    ngx.say(require("cjson").encode(out))
  }
}]]
    local host = nginx.start { template = sandbox.repo_root() .. "/spec/support/fleet/nginx.conf", workers = 1,
                               vars = { CONFIG = "" }, locations = probe }
    finally(function() host:stop() end)
    local function get(port)
      local body = sandbox.run("curl -s --max-time 10 " .. sandbox.quote(host.url .. "/probe?port=" .. port))
      return cjson.decode(body)
    end
    local up = get(srv.port)
    assert.equal("ok", up.set)
    assert.equal("t-" .. srv.port, up.get)
    assert.equal(0, up.waits[1])
    assert.is_true(up.waits[2] > 0.4 and up.waits[2] <= 0.5) -- 2/s across the fleet: 0.5 s apart
    assert.equal(0, up.redis_errors)
    local down_port = redis.free_port()
    local down = get(down_port)
    assert.matches("^storage: redis token store: writing a: redis: connection refused", down.set)
    assert.matches("^storage: redis token store: reading a: redis: connection refused", down.get)
    -- the local fallback: 2/s shared by 2 hosts = 1/s here
    assert.equal(0, down.waits[1])
    assert.is_true(math.abs(down.waits[2] - 1) < 0.01, tostring(down.waits[2]))
    assert.equal(2, down.redis_errors)
    assert.matches("Redis unreachable", host:log())
  end)
end)
