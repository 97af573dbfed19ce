-- The client pipeline end to end against the sandbox: real error bodies,
-- retries and Retry-After through the fault knobs, the rate limiter against the
-- sandbox's strict one, TLS, and keep-alive.
local ctct = require "ctct"
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"

describe("client against the sandbox", function()
  local sb
  lazy_setup(function() sb = sandbox.start() end)
  lazy_teardown(function() if sb then sb:stop() end end)
  before_each(function() sb:reset(); sb:config { rate_limit_per_second = 0 } end)

  -- A client that records its waits (still really sleeping, unless told not to).
  local function client(opts)
    local sleeps = {}
    local o = { access_token = sb.token, base_url = sb.base_url, rate_limit = false,
                sleep = function(s) sleeps[#sleeps + 1] = s; core.sleep(math.min(s, 2)) end }
    for k, v in pairs(opts or {}) do o[k] = v end
    return ctct.new(o), sleeps
  end

  it("creates a list and contacts in it, then pages through them", function()
    local c = client()
    local summary = assert(c:request("GET", "/account/summary"))
    assert.is_string(summary.encoded_account_id)
    local list = assert(c:request("POST", "/contact_lists", { body = { name = "Pipeline" } }))
    for i = 1, 7 do
      assert(c:request("POST", "/contacts", { body = {
        email_address = { address = ("p%d@example.com"):format(i), permission_to_send = "implicit" },
        first_name = "P" .. i, create_source = "Account", list_memberships = { list.list_id } } }))
    end
    local seen = {}
    for contact in c:each("/contacts", { query = { limit = 3, lists = list.list_id } }) do
      seen[#seen + 1] = contact.email_address.address
    end
    assert.same({ "p1@example.com", "p2@example.com", "p3@example.com", "p4@example.com",
                  "p5@example.com", "p6@example.com", "p7@example.com" }, seen)
    assert.equal(3, sb:stats().by_route["GET /v3/contacts"])
  end)

  it("sends an empty array as []", function()
    local c = client()
    local made = assert(c:request("POST", "/contacts", { body = {
      email_address = { address = "empty@example.com" }, create_source = "Account",
      list_memberships = ctct.array() } }))
    assert.is_string(made.contact_id)
  end)

  it("reads the 401 body into an auth error", function()
    local c = client { access_token = "not-a-valid-token" }
    local data, err = c:request("GET", "/account/summary")
    assert.is_nil(data)
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("unauthorized", err.error_key)
    assert.equal("Unauthorized", err.message)
  end)

  it("reads the array error shape (409 on a duplicate email)", function()
    local c = client()
    local body = { email_address = { address = "dup@example.com" }, create_source = "Account" }
    assert(c:request("POST", "/contacts", { body = body }))
    local _, err = c:request("POST", "/contacts", { body = body })
    assert.equal(409, err.status)
    assert.equal("http", err.kind)
    assert.is_string(err.error_key)
    assert.is_table(err.details)
  end)

  it("retries a GET through two 503s, with growing waits", function()
    sb:faults { { match = "GET /v3/account/summary", status = 503, times = 2 } }
    local c, sleeps = client { retry = { base_delay = 0.05, jitter = function(d) return d end } }
    assert(c:request("GET", "/account/summary"))
    assert.same({ 0.05, 0.1 }, sleeps)
    assert.equal(3, sb:stats().by_route["GET /v3/account/summary"])
  end)

  it("honours Retry-After on a 429 throttled", function()
    sb:faults { { status = 429, error_key = "throttled", retry_after = "1" } }
    local c, sleeps = client()
    local t0 = core.monotonic()
    assert(c:request("GET", "/account/summary"))
    assert.same({ 1 }, sleeps)
    assert.is_true(core.monotonic() - t0 >= 1)
  end)

  it("retries a POST refused with 429 throttled, creating it once", function()
    sb:faults { { match = "POST /v3/contact_lists", status = 429, error_key = "throttled" } }
    local c = client { retry = { base_delay = 0.01 } }
    local list = assert(c:request("POST", "/contact_lists", { body = { name = "Once" } }))
    assert.is_string(list.list_id)
    local page = assert(c:request("GET", "/contact_lists"))
    assert.equal(1, #page.lists)
  end)

  it("does not retry a POST whose connection dropped after sending", function()
    sb:faults { { match = "POST /v3/contacts", drop = true } }
    local c, sleeps = client { retry = { base_delay = 0.01 } }
    local _, err = c:request("POST", "/contacts", { body = {
      email_address = { address = "drop@example.com" }, create_source = "Account" } })
    assert.equal("network", err.kind)
    assert.is_true(err.sent)
    assert.same({}, sleeps)
    assert.equal(1, sb:stats().by_route["POST /v3/contacts"])
  end)

  it("retries a POST whose connection was refused (never sent)", function()
    local waits = 0
    local c = client { base_url = "http://127.0.0.1:1/v3", sleep = function() waits = waits + 1 end,
                       retry = { max_attempts = 3 } }
    local _, err = c:request("POST", "/contacts", { body = {} })
    assert.equal("network", err.kind)
    assert.is_false(err.sent)
    assert.equal(3, err.attempts)
    assert.equal(2, waits)
  end)

  it("never retries quota_exceeded and then stops sending for the day", function()
    sb:config { daily_quota = 2 }
    local c = client { rate_limit = { per_second = 1000, burst = 1000 } }
    assert(c:request("GET", "/account/summary"))
    assert(c:request("GET", "/account/summary"))
    local _, err = c:request("GET", "/account/summary")
    assert.equal("rate_limited", err.kind)
    assert.equal("quota_exceeded", err.error_key)
    assert.equal(429, err.status)
    local _, again = c:request("GET", "/account/summary")
    assert.equal("quota_exceeded", again.error_key)
    assert.is_nil(again.status) -- refused by the client itself
    local stats = sb:stats()
    assert.equal(3, stats.requests)
    assert.equal(1, stats.quota_exceeded)
  end)

  it("stays under the sandbox's strict 4/s limit with the default limiter", function()
    sb:config { rate_limit_per_second = 4 }
    -- Without the client's limiter, a quick burst is throttled by the sandbox...
    local raw = client { retry = false }
    local throttled = 0
    for _ = 1, 10 do
      local _, err = raw:request("GET", "/account/summary")
      if err and err.error_key == "throttled" then throttled = throttled + 1 end
    end
    assert.is_true(throttled > 0)
    sb:reset()
    sb:config { rate_limit_per_second = 4 }
    -- ...while the default limiter spaces the same burst so that none is.
    local c = ctct.new { access_token = sb.token, base_url = sb.base_url, retry = false }
    for _ = 1, 10 do assert(c:request("GET", "/account/summary")) end
    assert.equal(0, sb:stats().throttled)
  end)

  it("turns an HTML 200 into a protocol error", function()
    sb:faults { { malformed = true } }
    local c = client()
    local _, err = c:request("GET", "/account/summary")
    assert.equal("protocol", err.kind)
    assert.equal(200, err.status)
    assert.matches("<html", err.message)
  end)

  it("bounds a slow call by its timeout", function()
    sb:faults { { latency_ms = 3000 } }
    local c = client { retry = false, timeout = 0.3 }
    local _, err = c:request("GET", "/account/summary")
    assert.equal("timeout", err.kind)
  end)

  it("keeps one connection for 100 calls", function()
    local c = client()
    for _ = 1, 100 do assert(c:request("GET", "/account/summary")) end
    assert.equal(1, sb:stats().connections)
  end)

  it("never shows the token in what it prints or logs", function()
    local lines = {}
    sb:faults { { status = 503 } }
    local c = client { logger = function(_, m) lines[#lines + 1] = m end, retry = { base_delay = 0.01 } }
    assert(c:request("GET", "/account/summary"))
    assert.is_nil(tostring(c):find(sb.token, 1, true))
    for _, l in ipairs(lines) do assert.is_nil(l:find(sb.token, 1, true)) end
    assert.is_true(#lines >= 1)
  end)
end)

describe("client over TLS", function()
  local sb
  lazy_setup(function() sb = sandbox.start { tls = true } end)
  lazy_teardown(function() if sb then sb:stop() end end)

  it("refuses the self-signed sandbox by default and accepts it with cafile", function()
    local plain = ctct.new { access_token = sb.token, base_url = sb.base_url, retry = false }
    local _, err = plain:request("GET", "/account/summary")
    assert.equal("tls", err.kind)
    local trusted = ctct.new { access_token = sb.token, base_url = sb.base_url, cafile = sb.cafile }
    local summary, res = trusted:request("GET", "/account/summary")
    assert.is_string(summary.encoded_account_id)
    if core.features().http2 then assert.equal("2", res.http_version) end
  end)
end)
