local retry = require "ctct.retry"
local errors = require "ctct.errors"

local function http(status, key, retry_after)
  return errors.new { kind = status == 429 and "rate_limited" or "http", status = status,
                      error_key = key, retry_after = retry_after, message = "x" }
end
local function net(kind, sent)
  return errors.new { kind = kind, sent = sent, message = "x" }
end

describe("ctct.retry", function()
  local p = retry.new { jitter = function(d) return d end }

  it("backs off exponentially up to max_delay", function()
    assert.same({ 0.5, 1, 2, 4 }, { p:backoff(1), p:backoff(2), p:backoff(3), p:backoff(4) })
    assert.equal(30, p:backoff(20))
  end)

  it("keeps jittered waits between half and all of the backoff", function()
    for _, r in ipairs { 0, 0.5, 0.999 } do
      local d = retry.equal_jitter(2, function() return r end)
      assert.is_true(d >= 1 and d <= 2)
    end
  end)

  it("retries 429 throttled for any method but never quota_exceeded", function()
    assert.equal(0.5, p:decide("POST", 1, http(429, "throttled")))
    assert.equal(0.5, p:decide("GET", 1, http(429, nil)))
    assert.is_nil(p:decide("GET", 1, http(429, "quota_exceeded")))
  end)

  it("retries 502/503/504 only for idempotent methods", function()
    for _, s in ipairs { 502, 503, 504 } do
      assert.equal(0.5, p:decide("GET", 1, http(s)))
      assert.equal(0.5, p:decide("PUT", 1, http(s)))
      assert.equal(0.5, p:decide("DELETE", 1, http(s)))
      assert.is_nil(p:decide("POST", 1, http(s)))
      assert.is_nil(p:decide("PATCH", 1, http(s)))
    end
    assert.is_nil(p:decide("GET", 1, http(500)))
    assert.is_nil(p:decide("GET", 1, http(404)))
  end)

  it("retries a POST after a connection failure only if nothing was sent", function()
    assert.equal(0.5, p:decide("POST", 1, net("network", false)))
    assert.is_nil(p:decide("POST", 1, net("network", true)))
    assert.is_nil(p:decide("POST", 1, net("timeout", true)))
    assert.equal(0.5, p:decide("GET", 1, net("timeout", true)))
    assert.is_nil(p:decide("GET", 1, net("tls", false)))
  end)

  it("honours Retry-After, within max_retry_after", function()
    assert.equal(7, p:decide("GET", 1, http(503, nil, 7)))
    local delay, why = p:decide("GET", 1, http(503, nil, 3600))
    assert.is_nil(delay)
    assert.equal("retry-after too long", why)
  end)

  it("stops after max_attempts", function()
    local q = retry.new { max_attempts = 2 }
    assert.is_number(q:decide("GET", 1, http(503)))
    assert.is_nil(q:decide("GET", 2, http(503)))
  end)

  it("rejects bad settings by name", function()
    assert.has_error(function() retry.new { max_attempts = 0 } end, "retry.max_attempts must be a number >= 1")
    assert.has_error(function() retry.new { base_delay = -1 } end, "retry.base_delay must be a number >= 0")
    assert.has_error(function() retry.new { tries = 3 } end, "retry: unknown option 'tries'")
  end)
end)
