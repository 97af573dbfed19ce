-- Specs of the independent authorization server (spec/support/oidc/server.mjs, on the
-- npm package oidc-provider) through spec/helpers/oidc.lua, with the curl CLI only:
-- the ctct library is not involved. They pin down the behaviours the library's OAuth
-- code relies on (error codes, rotation, PKCE, device flow), so a change of
-- oidc-provider that alters them shows up here first.
local oidc = require "spec.helpers.oidc"
local sandbox = require "spec.helpers.sandbox"

local run = sandbox.run

local available, why = oidc.available()
if not available then
  if os.getenv("CI") then error("oidc test server unavailable under CI: " .. why) end
  describe("oidc test server", function()
    pending("skipped: " .. why)
  end)
  return
end

local CALLBACK = "http://127.0.0.1/callback"
local EXTRA_REDIRECT = "https://app.example.test/oauth/callback"

local function sleep(seconds) run("sleep " .. seconds) end

local function is_jwt(s)
  return type(s) == "string" and s:match("^[%w_%-]+%.[%w_%-]+%.[%w_%-]+$") ~= nil
end

-- Authorization code + PKCE with the public client; returns the token response.
local function pkce_tokens(op, opts)
  opts = opts or {}
  local verifier, challenge = oidc.pkce()
  local redirect = opts.redirect_uri or CALLBACK
  local url = op:authorization_url{ code_challenge = challenge, redirect_uri = redirect,
                                     scope = opts.scope, prompt = opts.prompt }
  local q = oidc.parse_query(op:authorize(url))
  assert.is_string(q.code)
  local status, body = op:token({ grant_type = "authorization_code", code = q.code,
                                  redirect_uri = redirect, code_verifier = verifier }, "public")
  assert.are.equal(200, status)
  return body
end

describe("oidc test server", function()
  -- op: defaults (but a 120 s access token TTL). fast: short lifetimes, a polling pace,
  -- the strict OpenID offline_access rule and long-lived refresh tokens.
  local op, fast

  setup(function()
    op, fast = oidc.start_many{
      { access_token_ttl = 120, redirect_uris = { EXTRA_REDIRECT } },
      { access_token_ttl = 2, device_code_ttl = 3, device_interval = 1, slow_down = true,
        offline_access = "strict", rotate_refresh = false },
    }
  end)

  teardown(function()
    oidc.stop_all()
  end)

  describe("discovery", function()
    it("publishes the endpoints the helper exposes", function()
      local d = op.discovery
      assert.are.equal(op.issuer, d.issuer)
      assert.matches("^http://127%.0%.0%.1:%d+$", op.issuer)
      assert.are.equal(op.issuer .. "/token", op.token_endpoint)
      assert.are.equal(op.issuer .. "/device/auth", op.device_endpoint)
      assert.are.equal(op.issuer .. "/auth", op.authorization_endpoint)
      assert.are.equal(op.issuer .. "/token/revocation", op.revocation_endpoint)
      assert.are.equal(op.issuer .. "/jwks", op.jwks_uri)
      assert.are.equal(oidc.VERSION, op.version)
      assert.are.same({ "S256" }, d.code_challenge_methods_supported)
      local grants = {}
      for _, g in ipairs(d.grant_types_supported) do grants[g] = true end
      for _, g in ipairs{ "authorization_code", "refresh_token", "client_credentials", oidc.DEVICE_GRANT } do
        assert.is_true(grants[g], g)
      end
      local scopes = {}
      for _, s in ipairs(d.scopes_supported) do scopes[s] = true end
      for _, s in ipairs{ "openid", "offline_access", "account_read", "account_update", "contact_data",
                          "campaign_data" } do
        assert.is_true(scopes[s], s)
      end
      assert.is_true(d.authorization_response_iss_parameter_supported)
    end)
  end)

  describe("client_credentials", function()
    it("gives an RS256 JWT access token whose kid is in the JWKS", function()
      local token, body = op:client_credentials_token{ scope = "contact_data account_read" }
      assert.is_true(is_jwt(token))
      assert.are.equal("Bearer", body.token_type)
      assert.is_nil(body.refresh_token)
      local header, claims = oidc.decode_jwt(token)
      assert.are.equal("RS256", header.alg)
      assert.are.equal("at+jwt", header.typ)
      local found
      for _, k in ipairs(op:jwks().keys) do
        if k.kid == header.kid then found = k end
      end
      assert.is_table(found)
      assert.are.equal("RSA", found.kty)
      assert.is_nil(found.d)                         -- public part only
      assert.are.equal(op.issuer, claims.iss)
      assert.are.equal(oidc.RESOURCE, claims.aud)
      assert.are.equal(oidc.CONFIDENTIAL, claims.client_id)
      assert.are.equal(oidc.CONFIDENTIAL, claims.cid)
      assert.are.same({ "contact_data", "account_read" }, claims.scp)
      assert.are.equal(body.expires_in, claims.exp - claims.iat)
      assert.is_true(op:verify_jwt(token))
      local tampered = token:gsub("%.([%w_%-]+)%.", function(p)
        return "." .. p:sub(1, -2) .. (p:sub(-1) == "A" and "B" or "A") .. "."
      end, 1)
      assert.is_false((op:verify_jwt(tampered)))
    end)

    it("insists on HTTP Basic and rejects a bad secret or an unknown resource", function()
      op:reset_stats()
      local status, body = op:token({ grant_type = "client_credentials" }, false)
      assert.are.equal(400, status)
      assert.are.equal("invalid_request", body.error)   -- no client authentication at all

      status, body = op:request{ method = "POST", url = op.token_endpoint,
        basic = { oidc.CONFIDENTIAL, "wrong" }, form = { grant_type = "client_credentials" } }
      assert.are.equal(401, status)
      assert.are.equal("invalid_client", body.error)

      status, body = op:token({ grant_type = "client_credentials", client_id = oidc.CONFIDENTIAL,
                                client_secret = op.client_secret }, false)
      assert.are.equal(401, status)
      assert.are.equal("invalid_client", body.error)
      local stats = op:stats()
      assert.are.equal(1, stats.secret_post_rejected)

      status, body = op:token({ grant_type = "client_credentials", resource = "https://elsewhere.test/" },
                              "confidential")
      assert.are.equal(400, status)
      assert.are.equal("invalid_target", body.error)
      stats = op:stats()
      assert.are.same({ none = 1, basic = 2, client_secret_post = 1 }, stats.token_client_auth)
      assert.are.same({ invalid_request = 1, invalid_client = 2, invalid_target = 1 },
        stats.token_errors.client_credentials)
    end)

    it("is not allowed to the public client", function()
      local status, body = op:token({ grant_type = "client_credentials" }, "public")
      assert.are.equal(400, status)
      -- oidc-provider says invalid_request here, not RFC 6749's unauthorized_client.
      assert.are.equal("invalid_request", body.error)
      assert.are.equal("requested grant type is not allowed for this client", body.error_description)
    end)
  end)

  describe("authorization code", function()
    it("with PKCE gives JWT access and refresh tokens; the code is single-use", function()
      op:reset_stats()
      local verifier, challenge = oidc.pkce()
      local url = op:authorization_url{ code_challenge = challenge, state = "st-1",
                                         scope = "offline_access contact_data" }
      local final = op:authorize(url)
      assert.are.equal(1, final:find(CALLBACK .. "?", 1, true))
      local q = oidc.parse_query(final)
      assert.are.equal("st-1", q.state)
      assert.are.equal(op.issuer, q.iss)                -- RFC 9207
      local form = { grant_type = "authorization_code", code = q.code, redirect_uri = CALLBACK,
                     code_verifier = verifier }
      local status, body = op:token(form, "public")
      assert.are.equal(200, status)
      assert.are.equal("Bearer", body.token_type)
      assert.are.equal(120, body.expires_in)
      assert.are.equal("contact_data", body.scope)      -- no offline_access in it
      assert.is_string(body.refresh_token)
      assert.is_nil(body.id_token)                      -- no openid scope asked
      local _, claims = oidc.decode_jwt(body.access_token)
      assert.are.equal(oidc.TEST_USER, claims.sub)
      assert.are.equal(oidc.TEST_USER, claims.platform_user_id)
      assert.are.equal(oidc.PUBLIC, claims.client_id)

      status, body = op:token(form, "public")
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", body.error)
      local stats = op:stats()
      assert.are.equal(2, stats.token_requests.authorization_code)
      assert.are.equal(1, stats.token_errors.authorization_code.invalid_grant)
      -- Replaying a code revokes what it gave (RFC 6749 4.1.2).
      assert.are.equal(1, stats.grants_revoked)
    end)

    it("rejects a wrong verifier, and a public client without PKCE", function()
      local _, challenge = oidc.pkce()
      local q = oidc.parse_query(op:authorize(op:authorization_url{ code_challenge = challenge }))
      local status, body = op:token({ grant_type = "authorization_code", code = q.code, redirect_uri = CALLBACK,
                                      code_verifier = (oidc.pkce()) }, "public")
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", body.error)

      -- Without a code_challenge the server redirects back with an error at once.
      q = oidc.parse_query(op:authorize(op:authorization_url{}))
      assert.are.equal("invalid_request", q.error)
      assert.matches("PKCE", q.error_description)
    end)

    it("accepts a registered loopback redirect URI on any port (RFC 8252), and only those", function()
      -- The confidential client, with HTTP Basic and without PKCE.
      local redirect = "http://127.0.0.1:49152/callback"
      local q = oidc.parse_query(op:authorize(op:authorization_url{ client = "confidential",
                                                                     redirect_uri = redirect }))
      local form = { grant_type = "authorization_code", code = q.code, redirect_uri = redirect }
      local status, body = op:token({ grant_type = "authorization_code", code = q.code,
                                      redirect_uri = "http://127.0.0.1:49153/callback" }, "confidential")
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", body.error)     -- redirect_uri differs from the request's
      -- That failure did not consume the code.
      status, body = op:token(form, "confidential")
      assert.are.equal(200, status)
      assert.is_string(body.refresh_token)

      -- An unregistered path is refused without any redirect (an error page, 400).
      local url = op:authorization_url{ redirect_uri = "http://127.0.0.1:49152/other", code_challenge = "x" }
      status, body = op:request{ url = url }
      assert.are.equal(400, status)
      assert.matches("redirect_uri did not match", body)
    end)

    it("accepts a redirect URI registered at start (exact match only)", function()
      local final = op:authorize(op:authorization_url{ client = "confidential", redirect_uri = EXTRA_REDIRECT })
      assert.are.equal(1, final:find(EXTRA_REDIRECT .. "?code=", 1, true))
      local status = op:request{ url = op:authorization_url{ client = "confidential",
                                                              redirect_uri = EXTRA_REDIRECT .. "/x" } }
      assert.are.equal(400, status)
    end)

    it("redirects with access_denied when the user cancels", function()
      local _, challenge = oidc.pkce()
      local final = op:authorize(op:authorization_url{ code_challenge = challenge, state = "st-2" }, { deny = true })
      local q = oidc.parse_query(final)
      assert.are.equal("access_denied", q.error)
      assert.are.equal("st-2", q.state)
      assert.is_nil(q.code)
    end)
  end)

  describe("refresh tokens", function()
    it("rotate: each refresh returns a new one; reusing the old one fails and ends the grant", function()
      op:reset_stats()
      local first = pkce_tokens(op)
      local status, second = op:token({ grant_type = "refresh_token", refresh_token = first.refresh_token }, "public")
      assert.are.equal(200, status)
      assert.is_string(second.refresh_token)
      assert.are_not.equal(first.refresh_token, second.refresh_token)
      assert.are_not.equal(first.access_token, second.access_token)
      assert.is_true(is_jwt(second.access_token))

      local status3, third = op:token({ grant_type = "refresh_token", refresh_token = second.refresh_token },
                                      "public")
      assert.are.equal(200, status3)

      local body
      status, body = op:token({ grant_type = "refresh_token", refresh_token = first.refresh_token }, "public")
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", body.error)
      -- Reuse detection revoked the whole grant: the newest refresh token is dead too.
      status, body = op:token({ grant_type = "refresh_token", refresh_token = third.refresh_token }, "public")
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", body.error)

      local stats = op:stats()
      assert.are.equal(4, stats.token_requests.refresh_token)
      assert.are.equal(2, stats.token_success.refresh_token)
      assert.are.equal(2, stats.token_errors.refresh_token.invalid_grant)
      assert.are.equal(2, stats.refresh_tokens_consumed)
    end)

    it("work for the confidential client with HTTP Basic, and not for another client", function()
      local q = oidc.parse_query(op:authorize(op:authorization_url{ client = "confidential" }))
      local status, tokens = op:token({ grant_type = "authorization_code", code = q.code, redirect_uri = CALLBACK },
                                      "confidential")
      assert.are.equal(200, status)
      local body
      status, body = op:token({ grant_type = "refresh_token", refresh_token = tokens.refresh_token }, "public")
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", body.error)     -- client mismatch
      status, body = op:token({ grant_type = "refresh_token", refresh_token = tokens.refresh_token }, "confidential")
      assert.are.equal(200, status)
      assert.are_not.equal(tokens.refresh_token, body.refresh_token)
    end)

    it("can be revoked", function()
      op:reset_stats()
      local tokens = pkce_tokens(op)
      local status = op:request{ method = "POST", url = op.revocation_endpoint,
        form = { token = tokens.refresh_token, token_type_hint = "refresh_token", client_id = oidc.PUBLIC } }
      assert.are.equal(200, status)
      local body
      status, body = op:token({ grant_type = "refresh_token", refresh_token = tokens.refresh_token }, "public")
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", body.error)
      assert.are.equal(1, op:stats().revocations)
    end)
  end)

  describe("device flow", function()
    it("answers authorization_pending, then tokens once the user approved", function()
      op:reset_stats()
      local status, d = op:device_authorization()
      assert.are.equal(200, status)
      assert.is_string(d.device_code)
      assert.matches("^%u%u%u%u%-%u%u%u%u$", d.user_code)
      assert.are.equal(op.issuer .. "/device", d.verification_uri)
      assert.are.equal(op.issuer .. "/device?user_code=" .. d.user_code, d.verification_uri_complete)
      assert.are.equal(600, d.expires_in)
      assert.is_nil(d.interval)                         -- oidc-provider sends none (RFC 8628: 5)

      local body
      status, body = op:poll_device(d.device_code)
      assert.are.equal(400, status)
      assert.are.equal("authorization_pending", body.error)

      assert.are.equal("approved", op:approve_device(d.user_code))
      status, body = op:poll_device(d.device_code)
      assert.are.equal(200, status)
      assert.is_true(is_jwt(body.access_token))
      assert.is_string(body.refresh_token)
      assert.are.equal("contact_data account_read", body.scope)

      status, body = op:poll_device(d.device_code)
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", body.error)     -- consumed
      local stats = op:stats()
      assert.are.equal(1, stats.device_authorizations)
      assert.are.equal(3, stats.token_requests.device_code)
      assert.are.equal(1, stats.token_success.device_code)
    end)

    it("can be approved from verification_uri_complete", function()
      local _, d = op:device_authorization{ scope = "contact_data" }
      assert.are.equal("approved", op:approve_device(d.user_code, { complete = true }))
      local status, body = op:poll_device(d.device_code)
      assert.are.equal(200, status)
      assert.is_nil(body.refresh_token)                 -- no offline_access, no refresh token
    end)

    it("answers access_denied when the user aborts", function()
      local _, d = op:device_authorization()
      assert.are.equal("denied", op:approve_device(d.user_code, { deny = true }))
      local status, body = op:poll_device(d.device_code)
      assert.are.equal(400, status)
      assert.are.equal("access_denied", body.error)
    end)

    it("rejects an unknown user code on the verification page", function()
      assert.error_matches(function() op:approve_device("BCDF-GHJK") end,
        "device verification page: The code you entered is incorrect", 1, true)
    end)
  end)

  describe("with short lifetimes and a polling pace", function()
    it("answers slow_down to a poll sooner than the interval, then expired_token after the TTL", function()
      fast:reset_stats()
      local _, d = fast:device_authorization()
      local issued = os.time()                          -- >= the code's iat
      assert.are.equal(1, d.interval)
      assert.are.equal(3, d.expires_in)
      local _, body = fast:poll_device(d.device_code)
      assert.are.equal("authorization_pending", body.error)
      sleep(1.05)                                       -- the interval: fine
      _, body = fast:poll_device(d.device_code)
      assert.are.equal("authorization_pending", body.error)
      local status
      status, body = fast:poll_device(d.device_code)    -- at once: too soon
      assert.are.equal(400, status)
      assert.are.equal("slow_down", body.error)
      local stats = fast:stats()
      assert.are.equal(1, stats.slow_down)
      assert.are.same({ authorization_pending = 2, slow_down = 1 }, stats.token_errors.device_code)
      while os.time() < issued + 3 do sleep(0.1) end    -- exp = iat + 3 has passed
      status, body = fast:poll_device(d.device_code)
      assert.are.equal(400, status)
      assert.are.equal("expired_token", body.error)
    end)

    it("gives access tokens that live access_token_ttl seconds", function()
      local token, body = fast:client_credentials_token()
      assert.are.equal(3600, body.expires_in)           -- client_credentials has its own TTL
      local tokens = pkce_tokens(fast, { prompt = "consent" })
      assert.are.equal(2, tokens.expires_in)
      local _, claims = oidc.decode_jwt(tokens.access_token)
      assert.are.equal(2, claims.exp - claims.iat)
      assert.is_string(token)
    end)

    it("strict mode: offline_access needs prompt=consent on /auth (OpenID Connect rule)", function()
      assert.is_nil(pkce_tokens(fast).refresh_token)
      local tokens = pkce_tokens(fast, { prompt = "consent" })
      assert.is_string(tokens.refresh_token)
      -- rotate_refresh = false: long-lived refresh tokens, usable again and again.
      for _ = 1, 2 do
        local status, body = fast:token({ grant_type = "refresh_token", refresh_token = tokens.refresh_token },
                                        "public")
        assert.are.equal(200, status)
        assert.are.equal(tokens.refresh_token, body.refresh_token)
      end
    end)

    it("stop ends the server and leaves no process or directory behind", function()
      -- The last test of this block: it stops `fast` (teardown would otherwise).
      local other = fast
      local pid, dir = other.pid, other.dir
      assert.is_true(other:alive())
      other:stop()
      other:stop()                                      -- idempotent
      assert.is_false(other:alive())
      -- Gone, or a zombie until init reaps it (the server is not our child).
      local state = run("cut -d' ' -f3 /proc/" .. pid .. "/stat 2>/dev/null")
      assert.is_true(state == "" or state:match("^Z") ~= nil)
      local _, code
      _, code = run("test -e '" .. dir .. "'")
      assert.are_not.equal(0, code)
    end)
  end)

  describe("process", function()
    it("exits by itself when its parent process is gone", function()
      -- A parent that is gone by the time the server is up (OIDC_PARENT_PID is
      -- checked every 0.5 s).
      local out = run("sleep 0.2 >/dev/null 2>&1 & echo $!")
      local orphan = oidc.start{ parent_pid = tonumber(out:match("%d+")) }
      local gone = false
      for _ = 1, 100 do
        if not orphan:alive() then gone = true break end
        sleep(0.05)
      end
      assert.is_true(gone)
      orphan:stop()
    end)

    it("refuses an unknown option", function()
      assert.error_matches(function() oidc.start{ acess_token_ttl = 1 } end,
        "oidc.start: unknown option acess_token_ttl", 1, true)
    end)
  end)
end)
