local errors = require "ctct.errors"

local function response(status, body, headers)
  return { status = status, body = body, headers = headers or {} }
end

describe("ctct.errors", function()
  it("reads the array shape, keeping every entry", function()
    local err = errors.from_response(response(400,
      '[{"error_key":"json.field.invalid","error_message":"first"},{"error_key":"x","error_message":"second"}]'),
      { method = "POST", path = "/contacts" })
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.equal("json.field.invalid", err.error_key)
    assert.equal("first; second", err.message)
    assert.equal(2, #err.details)
    assert.equal("ctct: http 400 json.field.invalid: first; second (POST /contacts)", tostring(err))
  end)

  it("reads the single-object shape", function()
    local err = errors.from_response(response(401, '{"error_key":"unauthorized","error_message":"Unauthorized"}'))
    assert.equal("auth", err.kind)
    assert.equal("unauthorized", err.error_key)
    assert.equal("Unauthorized", err.message)
  end)

  it("reads OAuth's error/error_description shape", function()
    local err = errors.from_response(response(400, '{"error":"invalid_grant","error_description":"bad code"}'))
    assert.equal("invalid_grant", err.error_key)
    assert.equal("bad code", err.message)
  end)

  it("gives a readable error for HTML and empty bodies", function()
    local err = errors.from_response(response(502, "<html><body>\n<h1>Bad Gateway</h1></body></html>"))
    assert.equal("HTTP 502 bad gateway: <html><body> <h1>Bad Gateway</h1></body></html>", err.message)
    err = errors.from_response(response(503, ""))
    assert.equal("HTTP 503 service unavailable", err.message)
    err = errors.from_response(response(500, "[1,2]"))
    assert.equal("HTTP 500 internal server error: [1,2]", err.message)
  end)

  it("maps statuses to kinds", function()
    assert.equal("auth", errors.from_response(response(403, "")).kind)
    assert.equal("rate_limited", errors.from_response(response(429, "")).kind)
    assert.equal("http", errors.from_response(response(404, "")).kind)
  end)

  it("parses Retry-After as seconds or an HTTP date", function()
    assert.equal(7, errors.parse_retry_after("7", 0))
    local now = 784111777 -- Sun, 06 Nov 1994 08:49:37 GMT
    assert.equal(0, errors.parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now))
    assert.equal(60, errors.parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now))
    assert.equal(86400, errors.parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now))
    assert.is_nil(errors.parse_retry_after("soon", now))
    local err = errors.from_response(response(503, "", { ["retry-after"] = "3" }))
    assert.equal(3, err.retry_after)
  end)

  it("takes a request id from the response headers", function()
    local err = errors.from_response(response(500, "", { ["x-request-id"] = "abc-123" }))
    assert.equal("abc-123", err.request_id)
    assert.matches("%[request abc%-123%]", tostring(err))
  end)

  it("refuses an unknown kind", function()
    assert.has_error(function() errors.new { kind = "oops" } end)
  end)
end)
