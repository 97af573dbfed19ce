-- Issue 17: the loopback login (login_pkce) must not be ended or blocked by
-- other connections to its port. An idle connection (a browser's preconnect)
-- is dropped after a per-connection read timeout while other connections are
-- served; a callback with the wrong state (forged, or stale) or another path is
-- answered with an error page and the login keeps waiting for the real one.
local oauth = require "ctct.oauth"
local core = require "ctct.core"
local fake = require "spec.helpers.fake_transport"
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"
local run, quote = sandbox.run, sandbox.quote

local CODE = "the-real-code"

local function token_transport()
  return fake.new { { status = 200, headers = { ["content-type"] = "application/json" },
                      body = cjson.encode { access_token = "at-loopback", token_type = "Bearer", expires_in = 3600 } } }
end

-- The port and state of the authorization URL login_pkce opens.
local function port_and_state(url)
  local port = url:match("127%.0%.0%.1%%3A(%d+)") or url:match("127%.0%.0%.1:(%d+)")
  local state = url:match("[?&]state=([^&]+)")
  return assert(port, url), assert(state, url)
end

local function curl(port, query, out)
  return "curl -s -o /dev/null -w '%{http_code}' --max-time 10 " ..
    quote("http://127.0.0.1:" .. port .. "/callback?" .. query) .. " > " .. quote(out)
end

-- An idle TCP connection held open by a background process; returns its pid.
local function idle_connection(port, first_bytes)
  local send = first_bytes and ("printf %s >&3; "):format(quote(first_bytes)) or ""
  local pid = run("bash -c " .. quote("exec 3<>/dev/tcp/127.0.0.1/" .. port .. "; " .. send .. "exec sleep 8") ..
    " >/dev/null 2>&1 & echo $!"):match("%d+")
  return assert(pid)
end

local function wait_for_file(path, seconds)
  local deadline = core.monotonic() + seconds
  while core.monotonic() < deadline do
    local text = sandbox.read_file(path)
    if text and text ~= "" then return text end
    core.sleep(0.02)
  end
  return sandbox.read_file(path)
end

describe("security: the loopback login", function()
  local dir, pids
  before_each(function()
    dir = (run("mktemp -d"):gsub("%s+$", ""))
    pids = {}
  end)
  after_each(function()
    for _, pid in ipairs(pids) do
      -- our own background `sleep` (exec'd by bash): only if it is still that process
      run("p=" .. pid .. "; grep -q sleep /proc/$p/cmdline 2>/dev/null && kill $p")
    end
    run("rm -rf " .. quote(dir))
  end)

  local function login(open, extra)
    local t = token_transport()
    local o = { client_id = "pub-client", scope = { "contact_data" }, transport = t, timeout = 5, open = open }
    for k, v in pairs(extra or {}) do o[k] = v end
    local started = core.monotonic()
    local token, err = oauth.login_pkce(o)
    return token, err, t, core.monotonic() - started
  end

  it("an idle preconnect does not block the real callback", function()
    local token, err, t, took = login(function(url)
      local port, state = port_and_state(url)
      pids[#pids + 1] = idle_connection(port) -- the browser's speculative connection
      run("sleep 0.3; " .. curl(port, "code=" .. CODE .. "&state=" .. state, dir .. "/real") .. " &")
    end)
    assert(token, tostring(err))
    assert.equal("at-loopback", token.access_token)
    assert.truthy(t.requests[1].body:find("code=" .. CODE, 1, true), t.requests[1].body)
    assert.equal("200", wait_for_file(dir .. "/real", 5))
    assert.is_true(took < 4, ("took %.1f s"):format(took))
  end)

  it("idle and half-sent connections are dropped after the read timeout, even more than it holds at once", function()
    local token, err = login(function(url)
      local port, state = port_and_state(url)
      for i = 1, 12 do pids[#pids + 1] = idle_connection(port, i % 2 == 0 and "GET /callback HTTP/1.1\r\n" or nil) end
      run("sleep 0.3; " .. curl(port, "code=" .. CODE .. "&state=" .. state, dir .. "/real") .. " &")
    end, { read_timeout = 0.5 })
    assert(token, tostring(err))
    assert.equal("200", wait_for_file(dir .. "/real", 5))
  end)

  it("a forged callback with a wrong state gets 400, and the real one afterwards succeeds", function()
    local token, err, t = login(function(url)
      local port, state = port_and_state(url)
      run("(" .. curl(port, "code=forged&state=not-the-state", dir .. "/forged") .. "; " ..
        curl(port, "error=access_denied&state=also-wrong", dir .. "/denied") .. "; " ..
        "curl -s -o /dev/null -w '%{http_code}' --max-time 10 " ..
        quote("http://127.0.0.1:" .. port .. "/favicon.ico") .. " > " .. quote(dir .. "/other") .. "; " ..
        curl(port, "code=" .. CODE .. "&state=" .. state, dir .. "/real") .. ") >/dev/null 2>&1 &")
    end)
    assert(token, tostring(err))
    assert.truthy(t.requests[1].body:find("code=" .. CODE, 1, true), t.requests[1].body)
    assert.is_nil(t.requests[1].body:find("forged", 1, true))
    assert.equal("400", wait_for_file(dir .. "/forged", 5))
    assert.equal("400", wait_for_file(dir .. "/denied", 5))
    assert.equal("404", wait_for_file(dir .. "/other", 5))
    assert.equal("200", wait_for_file(dir .. "/real", 5))
  end)

  it("a denial with the right state still ends the login", function()
    local token, err = login(function(url)
      local port, state = port_and_state(url)
      run(curl(port, "error=access_denied&state=" .. state, dir .. "/denied") .. " &")
    end)
    assert.is_nil(token)
    assert.equal("access_denied", err.error_key)
    assert.equal("400", wait_for_file(dir .. "/denied", 5))
  end)

  it("the listener's accept takes a per-connection read timeout", function()
    local l = assert(core.loopback_listen(0))
    finally(function() l:close() end)
    pids[#pids + 1] = idle_connection(l:port())
    local started = core.monotonic()
    local method, why = l:accept(1, 0.2)
    assert.is_nil(method)
    assert.equal("timeout", why)
    assert.is_true(core.monotonic() - started >= 0.9)
    assert.has_error(function() l:accept(1, 0) end)
  end)
end)
