-- Specs of the sandbox's authorization server (sandbox/lua/sandbox/oauth*), driven with
-- the curl CLI through spec/helpers/sandbox.lua; the ctct library is not involved.
-- PKCE challenges and signatures are computed with the openssl CLI, independently of
-- the sandbox's own code.
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"

local run, quote = sandbox.run, sandbox.quote

-- Strict: base64url alphabet only, no padding.
local b64url_decode = require("spec.helpers.b64url").decode_strict

-- Header and claims of a compact JWS.
local function jwt_parts(token)
  local h, p = token:match("^([%w_-]+)%.([%w_-]+)%.[%w_-]+$")
  assert(h, "not a compact JWS")
  return cjson.decode(b64url_decode(h)), cjson.decode(b64url_decode(p))
end

local function sh(cmd)
  local out, code = run(cmd .. " 2>&1")
  assert(code == 0, cmd .. " failed: " .. out)
  return out
end

-- BASE64URL(SHA256(verifier)) by the openssl CLI (RFC 7636 4.2).
local function s256(verifier)
  return (sh("printf %s " .. quote(verifier)
    .. " | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n'"))
end

local VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"   -- RFC 7636 appendix B
local OTHER_VERIFIER = string.rep("a", 43)
local UNAUTHORIZED = { error_key = "unauthorized", error_message = "Unauthorized" }
local DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

describe("sandbox OAuth #once", function()
  local sb

  lazy_setup(function()
    -- Several workers, so the concurrency specs race for real.
    sb = sandbox.start{ workers = 4 }
  end)

  lazy_teardown(function()
    if sb then sb:stop() end
  end)

  before_each(function()
    sb:reset()
    sb:config{ rate_limit_per_second = 0, token_rate_limit_per_second = 0 }
  end)

  -- A code for the default confidential client (params override sb:authorize's).
  local function get_code(params)
    local status, q = sb:authorize(params)
    assert.are.equal(302, status)
    assert.is_string(q.code, "no code in the redirect: " .. cjson.encode(q))
    return q.code, q
  end

  -- Code flow for the confidential client; returns the token response.
  local function login(params)
    local code = get_code(params)
    local status, body = sb:oauth_token{ grant_type = "authorization_code", code = code,
                                         redirect_uri = sb.oauth.redirect_uri }
    assert.are.equal(200, status, cjson.encode(body))
    return body
  end

  local function refresh(refresh_token, client, extra)
    local params = { grant_type = "refresh_token", refresh_token = refresh_token }
    for k, v in pairs(extra or {}) do params[k] = v end
    return sb:oauth_token(params, client)
  end

  local function summary_status(token)
    local status, body = sb:api("GET", "/account/summary", nil, { token = token })
    return status, body
  end

  local function assert_oauth_error(want_status, want_error, status, body)
    assert.are.equal(want_status, status, cjson.encode(body))
    assert.are.equal(want_error, body.error, cjson.encode(body))
    assert.is_string(body.error_description)
  end

  describe("helper and admin", function()
    it("knows the endpoints and default clients, and the default config", function()
      assert.are.equal(sb.url .. "/oauth2/default/v1/authorize", sb.oauth.authorize_url)
      assert.are.equal(sb.url .. "/oauth2/default/v1/token", sb.oauth.token_url)
      assert.are.equal(sb.url .. "/oauth2/default/v1/device/authorize", sb.oauth.device_url)
      assert.are.equal(sb.url .. "/oauth2/default/v1/revoke", sb.oauth.revoke_url)
      assert.are.same({ "sandbox-client", "sandbox-secret", "sandbox-public" },
        { sb.oauth.client_id, sb.oauth.client_secret, sb.oauth.public_client_id })
      assert.are.same({
        auto_approve = true, account = "default", access_token_ttl = 86400, refresh_rotation = true,
        code_ttl = 300, device_expires_in = 600, device_interval = 5, early_refresh_age = 0,
      }, sb:oauth_config())
    end)

    it("changes the config field by field, rejects bad fields, and reset restores it", function()
      local cfg = sb:oauth_config{ auto_approve = "deny", access_token_ttl = 60 }
      assert.are.equal("deny", cfg.auto_approve)
      assert.are.equal(60, cfg.access_token_ttl)
      assert.are.equal(300, cfg.code_ttl)
      assert.are.equal(false, sb:oauth_config{ refresh_rotation = false }.refresh_rotation)
      for _, bad in ipairs{ { auto_approve = "maybe" }, { access_token_ttl = 0 }, { account = "no spaces" },
                             { device_interval = -1 }, { nope = 1 }, { refresh_rotation = "yes" } } do
        local status, body = sb:admin("POST", "/__sandbox/oauth/config", bad)
        assert.are.equal(400, status, cjson.encode(bad))
        assert.are.equal("sandbox.config.invalid", body[1].error_key)
      end
      sb:reset()
      assert.are.equal(true, sb:oauth_config().auto_approve)
      assert.are.equal(86400, sb:oauth_config().access_token_ttl)
    end)

    it("adds clients and rejects bad ones", function()
      local got = sb:add_client{ client_id = "app2", client_secret = "pw", redirect_uris = { "https://x.example/cb" } }
      assert.are.same({ client_id = "app2", public = false, redirect_uris = { "https://x.example/cb" } }, got)
      assert.is_true(sb:add_client{ client_id = "app3", redirect_uris = { "http://127.0.0.1/cb" } }.public)
      for _, bad in ipairs{ { redirect_uris = { "https://x/cb" } }, { client_id = "a" },
                             { client_id = "a", redirect_uris = { "https://x/cb#frag" } },
                             { client_id = "a", redirect_uris = { "relative/cb" } } } do
        assert.are.equal(400, (sb:admin("POST", "/__sandbox/oauth/clients", bad)))
      end
    end)

    it("has oauth counters in the stats, zero after a reset", function()
      local o = sb:oauth_stats()
      assert.are.same({ 0, 0, 0, 0, 0 },
        { o.authorization_code, o.refresh_token, o.device_code, o.refresh_reuse, o.revocations })
      assert.are.equal(0, o.token_errors.invalid_grant)
    end)
  end)

  describe("authorization code flow", function()
    it("redirects with a code and state, and exchanges it for a Bearer JWT that works on /v3", function()
      local code, q = get_code()
      assert.are.equal("st4te", q.state)
      assert.is_true(#code >= 43)
      local status, body, headers = sb:oauth_token{ grant_type = "authorization_code", code = code,
                                              redirect_uri = sb.oauth.redirect_uri }
      assert.are.equal(200, status)
      assert.are.equal("no-store", headers["cache-control"])
      assert.are.equal("Bearer", body.token_type)
      assert.are.equal(86400, body.expires_in)
      assert.are.equal("account_read contact_data offline_access", body.scope)
      assert.is_string(body.refresh_token)
      assert.is_nil(body.id_token)

      local header, claims = jwt_parts(body.access_token)
      assert.are.same({ alg = "RS256", kid = "sandbox-at-1" }, header)
      assert.are.equal(sb.issuer, claims.iss)
      assert.are.equal("https://api.cc.email/v3", claims.aud)
      assert.are.equal("sandbox-client", claims.cid)
      assert.are.same({ "account_read", "contact_data", "offline_access" }, claims.scp)
      assert.are.equal(86400, claims.exp - claims.iat)
      assert.is_true(math.abs(claims.iat - os.time()) < 5)
      -- auth_time: when the user authorized (the code), at most iat (the exchange),
      -- which may fall in the next second
      assert.is_true(claims.auth_time <= claims.iat and claims.iat - claims.auth_time < 5)
      assert.matches("^AT%.", claims.jti)
      assert.are.equal("sandbox-user", claims.sub)
      assert.is_string(claims.uid)
      assert.is_string(claims.platform_user_id)

      -- The signature verifies with the key start made (openssl, not the sandbox).
      local pub = os.tmpname()
      sh("openssl pkey -in " .. quote(sb.dir .. "/jwt-rsa.pem") .. " -pubout -out " .. quote(pub))
      local input, sig = body.access_token:match("^(.+)%.([^.]+)$")
      local input_file, sig_file = os.tmpname(), os.tmpname()
      sandbox.write_file(input_file, input)
      sandbox.write_file(sig_file, b64url_decode(sig))
      local out = run("openssl dgst -sha256 -verify " .. quote(pub) .. " -signature " .. quote(sig_file)
        .. " " .. quote(input_file) .. " 2>&1")
      os.remove(pub)
      os.remove(input_file)
      os.remove(sig_file)
      assert.matches("Verified OK", out)

      assert.are.equal(200, (summary_status(body.access_token)))
    end)

    it("gives no refresh token without offline_access, and an ID token with openid", function()
      local body = login{ scope = "account_read openid", nonce = "n-0S6" }
      assert.is_nil(body.refresh_token)
      local _, id = jwt_parts(body.id_token)
      assert.are.same({ sb.issuer, "sandbox-client", "n-0S6", "sandbox-user" }, { id.iss, id.aud, id.nonce, id.sub })
      assert.is_true(id.exp > id.iat)
    end)

    it("uses PKCE with the public client: required, checked, and not burnt by a wrong verifier", function()
      local public = sb.oauth.public_client_id
      local status, q = sb:authorize{ client_id = public }
      assert.are.equal(302, status)
      assert.are.equal("invalid_request", q.error)
      assert.matches("PKCE", q.error_description)
      assert.are.equal("st4te", q.state)

      local code = get_code{ client_id = public, code_challenge = s256(VERIFIER), code_challenge_method = "S256" }
      local function exchange(verifier)
        return sb:oauth_token({ grant_type = "authorization_code", code = code, redirect_uri = sb.oauth.redirect_uri,
                          code_verifier = verifier }, "public")
      end
      assert_oauth_error(400, "invalid_grant", exchange(OTHER_VERIFIER))
      assert_oauth_error(400, "invalid_grant", exchange(nil))
      assert_oauth_error(400, "invalid_request", exchange("too-short"))
      assert_oauth_error(400, "invalid_request", exchange(string.rep("a", 42) .. "!"))
      local s, body = exchange(VERIFIER)
      assert.are.equal(200, s)
      local _, claims = jwt_parts(body.access_token)
      assert.are.equal(public, claims.cid)
      assert.are.equal(200, (summary_status(body.access_token)))
      -- A public client has no secret to send, and may not send one.
      assert_oauth_error(401, "invalid_client", sb:oauth_token({ grant_type = "authorization_code", code = "x",
        redirect_uri = sb.oauth.redirect_uri, client_secret = "x" }, "public"))
    end)

    it("takes PKCE from the confidential client too, and only S256", function()
      local code = get_code{ code_challenge = s256(VERIFIER), code_challenge_method = "S256" }
      local params = { grant_type = "authorization_code", code = code, redirect_uri = sb.oauth.redirect_uri }
      assert_oauth_error(400, "invalid_grant", sb:oauth_token(params))
      params.code_verifier = VERIFIER
      assert.are.equal(200, (sb:oauth_token(params)))

      local status, q = sb:authorize{ code_challenge = s256(VERIFIER), code_challenge_method = "plain" }
      assert.are.equal(302, status)
      assert.are.equal("invalid_request", q.error)
      status, q = sb:authorize{ code_challenge = s256(VERIFIER), code_challenge_method = false }
      assert.are.equal(302, status)
      assert.are.equal("invalid_request", q.error)
      -- A verifier for a code issued without a challenge is an error too.
      code = get_code()
      assert_oauth_error(400, "invalid_grant", sb:oauth_token{ grant_type = "authorization_code", code = code,
        redirect_uri = sb.oauth.redirect_uri, code_verifier = VERIFIER })
    end)

    it("refuses a reused code and revokes the tokens issued from it", function()
      local code = get_code()
      local params = { grant_type = "authorization_code", code = code, redirect_uri = sb.oauth.redirect_uri }
      local status, first = sb:oauth_token(params)
      assert.are.equal(200, status)
      assert.are.equal(200, (summary_status(first.access_token)))
      assert_oauth_error(400, "invalid_grant", sb:oauth_token(params))
      local s, body = summary_status(first.access_token)
      assert.are.equal(401, s)
      assert.are.same(UNAUTHORIZED, body)
      assert_oauth_error(400, "invalid_grant", refresh(first.refresh_token))
      assert.are.equal(1, sb:oauth_stats().code_reuse)
    end)

    it("refuses a code at a different redirect_uri, for another client, unknown or expired", function()
      local code = get_code{ redirect_uri = "http://127.0.0.1:8765/callback" }
      local params = { grant_type = "authorization_code", code = code, redirect_uri = "http://127.0.0.1:8766/callback" }
      assert_oauth_error(400, "invalid_grant", sb:oauth_token(params))
      params.redirect_uri = nil
      assert_oauth_error(400, "invalid_request", sb:oauth_token(params))
      sb:add_client{ client_id = "other", client_secret = "o", redirect_uris = { sb.oauth.redirect_uri } }
      params.redirect_uri = "http://127.0.0.1:8765/callback"
      assert_oauth_error(400, "invalid_grant", sb:oauth_token(params, { "other", "o" }))
      assert.are.equal(200, (sb:oauth_token(params)))   -- still unused after those failures

      params.code = "no-such-code"
      assert_oauth_error(400, "invalid_grant", sb:oauth_token(params))

      sb:oauth_config{ code_ttl = 1 }
      params.code, params.redirect_uri = get_code(), sb.oauth.redirect_uri
      sh("sleep 1.3")
      assert_oauth_error(400, "invalid_grant", sb:oauth_token(params))
    end)

    it("accepts loopback redirect URIs on any port but an exact path", function()
      for _, uri in ipairs{ "http://127.0.0.1:54321/callback", "http://localhost:8080/callback",
                            "http://127.0.0.1/callback", "https://app.example/callback" } do
        local status, q, headers = sb:authorize{ redirect_uri = uri }
        assert.are.equal(302, status, uri)
        assert.are.equal(uri, headers.location:match("^([^?]+)"))
        assert.is_string(q.code)
      end
      for _, uri in ipairs{ "http://127.0.0.1:54321/other", "http://localhost.evil.example/callback",
                            "https://127.0.0.1:5000/callback", "https://app.example/callback/",
                            "https://app.example/callback#x", "https://evil.example/callback" } do
        local status, q, headers, body = sb:authorize{ redirect_uri = uri }
        assert.are.equal(400, status, uri)
        assert.is_nil(q, uri)
        assert.is_nil(headers.location)
        assert.matches("text/html", headers["content-type"])
        assert.matches("redirect_uri", body)
      end
    end)

    it("shows client and redirect_uri errors as a page (JSON on request), never redirected", function()
      local status, q, headers, body = sb:authorize{ client_id = "nope" }
      assert.are.equal(400, status)
      assert.is_nil(q)
      assert.matches("text/html", headers["content-type"])
      assert.matches('<p id="error">invalid_client</p>', body, 1, true)
      status, q, headers, body = sb:authorize({ redirect_uri = "https://evil.example/cb" },
        { headers = { "Accept: application/json" } })
      assert.are.equal(400, status)
      assert.is_nil(q)
      assert.matches("application/json", headers["content-type"])
      assert.are.equal("invalid_request", body.error)
      assert.are.equal(400, (sb:authorize{ redirect_uri = false }))
      assert.are.equal(400, (sb:authorize{ client_id = false }))
    end)

    it("sends other authorization errors to the redirect URI with the state", function()
      local cases = {
        { { scope = "account_read bogus_scope" }, "invalid_scope" },
        { { scope = false }, "invalid_scope" },
        { { response_type = "token" }, "unsupported_response_type" },
        { { response_type = false }, "invalid_request" },
        { { state = false }, "invalid_request" },
        { { prompt = "bogus" }, "invalid_request" },
        { { response_mode = "fragment" }, "invalid_request" },
        { { login_hint = "not an account" }, "invalid_request" },
      }
      for _, case in ipairs(cases) do
        local status, q, headers = sb:authorize(case[1])
        assert.are.equal(302, status, cjson.encode(case[1]))
        assert.are.equal(case[2], q.error, cjson.encode(case[1]))
        assert.is_string(q.error_description)
        assert.is_nil(q.code)
        assert.matches("^https://app%.example/callback%?", headers.location)
        if case[1].state == nil then assert.are.equal("st4te", q.state) end
      end
      -- A repeated parameter is an error too (RFC 6749 3.1).
      local status, _, headers = sb:curl{ url = sb.oauth.authorize_url .. "?" .. sandbox.form{
        client_id = "sandbox-client", redirect_uri = sb.oauth.redirect_uri, response_type = "code",
        scope = "account_read", state = "s" } .. "&scope=contact_data" }
      assert.are.equal(302, status)
      assert.are.equal("invalid_request", sandbox.parse_query(headers.location).error)
    end)

    it("keeps the redirect URI's own query parameters", function()
      sb:add_client{ client_id = "q", client_secret = "q", redirect_uris = { "https://q.example/cb?tenant=7" } }
      local _, q = sb:authorize{ client_id = "q", redirect_uri = "https://q.example/cb?tenant=7" }
      assert.are.equal("7", q.tenant)
      assert.is_string(q.code)
    end)
  end)

  describe("consent", function()
    it("shows a consent form when auto-approve is off; approve redirects with a code, once", function()
      sb:oauth_config{ auto_approve = false }
      local status, q, headers, page = sb:authorize()
      assert.are.equal(200, status)
      assert.is_nil(q)
      assert.matches("text/html", headers["content-type"])
      assert.matches('action="/oauth2/default/v1/authorize/decision"', page, 1, true)
      local request_id = page:match('name="request_id" value="([^"]+)"')
      assert.is_string(request_id)
      local decision = sb.url .. "/oauth2/default/v1/authorize/decision"
      local s, _, h = sb:form_post(decision, { request_id = request_id, decision = "approve" })
      assert.are.equal(302, s)
      local got = sandbox.parse_query(h.location)
      assert.are.equal("st4te", got.state)
      assert.are.equal(200, (sb:oauth_token{ grant_type = "authorization_code", code = got.code,
                                       redirect_uri = sb.oauth.redirect_uri }))
      -- Decided once only; unknown ids fail too.
      assert.are.equal(400, (sb:form_post(decision, { request_id = request_id, decision = "approve" })))
      assert.are.equal(400, (sb:form_post(decision, { request_id = "nope", decision = "approve" })))
    end)

    it("redirects with access_denied when the user denies, and consent_required for prompt=none", function()
      sb:oauth_config{ auto_approve = false }
      local _, _, _, page = sb:authorize()
      local request_id = page:match('name="request_id" value="([^"]+)"')
      local s, _, h = sb:form_post(sb.url .. "/oauth2/default/v1/authorize/decision",
        { request_id = request_id, decision = "deny" })
      assert.are.equal(302, s)
      local q = sandbox.parse_query(h.location)
      assert.are.same({ "access_denied", "st4te" }, { q.error, q.state })
      assert.is_nil(q.code)
      local status
      status, q = sb:authorize{ prompt = "none" }
      assert.are.equal(302, status)
      assert.are.equal("consent_required", q.error)
    end)

    it("denies everything with auto_approve = \"deny\"", function()
      sb:oauth_config{ auto_approve = "deny" }
      local status, q = sb:authorize()
      assert.are.equal(302, status)
      assert.are.same({ "access_denied", "st4te" }, { q.error, q.state })
      assert.is_nil(q.code)
    end)
  end)

  describe("accounts", function()
    it("issues tokens for the configured account, or the login_hint's", function()
      local function org(token)
        local status, body = summary_status(token)
        assert.are.equal(200, status)
        return body.organization_name
      end
      assert.are.equal("Sandbox default", org(login().access_token))
      sb:oauth_config{ account = "acct2" }
      local t2 = login().access_token
      assert.are.equal("Sandbox acct2", org(t2))
      assert.are.equal("Sandbox acct3", org(login{ login_hint = "acct3" }.access_token))
      local _, claims = jwt_parts(t2)
      assert.are.equal("sandbox-user-acct2", claims.sub)
      -- Data stays in its account.
      assert.are.equal(201, (sb:api("POST", "/contacts",
        { email_address = { address = "a2@example.com" }, create_source = "Account" }, { token = t2 })))
      local _, mine = sb:api("GET", "/contacts", nil, { token = t2 })
      local _, other = sb:api("GET", "/contacts")
      assert.are.equal(1, #mine.contacts)
      assert.are.equal(0, #(other.contacts or {}))
    end)

    it("issues tokens for the consent form's account", function()
      sb:oauth_config{ auto_approve = false }
      local _, _, _, page = sb:authorize()
      local request_id = page:match('name="request_id" value="([^"]+)"')
      local _, _, h = sb:form_post(sb.url .. "/oauth2/default/v1/authorize/decision",
        { request_id = request_id, decision = "approve", account = "acct9" })
      local _, body = sb:oauth_token{ grant_type = "authorization_code", code = sandbox.parse_query(h.location).code,
                                redirect_uri = sb.oauth.redirect_uri }
      local _, summary = summary_status(body.access_token)
      assert.are.equal("Sandbox acct9", summary.organization_name)
    end)
  end)

  describe("token endpoint", function()
    it("authenticates confidential clients by HTTP Basic only", function()
      local code = get_code()
      local params = { grant_type = "authorization_code", code = code, redirect_uri = sb.oauth.redirect_uri }
      local status, body, headers = sb:oauth_token(params, { "sandbox-client", "wrong" })
      assert_oauth_error(401, "invalid_client", status, body)
      assert.matches("^Basic", headers["www-authenticate"])
      assert_oauth_error(401, "invalid_client", sb:oauth_token(params, { "nobody", "x" }))
      -- client_id (and even the secret) in the body: not for this client.
      local p2 = { client_id = "sandbox-client", client_secret = "sandbox-secret" }
      for k, v in pairs(params) do p2[k] = v end
      assert_oauth_error(401, "invalid_client", sb:oauth_token(p2, false))
      assert_oauth_error(401, "invalid_client", sb:oauth_token(params, false))
      assert_oauth_error(401, "invalid_client", sb:oauth_token(params, nil,
        { headers = { "Authorization: Basic !!notbase64" } }))
      -- The plain (not urlencoded) form works when there is nothing to encode.
      assert.are.equal(200, (sb:oauth_token(params, { "sandbox-client", "sandbox-secret", raw = true })))
    end)

    it("decodes urlencoded Basic credentials (RFC 6749 2.3.1)", function()
      local id, secret = "app:one 1", "s3c:r+t/ %&=é"
      sb:add_client{ client_id = id, client_secret = secret, redirect_uris = { sb.oauth.redirect_uri } }
      local code = get_code{ client_id = id }
      local params = { grant_type = "authorization_code", code = code, redirect_uri = sb.oauth.redirect_uri }
      assert_oauth_error(401, "invalid_client", sb:oauth_token(params, { id, secret, raw = true }))
      local status, body = sb:oauth_token(params, { id, secret })
      assert.are.equal(200, status)
      local _, claims = jwt_parts(body.access_token)
      assert.are.equal(id, claims.cid)
      -- "+" decodes to a space, as in any form-urlencoded value.
      sb:add_client{ client_id = "sp", client_secret = "a b", redirect_uris = { sb.oauth.redirect_uri } }
      params.code = get_code{ client_id = "sp" }
      assert.are.equal(200, (sb:oauth_token(params, nil, { headers = { "Authorization: Basic "
        .. (sh("printf %s 'sp:a+b' | base64 | tr -d '\n'")) } })))
    end)

    it("takes only form bodies: 415 without a Content-Type, 400 for another one", function()
      local url = sb.oauth.token_url
      local basic = { sb.oauth.client_id, sb.oauth.client_secret }
      assert_oauth_error(415, "invalid_request",
        sb:form_post(url, "grant_type=refresh_token&refresh_token=x", { basic = basic, content_type = false }))
      local status, body, headers = sb:form_post(url, '{"grant_type": "refresh_token"}',
        { basic = basic, content_type = "application/json" })
      assert_oauth_error(400, "invalid_request", status, body)
      assert.are.equal("no-store", headers["cache-control"])
      assert_oauth_error(400, "invalid_request",
        sb:form_post(url, "grant_type=refresh_token&grant_type=refresh_token&refresh_token=x", { basic = basic }))
      assert_oauth_error(400, "invalid_request", sb:oauth_token{ refresh_token = "x" })
      assert_oauth_error(400, "unsupported_grant_type", sb:oauth_token{ grant_type = "password" })
      assert_oauth_error(400, "invalid_request", sb:oauth_token{ grant_type = "refresh_token" })
      status, body, headers = sb:curl{ url = url }
      assert_oauth_error(405, "invalid_request", status, body)
      assert.are.equal("POST", headers.allow)
      -- charset parameter is fine.
      assert_oauth_error(400, "invalid_grant", sb:form_post(url, "grant_type=refresh_token&refresh_token=x",
        { basic = basic, content_type = "application/x-www-form-urlencoded; charset=UTF-8" }))
    end)

    it("takes fault rules on /oauth2/ paths", function()
      sb:faults{ { match = "POST /oauth2/default/v1/token", status = 503 } }
      assert.are.equal(503, (refresh("x")))
      assert_oauth_error(400, "invalid_grant", refresh("x"))
      sb:faults{ { match = "/oauth2/", drop = true } }
      assert.is_nil((sb:authorize()))
      assert.are.equal(302, (sb:authorize()))
    end)
  end)

  describe("refresh tokens", function()
    it("rotate: each refresh returns a new one; a used one revokes the whole family", function()
      local first = login()
      local status, second = refresh(first.refresh_token)
      assert.are.equal(200, status)
      assert.are_not.equal(first.refresh_token, second.refresh_token)
      assert.are_not.equal(first.access_token, second.access_token)
      assert.are.equal(first.scope, second.scope)
      assert.are.equal(200, (summary_status(second.access_token)))
      local _, third = refresh(second.refresh_token)
      assert.is_string(third.refresh_token)

      -- The first one again: refused, and every token of the family stops working.
      assert_oauth_error(400, "invalid_grant", refresh(first.refresh_token))
      assert_oauth_error(400, "invalid_grant", refresh(third.refresh_token))
      for _, t in ipairs{ first.access_token, second.access_token, third.access_token } do
        assert.are.equal(401, (summary_status(t)))
      end
      -- Another login is another family, unaffected.
      assert.are.equal(200, (refresh(login().refresh_token)))
      local o = sb:oauth_stats()
      assert.are.equal(1, o.refresh_reuse)
      assert.are.equal(3, o.refresh_token)
      assert.are.equal(2, o.token_errors.invalid_grant)
    end)

    it("may narrow the scopes but not widen them; the refresh token keeps the grant's", function()
      local first = login()
      local status, narrow = refresh(first.refresh_token, nil, { scope = "account_read" })
      assert.are.equal(200, status)
      assert.are.equal("account_read", narrow.scope)
      local _, claims = jwt_parts(narrow.access_token)
      assert.are.same({ "account_read" }, claims.scp)
      local _, full = refresh(narrow.refresh_token)
      assert.are.equal("account_read contact_data offline_access", full.scope)
      assert_oauth_error(400, "invalid_scope", refresh(full.refresh_token, nil, { scope = "campaign_data" }))
      assert_oauth_error(400, "invalid_scope", refresh(full.refresh_token, nil, { scope = "bogus" }))
      assert.are.equal(200, (refresh(full.refresh_token)))   -- errors before use do not burn it
    end)

    it("are long-lived with rotation off: the same one comes back and keeps working", function()
      sb:oauth_config{ refresh_rotation = false }
      local first = login()
      for _ = 1, 3 do
        local status, body = refresh(first.refresh_token)
        assert.are.equal(200, status)
        assert.are.equal(first.refresh_token, body.refresh_token)
        assert.are.equal(200, (summary_status(body.access_token)))
      end
      assert.are.equal(3, sb:oauth_stats().refresh_token)
      assert.are.equal(0, sb:oauth_stats().refresh_reuse)
    end)

    it("belong to their client and need a valid one", function()
      local first = login()
      sb:add_client{ client_id = "other", client_secret = "o", redirect_uris = { sb.oauth.redirect_uri } }
      assert_oauth_error(400, "invalid_grant", refresh(first.refresh_token, { "other", "o" }))
      assert_oauth_error(401, "invalid_client", refresh(first.refresh_token, { "sandbox-client", "bad" }))
      assert_oauth_error(400, "invalid_grant", refresh("not-a-token"))
      assert.are.equal(200, (refresh(first.refresh_token)))
    end)

    it("for the public client, refresh with client_id in the body", function()
      local code = get_code{ client_id = "sandbox-public", code_challenge = s256(VERIFIER),
                             code_challenge_method = "S256" }
      local _, body = sb:oauth_token({ grant_type = "authorization_code", code = code, code_verifier = VERIFIER,
                                 redirect_uri = sb.oauth.redirect_uri }, "public")
      local status, again = refresh(body.refresh_token, "public")
      assert.are.equal(200, status)
      assert.is_string(again.refresh_token)
    end)

    it("of 20 parallel refreshes with one refresh token, exactly one succeeds", function()
      local first = login()
      local body_file = os.tmpname()
      sandbox.write_file(body_file, sandbox.form{ grant_type = "refresh_token", refresh_token = first.refresh_token })
      local cmd = "seq 20 | xargs -P 20 -I{} curl -s -o /dev/null -w '%{http_code}\\n' "
        .. table.concat(sandbox.basic_args(sb.oauth.client_id, sb.oauth.client_secret), " ")
        .. " -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @" .. quote(body_file)
        .. " " .. quote(sb.oauth.token_url)
      local out = sh(cmd)
      os.remove(body_file)
      local counts = {}
      for code in out:gmatch("%d+") do counts[code] = (counts[code] or 0) + 1 end
      assert.are.same({ ["200"] = 1, ["400"] = 19 }, counts)
      local o = sb:oauth_stats()
      assert.are.equal(1, o.refresh_token)
      assert.are.equal(19, o.refresh_reuse)
      assert.are.equal(19, o.token_errors.invalid_grant)
    end)

    it("with rotation off, parallel refreshes all succeed", function()
      sb:oauth_config{ refresh_rotation = false }
      local first = login()
      local body_file = os.tmpname()
      sandbox.write_file(body_file, sandbox.form{ grant_type = "refresh_token", refresh_token = first.refresh_token })
      local out = sh("seq 8 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\\n' "
        .. table.concat(sandbox.basic_args(sb.oauth.client_id, sb.oauth.client_secret), " ")
        .. " -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @" .. quote(body_file)
        .. " " .. quote(sb.oauth.token_url))
      os.remove(body_file)
      local _, n = out:gsub("200", "")
      assert.are.equal(8, n)
      assert.are.equal(8, sb:oauth_stats().refresh_token)
    end)
  end)

  describe("access tokens", function()
    it("work on /v3 until they expire, then 401 with the unauthorized body", function()
      sb:oauth_config{ access_token_ttl = 2 }
      local body = login()
      assert.are.equal(2, body.expires_in)
      local _, claims = jwt_parts(body.access_token)
      assert.are.equal(2, claims.exp - claims.iat)
      assert.are.equal(200, (summary_status(body.access_token)))
      -- Sleep until one second past exp (the sandbox's clock is this machine's).
      sh("sleep " .. string.format("%.2f", math.max(0, claims.exp - os.time()) + 1.1))
      local status, err = summary_status(body.access_token)
      assert.are.equal(401, status)
      assert.are.same(UNAUTHORIZED, err)
      -- The refresh token outlives it.
      local s, again = refresh(body.refresh_token)
      assert.are.equal(200, s)
      assert.are.equal(200, (summary_status(again.access_token)))
    end)
  end)

  describe("device flow", function()
    local function device_authorize(client, scope)
      local params = { scope = scope or "account_read contact_data offline_access" }
      local basic
      if client == "public" or client == nil then
        params.client_id = sb.oauth.public_client_id
      else
        basic = client
      end
      local status, body = sb:form_post(sb.oauth.device_url, params, { basic = basic })
      assert.are.equal(200, status, cjson.encode(body))
      return body
    end

    local function poll(device_code, client)
      return sb:oauth_token({ grant_type = DEVICE_GRANT, device_code = device_code }, client or "public")
    end

    it("answers codes, verification URIs, expiry and interval", function()
      local d = device_authorize()
      assert.is_true(#d.device_code >= 43)
      assert.matches("^[B-DF-HJ-NP-TV-XZ][B-DF-HJ-NP-TV-XZ][B-DF-HJ-NP-TV-XZ][B-DF-HJ-NP-TV-XZ]%-"
        .. "[B-DF-HJ-NP-TV-XZ][B-DF-HJ-NP-TV-XZ][B-DF-HJ-NP-TV-XZ][B-DF-HJ-NP-TV-XZ]$", d.user_code)
      assert.are.equal(sb.url .. "/activate", d.verification_uri)
      assert.are.equal(sb.url .. "/activate?user_code=" .. d.user_code, d.verification_uri_complete)
      assert.are.equal(600, d.expires_in)
      assert.are.equal(5, d.interval)
      sb:oauth_config{ device_expires_in = 30, device_interval = 2 }
      d = device_authorize()
      assert.are.same({ 30, 2 }, { d.expires_in, d.interval })
      -- Errors: unknown scope, unknown client.
      assert_oauth_error(400, "invalid_scope", sb:form_post(sb.oauth.device_url,
        { client_id = sb.oauth.public_client_id, scope = "nope" }))
      assert_oauth_error(401, "invalid_client",
        sb:form_post(sb.oauth.device_url, { client_id = "x", scope = "openid" }))
    end)

    it("is pending, asks to slow down when polled too fast, then gives tokens once approved", function()
      local d = device_authorize()
      assert_oauth_error(400, "authorization_pending", poll(d.device_code))
      assert_oauth_error(400, "slow_down", poll(d.device_code))
      assert_oauth_error(400, "slow_down", poll(d.device_code))
      sb:approve_device(d.user_code, "approve")
      -- Still too fast (the interval grew to 15 s): the approval is not lost.
      assert_oauth_error(400, "slow_down", poll(d.device_code))

      -- A fresh code, approved before its first poll.
      d = device_authorize()
      sb:approve_device((d.user_code:lower():gsub("%-", "")))   -- case and dash do not matter
      local status, body = poll(d.device_code)
      assert.are.equal(200, status, cjson.encode(body))
      assert.are.equal("Bearer", body.token_type)
      assert.is_string(body.refresh_token)
      assert.are.equal(200, (summary_status(body.access_token)))
      assert.are.equal(200, (refresh(body.refresh_token, "public")))
      local o = sb:oauth_stats()
      assert.are.equal(1, o.device_code)
      assert.are.equal(1, o.token_errors.authorization_pending)
      assert.are.equal(3, o.token_errors.slow_down)
    end)

    it("spends a device code on its first token response", function()
      sb:oauth_config{ device_interval = 0 }
      local d = device_authorize()
      assert_oauth_error(400, "authorization_pending", poll(d.device_code))
      assert_oauth_error(400, "authorization_pending", poll(d.device_code))   -- interval 0: never too fast
      sb:approve_device(d.user_code)
      assert.are.equal(200, (poll(d.device_code)))
      assert_oauth_error(400, "invalid_grant", poll(d.device_code))
      assert_oauth_error(400, "invalid_grant", poll("no-such-code"))
    end)

    it("answers access_denied when the user denies, and expired_token after expiry", function()
      sb:oauth_config{ device_interval = 0 }
      local d = device_authorize()
      sb:approve_device(d.user_code, "deny")
      assert_oauth_error(400, "access_denied", poll(d.device_code))
      assert_oauth_error(400, "access_denied", poll(d.device_code))
      -- Decided once only.
      local status = sb:admin("POST", "/__sandbox/oauth/device", { user_code = d.user_code, action = "approve" })
      assert.are.equal(409, status)

      sb:oauth_config{ device_expires_in = 1 }
      d = device_authorize()
      sh("sleep 1.3")
      assert_oauth_error(400, "expired_token", poll(d.device_code))
      status = sb:admin("POST", "/__sandbox/oauth/device", { user_code = d.user_code, action = "approve" })
      assert.are.equal(404, status)
      assert.are.equal(404, (sb:admin("POST", "/__sandbox/oauth/device",
        { user_code = "BCDF-GHJK", action = "approve" })))
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/oauth/device", { user_code = "x", action = "maybe" })))
    end)

    it("binds the device code to its client, and works for a confidential client by Basic", function()
      sb:oauth_config{ device_interval = 0 }
      local basic = { sb.oauth.client_id, sb.oauth.client_secret }
      local d = device_authorize(basic)
      assert_oauth_error(400, "invalid_grant", poll(d.device_code, "public"))
      sb:approve_device(d.user_code, "approve", "acct5")
      local status, body = poll(d.device_code, basic)
      assert.are.equal(200, status)
      local _, summary = summary_status(body.access_token)
      assert.are.equal("Sandbox acct5", summary.organization_name)
    end)

    it("has an activation page with a form", function()
      sb:oauth_config{ device_interval = 0 }
      local d = device_authorize()
      local status, page, headers = sb:curl{ url = d.verification_uri_complete }
      assert.are.equal(200, status)
      assert.matches("text/html", headers["content-type"])
      assert.matches('name="user_code" value="' .. d.user_code .. '"', page, 1, true)
      local s = sb:form_post(d.verification_uri, { user_code = d.user_code, decision = "approve" })
      assert.are.equal(200, s)
      assert.are.equal(200, (poll(d.device_code)))
      assert.are.equal(404, (sb:form_post(d.verification_uri, { user_code = "ZZZZ-ZZZZ", decision = "approve" })))
    end)
  end)

  describe("revocation", function()
    local function revoke(token, client, hint)
      local basic = client or { sb.oauth.client_id, sb.oauth.client_secret }
      return sb:form_post(sb.oauth.revoke_url, { token = token, token_type_hint = hint }, { basic = basic })
    end

    it("of an access token makes /v3 answer 401 for it; the refresh token lives on", function()
      local t = login()
      local status, body, headers = revoke(t.access_token, nil, "access_token")
      assert.are.equal(200, status)
      assert.are.equal("", body)
      assert.are.equal("no-store", headers["cache-control"])
      local s, err = summary_status(t.access_token)
      assert.are.equal(401, s)
      assert.are.same(UNAUTHORIZED, err)
      local s2, again = refresh(t.refresh_token)
      assert.are.equal(200, s2)
      assert.are.equal(200, (summary_status(again.access_token)))
      assert.are.equal(1, sb:oauth_stats().revocations)
    end)

    it("of a refresh token revokes its family", function()
      local t = login()
      local _, t2 = refresh(t.refresh_token)
      assert.are.equal(200, (revoke(t2.refresh_token)))   -- no hint needed
      assert_oauth_error(400, "invalid_grant", refresh(t2.refresh_token))
      assert.are.equal(401, (summary_status(t2.access_token)))
      assert.are.equal(401, (summary_status(t.access_token)))
    end)

    it("answers 200 for unknown or foreign tokens, 401 for a bad client, 400 without a token", function()
      local t = login()
      assert.are.equal(200, (revoke("no-such-token")))
      sb:add_client{ client_id = "other", client_secret = "o", redirect_uris = { sb.oauth.redirect_uri } }
      assert.are.equal(200, (revoke(t.access_token, { "other", "o" })))
      assert.are.equal(200, (revoke(t.refresh_token, { "other", "o" })))
      assert.are.equal(200, (summary_status(t.access_token)))   -- not theirs to revoke
      assert.are.equal(200, (refresh(t.refresh_token)))
      assert_oauth_error(401, "invalid_client", revoke(t.access_token, { "sandbox-client", "bad" }))
      assert_oauth_error(400, "invalid_request", sb:form_post(sb.oauth.revoke_url, { token_type_hint = "x" },
        { basic = { sb.oauth.client_id, sb.oauth.client_secret } }))
      assert.are.equal(0, sb:oauth_stats().revocations)
    end)
  end)

  describe("stats", function()
    it("count grants per type, reuse, revocations and token errors", function()
      sb:oauth_config{ device_interval = 0 }
      local t = login()
      local t2 = login()
      refresh(t.refresh_token)
      refresh(t.refresh_token)   -- reuse
      local _, d = sb:form_post(sb.oauth.device_url, { client_id = sb.oauth.public_client_id, scope = "openid" })
      sb:oauth_token({ grant_type = DEVICE_GRANT, device_code = d.device_code }, "public")
      sb:approve_device(d.user_code)
      sb:oauth_token({ grant_type = DEVICE_GRANT, device_code = d.device_code }, "public")
      sb:oauth_token({ grant_type = "password" })
      sb:oauth_token({ grant_type = "refresh_token", refresh_token = "x" }, { "sandbox-client", "bad" })
      sb:form_post(sb.oauth.revoke_url, { token = t2.access_token },
        { basic = { sb.oauth.client_id, sb.oauth.client_secret } })
      local o = sb:oauth_stats()
      assert.are.same({
        authorization_code = 2, refresh_token = 1, device_code = 1, refresh_reuse = 1, code_reuse = 0,
        revocations = 1, authorizations = 2, device_authorizations = 1, throttled = 0, early_refresh = 0,
        token_errors = {
          invalid_request = 0, invalid_client = 1, invalid_grant = 1, unauthorized_client = 0,
          unsupported_grant_type = 1, invalid_scope = 0, authorization_pending = 1, slow_down = 0,
          access_denied = 0, expired_token = 0, too_many_requests = 0,
        },
      }, o)
      -- /v3 counters are untouched by the OAuth endpoints.
      assert.are.equal(0, sb:stats().requests)
    end)
  end)
end)
