-- ctct inside nginx: examples/openresty/nginx.conf run by Debian's nginx +
-- libnginx-mod-http-lua (LuaJIT, the build/jit ctct.core), pointed at the sandbox,
-- its three handlers driven over HTTP with curl, and the two proofs:
--   * non-blocking: 1 worker, 20 concurrent calls that each take 1 s upstream;
--   * single-flight: 4 workers, 200 concurrent requests with an expired token in
--     the shared dict, exactly one refresh at the authorization server;
-- plus the bad inputs (a phase without cosockets, a missing lua_shared_dict, an
-- upstream certificate that does not verify, a slow upstream).
local cjson = require "cjson"
local sandbox = require "spec.helpers.sandbox"
local nginx = require "spec.helpers.nginx"
local run, quote = sandbox.run, sandbox.quote

local SB_CURL -- Sandbox:curl, set once a sandbox runs
local COOKIE_SECRET = "0123456789abcdef0123456789abcdef-test"
local CLIENT = { id = "openresty-app", secret = "openresty-secret" }

local function now()
  return tonumber((run("date +%s.%N"):gsub("%s+$", "")))
end

-- curl to the app: status, body (decoded JSON when it is), headers.
local function get(srv, path, opts)
  opts = opts or {}
  local headers = {}
  if opts.user then headers[#headers + 1] = "X-App-User: " .. opts.user end
  if opts.cookie then headers[#headers + 1] = "Cookie: " .. opts.cookie end
  for _, h in ipairs(opts.headers or {}) do headers[#headers + 1] = h end
  -- The sandbox helper's curl, aimed at the app (it uses only self.url).
  return SB_CURL({ url = srv.url }, {
    method = opts.method, url = srv.url .. path, headers = headers, body = opts.body,
    content_type = opts.content_type, timeout = opts.timeout,
  })
end

-- n copies of one curl command at once; returns the list of HTTP statuses and the seconds taken.
local function concurrently(n, curl_args)
  local t0 = now()
  local out = run("seq " .. n .. " | xargs -P " .. n .. " -I{} curl -s -o /dev/null -w '%{http_code}\\n' " ..
    "--max-time 30 " .. curl_args)
  local elapsed = now() - t0
  local statuses = {}
  for code in out:gmatch("%d+") do statuses[#statuses + 1] = tonumber(code) end
  return statuses, elapsed
end

local function count(list, value)
  local c = 0
  for _, v in ipairs(list) do if v == value then c = c + 1 end end
  return c
end

-- Extra test-only locations (the example's own are left as they are).
local function test_locations()
  return [[
location = /t/set_phase {
    set_by_lua_block $answer {
        local client = require("ctct_example.config").client_for("user:owner")
        local data = client:request("GET", "/account/summary")
        return data and "called" or "no"
    }
    return 200 $answer;
}
location = /t/log_phase {
    content_by_lua_block { ngx.say("ok") }
    log_by_lua_block {
        local ok, err = pcall(function()
            return require("ctct.transport.ngx").new{}:request{ method = "GET", url = "http://127.0.0.1:1/" }
        end)
        ngx.log(ngx.ERR, "log phase call: ", ok and "went through" or err)
    }
}
location = /t/no_dict {
    content_by_lua_block {
        local ok, err = pcall(require("ctct.store.shdict").new, { dict = "ctct_missing" })
        local ok2, err2 = pcall(require("ctct").new, { access_token = "t",
            rate_limit = { shared_dict = "ctct_missing_too" } })
        ngx.log(ngx.ERR, err)
        ngx.say(require("cjson").encode{ store = ok and "made" or err, limiter = ok2 and "made" or err2 })
    }
}
location = /t/upstream {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        local client = require("ctct").new { access_token = "t0ken", base_url = args.base,
            timeout = tonumber(args.timeout) or 5, retry = false, rate_limit = false }
        local started = ngx.now()
        local data, err = client:request("GET", "/account/summary")
        ngx.update_time()
        if not data then ngx.log(ngx.WARN, "upstream test: ", tostring(err)) end
        ngx.say(require("cjson").encode{ ok = data ~= nil, kind = err and err.kind, sent = err and err.sent,
            message = err and err.message, elapsed = ngx.now() - started })
    }
}
location = /t/transport {
    content_by_lua_block {
        local t = require("ctct.transport.ngx").new{}
        local args = ngx.req.get_uri_args()
        local res, err = t:request{ method = args.method or "GET", url = args.url,
            headers = { Authorization = "Bearer " .. (args.token or "") } }
        ngx.say(require("cjson").encode{ status = res and res.status, len = res and #res.body,
            te = res and res.headers["transfer-encoding"], cl = res and res.headers["content-length"],
            kind = err and err.kind })
    }
}
location = /t/partner {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        local partner = require("ctct").partner.new { client_id = args.id, secret = args.secret,
            api_key = args.key, token_url = args.token_url, base_url = args.base, shared_dict = "ctct_cache",
            rate_limit = false, retry = false }
        local data, err = partner:request("GET", "/partner/accounts")
        if not data then ngx.log(ngx.WARN, "partner: ", tostring(err)) return ngx.exit(502) end
        ngx.say("ok")
    }
}
location = /t/cache {
    content_by_lua_block {
        ngx.say(ngx.shared.ctct_cache:get("jwks:" .. ngx.req.get_uri_args().url) and "cached" or "none")
    }
}
location = /t/take {
    content_by_lua_block {
        local limiter = require("ctct.ngx.ratelimit").new { dict = "ctct_ratelimit", key = ngx.var.arg_key,
            per_second = 4 }
        local wait = limiter:take()
        ngx.update_time()
        ngx.say(math.floor(ngx.now() + wait + 0.0005))
    }
}
location = /t/many {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        local t = require("ctct.transport.ngx").new{}
        local ok = 0
        for _ = 1, 10 do
            local res = t:request{ method = "GET", url = args.url,
                                   headers = { Authorization = "Bearer " .. args.token } }
            if res and res.status == 200 then ok = ok + 1 end
        end
        ngx.say(ok)
    }
}
location = /t/chunked {
    content_by_lua_block {
        for i = 1, 50 do ngx.print(string.rep(string.char(96 + i % 26), 1000)) ngx.flush(true) end
    }
}
location = /t/timer {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        local url, token = args.url, args.token
        local done = ngx.shared.ctct_tokens
        done:delete("t:timer")
        ngx.timer.at(0, function()
            local c = require("ctct").new { access_token = token, base_url = url, retry = false, rate_limit = false }
            local data, err = c:request("GET", "/account/summary")
            done:set("t:timer", data and data.organization_name or tostring(err))
        end)
        for _ = 1, 100 do
            if done:get("t:timer") then break end
            ngx.sleep(0.02)
        end
        ngx.say(done:get("t:timer") or "timer did not finish")
    }
}]]
end

describe("OpenResty / nginx #once", function()
  local sb, tls_sb, srv
  local authz, list_id

  local function start_app(workers, per_second)
    return nginx.start {
      workers = workers,
      vars = {
        BASE_URL = sb.base_url, AUTHZ_URL = authz, CLIENT_ID = CLIENT.id, CLIENT_SECRET = CLIENT.secret,
        COOKIE_SECRET = COOKIE_SECRET, WEBHOOK_JWKS_URL = sb.webhook_jwks_url, PER_SECOND = per_second or 1000,
        TIMEOUT = 3, SIGNUP_LIST_ID = list_id,
      },
      locations = test_locations(),
    }
  end

  -- The browser's side of "connect your account": /connect -> the authorization
  -- server -> /connect/callback with the cookie. Returns the callback's status and body.
  local function connect(app, user, tamper)
    sb:add_client { client_id = CLIENT.id, client_secret = CLIENT.secret,
                    redirect_uris = { app.url .. "/connect/callback" } }
    local status, _, headers = get(app, "/connect", { user = user })
    assert.equal(302, status)
    local set_cookie = assert(headers["set-cookie"], "no Set-Cookie")
    assert.truthy(set_cookie:find("HttpOnly", 1, true))
    local cookie = set_cookie:match("^([^;]+)")
    if tamper then cookie = cookie:sub(1, -3) .. (cookie:sub(-2) == "AA" and "BB" or "AA") end
    local astatus, _, aheaders = sb:curl { url = headers.location }
    assert.equal(302, astatus)
    local callback = aheaders.location
    assert.truthy(callback:find(app.url .. "/connect/callback?", 1, true), callback)
    return get(app, callback:sub(#app.url + 1), { user = user, cookie = cookie })
  end

  lazy_setup(function()
    sb = sandbox.start { workers = 2 }
    SB_CURL = sb.curl
    tls_sb = sandbox.start { tls = true }
    authz = sb.url .. "/oauth2/default/v1"
    sb:config { rate_limit_per_second = 0, token_rate_limit_per_second = 0 }
    local _, list = sb:api("POST", "/contact_lists", { name = "Sign-ups" })
    list_id = assert(list.list_id)
    srv = start_app(1)
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    if sb then sb:stop() end
    if tls_sb then tls_sb:stop() end
  end)

  describe("ngx transport", function()
    it("reads Content-Length and chunked bodies and works from a timer", function()
      local _, body = get(srv, "/t/transport?url=" .. sandbox.urlencode(sb.base_url .. "/account/summary") ..
        "&token=" .. sb.token)
      assert.equal(200, body.status)
      assert.is_true(body.len > 50)
      -- A body nginx streams (ngx.say without a length) arrives chunked.
      assert.is_true(body.te == "chunked" or body.cl ~= nil)
      local _, list = get(srv, "/t/transport?url=" .. sandbox.urlencode(sb.base_url .. "/contacts?limit=50") ..
        "&token=" .. sb.token)
      assert.equal(200, list.status)
      -- Forced chunked: 50 flushed pieces of 1000 bytes.
      local _, chunked = get(srv, "/t/transport?url=" .. sandbox.urlencode(srv.url .. "/t/chunked"))
      assert.equal(200, chunked.status)
      assert.equal("chunked", chunked.te)
      assert.equal(50000, chunked.len)
      -- HEAD: headers only, even with a Content-Length.
      local _, head = get(srv, "/t/transport?method=HEAD&url=" .. sandbox.urlencode(srv.url .. "/nothing-here"))
      assert.equal(404, head.status)
      assert.equal(0, head.len)
      -- Keep-alive: 10 calls in a row ride one pooled connection.
      local before = sb:stats().connections
      local _, ok10 = get(srv, "/t/many?url=" .. sandbox.urlencode(sb.base_url .. "/account/summary") ..
        "&token=" .. sb.token)
      assert.equal(10, tonumber(ok10))
      assert.is_true(sb:stats().connections - before <= 1)
      local _, text = get(srv, "/t/timer?url=" .. sandbox.urlencode(sb.base_url) .. "&token=" .. sb.token)
      assert.equal("Sandbox default", (text:gsub("%s+$", "")))
    end)
  end)

  describe("the example handlers", function()
    it("connect your account: code + PKCE, state in a signed HttpOnly cookie, tokens per user", function()
      local status, body = connect(srv, "owner")
      assert.equal(200, status, cjson.encode(body))
      assert.same({ connected = true, user = "owner" }, body)
      local code = sb:oauth_stats().authorization_code
      assert.is_true(code >= 1)
      local s2, summary = get(srv, "/me/account", { user = "owner" })
      assert.equal(200, s2, cjson.encode(summary))
      assert.equal("Sandbox default", summary.organization_name)
      -- Another app user has no token: a login is needed.
      local s3, none = get(srv, "/me/account", { user = "nobody" })
      assert.equal(503, s3)
      assert.equal("login_required", none.error_key)
    end)

    it("refuses a callback whose cookie was tampered with, or that has no cookie", function()
      local status, body = connect(srv, "mallory", true)
      assert.equal(400, status)
      assert.truthy(body.message:find("signature", 1, true), body.message)
      local s2, b2 = get(srv, "/connect/callback?code=x&state=y", { user = "mallory" })
      assert.equal(400, s2)
      assert.truthy(b2.message:find("no login cookie", 1, true))
      local s3 = get(srv, "/me/account", { user = "mallory" })
      assert.equal(503, s3) -- nothing was stored
    end)

    it("sign-up form: contacts:create_or_update with the owner's token", function()
      local status, body = get(srv, "/signup", { method = "POST", body = "email=ada%40example.com&first_name=Ada",
        content_type = "application/x-www-form-urlencoded" })
      assert.equal(200, status, cjson.encode(body))
      assert.is_string(body.contact_id)
      assert.equal("created", body.action)
      local again, b2 = get(srv, "/signup", { method = "POST", body = "email=ada%40example.com&last_name=L",
        content_type = "application/x-www-form-urlencoded" })
      assert.equal(200, again)
      assert.equal(body.contact_id, b2.contact_id)
      assert.equal("updated", b2.action)
      local bad = get(srv, "/signup", { method = "POST", body = "email=not-an-email",
        content_type = "application/x-www-form-urlencoded" })
      assert.equal(400, bad)
    end)

    it("metrics: every call the site made, by operation and status, as Prometheus text", function()
      assert.equal(200, (get(srv, "/signup", { method = "POST", body = "email=grace%40example.com",
        content_type = "application/x-www-form-urlencoded" })))
      local out, code = sandbox.run("curl -s -w '\n%{http_code}' " .. sandbox.quote(srv.url .. "/metrics"))
      assert.equal(0, code)
      assert.matches("\n200$", out)
      assert.matches('# TYPE ctct_requests_total counter\n', out, 1, true)
      local n = tonumber(out:match('ctct_requests_total{operation="createOrUpdateContact",status="200"} (%d+)'))
      assert.is_true(n ~= nil and n >= 1, out)
      assert.matches("ctct_request_attempts_total %d+", out)
      assert.matches("ctct_budget_wait_seconds_total [%d.e-]+", out)
    end)

    it("webhook receiver: accepts a signed notification, refuses a forged one", function()
      local body = cjson.encode { event_type = "account.updated", topic_id = 3, account_id = "a07e1",
                                  url = sb.base_url .. "/account/summary", time = "2026-01-01T00:00:00Z" }
      local sig = sb:webhook_signature(body)
      local status, got = get(srv, "/hooks/ctct", { method = "POST", body = body,
        headers = { "X-CTCT-WEBHOOK-SIG: " .. sig } })
      assert.equal(200, status, cjson.encode(got))
      assert.equal("account.updated", got.received)
      local forged = body:gsub("a07e1", "evil1")
      local s2 = get(srv, "/hooks/ctct", { method = "POST", body = forged,
        headers = { "X-CTCT-WEBHOOK-SIG: " .. sig } })
      assert.equal(401, s2)
      local s3 = get(srv, "/hooks/ctct", { method = "POST", body = body })
      assert.equal(401, s3)
      -- The key set went to the shared dict, for every worker.
      local _, cached = get(srv, "/t/cache?url=" .. sandbox.urlencode(sb.webhook_jwks_url))
      assert.equal("cached", (cached:gsub("%s+$", "")))
    end)
  end)

  describe("proofs", function()
    it("never blocks the worker: 20 concurrent 1 s calls on 1 worker", function()
      -- The owner connected above (same nginx, same shared dict).
      assert.equal(200, (get(srv, "/me/account", { user = "owner" })))
      sb:config { latency_ms = 1000 }
      local statuses, elapsed = concurrently(20, "-X POST -d 'email=user{}%40example.com' " ..
        quote(srv.url .. "/signup"))
      sb:config { latency_ms = 0 }
      assert.equal(20, #statuses)
      assert.equal(20, count(statuses, 200))
      print(string.format("openresty non-blocking: 20 concurrent 1 s calls in %.1f s", elapsed))
      assert.is_true(elapsed >= 1.0)
      assert.is_true(elapsed < 5, "took " .. elapsed .. " s")
    end)

    it("single flight: 4 workers, 200 requests, an expired token, one refresh", function()
      local app = start_app(4)
      finally(function() app:stop() end)
      sb:oauth_config { access_token_ttl = 2 }
      local status = connect(app, "sf")
      assert.equal(200, status)
      run("sleep 2.2") -- expired for the client (and for the API too)
      sb:oauth_config { access_token_ttl = 86400 } -- the refreshed one lives long
      local before = sb:oauth_stats().refresh_token
      local statuses = concurrently(200, "-H 'X-App-User: sf' " .. quote(app.url .. "/me/account"))
      local refreshes = sb:oauth_stats().refresh_token - before
      assert.equal(200, #statuses)
      print(string.format("openresty single-flight: 200 requests, %d refresh(es)", refreshes))
      assert.equal(200, count(statuses, 200), app:log():sub(-3000))
      assert.equal(1, refreshes)
      assert.equal(0, sb:oauth_stats().refresh_reuse)

      -- The rate limiter's bucket is shared: 12 takes at 4/s on 4 workers fill 3 seconds.
      local key = "k" .. math.random(1e6)
      local slots = run("seq 12 | xargs -P 12 -I{} curl -s --max-time 10 " .. quote(app.url .. "/t/take?key=" .. key))
      local per_second, distinct, total = {}, 0, 0
      for second in slots:gmatch("%d+") do
        total = total + 1
        if not per_second[second] then distinct = distinct + 1 end
        per_second[second] = (per_second[second] or 0) + 1
        assert.is_true(per_second[second] <= 4, slots)
      end
      assert.equal(12, total)
      assert.is_true(distinct >= 3, slots)

      -- The partner token too: one token request for 4 workers x 50 requests.
      local p = sb.partner
      local before_partner = sb:partner_stats().token_requests
      local pstatuses = concurrently(200, quote(app.url .. "/t/partner?id=" .. p.client_id .. "&secret=" ..
        p.client_secret .. "&key=" .. p.api_key .. "&token_url=" .. sandbox.urlencode(p.token_url) ..
        "&base=" .. sandbox.urlencode(sb.base_url)))
      assert.equal(200, count(pstatuses, 200), app:log():sub(-2000))
      assert.equal(1, sb:partner_stats().token_requests - before_partner)
    end)
  end)

  describe("bad input", function()
    it("a call from a phase without cosockets raises naming the phase; the worker keeps serving", function()
      local status = get(srv, "/t/set_phase")
      assert.equal(500, status)
      get(srv, "/t/log_phase")
      run("sleep 0.2")
      local log = srv:log()
      assert.truthy(log:find("[error]", 1, true))
      assert.truthy(log:find("no HTTP possible in nginx's 'set' phase", 1, true), log:sub(-2000))
      assert.truthy(log:find("no HTTP possible in nginx's 'log' phase", 1, true), log:sub(-2000))
      assert.equal(200, (get(srv, "/me/account", { user = "owner" })))
    end)

    it("a missing lua_shared_dict is a clear error", function()
      local status, body = get(srv, "/t/no_dict")
      assert.equal(200, status)
      assert.truthy(body.store:find("no lua_shared_dict named 'ctct_missing'", 1, true), body.store)
      assert.truthy(body.store:find("lua_shared_dict ctct_missing 1m;", 1, true))
      assert.truthy(body.limiter:find("no lua_shared_dict named 'ctct_missing_too'", 1, true), body.limiter)
    end)

    it("an upstream certificate that does not verify is a tls error", function()
      local _, body = get(srv, "/t/upstream?base=" .. sandbox.urlencode(tls_sb.base_url))
      assert.is_table(body, tostring(body) .. srv:log():sub(-1500))
      assert.is_false(body.ok)
      assert.equal("tls", body.kind)
      assert.is_false(body.sent)
      assert.truthy(body.message:find("self%-signed") or body.message:find("certificate"), body.message)
      assert.equal(200, (get(srv, "/me/account", { user = "owner" })))
    end)

    it("a slow upstream beyond the timeout is a timeout; a refused connection is network, not sent", function()
      sb:faults { { match = "GET /v3/account/summary", latency_ms = 3000, times = 1 } }
      local _, body = get(srv, "/t/upstream?timeout=0.5&base=" .. sandbox.urlencode(sb.base_url))
      sb:clear_faults()
      assert.is_false(body.ok)
      assert.equal("timeout", body.kind)
      assert.is_true(body.elapsed < 2)
      local port = nginx.free_port()
      local _, refused = get(srv, "/t/upstream?base=" .. sandbox.urlencode("http://127.0.0.1:" .. port .. "/v3"))
      assert.equal("network", refused.kind)
      assert.is_false(refused.sent)
      -- The sign-up handler answers 504 when the API is too slow for its timeout.
      sb:faults { { match = "POST /v3/contacts/sign_up_form", latency_ms = 5000, times = 1 } }
      local status, got = get(srv, "/signup", { method = "POST", body = "email=slow%40example.com",
        content_type = "application/x-www-form-urlencoded", timeout = 60 })
      sb:clear_faults()
      assert.equal(504, status, cjson.encode(got))
      assert.equal("timeout", got.error)
      assert.equal(200, (get(srv, "/me/account", { user = "owner" })))
    end)
  end)
end)
