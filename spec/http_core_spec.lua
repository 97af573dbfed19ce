-- ctct.core's HTTP session against the sandbox (nginx): connection reuse,
-- headers, gzip, running many at once, typed errors, TLS and proxies.
local core = require "ctct.core"
local cjson = require "cjson"
local sandbox = require "spec.helpers.sandbox"

-- The request log's JSON null (cjson.null) as nil.
local function ngx_null_or_nil(v)
  if v == cjson.null then return nil end
  return v
end

local function get(session, sb, path, extra)
  local req = { method = "GET", url = sb.base_url .. path,
                headers = { Authorization = "Bearer " .. sb.token } }
  for k, v in pairs(extra or {}) do req[k] = v end
  return session:request(req)
end

describe("ctct.core session", function()
  local sb
  lazy_setup(function() sb = sandbox.start() end)
  lazy_teardown(function() if sb then sb:stop() end end)
  before_each(function() sb:reset(); sb:config { rate_limit_per_second = 0 } end)

  it("keeps one connection alive for 100 sequential calls", function()
    local s = core.session()
    local first = assert(get(s, sb, "/account/summary"))
    assert.equal(1, first.new_connections)
    for _ = 2, 100 do
      local res = assert(get(s, sb, "/account/summary"))
      assert.equal(200, res.status)
      assert.equal(0, res.new_connections)
    end
    local stats = sb:stats()
    assert.equal(100, stats.requests)
    assert.equal(1, stats.connections)
    s:close()
  end)

  it("returns status, lower-case headers and the decoded-gzip body", function()
    local s = core.session()
    local res = assert(get(s, sb, "/account/summary"))
    assert.equal(200, res.status)
    assert.equal("1.1", res.http_version)
    assert.equal("application/json", res.headers["content-type"])
    assert.equal("gzip", res.headers["content-encoding"]) -- sent compressed...
    assert.is_string(cjson.decode(res.body).encoded_account_id) -- ...and decoded
    for name in pairs(res.headers) do assert.equal(name:lower(), name) end
  end)

  it("identifies itself as ctct-lua/<version> and asks for compression", function()
    local s = core.session()
    assert(get(s, sb, "/account/summary"))
    local log = sb:requests()
    local last = log[#log]
    assert.equal("ctct-lua/" .. core.VERSION, last.user_agent)
    assert.matches("gzip", last.accept_encoding)
    assert.equal("Bearer", last.authorization)
  end)

  it("sends bodies with any method", function()
    local s = core.session()
    local headers = { Authorization = "Bearer " .. sb.token, ["Content-Type"] = "application/json" }
    local res = assert(s:request { method = "POST", url = sb.base_url .. "/contact_lists", headers = headers,
                                   body = cjson.encode { name = "Core list" } })
    assert.equal(201, res.status)
    local id = cjson.decode(res.body).list_id
    res = assert(s:request { method = "PUT", url = sb.base_url .. "/contact_lists/" .. id, headers = headers,
                             body = cjson.encode { name = "Renamed" } })
    assert.equal("Renamed", cjson.decode(res.body).name)
    res = assert(s:request { method = "DELETE", url = sb.base_url .. "/contact_lists/" .. id, headers = headers })
    assert.equal(202, res.status)
  end)

  it("sends no Content-Type of its own: a POST without one is not a form", function()
    local s = core.session()
    local auth = { Authorization = "Bearer " .. sb.token }
    assert(s:request { method = "POST", url = sb.base_url .. "/contacts/sign_up_form", headers = auth })
    assert(s:request { method = "PUT", url = sb.base_url .. "/contact_lists/x", headers = auth, body = "{}" })
    local log = sb:requests()
    assert.equal("POST", log[#log - 1].method)
    assert.equal(ngx_null_or_nil(log[#log - 1].content_type), nil) -- libcurl would say x-www-form-urlencoded
    assert.equal(ngx_null_or_nil(log[#log].content_type), nil)
    -- The caller's own still goes through.
    assert(s:request { method = "POST", url = sb.base_url .. "/contact_lists", body = '{"name":"typed"}',
                       headers = { Authorization = auth.Authorization, ["content-type"] = "application/json" } })
    log = sb:requests()
    assert.equal("application/json", log[#log].content_type)
  end)

  it("runs many requests at once through curl multi, results in request order", function()
    local s = core.session()
    local headers = { Authorization = "Bearer " .. sb.token }
    local reqs = {}
    for i = 1, 20 do
      reqs[i] = { method = "GET", url = sb.base_url .. (i % 2 == 0 and "/account/summary" or "/nope-" .. i),
                  headers = headers }
    end
    reqs[21] = { method = "GET", url = "http://127.0.0.1:1/refused" }
    local results = s:request_many(reqs, { concurrency = 5 })
    assert.equal(21, #results)
    for i = 1, 20 do assert.equal(i % 2 == 0 and 200 or 404, results[i].status) end
    assert.equal("network", results[21].error.kind)
    assert.is_false(results[21].error.sent)
    local stats = sb:stats()
    assert.is_true(stats.connections >= 1 and stats.connections <= 5)
  end)

  it("reuses the share's connections between single and multi requests", function()
    local s = core.session()
    assert(get(s, sb, "/account/summary"))
    local results = s:request_many({ { method = "GET", url = sb.base_url .. "/account/summary",
                                       headers = { Authorization = "Bearer " .. sb.token } } })
    assert.equal(0, results[1].new_connections)
  end)

  it("checks every request before sending any", function()
    local s = core.session()
    local ok, err = pcall(s.request_many, s, {
      { method = "GET", url = sb.base_url .. "/account/summary" },
      { method = "GET", url = "not a url" },
    })
    assert.is_false(ok)
    assert.matches("request.url", err)
    assert.equal(0, sb:stats().requests)
  end)

  it("maps a timeout to kind 'timeout', marking the request as sent", function()
    sb:faults { { latency_ms = 2000 } }
    local s = core.session()
    local res, err = get(s, sb, "/account/summary", { timeout = 0.3 })
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.is_true(err.sent)
    assert.equal(28, err.curl_code)
  end)

  it("maps a refused connection to 'network', not sent", function()
    local s = core.session()
    local res, err = s:request { method = "POST", url = "http://127.0.0.1:1/x", body = "{}" }
    assert.is_nil(res)
    assert.equal("network", err.kind)
    assert.is_false(err.sent)
    assert.matches("127.0.0.1", err.message)
  end)

  it("maps a dropped connection to 'network', possibly sent", function()
    sb:faults { { drop = true } }
    local s = core.session()
    local _, err = get(s, sb, "/account/summary")
    assert.equal("network", err.kind)
    assert.is_true(err.sent)
  end)

  it("refuses a response larger than max_response_bytes", function()
    local s = core.session { max_response_bytes = 100 }
    local _, err = get(s, sb, "/account/summary")
    assert.equal("protocol", err.kind)
    assert.matches("max_response_bytes", err.message)
  end)

  it("streams a 2xx body into a sink file, past max_response_bytes, via <sink>.part", function()
    local dir = assert(io.popen("mktemp -d")):read("*l")
    local s = core.session { max_response_bytes = 100 }
    local path = dir .. "/summary.json"
    local res = assert(get(s, sb, "/account/summary", { sink = path }))
    assert.equal(200, res.status)
    assert.equal("", res.body)
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()
    assert.equal(#text, res.sink_bytes)
    assert.is_true(#text > 100)
    assert.is_string(cjson.decode(text).encoded_account_id)
    assert.is_nil(io.open(path .. ".part", "rb"))
    assert.equal("600", (sandbox.run("stat -c %a " .. sandbox.quote(path)):match("%d+")))

    -- An error answer is kept in memory for the message; no file appears.
    local missing = dir .. "/missing.json"
    s = core.session()
    res = assert(get(s, sb, "/contacts/" .. ("0"):rep(8) .. "-0000-0000-0000-" .. ("0"):rep(12), { sink = missing }))
    assert.equal(404, res.status)
    assert.truthy(res.body:find("error_key", 1, true))
    assert.is_nil(io.open(missing, "rb"))
    assert.is_nil(io.open(missing .. ".part", "rb"))

    -- A sink that cannot be written is an error before anything is sent.
    local before = sb:stats().requests
    local ok, err = pcall(get, s, sb, "/account/summary", { sink = dir .. "/no/such/dir/x" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("request.sink", 1, true), tostring(err))
    assert.equal(before, sb:stats().requests)
    sandbox.run("rm -rf " .. sandbox.quote(dir))
  end)

  it("rejects bad input with a clear error", function()
    local s = core.session()
    local cases = {
      { { method = "GET" }, "request.url is required" },
      { { method = "get", url = "http://x/" }, "request.method" },
      { { method = "GET", url = "file:///etc/passwd" }, "request.url must start with http" },
      { { method = "GET", url = "http://x/a b" }, "space or control" },
      { { method = "GET", url = "http://x/", headers = { X = "a\r\nB: c" } }, "control character" },
      { { method = "GET", url = "http://x/", headers = { ["Bad Name"] = "v" } }, "header name" },
      { { method = "GET", url = "http://x/", body = "x" }, "body is not allowed with GET" },
      { { method = "GET", url = "http://x/", timeout = -1 }, "option 'timeout'" },
      { { method = "GET", url = "http://x/", timeout = 0 }, "option 'timeout'" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(s.request, s, case[1])
      assert.is_false(ok)
      assert.is_truthy(err:find(case[2], 1, true), err)
    end
    assert.has_error(function() core.session { connect_timeout = "10" } end)
    assert.has_error(function() core.session { cafile = 5 } end)
    assert.has_error(function() core.session { max_response_bytes = 0 } end)
  end)

  it("refuses to be used after close, and closing twice is fine", function()
    local s = core.session()
    s:close()
    s:close()
    assert.has_error(function() get(s, sb, "/account/summary") end, "ctct.core: the HTTP session is closed")
    assert.equal("ctct.core.session (closed)", tostring(s))
  end)

  it("uses the proxy from the environment (http_proxy)", function()
    -- The sandbox serves an absolute-URI request, so it can stand in for a proxy: a
    -- host that does not resolve answers only if the request went through it.
    local lua = package.cpath:find("jit", 1, true) and "luajit" or "lua5.4"
    local cpath = package.cpath:find("jit", 1, true) and "build/jit/?.so" or "build/5.4/?.so"
    local script = ("package.cpath = %q .. ';' .. package.cpath; "):format(cpath) ..
      "local s = require('ctct.core').session(); " ..
      ("local r, e = s:request{ method = 'GET', url = 'http://proxied.invalid/v3/account/summary', " ..
       "headers = { Authorization = 'Bearer %s' } }; "):format(sb.token) ..
      "io.write(r and r.status or e.kind)"
    local out = sandbox.run("http_proxy=" .. sb.url .. " " .. lua .. " -e " .. sandbox.quote(script))
    assert.equal("200", out)
    out = sandbox.run("http_proxy=" .. sb.url .. " no_proxy=proxied.invalid " .. lua .. " -e " .. sandbox.quote(script))
    assert.equal("network", out)
  end)
end)

describe("ctct.core session over TLS", function()
  local sb
  lazy_setup(function() sb = sandbox.start { tls = true } end)
  lazy_teardown(function() if sb then sb:stop() end end)

  it("refuses the self-signed sandbox by default", function()
    local s = core.session()
    local res, err = get(s, sb, "/account/summary")
    assert.is_nil(res)
    assert.equal("tls", err.kind)
    assert.is_false(err.sent)
  end)

  it("accepts it with cafile, over HTTP/2", function()
    local s = core.session { cafile = sb.cafile }
    local res = assert(get(s, sb, "/account/summary"))
    assert.equal(200, res.status)
    if core.features().http2 then assert.equal("2", res.http_version) end
  end)

  it("accepts it when verification is turned off by name", function()
    local s = core.session { verify = false }
    assert.equal(200, assert(get(s, sb, "/account/summary")).status)
  end)

  it("multiplexes many requests over one HTTP/2 connection", function()
    sb:reset()
    sb:config { rate_limit_per_second = 0 }
    local s = core.session { cafile = sb.cafile }
    local reqs = {}
    for i = 1, 10 do
      reqs[i] = { method = "GET", url = sb.base_url .. "/account/summary",
                  headers = { Authorization = "Bearer " .. sb.token } }
    end
    for _, r in ipairs(s:request_many(reqs, { concurrency = 10 })) do assert.equal(200, r.status) end
    assert.equal(1, sb:stats().connections)
  end)
end)
