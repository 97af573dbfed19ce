-- Issue 17: `Retry-After: 0` (or an HTTP date in the past) must not turn the
-- retries into a burst with no delay: the normal backoff for the attempt is the
-- floor of every wait; a longer Retry-After still wins.
local ctct = require "ctct"
local retry = require "ctct.retry"
local errors = require "ctct.errors"
local fake = require "spec.helpers.fake_transport"

local function answer(status, headers)
  headers = headers or {}
  headers["content-type"] = "application/json"
  return { status = status, body = "", headers = headers }
end

local function client_with(script)
  local t = fake.new(script)
  return ctct.new { access_token = "token-for-specs", base_url = "https://api.example.test/v3", transport = t,
                    rate_limit = false, retry = { jitter = function(d) return d end } }, t
end

describe("security: a Retry-After of 0 or in the past still backs off", function()
  it("waits the normal backoff after Retry-After: 0", function()
    local c, t = client_with {
      answer(503, { ["retry-after"] = "0" }), answer(503, { ["retry-after"] = "0" }),
      answer(503, { ["retry-after"] = "0" }), answer(503, { ["retry-after"] = "0" }),
    }
    local _, err = c:request("GET", "/contacts")
    assert.equal(503, err.status)
    assert.equal(4, #t.requests)
    assert.same({ 0.5, 1, 2 }, t.sleeps)
  end)

  it("waits the normal backoff after a Retry-After date in the past", function()
    local past = "Sun, 06 Nov 1994 08:49:37 GMT"
    local c, t = client_with {
      answer(429, { ["retry-after"] = past }), answer(429, { ["retry-after"] = past }), answer(200),
    }
    assert.is_truthy(c:request("GET", "/contacts"))
    assert.same({ 0.5, 1 }, t.sleeps)
  end)

  it("keeps a longer Retry-After as it is, and the floor jittered like any backoff", function()
    local p = retry.new { jitter = function(d) return d end }
    local function http(retry_after)
      return errors.new { kind = "http", status = 503, retry_after = retry_after, message = "x" }
    end
    assert.equal(7, p:decide("GET", 1, http(7)))
    assert.equal(0.5, p:decide("GET", 1, http(0)))
    assert.equal(2, p:decide("GET", 3, http(0)))
    assert.equal(2, p:decide("GET", 3, http(1)))
    local q = retry.new { random = function() return 0 end }
    assert.equal(0.25, q:decide("GET", 1, http(0))) -- equal jitter: half the backoff at least
  end)
end)
