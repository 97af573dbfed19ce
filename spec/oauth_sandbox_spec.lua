-- OAuth end to end against the sandbox's authorization server: every flow and
-- its error paths, tokens used on /v3, the client's token lifecycle (refresh
-- ahead of expiry, after a 401, under clock skew, login required), and eight
-- processes sharing one file store refreshing an expired token once.
local ctct = require "ctct"
local core = require "ctct.core"
local oauth = require "ctct.oauth"
local memory = require "ctct.store.memory"
local filestore = require "ctct.store.file"
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

local SCOPE = { "account_read", "contact_data", "offline_access" }

describe("OAuth against the sandbox", function()
  local sb, authz
  lazy_setup(function()
    sb = sandbox.start { workers = 2 }
    authz = sb.url .. "/oauth2/default/v1"
  end)
  lazy_teardown(function() if sb then sb:stop() end end)
  before_each(function()
    sb:reset()
    sb:config { rate_limit_per_second = 0, token_rate_limit_per_second = 0 }
    sb:oauth_config { device_interval = 1 }
  end)

  local function confidential(extra)
    local o = { client_id = sb.oauth.client_id, client_secret = sb.oauth.client_secret, authz_url = authz }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end
  local function public(extra)
    local o = { client_id = sb.oauth.public_client_id, authz_url = authz }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  -- The "browser": open the authorization URL, return where the server redirects.
  local function browse(url)
    local status, _, headers = sb:curl { url = url }
    assert.equal(302, status)
    return headers.location
  end

  local function login(opts)
    local url, session = oauth.authorization_url(opts)
    local code = assert(oauth.parse_callback(browse(url), session))
    local o = {}
    for k, v in pairs(opts) do o[k] = v end
    o.code, o.session = code, session
    return assert(oauth.exchange_code(o))
  end

  local function api(token)
    return ctct.new { access_token = token, base_url = sb.base_url, rate_limit = false, retry = false }
  end

  describe("flows", function()
    it("authorization code + PKCE for a public client; the token works on /v3", function()
      local token = login(public { redirect_uri = "http://127.0.0.1:7777/callback", scope = SCOPE })
      assert.is_string(token.refresh_token)
      assert.is_true(token.expires_at > core.time())
      assert(api(token.access_token):request("GET", "/account/summary"))
      local info = assert(api(token.access_token):token_info())
      assert.is_true(#info.scopes >= 3)
    end)

    it("authorization code for a confidential client with HTTP Basic", function()
      local token = login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE })
      assert(api(token.access_token):request("GET", "/account/summary"))
      assert.equal(1, sb:oauth_stats().authorization_code)
    end)

    it("refuses a reused code, a wrong state and a mismatched redirect_uri", function()
      local opts = confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE }
      local url, session = oauth.authorization_url(opts)
      local callback = browse(url)
      local _, err = oauth.parse_callback(callback, { state = "someone-elses" })
      assert.equal("state_mismatch", err.error_key)
      local code = assert(oauth.parse_callback(callback, session))
      local o = confidential { code = code, session = { redirect_uri = "https://app.example/other",
                                                        state = session.state } }
      _, err = oauth.exchange_code(o)
      assert.equal("invalid_grant", err.error_key)
      o.session = session
      assert(oauth.exchange_code(o))
      _, err = oauth.exchange_code(o)
      assert.equal("invalid_grant", err.error_key)
    end)

    it("reports a denied authorization", function()
      sb:oauth_config { auto_approve = "deny" }
      local url, session = oauth.authorization_url(public { redirect_uri = "http://127.0.0.1/callback", scope = SCOPE })
      local _, err = oauth.parse_callback(browse(url), session)
      assert.equal("access_denied", err.error_key)
    end)

    it("device flow: pending, approved, tokens", function()
      local device = assert(oauth.device(public { scope = SCOPE }))
      assert.matches("^%u%u%u%u%-%u%u%u%u$", device.user_code)
      local pending = 0
      local token = assert(device:wait { on_poll = function()
        pending = pending + 1
        if pending == 2 then sb:approve_device(device.user_code) end
      end })
      assert.equal(2, pending)
      assert(api(token.access_token):request("GET", "/account/summary"))
      assert.equal(1, sb:oauth_stats().device_code)
    end)

    it("device flow: access denied, expiry, and slow_down", function()
      local device = assert(oauth.device(public { scope = SCOPE }))
      sb:approve_device(device.user_code, "deny")
      local _, err = device:wait()
      assert.equal("access_denied", err.error_key)

      sb:oauth_config { device_expires_in = 2 }
      device = assert(oauth.device(public { scope = SCOPE }))
      _, err = device:wait()
      assert.equal("expired_token", err.error_key)

      sb:oauth_config { device_expires_in = 600, device_interval = 2 }
      device = assert(oauth.device(public { scope = SCOPE }))
      local _, first = device:poll()
      assert.equal("authorization_pending", first.error_key)
      local _, second = device:poll() -- too soon
      assert.equal("slow_down", second.error_key)
      assert.equal(7, device.interval)
    end)

    it("rotates refresh tokens, refuses a used one, and revokes", function()
      local first = login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE })
      local second = assert(oauth.refresh(confidential { refresh_token = first.refresh_token }))
      assert.are_not.equal(first.refresh_token, second.refresh_token)
      local _, err = oauth.refresh(confidential { refresh_token = first.refresh_token })
      assert.equal("invalid_grant", err.error_key)
      local third = login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE })
      assert.is_true(oauth.revoke(confidential { token = third.access_token, token_type_hint = "access_token" }))
      local _, apierr = api(third.access_token):request("GET", "/account/summary")
      assert.equal(401, apierr.status)
      assert.is_true(oauth.revoke(confidential { token = third.refresh_token }))
      _, err = oauth.refresh(confidential { refresh_token = third.refresh_token })
      assert.equal("invalid_grant", err.error_key)
    end)

    it("logs a native app in through a loopback redirect", function()
      local token = assert(oauth.login_pkce(public {
        scope = SCOPE, timeout = 20,
        -- the "browser" follows the sandbox's redirect to our loopback listener
        open = function(url) run("curl -s -L -o /dev/null --max-time 10 " .. quote(url) .. " &") end,
      }))
      assert(api(token.access_token):request("GET", "/account/summary"))
    end)

    it("gives a clear error for a wrong client secret, without echoing it", function()
      local _, err = oauth.refresh(confidential { client_secret = "not-the-secret", refresh_token = "whatever" })
      assert.equal("invalid_client", err.error_key)
      assert.equal(401, err.status)
      assert.is_nil(tostring(err):find("not-the-secret", 1, true))
    end)
  end)

  describe("client token lifecycle", function()
    local function client_for(store, extra)
      local o = { token_store = store, client_id = sb.oauth.client_id, client_secret = sb.oauth.client_secret,
                  authz_url = authz, base_url = sb.base_url, rate_limit = false, retry = false }
      for k, v in pairs(extra or {}) do o[k] = v end
      return ctct.new(o)
    end

    it("refreshes an expired token, stores the rotated one, and keeps working", function()
      sb:oauth_config { access_token_ttl = 1 }
      local store = memory.new()
      store:set("default", login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE }))
      local c = client_for(store, { refresh_skew = 0 })
      assert(c:request("GET", "/account/summary"))
      core.sleep(1.2)
      local before = store:get("default")
      assert(c:request("GET", "/account/summary"))
      local after = store:get("default")
      assert.are_not.equal(before.refresh_token, after.refresh_token)
      assert.equal(1, sb:oauth_stats().refresh_token)
    end)

    it("refreshes once after a 401 (a revoked access token) and retries", function()
      local store = memory.new()
      local token = login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE })
      store:set("default", token)
      assert(oauth.revoke(confidential { token = token.access_token, token_type_hint = "access_token" }))
      local c = client_for(store)
      assert(c:request("GET", "/account/summary"))
      assert.equal(1, sb:oauth_stats().refresh_token)
    end)

    it("copes with a client clock behind the server's (clock skew)", function()
      sb:oauth_config { access_token_ttl = 1 }
      local store = memory.new()
      store:set("default", login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE }))
      core.sleep(1.2) -- expired for the server; the client's clock says it is an hour earlier
      local c = client_for(store, { time = function() return core.time() - 3600 end })
      assert(c:request("GET", "/account/summary")) -- 401, refresh, retry
      assert.equal(1, sb:oauth_stats().refresh_token)
    end)

    it("says a new login is needed when the refresh token was revoked", function()
      sb:oauth_config { access_token_ttl = 1 }
      local store = memory.new()
      local token = login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE })
      store:set("default", token)
      assert(oauth.revoke(confidential { token = token.refresh_token }))
      core.sleep(1.2)
      local _, err = client_for(store, { refresh_skew = 0 }):request("GET", "/account/summary")
      assert.equal("login_required", err.error_key)
      assert.matches("a new login is needed", tostring(err))
    end)

    it("serves several accounts from one store with one API key", function()
      local store = memory.new()
      sb:oauth_config { account = "acct2" }
      store:set("acct2", login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE }))
      sb:oauth_config { account = "default" }
      store:set("default", login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE }))
      local a = client_for(store, { account = "default" })
      local b = client_for(store, { account = "acct2" })
      assert(a:request("POST", "/contact_lists", { body = { name = "only in default" } }))
      assert.equal(1, #assert(a:request("GET", "/contact_lists")).lists)
      assert.equal(0, #assert(b:request("GET", "/contact_lists")).lists)
    end)
  end)

  it("eight processes sharing a file store refresh an expired token once #once", function()
    sb:oauth_config { access_token_ttl = 1 }
    local dir = run("mktemp -d"):gsub("%s+$", "")
    finally(function() run("rm -rf " .. quote(dir)) end)
    local path = dir .. "/tokens.json"
    assert(filestore.new { path = path }:set("default",
      login(confidential { redirect_uri = sb.oauth.redirect_uri, scope = SCOPE })))
    core.sleep(1.2) -- the stored access token is now expired
    -- The refreshed token lives an hour: a process that starts late on a loaded
    -- machine must find it fresh, so any second refresh is a single-flight failure.
    sb:oauth_config { access_token_ttl = 3600 }
    local start_at = core.time() + 1.5 -- a barrier: all eight begin at once
    local script = ([[
      local core = require "ctct.core"
      while core.time() < %f do core.sleep(0.002) end
      local ctct = require "ctct"
      local c = ctct.new { token_store = require("ctct.store.file").new { path = %q },
        client_id = %q, client_secret = %q, authz_url = %q, base_url = %q, rate_limit = false, refresh_skew = 0 }
      local ok, err = c:request("GET", "/account/summary")
      io.write(ok and "ok" or tostring(err))
    ]]):format(start_at, path, sb.oauth.client_id, sb.oauth.client_secret, authz, sb.base_url)
    local cmds = {}
    for i = 1, 8 do
      cmds[i] = "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 -e " .. quote(script) ..
        " > " .. quote(dir .. "/out" .. i) .. " 2>&1 &"
    end
    local _, code = run(table.concat(cmds, "\n") .. "\nwait")
    assert.equal(0, code)
    for i = 1, 8 do assert.equal("ok", sandbox.read_file(dir .. "/out" .. i), "process " .. i) end
    local refreshes = sb:oauth_stats().refresh_token
    print(("oauth single-flight: 8 processes, %d refresh(es)"):format(refreshes))
    assert.equal(1, refreshes)
    assert.equal(0, sb:oauth_stats().refresh_reuse)
  end)

  describe("examples #once", function()
    local env
    before_each(function()
      env = "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' CTCT_AUTHZ_URL=" .. quote(authz) ..
        " CTCT_BASE_URL=" .. quote(sb.base_url) .. " CTCT_CLIENT_ID=" .. quote(sb.oauth.public_client_id)
    end)

    it("login_device.lua logs in with the device flow once approved", function()
      local dir = run("mktemp -d"):gsub("%s+$", "")
      finally(function() run("rm -rf " .. quote(dir)) end)
      local out = dir .. "/out"
      local pid = run(env .. " CTCT_TOKEN_FILE=" .. quote(dir .. "/tokens.json") ..
        " lua5.4 examples/login_device.lua > " .. quote(out) .. " 2>&1 & echo $!"):match("%d+")
      local user_code
      for _ = 1, 100 do
        user_code = (sandbox.read_file(out) or ""):match("enter the code (%S+)")
        if user_code then break end
        core.sleep(0.05)
      end
      assert.is_string(user_code)
      sb:approve_device(user_code)
      run("while kill -0 " .. pid .. " 2>/dev/null && ! grep -q ') Z ' /proc/" .. pid .. "/stat; do sleep 0.05; done")
      local text = sandbox.read_file(out)
      assert.matches("Logged in; tokens stored in", text)
      assert.matches("Account: ", text)
      assert.equal("600", (run("stat -c %a " .. quote(dir .. "/tokens.json")):gsub("%s", "")))
    end)

    it("login_pkce.lua logs in through the loopback redirect", function()
      local dir = run("mktemp -d"):gsub("%s+$", "")
      finally(function() run("rm -rf " .. quote(dir)) end)
      local text, code = run(env .. " CTCT_TOKEN_FILE=" .. quote(dir .. "/tokens.json") ..
        " CTCT_OPEN='curl -s -L -o /dev/null --max-time 10' timeout 30 lua5.4 examples/login_pkce.lua 2>&1")
      assert.equal(0, code, text)
      assert.matches("Logged in; tokens stored in", text)
    end)
  end)
end)
