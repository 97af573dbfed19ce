-- The request pipeline against a scripted transport and a fake clock: what is
-- sent, how answers become results or errors, and when retries happen.
local ctct = require "ctct"
local fake = require "spec.helpers.fake_transport"

local TOKEN = "tok-SECRET-123"

local function client_with(script, opts)
  local t = fake.new(script)
  local o = { access_token = TOKEN, base_url = "https://api.example.test/v3", transport = t,
              rate_limit = false, retry = { jitter = function(d) return d end } }
  for k, v in pairs(opts or {}) do o[k] = v end
  return ctct.new(o), t
end

local function json_answer(status, body, headers)
  headers = headers or {}
  headers["content-type"] = headers["content-type"] or "application/json"
  return { status = status, body = body, headers = headers }
end

describe("client:request", function()
  it("sends the bearer token, Accept, and a JSON body with its content type", function()
    local c, t = client_with { json_answer(201, '{"list_id":"L1"}') }
    local data, res = c:request("POST", "/contact_lists", { body = { name = "VIP", tags = ctct.array() } })
    assert.same({ list_id = "L1" }, data)
    assert.equal(201, res.status)
    local req = t.requests[1]
    assert.equal("POST", req.method)
    assert.equal("https://api.example.test/v3/contact_lists", req.url)
    assert.equal("Bearer " .. TOKEN, req.headers.Authorization)
    assert.equal("application/json", req.headers.Accept)
    assert.equal("application/json", req.headers["Content-Type"])
    assert.same({ name = "VIP", tags = {} }, require("cjson").decode(req.body))
    assert.truthy(req.body:find('"tags":[]', 1, true))
  end)

  it("encodes the query and appends it to a path that already has one", function()
    local c, t = client_with { json_answer(200, "{}"), json_answer(200, "{}") }
    c:request("GET", "/contacts", { query = { limit = 10, include = { "taggings", "notes" } } })
    assert.equal("https://api.example.test/v3/contacts?include=taggings,notes&limit=10", t.requests[1].url)
    c:request("GET", "/contacts?cursor=abc", { query = { limit = 10 } })
    assert.equal("https://api.example.test/v3/contacts?cursor=abc&limit=10", t.requests[2].url)
  end)

  it("lets caller headers replace ours whatever their case", function()
    local c, t = client_with { { status = 200, body = "a,b\n", headers = { ["content-type"] = "text/csv" } } }
    local body = c:request("GET", "/activities/x/results", { headers = { accept = "text/csv" }, raw = true })
    assert.equal("a,b\n", body)
    assert.is_nil(t.requests[1].headers.Accept)
    assert.equal("text/csv", t.requests[1].headers.accept)
  end)

  it("returns true for an empty 2xx body", function()
    local c = client_with { { status = 204, body = "" } }
    local ok, res = c:request("DELETE", "/contacts/c1")
    assert.is_true(ok)
    assert.equal(204, res.status)
  end)

  it("turns a non-JSON 200 into a protocol error with the status and the first bytes", function()
    local c = client_with { { status = 200, body = "<html><body>maintenance</body></html>",
                              headers = { ["content-type"] = "text/html" } } }
    local data, err = c:request("GET", "/account/summary")
    assert.is_nil(data)
    assert.equal("protocol", err.kind)
    assert.equal(200, err.status)
    assert.matches("<html><body>maintenance", err.message)
    assert.matches("text/html", err.message)
  end)

  it("maps API error bodies into the error", function()
    local c = client_with { json_answer(409, '[{"error_key":"contacts.api.conflict","error_message":"Email exists"}]',
                                       { ["x-request-id"] = "r-1" }) }
    local _, err = c:request("POST", "/contacts", { body = { email_address = { address = "a@b.c" } } })
    assert.equal("http", err.kind)
    assert.equal(409, err.status)
    assert.equal("contacts.api.conflict", err.error_key)
    assert.equal("Email exists", err.message)
    assert.equal("r-1", err.request_id)
    assert.equal("POST", err.method)
    assert.equal("/contacts", err.path)
  end)

  it("never puts the token in an error, a log line or the client's tostring", function()
    local lines = {}
    local c = client_with({ json_answer(503, "[]"), json_answer(401, '{"error_key":"unauthorized"}') },
      { logger = function(_, m) lines[#lines + 1] = m end })
    local _, err = c:request("GET", "/contacts?email=" .. TOKEN)
    assert.equal(401, err.status)
    assert.is_nil(tostring(err):find(TOKEN, 1, true))
    assert.is_nil(tostring(c):find(TOKEN, 1, true))
    assert.is_true(#lines > 0)
    for _, l in ipairs(lines) do assert.is_nil(l:find(TOKEN, 1, true)) end
  end)

  it("fails without sending when there is no token", function()
    local t = fake.new {}
    local c = ctct.new { base_url = "https://api.example.test/v3", transport = t, rate_limit = false }
    local _, err = c:request("GET", "/contacts")
    assert.equal("auth", err.kind)
    assert.matches("no access token", err.message)
    assert.equal(0, #t.requests)
  end)

  it("takes the token from a provider function on every call", function()
    local n = 0
    local c, t = client_with({ json_answer(200, "{}"), json_answer(200, "{}") },
      { access_token = function() n = n + 1; return "tok" .. n end })
    c:request("GET", "/a"); c:request("GET", "/b")
    assert.equal("Bearer tok1", t.requests[1].headers.Authorization)
    assert.equal("Bearer tok2", t.requests[2].headers.Authorization)
  end)
end)

describe("client:request retries", function()
  it("retries an idempotent request on 503 with growing backoff", function()
    local c, t = client_with { json_answer(503, ""), json_answer(502, ""), json_answer(504, ""),
                               json_answer(200, '{"ok":1}') }
    local data = c:request("GET", "/contacts")
    assert.same({ ok = 1 }, data)
    assert.equal(4, #t.requests)
    assert.same({ 0.5, 1, 2 }, t.sleeps)
  end)

  it("gives up after max_attempts and says how many were made", function()
    local c, t = client_with({ json_answer(503, ""), json_answer(503, ""), json_answer(503, "") },
      { retry = { max_attempts = 3, jitter = function(d) return d end } })
    local _, err = c:request("PUT", "/contacts/c1", { body = {} })
    assert.equal(503, err.status)
    assert.equal(3, err.attempts)
    assert.equal(3, #t.requests)
  end)

  it("never retries a POST on 5xx (it may have been processed)", function()
    local c, t = client_with { json_answer(503, "") }
    local _, err = c:request("POST", "/contacts", { body = {} })
    assert.equal(503, err.status)
    assert.equal(1, #t.requests)
  end)

  it("retries a POST on 429 throttled (it was not processed)", function()
    local c, t = client_with { json_answer(429, '[{"error_key":"throttled","error_message":"slow down"}]'),
                               json_answer(201, '{"contact_id":"c1"}') }
    local data = c:request("POST", "/contacts", { body = {} })
    assert.equal("c1", data.contact_id)
    assert.equal(2, #t.requests)
  end)

  it("never retries 429 quota_exceeded, and then refuses locally until 00:00 UTC", function()
    local c, t = client_with({ json_answer(429, '{"error_key":"quota_exceeded","error_message":"daily"}') },
      { rate_limit = { per_second = 100 } })
    local _, err = c:request("GET", "/contacts")
    assert.equal("rate_limited", err.kind)
    assert.equal("quota_exceeded", err.error_key)
    assert.equal(1, #t.requests)
    local _, err2 = c:request("GET", "/contacts")
    assert.equal("quota_exceeded", err2.error_key)
    assert.is_nil(err2.status) -- decided by the client
    assert.is_true(err2.retry_after > 0 and err2.retry_after <= 86400)
    assert.equal(1, #t.requests)
  end)

  it("honours Retry-After exactly", function()
    local c, t = client_with { json_answer(503, "", { ["retry-after"] = "7" }), json_answer(200, "{}") }
    assert.is_truthy(c:request("GET", "/contacts"))
    assert.same({ 7 }, t.sleeps)
  end)

  it("does not wait for a Retry-After beyond max_retry_after, and reports it", function()
    local c, t = client_with { json_answer(503, "", { ["retry-after"] = "3600" }) }
    local _, err = c:request("GET", "/contacts")
    assert.equal(3600, err.retry_after)
    assert.equal(1, #t.requests)
    assert.same({}, t.sleeps)
  end)

  it("retries a GET after a connection failure", function()
    local c, t = client_with { { error = { kind = "network", sent = true } }, json_answer(200, "{}") }
    assert.is_truthy(c:request("GET", "/contacts"))
    assert.equal(2, #t.requests)
  end)

  it("retries a POST only when the connection failed before sending", function()
    local c, t = client_with { { error = { kind = "network", sent = false } }, json_answer(201, "{}") }
    assert.is_truthy(c:request("POST", "/contacts", { body = {} }))
    assert.equal(2, #t.requests)
    local c2, t2 = client_with { { error = { kind = "network", sent = true } } }
    local _, err = c2:request("POST", "/contacts", { body = {} })
    assert.equal("network", err.kind)
    assert.equal(1, #t2.requests)
    local c3, t3 = client_with { { error = { kind = "timeout", sent = true } } }
    local _, err3 = c3:request("POST", "/contacts", { body = {} })
    assert.equal("timeout", err3.kind)
    assert.equal(1, #t3.requests)
  end)

  it("does not retry TLS failures", function()
    local c, t = client_with { { error = { kind = "tls", sent = false } } }
    local _, err = c:request("GET", "/contacts")
    assert.equal("tls", err.kind)
    assert.equal(1, #t.requests)
  end)

  it("bounds the whole call by its deadline, shrinking the last attempt's timeout", function()
    local c, t = client_with({ json_answer(503, ""), json_answer(503, ""), json_answer(503, ""), json_answer(503, "") },
      { deadline = 2, timeout = 30 })
    local _, err = c:request("GET", "/contacts")
    assert.equal(503, err.status)
    -- waits 0.5 then 1 (clock 1.5); the next wait (2) would pass the deadline
    assert.same({ 0.5, 1 }, t.sleeps)
    assert.equal(3, #t.requests)
    assert.equal(2, t.requests[1].timeout)
    assert.equal(0.5, t.requests[3].timeout)
  end)

  it("can be switched off", function()
    local c, t = client_with({ json_answer(503, "") }, { retry = false })
    c:request("GET", "/contacts")
    assert.equal(1, #t.requests)
  end)
end)

describe("client rate limiting", function()
  it("spaces requests by the token bucket (4/s by default)", function()
    local script = {}
    for i = 1, 5 do script[i] = json_answer(200, "{}") end
    local c, t = client_with(script, { rate_limit = {} })
    for _ = 1, 5 do c:request("GET", "/contacts") end
    assert.same({ 0.25, 0.25, 0.25, 0.25 }, t.sleeps)
  end)

  it("refuses locally once the daily budget is used", function()
    local c, t = client_with({ json_answer(200, "{}"), json_answer(200, "{}") },
      { rate_limit = { per_second = 100, daily = 2 } })
    assert.is_truthy(c:request("GET", "/a"))
    assert.is_truthy(c:request("GET", "/b"))
    local _, err = c:request("GET", "/c")
    assert.equal("rate_limited", err.kind)
    assert.equal("quota_exceeded", err.error_key)
    assert.equal(2, #t.requests)
  end)

  it("can share one limiter between clients of one API key", function()
    local t = fake.new { json_answer(200, "{}"), json_answer(200, "{}") }
    local limiter = require("ctct.ratelimit").new { clock = t.now, time = t.time }
    local a = ctct.new { access_token = "a", transport = t, rate_limit = limiter }
    local b = ctct.new { access_token = "b", transport = t, rate_limit = limiter }
    a:request("GET", "/x"); b:request("GET", "/x")
    assert.same({ 0.25 }, t.sleeps)
  end)
end)

describe("bad input raises a clear error naming the argument", function()
  local c = client_with {}
  local cases = {
    { "non-string base_url", function() ctct.new { base_url = 42 } end, "option 'base_url'" },
    { "relative base_url", function() ctct.new { base_url = "api.cc.email/v3" } end, "option 'base_url'" },
    { "negative timeout", function() ctct.new { timeout = -1 } end, "option 'timeout'" },
    { "unknown option", function() ctct.new { acess_token = "x" } end, "option 'acess_token': unknown option" },
    { "path without leading slash", function() c:request("GET", "contacts") end, "argument 'path'" },
    { "non-string path", function() c:request("GET", 7) end, "argument 'path'" },
    { "unknown method", function() c:request("FETCH", "/contacts") end, "argument 'method'" },
    { "body that cannot be JSON", function() c:request("POST", "/contacts", { body = { f = print } }) end,
      "option 'body': cannot be encoded as JSON" },
    { "header value with CR/LF", function() c:request("GET", "/contacts", { headers = { X = "a\r\nInjected: 1" } }) end,
      "header 'X'" },
    { "negative request timeout", function() c:request("GET", "/contacts", { timeout = -5 }) end, "option 'timeout'" },
    { "body with GET", function() c:request("GET", "/contacts", { body = {} }) end, "option 'body'" },
    { "query map as array", function() c:request("GET", "/contacts", { query = { a = { x = 1 } } }) end,
      "option 'query'" },
    { "unknown request option", function() c:request("GET", "/contacts", { qeury = {} }) end, "'qeury'" },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      local ok, err = pcall(case[2])
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(case[3], 1, true), tostring(err))
    end)
  end

  it("points the error at the caller's line", function()
    local ok, err = pcall(function() c:request("GET", "contacts") end)
    assert.is_false(ok)
    assert.matches("client_spec.lua:%d+:", err)
  end)
end)

describe("pagination", function()
  local function page(items, next_href)
    local body = { contacts = items }
    if next_href then body._links = { next = { href = next_href } } end
    return json_answer(200, require("cjson").encode(body))
  end

  it("follows _links.next.href under the base path, item by item", function()
    local c, t = client_with {
      page({ { id = 1 }, { id = 2 } }, "/v3/contacts?cursor=p2"),
      page({ { id = 3 } }, "/v3/contacts?cursor=p3"),
      page({}, nil),
    }
    local ids = {}
    for contact in c:each("/contacts", { query = { limit = 2 } }) do ids[#ids + 1] = contact.id end
    assert.same({ 1, 2, 3 }, ids)
    assert.equal("https://api.example.test/v3/contacts?limit=2", t.requests[1].url)
    assert.equal("https://api.example.test/v3/contacts?cursor=p2", t.requests[2].url)
    assert.equal(3, #t.requests)
  end)

  it("refuses to follow a link to another host", function()
    local c = client_with { page({ { id = 1 } }, "https://evil.example/v3/contacts?cursor=x") }
    local ok, err = pcall(function() for _ in c:each("/contacts") do end end)
    assert.is_false(ok)
    assert.equal("protocol", err.kind)
    assert.matches("another host", err.message)
  end)

  it("accepts an absolute link on the client's own origin", function()
    assert.equal("/contacts?cursor=x", (client_with {}):link_path("https://api.example.test/v3/contacts?cursor=x"))
    assert.is_nil((client_with {}):link_path("/v2/contacts"))
  end)

  it("raises the ctct.Error when a page fails", function()
    local c = client_with { page({ { id = 1 } }, "/v3/contacts?cursor=p2"), json_answer(404, '{"error_key":"nf"}') }
    local seen = 0
    local ok, err = pcall(function() for _ in c:each("/contacts") do seen = seen + 1 end end)
    assert.is_false(ok)
    assert.equal(1, seen)
    assert.equal(404, err.status)
  end)
end)
