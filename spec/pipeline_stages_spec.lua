-- Each stage of ctct.pipeline alone, with a state table made by hand (no client,
-- no server), and the token_source option through a whole client with a
-- recording transport.
local ctct = require "ctct"
local errors = require "ctct.errors"

-- A state with a clock the test moves, and sleeps recorded (and added to the clock).
local function state(fields)
  local s = { now = 100, slept = {}, logs = {}, deadline = 10, timeout = 30 }
  s.clock = function() return s.now end
  s.time = function() return 1700000000 + s.now end
  s.sleep = function(d) s.slept[#s.slept + 1] = d; s.now = s.now + d end
  function s.log(_, level, message) s.logs[#s.logs + 1] = level .. " " .. message end
  for k, v in pairs(fields or {}) do s[k] = v end
  return s
end

describe("pipeline stages", function()
  describe("build", function()
    local build = require "ctct.pipeline.build"
    local function st() return state { base_url = "https://api.example/v3", path_cache = { base_url =
      "https://api.example/v3", size = 0, urls = {} } } end

    it("makes the URL, query, JSON body and headers, and carries the operation", function()
      local op = { id = "getContact", template = "/contacts/{contact_id}" }
      local req = build.build(st(), "PUT", "/contacts/1", { query = { a = "b c" }, body = { name = "x" },
        headers = { accept = "text/csv" } }, op)
      assert.equal("https://api.example/v3/contacts/1?a=b%20c", req.url)
      assert.equal('{"name":"x"}', req.body)
      assert.equal("application/json", req.headers["Content-Type"])
      assert.equal("text/csv", req.headers.accept)
      assert.is_nil(req.headers.Accept) -- the caller's header replaced ours, whatever its case
      assert.equal(op, req.operation)
    end)

    it("raises naming the argument", function()
      assert.has_error(function() build.build(st(), "FETCH", "/x") end,
        "ctct: bad argument 'method': must be one of GET, POST, PUT, PATCH, DELETE, HEAD, got FETCH")
      assert.has_error(function() build.build(st(), "GET", "contacts") end,
        "ctct: bad argument 'path': must start with '/', got 'contacts'")
      assert.has_error(function() build.build(st(), "GET", "/x", { body = "{}" }) end,
        "ctct: bad option 'body': not allowed with GET")
      assert.has_error(function() build.build(st(), "GET", "/x", { colour = 1 }) end,
        "ctct: bad request option 'colour': unknown option")
    end)
  end)

  describe("token", function()
    local token = require "ctct.pipeline.token"

    it("sets the bearer header, or returns the getter's reason as an auth error", function()
      local req = { headers = {} }
      local s = state { get_token = function() return "t1", nil, "Bearer t1" end }
      assert.equal("t1", token.authorize(s, req, "GET", "/x"))
      assert.equal("Bearer t1", req.headers.Authorization)
      s.get_token = function() return nil, "no access token" end
      local ok, err = token.authorize(s, req, "GET", "/x")
      assert.is_nil(ok)
      assert.equal("auth", err.kind)
      assert.equal("no access token", err.message)
      assert.equal("/x", err.path)
    end)

    it("asks the token source once after a 401, passing the refused token", function()
      local asked = {}
      local source = { after_unauthorized = function(_, used) asked[#asked + 1] = used; return "t2" end }
      local req = { headers = { Authorization = "Bearer t1" } }
      assert.equal("t2", token.reauthorize(state { token_source = source }, req, "t1", "GET", "/x"))
      assert.same({ "t1" }, asked)
      assert.equal("Bearer t2", req.headers.Authorization)
      assert.is_nil(token.reauthorize(state {}, req, "t2", "GET", "/x")) -- no source: nothing to ask
      source.after_unauthorized = function() return nil, errors.new { kind = "auth", message = "revoked" } end
      local fresh, err = token.reauthorize(state { token_source = source }, req, "t2", "GET", "/x")
      assert.is_nil(fresh)
      assert.equal(401, err.status)
      assert.equal("revoked", err.message)
    end)
  end)

  describe("limit and deadline", function()
    local limit = require "ctct.pipeline.limit"
    local deadline = require "ctct.pipeline.deadline"

    it("waits what the limiter says, within the deadline", function()
      local waits = { 0.25, 0 }
      local s = state { limiter = { take = function() return table.remove(waits, 1) end } }
      local at = deadline.start(s)
      assert.equal(110, at)
      assert.equal(0.25, limit.wait(s, at, "GET", "/x")) -- the seconds waited
      assert.same({ 0.25 }, s.slept)
      assert.equal(0, limit.wait(s, at, "GET", "/x"))
      assert.same({ 0.25 }, s.slept)
      assert.equal(0.25, s.waited)
    end)

    it("refuses a wait past the deadline and a spent day", function()
      local s = state { limiter = { take = function() return 11 end } }
      local ok, err = limit.wait(s, deadline.start(s), "GET", "/x")
      assert.is_nil(ok)
      assert.equal("rate_limited", err.kind)
      assert.equal(11, err.retry_after)
      assert.same({}, s.slept)
      s.limiter.take = function() return nil, 3600 end
      ok, err = limit.wait(s, deadline.start(s), "GET", "/x")
      assert.is_nil(ok)
      assert.equal("quota_exceeded", err.error_key)
      assert.equal(3600, err.retry_after)
    end)

    it("gives each attempt the smaller of its timeout and what is left", function()
      local s = state {}
      local at = deadline.start(s)
      assert.equal(5, deadline.attempt_timeout(s, at, 5, "GET", "/x"))
      s.now = 107
      assert.equal(3, deadline.attempt_timeout(s, at, 5, "GET", "/x"))
      s.now = 110
      local t, err = deadline.attempt_timeout(s, at, 5, "GET", "/x")
      assert.is_nil(t)
      assert.equal("timeout", err.kind)
    end)

    it("stops sending for the day after the API's quota_exceeded", function()
      local exhausted = 0
      local s = state { limiter = { exhaust_day = function() exhausted = exhausted + 1 end } }
      limit.observe(s, { status = 429, error_key = "throttled" })
      limit.observe(s, { status = 429, error_key = "quota_exceeded" })
      assert.equal(1, exhausted)
    end)
  end)

  describe("send, decode, retry", function()
    local send = require "ctct.pipeline.send"
    local decode = require "ctct.pipeline.decode"
    local retry = require "ctct.pipeline.retry"

    it("names a transport failure by method and path", function()
      local s = state { transport = { request = function() return nil, errors.new { kind = "network",
        message = "refused" } end } }
      local res, err = send.send(s, {}, "GET", "/contacts")
      assert.is_nil(res)
      assert.equal("GET", err.method)
      assert.equal("/contacts", err.path)
    end)

    it("decodes 2xx JSON, an empty body, raw text, and turns other statuses into errors", function()
      local s = state { base_path = "/v3" }
      local res = { status = 200, headers = { ["content-type"] = "application/json" }, body = '{"n":1}' }
      local data, meta = decode.finish(s, res, "GET", "/x")
      assert.equal(1, data.n)
      assert.equal(200, meta.status)
      assert.is_true((decode.finish(s, { status = 204, headers = {}, body = "" }, "GET", "/x")))
      assert.equal('{"n":1}', (decode.finish(s, res, "GET", "/x", true)))
      local _, err = decode.finish(s, { status = 404, headers = {}, body = "" }, "GET", "/x")
      assert.equal(404, err.status)
      _, err = decode.finish(state { base_path = "" }, { status = 404, headers = {}, body = "" }, "GET", "/x")
      assert.matches("base_url has no /v3", err.message, 1, true)
      _, err = decode.finish(s, { status = 200, headers = { ["content-type"] = "text/html" }, body = "<html>" },
        "GET", "/x")
      assert.equal("protocol", err.kind)
    end)

    it("retries as the policy says, only while the deadline allows", function()
      local policy = { decide = function(_, _, attempt) if attempt < 3 then return 2 end return nil, "attempts" end }
      local s = state { retry_policy = policy }
      local at = require("ctct.pipeline.deadline").start(s)
      local err = errors.new { kind = "http", status = 503, message = "busy" }
      assert.equal(2, retry.delay(s, err, "GET", "/x", 1, at))
      assert.is_nil(retry.delay(s, err, "GET", "/x", 3, at))
      assert.equal(3, err.attempts)
      s.now = 109 -- 2 s more would pass the deadline
      err = errors.new { kind = "http", status = 503, message = "busy" }
      assert.is_nil(retry.delay(s, err, "GET", "/x", 1, at))
      assert.equal(1, err.attempts)
      assert.is_nil(retry.delay(state {}, err, "GET", "/x", 1, at)) -- no policy (retry = false)
    end)
  end)
end)

describe("token_source option", function()
  -- A transport answering 401 to the token "old" and 200 to anything else.
  local function transport(log)
    return { request = function(_, req)
      log[#log + 1] = req.headers.Authorization
      if req.headers.Authorization == "Bearer old" then
        return { status = 401, headers = { ["content-type"] = "application/json" },
                 body = '[{"error_key":"unauthorized","error_message":"Unauthorized"}]' }
      end
      return { status = 200, headers = { ["content-type"] = "application/json" }, body = '{"ok":true}' }
    end }
  end

  it("gets each token from the source and a new one after a 401", function()
    local log, refused = {}, {}
    local current = "old"
    local source = {
      get = function() return current end,
      after_unauthorized = function(_, used) refused[#refused + 1] = used; current = "new"; return current end,
    }
    local c = ctct.new { token_source = source, transport = transport(log), rate_limit = false }
    assert.is_true(assert(c:request("GET", "/x")).ok)
    assert.same({ "Bearer old", "Bearer new" }, log)
    assert.same({ "old" }, refused)
    assert.is_true(assert(c:request("GET", "/x")).ok)
    assert.same({ "Bearer old", "Bearer new", "Bearer new" }, log)
    assert.matches("token source", tostring(c))
  end)

  it("is refused when it is not a source, or with access_token", function()
    assert.has_error(function() ctct.new { token_source = { get = function() end } } end,
      "ctct: bad option 'token_source': must be an object with get() and after_unauthorized(used) methods")
    assert.has_error(function()
      ctct.new { access_token = "x", token_source = { get = function() end, after_unauthorized = function() end } }
    end, "ctct: bad options: give one of access_token, token_store and token_source")
  end)
end)

describe("the operation handed down with the request", function()
  it("reaches partner.sync: the template and the parameters as given, not re-parsed from the URL", function()
    local cjson = require "cjson"
    local sent = {}
    local transport = { request = function(_, req)
      if req.url:find("/oauth2/token", 1, true) then
        return { status = 200, headers = { ["content-type"] = "application/json" },
                 body = '{"access_token":"pt","token_type":"Bearer","expires_in":3600}' }
      end
      sent[#sent + 1] = req
      return { status = 200, headers = { ["content-type"] = "application/json" }, body = '{"contact_id":"a+b"}' }
    end }
    local partner = ctct.partner.new { client_id = "id", secret = "s", api_key = "k", transport = transport,
                                       rate_limit = false }
    local client = partner:as_client("a07e1k9zx2")
    assert(client.contacts:get("a+b", { include = { "notes", "taggings" } }))
    local body = cjson.decode(sent[1].body)
    assert.equal("/contacts/{contact_id}", body.account_operation_url)
    assert.same({ { path_param_key = "contact_id", path_param_value = "a+b" } },
      body.account_operation_path_parameters)
    assert.same({ { query_param_key = "include", query_param_value = "notes,taggings" } },
      body.account_operation_query_parameters)
    -- client:request has no operation: the path is matched against the templates.
    assert(client:request("GET", "/contacts/c1?include=notes"))
    body = cjson.decode(sent[2].body)
    assert.equal("/contacts/{contact_id}", body.account_operation_url)
    assert.equal("c1", body.account_operation_path_parameters[1].path_param_value)
  end)
end)

describe("on_request and usage", function()
  -- Answers 503 once, then 200; the limiter asks for 0.1 s before every send.
  local function client(extra)
    local n, now = 0, 0
    local o = {
      access_token = "t", retry = { base_delay = 0.01, max_delay = 0.01 },
      clock = function() return now end, sleep = function(s) now = now + s end,
      rate_limit = { take = function() return 0.1 end, rate = 10, name = "local", daily = 100,
                     remaining_today = function() return 42 end, until_reset = function() return 3600 end },
      transport = { request = function()
        n = n + 1
        now = now + 0.05
        if n == 1 then return { status = 503, headers = {}, body = "" } end
        return { status = 200, headers = { ["content-type"] = "application/json" }, body = '{"ok":true}' }
      end },
    }
    for k, v in pairs(extra or {}) do o[k] = v end
    return ctct.new(o)
  end

  it("tells the hook what each call cost: attempts, the wait for the budget, the time, the outcome", function()
    local seen = {}
    local c = client { on_request = function(info) seen[#seen + 1] = info end }
    assert(c:call("getContact", { contact_id = "c1" }))
    assert.equal(1, #seen)
    local info = seen[1]
    assert.equal("GET", info.method)
    assert.equal("/contacts/c1", info.path)
    assert.equal("getContact", info.operation)
    assert.equal(200, info.status)
    assert.equal(2, info.attempts)
    assert.is_true(math.abs(info.waited - 0.2) < 1e-9, tostring(info.waited))
    assert.is_true(info.duration >= 0.3, tostring(info.duration)) -- two waits, two sends, the retry's delay
    assert.is_nil(info.error)
    local failing = ctct.new { access_token = "t", retry = false, rate_limit = false, on_request = function(i)
      seen[#seen + 1] = i end, transport = { request = function()
        return { status = 404, headers = {}, body = '[{"error_key":"not.found","error_message":"no"}]' } end } }
    assert.is_nil(failing:request("GET", "/contacts/x?email=a@b.example"))
    assert.equal("/contacts/x", seen[2].path) -- never the query
    assert.equal(404, seen[2].status)
    assert.equal("http", seen[2].error)
  end)

  it("keeps calling when the hook raises, and logs it", function()
    local logs = {}
    local c = client { on_request = function() error("boom") end,
                       logger = function(level, msg) logs[#logs + 1] = level .. " " .. msg end }
    assert(c:request("GET", "/x"))
    local found = false
    for _, l in ipairs(logs) do found = found or (l:find("^warn on_request hook failed: .*boom") ~= nil) end
    assert.is_true(found)
  end)

  it("usage says what this client used and what the budget has left", function()
    local c = client()
    assert(c:request("GET", "/x"))
    local u = c:usage()
    assert.equal(1, u.requests)
    assert.is_true(math.abs(u.waited - 0.2) < 1e-9)
    assert.equal("local", u.limiter)
    assert.equal(10, u.per_second)
    assert.equal(100, u.daily)
    assert.equal(42, u.remaining_today)
    assert.equal(3600, u.resets_in)
    local bare = ctct.new { access_token = "t", rate_limit = false }
    assert.same({ requests = 0, waited = 0 }, bare:usage())
  end)
end)
