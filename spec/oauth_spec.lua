-- ctct.oauth and the client's token lifecycle against a scripted transport
-- and a fake clock: what each flow sends, how answers are read, the device
-- polling rules, refresh-before-use, single refresh after 401, bad input, and
-- that no secret ever reaches an error or a log line.
local ctct = require "ctct"
local core = require "ctct.core"
local oauth = require "ctct.oauth"
local memory = require "ctct.store.memory"
local fake = require "spec.helpers.fake_transport"
local cjson = require "cjson"

local SECRET, RT, AT, CODE = "client-SECRET-xyz", "refresh-RT-123", "access-AT-456", "code-CODE-789"

local function answer(status, body)
  return { status = status, body = type(body) == "string" and body or cjson.encode(body),
           headers = { ["content-type"] = "application/json" } }
end

local function form(body)
  local out = {}
  for k, v in body:gmatch("([^&=]+)=([^&]*)") do
    out[k] = v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return out
end

local function token_answer(over)
  local t = { access_token = AT, token_type = "Bearer", expires_in = 3600, refresh_token = RT .. "-new",
              scope = "contact_data offline_access" }
  for k, v in pairs(over or {}) do t[k] = v ~= cjson.null and v or nil end
  return answer(200, t)
end

describe("ctct.oauth", function()
  it("computes the RFC 7636 appendix B PKCE example", function()
    local v, c = oauth.pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert.equal("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", v)
    assert.equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", c)
    local fresh, challenge = oauth.pkce()
    assert.equal(43, #fresh)
    assert.matches("^[%w%-_]+$", fresh)
    assert.equal(challenge, select(2, oauth.pkce(fresh)))
    assert.has_error(function() oauth.pkce("too-short") end)
    assert.has_error(function() oauth.pkce(("a"):rep(42) .. "!") end)
  end)

  describe("authorization_url", function()
    local base = { client_id = "api-key-1", redirect_uri = "https://app.example/callback",
                   scope = { "contact_data", "offline_access" } }
    local function with(over)
      local o = {}
      for k, v in pairs(base) do o[k] = v end
      for k, v in pairs(over) do o[k] = v end
      return o
    end

    it("carries client_id, redirect_uri, scope, a random state and an S256 challenge", function()
      local url, session = oauth.authorization_url(base)
      local q = oauth.parse_query(url:match("%?(.*)$"))
      assert.equal("https://authz.constantcontact.com/oauth2/default/v1/authorize", url:match("^[^?]+"))
      assert.equal("code", q.response_type)
      assert.equal("api-key-1", q.client_id)
      assert.equal("https://app.example/callback", q.redirect_uri)
      assert.equal("contact_data offline_access", q.scope)
      assert.equal(session.state, q.state)
      assert.is_true(#session.state >= 43)
      assert.equal("S256", q.code_challenge_method)
      assert.equal(select(2, oauth.pkce(session.code_verifier)), q.code_challenge)
      local _, again = oauth.authorization_url(base)
      assert.are_not.equal(session.state, again.state)
    end)

    it("can skip PKCE and use a caller's state and nonce", function()
      local url, session = oauth.authorization_url(with { pkce = false, state = "s1", nonce = "n1" })
      assert.is_nil(url:find("code_challenge", 1, true))
      assert.is_nil(session.code_verifier)
      assert.matches("&state=s1", url)
      assert.matches("&nonce=n1", url)
    end)

    it("refuses bad input, naming the argument", function()
      local cases = {
        { with { client_id = ctct.null }, "'client_id'" },
        { with { redirect_uri = "/callback" }, "'redirect_uri': must be an absolute" },
        { with { redirect_uri = "https://app.example/cb#x" }, "fragment" },
        { with { scope = {} }, "'scope': a non-empty list" },
        { with { scope = { "contacts" } }, "unknown scope 'contacts'; Constant Contact's scopes are account_read, " ..
          "account_update, contact_data, campaign_data, billing_data, offline_access, openid" },
      }
      for _, c in ipairs(cases) do
        if c[1].client_id == ctct.null then c[1].client_id = nil end
        local ok, err = pcall(oauth.authorization_url, c[1])
        assert.is_false(ok)
        assert.is_truthy(err:find(c[2], 1, true), err)
      end
    end)

    it("only warns about unknown scopes when told the server has its own", function()
      local warned = {}
      local url = oauth.authorization_url(with { scope = { "profile" }, strict_scopes = false,
                                                 logger = function(_, m) warned[#warned + 1] = m end })
      assert.matches("scope=profile", url)
      assert.matches("unknown scope 'profile'", warned[1])
    end)
  end)

  describe("parse_callback", function()
    local session = { state = "expected-state-value" }
    it("returns the code when the state matches", function()
      assert.equal("abc", oauth.parse_callback("https://app.example/cb?code=abc&state=expected-state-value", session))
      assert.equal("abc", oauth.parse_callback("code=abc&state=expected-state-value", session))
      assert.equal("abc", oauth.parse_callback({ code = "abc", state = "expected-state-value" }, session))
    end)
    it("rejects a state mismatch, a denial and a missing code", function()
      local _, err = oauth.parse_callback("https://app.example/cb?code=abc&state=other", session)
      assert.equal("state_mismatch", err.error_key)
      assert.equal("auth", err.kind)
      _, err = oauth.parse_callback("https://app.example/cb?code=abc", session)
      assert.equal("state_mismatch", err.error_key)
      _, err = oauth.parse_callback("?error=access_denied&error_description=User+said+no&state=expected-state-value",
        session)
      assert.equal("access_denied", err.error_key)
      assert.matches("User said no", err.message)
      _, err = oauth.parse_callback("?state=expected-state-value", session)
      assert.equal("invalid_callback", err.error_key)
    end)
  end)

  describe("exchange_code", function()
    it("authenticates a confidential client with HTTP Basic, secret never in the body", function()
      local t = fake.new { token_answer() }
      local tok = assert(oauth.exchange_code { client_id = "api-key-1", client_secret = SECRET, code = CODE,
                                              redirect_uri = "https://app.example/callback", transport = t })
      assert.equal(AT, tok.access_token)
      assert.equal(RT .. "-new", tok.refresh_token)
      assert.equal("Bearer", tok.token_type)
      assert.equal(t.time() + 3600, tok.expires_at)
      local req = t.requests[1]
      assert.equal("POST", req.method)
      assert.equal("application/x-www-form-urlencoded", req.headers["Content-Type"])
      assert.equal("Basic " .. core.b64_encode("api-key-1:" .. SECRET), req.headers.Authorization)
      assert.same({ grant_type = "authorization_code", code = CODE, redirect_uri = "https://app.example/callback" },
        form(req.body))
      assert.is_nil(req.body:find(SECRET, 1, true))
    end)

    it("sends a public client's id and verifier instead of a secret", function()
      local t = fake.new { token_answer() }
      local _, session = oauth.authorization_url { client_id = "pub", redirect_uri = "http://127.0.0.1:5000/callback",
                                                   scope = { "contact_data" } }
      assert(oauth.exchange_code { client_id = "pub", code = CODE, session = session, transport = t })
      local f = form(t.requests[1].body)
      assert.equal("pub", f.client_id)
      assert.equal(session.code_verifier, f.code_verifier)
      assert.equal("http://127.0.0.1:5000/callback", f.redirect_uri)
      assert.is_nil(t.requests[1].headers.Authorization)
      assert.has_error(function()
        oauth.exchange_code { client_id = "pub", code = CODE, redirect_uri = "http://127.0.0.1:5000/callback" }
      end)
    end)

    it("turns OAuth errors and broken answers into auth errors", function()
      local t = fake.new {
        answer(400, { error = "invalid_grant", error_description = "code already used" }),
        token_answer { access_token = cjson.null },
        token_answer { token_type = "mac" },
        answer(500, "<html>oops</html>"),
      }
      local o = { client_id = "c", client_secret = SECRET, code = CODE, redirect_uri = "https://a.example/cb",
                  transport = t }
      local _, err = oauth.exchange_code(o)
      assert.equal("invalid_grant", err.error_key)
      assert.equal(400, err.status)
      assert.matches("code already used", err.message)
      _, err = oauth.exchange_code(o)
      assert.equal("invalid_token_response", err.error_key)
      assert.matches("no access_token", err.message)
      _, err = oauth.exchange_code(o)
      assert.matches("not a Bearer token", err.message)
      _, err = oauth.exchange_code(o)
      assert.equal("server_error", err.error_key)
      assert.equal(500, err.status)
    end)
  end)

  it("refreshes and revokes", function()
    local t = fake.new { token_answer { refresh_token = "rotated" }, answer(200, "") }
    local tok = assert(oauth.refresh { client_id = "c", client_secret = SECRET, refresh_token = RT, transport = t })
    assert.equal("rotated", tok.refresh_token)
    assert.same({ grant_type = "refresh_token", refresh_token = RT }, form(t.requests[1].body))
    assert.is_true(oauth.revoke { client_id = "c", client_secret = SECRET, token = RT,
                                  token_type_hint = "refresh_token", transport = t })
    assert.equal("https://authz.constantcontact.com/oauth2/default/v1/revoke", t.requests[2].url)
    assert.same({ token = RT, token_type_hint = "refresh_token" }, form(t.requests[2].body))
  end)

  describe("device flow", function()
    local function device_answer(over)
      local d = { device_code = "dev-secret", user_code = "ABCD-EFGH", verification_uri = "https://x/device",
                  verification_uri_complete = "https://x/device?user_code=ABCD-EFGH", expires_in = 600, interval = 5 }
      for k, v in pairs(over or {}) do d[k] = v ~= cjson.null and v or nil end
      return answer(200, d)
    end
    local pending = answer(400, { error = "authorization_pending" })

    it("prompts, polls at the interval, slows down by 5 s, and returns the token", function()
      local t = fake.new { device_answer(), pending, answer(400, { error = "slow_down" }), pending, token_answer() }
      local d = assert(oauth.device { client_id = "pub", scope = { "contact_data", "offline_access" }, transport = t })
      assert.equal("ABCD-EFGH", d.user_code)
      assert.equal("https://x/device", d.verification_uri)
      assert.equal(600, d.expires_in)
      assert.same({ scope = "contact_data offline_access", client_id = "pub" }, form(t.requests[1].body))
      local prompted
      local tok = assert(d:wait { on_prompt = function(dev) prompted = dev.user_code end })
      assert.equal("ABCD-EFGH", prompted)
      assert.equal(AT, tok.access_token)
      assert.same({ 5, 5, 10, 10 }, t.sleeps)
      assert.same({ grant_type = "urn:ietf:params:oauth:grant-type:device_code", device_code = "dev-secret",
                    client_id = "pub" }, form(t.requests[2].body))
    end)

    it("waits 5 s between polls when the server gives no interval", function()
      local t = fake.new { device_answer { interval = cjson.null }, pending, token_answer() }
      assert(assert(oauth.device { client_id = "pub", scope = { "contact_data" }, transport = t }):wait())
      assert.same({ 5, 5 }, t.sleeps)
    end)

    it("stops on access_denied", function()
      local t = fake.new { device_answer(), pending, answer(400, { error = "access_denied" }) }
      local d = assert(oauth.device { client_id = "pub", scope = { "contact_data" }, transport = t })
      local tok, err = d:wait()
      assert.is_nil(tok)
      assert.equal("access_denied", err.error_key)
      assert.equal(3, #t.requests)
    end)

    it("stops at the code's expiry without polling past it", function()
      local t = fake.new { device_answer { expires_in = 12 }, pending, pending }
      local d = assert(oauth.device { client_id = "pub", scope = { "contact_data" }, transport = t })
      local _, err = d:wait()
      assert.equal("expired_token", err.error_key)
      assert.equal(3, #t.requests) -- polls at 5 and 10 s; the next would be at 15 > 12
    end)

    it("reports a server's expired_token and a caller's timeout", function()
      local t = fake.new { device_answer(), answer(400, { error = "expired_token" }) }
      local _, err = assert(oauth.device { client_id = "pub", scope = { "contact_data" }, transport = t }):wait()
      assert.equal("expired_token", err.error_key)
      t = fake.new { device_answer(), pending, pending }
      local d = assert(oauth.device { client_id = "pub", scope = { "contact_data" }, transport = t })
      _, err = d:wait { timeout = 7 }
      assert.equal("timeout", err.kind)
    end)

    it("polls once at a time for callers that schedule it themselves", function()
      local t = fake.new { device_answer(), pending, token_answer() }
      local d = assert(oauth.device { client_id = "pub", scope = { "contact_data" }, transport = t })
      local tok, err = d:poll()
      assert.is_nil(tok)
      assert.is_true(err.pending)
      assert.equal(AT, assert(d:poll()).access_token)
    end)

    it("refuses a device answer without the fields it needs", function()
      local t = fake.new { device_answer { user_code = cjson.null } }
      local d, err = oauth.device { client_id = "pub", scope = { "contact_data" }, transport = t }
      assert.is_nil(d)
      assert.equal("invalid_device_response", err.error_key)
    end)
  end)
end)

describe("client token lifecycle", function()
  local function setup(script, stored, opts)
    local t = fake.new(script)
    local events = {}
    local store = memory.new()
    if stored then store:set("acct", stored) end
    local real_set = store.set
    store.set = function(self, key, token)
      events[#events + 1] = "store " .. token.access_token
      return real_set(self, key, token)
    end
    local real_request = t.request
    t.request = function(self, req)
      local bearer = (req.headers.Authorization or ""):match("^Bearer .*")
      events[#events + 1] = "send " .. req.url:match("[^/]+$") .. (bearer and (" " .. bearer) or "")
      return real_request(self, req)
    end
    local o = { token_store = store, account = "acct", client_id = "cid", client_secret = SECRET, transport = t,
                rate_limit = false, base_url = "https://api.example/v3" }
    for k, v in pairs(opts or {}) do o[k] = v end
    return ctct.new(o), t, store, events
  end

  it("uses a fresh stored token without refreshing", function()
    local c, t = setup({ answer(200, { ok = 1 }) },
      { access_token = "at1", refresh_token = RT, expires_at = 1700000000 + 3600 })
    assert(c:request("GET", "/account/summary"))
    assert.equal(1, #t.requests)
    assert.equal("Bearer at1", t.requests[1].headers.Authorization)
  end)

  it("refreshes a token about to expire, storing the rotated refresh token before using it", function()
    local c, _, store, events = setup(
      { token_answer { access_token = "at2", refresh_token = "rt2" }, answer(200, { ok = 1 }) },
      { access_token = "at1", refresh_token = RT, expires_at = 1700000000 + 30 })
    assert(c:request("GET", "/account/summary"))
    assert.same({ "send token", "store at2", "send summary Bearer at2" }, events)
    assert.equal("rt2", store:get("acct").refresh_token)
    assert.equal(1, c.token_source.refreshes)
  end)

  it("keeps the old refresh token when the server does not rotate it", function()
    local c, _, store = setup({ token_answer { access_token = "at2", refresh_token = cjson.null }, answer(200, {}) },
      { access_token = "at1", refresh_token = RT, expires_at = 1 })
    assert(c:request("GET", "/account/summary"))
    assert.equal(RT, store:get("acct").refresh_token)
  end)

  it("refreshes once after a 401 and retries, then says a login is needed", function()
    local unauthorized = answer(401, { error_key = "unauthorized", error_message = "Unauthorized" })
    local c, t = setup({ unauthorized, token_answer { access_token = "at2" }, answer(200, { ok = 1 }),
                         unauthorized, token_answer { access_token = "at3" }, unauthorized },
      { access_token = "at1", refresh_token = RT, expires_at = 1700000000 + 3600 })
    assert(c:request("GET", "/account/summary"))
    assert.equal("Bearer at2", t.requests[3].headers.Authorization)
    local _, err = c:request("GET", "/account/summary")
    assert.equal(401, err.status)
    assert.equal("unauthorized", err.error_key) -- refreshed once; the retry's 401 is final
    assert.equal(6, #t.requests)
  end)

  it("says a new login is needed when refresh cannot work", function()
    local c = setup({}, nil)
    local _, err = c:request("GET", "/account/summary")
    assert.equal("login_required", err.error_key)
    assert.matches("log in first", err.message)
    c = setup({}, { access_token = "at1", expires_at = 1 })
    _, err = c:request("GET", "/account/summary")
    assert.equal("login_required", err.error_key)
    assert.matches("no refresh token", err.message)
    c = setup({ answer(400, { error = "invalid_grant", error_description = "refresh token reused" }) },
      { access_token = "at1", refresh_token = RT, expires_at = 1 })
    _, err = c:request("GET", "/account/summary")
    assert.equal("login_required", err.error_key)
    assert.matches("refresh token was rejected", err.message)
  end)

  it("does not use a new token it could not store", function()
    local c, t, store = setup({ token_answer { access_token = "at2" } },
      { access_token = "at1", refresh_token = RT, expires_at = 1 })
    store.set = function() return nil, "disk full" end
    local _, err = c:request("GET", "/account/summary")
    assert.equal("store_failed", err.error_key)
    assert.equal(1, #t.requests) -- the API call was never made
  end)

  it("reads the expiry from the JWT when the store has none", function()
    local header = core.b64url_encode('{"alg":"RS256"}')
    local payload = core.b64url_encode(cjson.encode { exp = 1700000000 + 10 })
    local jwt_at = header .. "." .. payload .. ".c2ln"
    local c, t = setup({ token_answer { access_token = "at2" }, answer(200, {}) },
      { access_token = jwt_at, refresh_token = RT })
    assert(c:request("GET", "/account/summary"))
    assert.equal(2, #t.requests)
  end)

  it("refuses access_token and token_store together", function()
    assert.has_error(function() ctct.new { access_token = "x", token_store = memory.new() } end)
    assert.has_error(function() ctct.new { token_store = {} } end)
  end)
end)

describe("secrets", function()
  it("never appear in errors, logs or printed clients", function()
    local secrets = { SECRET, RT, AT, CODE, "dev-secret", "verifier-" .. ("v"):rep(40) }
    local seen = {}
    local function logger(_, m) seen[#seen + 1] = m end
    local failing = answer(400, { error = "invalid_grant", error_description = "bad grant" })
    local t = fake.new { failing, failing, failing, answer(500, "boom"), failing }
    local base = { client_id = "cid", client_secret = SECRET, transport = t, logger = logger }
    local function with(extra)
      local o = {}
      for k, v in pairs(base) do o[k] = v end
      for k, v in pairs(extra) do o[k] = v end
      return o
    end
    local _, e1 = oauth.exchange_code(with { code = CODE, redirect_uri = "https://a.example/cb",
                                             code_verifier = secrets[6] })
    local _, e2 = oauth.refresh(with { refresh_token = RT })
    local _, e3 = oauth.revoke(with { token = AT })
    local store = memory.new()
    store:set("default", { access_token = AT, refresh_token = RT, expires_at = 1 })
    local client = ctct.new { token_store = store, client_id = "cid", client_secret = SECRET, transport = t,
                              logger = logger, rate_limit = false }
    local _, e4 = client:request("GET", "/contacts")
    local _, e5 = client:request("GET", "/contacts")
    for _, text in ipairs { tostring(e1), tostring(e2), tostring(e3), tostring(e4), tostring(e5), tostring(client),
                            table.concat(seen, "\n") } do
      for _, s in ipairs(secrets) do
        assert.is_nil(text:find(s, 1, true), "secret '" .. s .. "' leaked in: " .. text)
      end
    end
  end)
end)
