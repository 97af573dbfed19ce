-- ctct.jwt, ctct.jwks and ctct.webhooks, with tokens signed independently by
-- the openssl command line (spec/helpers/jose.lua).
local core = require "ctct.core"
local ctct = require "ctct"
local jwt = require "ctct.jwt"
local jwks = require "ctct.jwks"
local webhooks = require "ctct.webhooks"
local jose = require "spec.helpers.jose"
local fake = require "spec.helpers.fake_transport"

local NOW = 1800000000

local function claims(over)
  local c = { iss = "https://issuer.example", aud = "https://api.cc.email/v3", sub = "user-1",
              iat = NOW - 10, exp = NOW + 3600, scp = { "account_read", "contact_data" },
              platform_user_id = "6c2d9a6e-0000-4000-8000-000000000001", cid = "client-1", uid = "u-1",
              jti = "j-1", auth_time = NOW - 20 }
  for k, v in pairs(over or {}) do
    if v == ctct.null then c[k] = nil else c[k] = v end
  end
  return c
end

describe("ctct.jwt", function()
  local rsa, ec, set
  lazy_setup(function()
    rsa = jose.keypair("rsa")
    ec = jose.keypair("ec")
    set = { keys = { rsa.jwk, ec.jwk } }
  end)
  lazy_teardown(function() jose.cleanup(rsa); jose.cleanup(ec) end)

  local function sign(over_claims, over_header, kp)
    kp = kp or rsa
    local header = { alg = kp.kind == "ec" and "ES256" or "RS256", kid = kp.kid, typ = "JWT" }
    for k, v in pairs(over_header or {}) do
      if v == ctct.null then header[k] = nil else header[k] = v end
    end
    return jose.sign(header, claims(over_claims), kp)
  end

  local function verify(token, opts)
    local o = { jwks = set, now = NOW, issuer = "https://issuer.example", audience = "https://api.cc.email/v3" }
    for k, v in pairs(opts or {}) do o[k] = v end
    return jwt.verify(token, o)
  end

  local function rejected(reason, token, opts)
    local tok, err = verify(token, opts)
    assert.is_nil(tok)
    assert.equal("auth", err.kind)
    assert.equal(reason, err.reason, tostring(err))
    assert.matches("token rejected %(" .. reason:gsub("_", "%%_") .. "%)", tostring(err))
    return err
  end

  describe("decode (not verified)", function()
    it("reads the Constant Contact claims", function()
      local tok = assert(jwt.decode(sign()))
      assert.is_false(tok.verified)
      assert.same({ "account_read", "contact_data" }, tok:scopes())
      assert.is_true(tok:has_scope("contact_data"))
      assert.is_false(tok:has_scope("campaign_data"))
      assert.equal(NOW + 3600, tok:expires_at())
      assert.equal(NOW - 10, tok:issued_at())
      assert.equal(NOW - 20, tok:auth_time())
      assert.equal("6c2d9a6e-0000-4000-8000-000000000001", tok:platform_user_id())
      assert.equal("client-1", tok:client_id())
      assert.equal("u-1", tok:user_id())
      assert.equal("user-1", tok:subject())
      assert.equal("https://issuer.example", tok:issuer())
      assert.equal("j-1", tok:jti())
      assert.same({ "https://api.cc.email/v3" }, tok:audience())
      assert.equal("RS256", tok.header.alg)
    end)

    it("reads scopes given as a space-separated string", function()
      local tok = assert(jwt.decode(sign { scp = "account_read offline_access" }))
      assert.same({ "account_read", "offline_access" }, tok:scopes())
      tok = assert(jwt.decode(sign { scp = ctct.null, scope = "openid contact_data" }))
      assert.same({ "openid", "contact_data" }, tok:scopes())
    end)

    it("tells expiry with a leeway", function()
      local tok = assert(jwt.decode(sign { exp = NOW - 30 }))
      assert.is_true(tok:is_expired(0, NOW))
      assert.is_false(tok:is_expired(60, NOW))
      assert.is_false(assert(jwt.decode(sign())):is_expired(0, NOW))
    end)

    it("refuses what is not a JWT", function()
      for _, bad in ipairs { 42, "...", "a.b.c", ("A"):rep(10 * 1024 * 1024), "e30.W10.", "W10.e30." } do
        local tok, err = jwt.decode(bad)
        assert.is_nil(tok)
        assert.is_true(err.reason == "malformed" or err.reason == "too_large", tostring(err))
      end
    end)
  end)

  describe("verify", function()
    it("accepts good RS256 and ES256 tokens", function()
      local tok = assert(verify(sign()))
      assert.is_true(tok.verified)
      assert.equal("user-1", tok:subject())
      assert(verify(sign(nil, nil, ec), { algorithms = { "ES256" } }))
    end)

    it("accepts PS256 and HS256 only when allowed", function()
      local ps = sign(nil, { alg = "PS256" })
      rejected("alg_not_allowed", ps)
      assert(verify(ps, { algorithms = { "PS256" } }))
      local secret = "a shared secret of thirty-two b."
      local hs = jose.sign({ alg = "HS256" }, claims(), secret)
      assert(jwt.verify(hs, { secret = secret, algorithms = { "HS256" }, now = NOW }))
    end)

    it("rejects alg none", function()
      local unsigned = jose.segment { alg = "none" } .. "." .. jose.segment(claims()) .. "."
      rejected("alg_none", unsigned, { algorithms = { "none", "RS256" } })
    end)

    it("rejects an HMAC token against RSA keys (algorithm confusion)", function()
      -- The attacker signs HS256 with the RSA public key's bytes as the secret.
      local forged = jose.sign({ alg = "HS256", kid = rsa.kid }, claims(), rsa.jwk.n)
      rejected("alg_not_allowed", forged)
      rejected("alg_not_allowed", forged, { algorithms = { "RS256", "HS256" } })
      local ok, why = core.jws_verify(forged, "HS256", assert(core.jwk(rsa.jwk)))
      assert.is_false(ok)
      assert.matches("algorithm confusion", why)
    end)

    it("rejects an algorithm outside the allow-list", function()
      rejected("alg_not_allowed", sign(nil, nil, ec)) -- ES256; default list is RS256
    end)

    it("rejects a missing or unknown kid", function()
      rejected("kid_missing", sign(nil, { kid = ctct.null }))
      rejected("kid_unknown", sign(nil, { kid = "no-such-key" }))
    end)

    it("rejects a token signed by another key with the same kid", function()
      local other = jose.keypair("rsa")
      finally(function() jose.cleanup(other) end)
      local err = rejected("signature", jose.sign({ alg = "RS256", kid = rsa.kid }, claims(), other))
      assert.matches("signature does not match", err.message)
    end)

    it("rejects exp in the past, beyond the leeway only", function()
      rejected("expired", sign { exp = NOW - 61 })
      assert(verify(sign { exp = NOW - 59 }))
      rejected("expired", sign { exp = NOW - 5 }, { leeway = 0 })
    end)

    it("rejects nbf and iat in the future beyond the leeway", function()
      rejected("not_yet_valid", sign { nbf = NOW + 120 })
      assert(verify(sign { nbf = NOW + 30 }))
      rejected("issued_in_future", sign { iat = NOW + 120 })
      assert(verify(sign { iat = NOW + 30 }))
    end)

    it("rejects a wrong issuer or audience", function()
      rejected("issuer", sign { iss = "https://evil.example" })
      rejected("audience", sign { aud = "https://other.example" })
      assert(verify(sign { aud = { "https://other.example", "https://api.cc.email/v3" } }))
      assert(verify(sign(), { issuer = { "https://a.example", "https://issuer.example" } }))
    end)

    it("rejects tampered segments", function()
      local token = sign()
      local h, p, s = token:match("^([^.]+)%.([^.]+)%.([^.]+)$")
      local evil = jose.segment(claims { sub = "admin" })
      rejected("signature", h .. "." .. evil .. "." .. s)
      rejected("malformed", h .. "." .. p)
      rejected("malformed", h .. "." .. p .. "." .. s .. ".x")
      rejected("malformed", h .. "!." .. p .. "." .. s)
    end)

    it("rejects oversized tokens before decoding them", function()
      local big = sign { pad = ("x"):rep(20000) }
      rejected("too_large", big)
      assert(verify(big, { max_bytes = 40000 }))
    end)

    it("rejects claims that are not valid UTF-8", function()
      local token = jose.sign({ alg = "RS256", kid = rsa.kid }, '{"sub":"\255\254","exp":' .. (NOW + 60) .. '}', rsa)
      local err = rejected("malformed", token)
      assert.matches("UTF%-8", err.message)
    end)

    it("refuses a non-string token and a JWKS with no usable keys", function()
      rejected("malformed", nil)
      local weak = jose.keypair("rsa", 1024)
      finally(function() jose.cleanup(weak) end)
      local ok, err = pcall(jwks.new, { keys = { keys = { weak.jwk, { kty = "oct", kid = "x", k = "AAAA" } } } })
      assert.is_false(ok)
      assert.matches("no usable keys", err)
      assert.matches("1024 bits is too small", err)
    end)

    it("verify_access_token checks against Constant Contact's issuer and audience", function()
      local _, err = jwt.verify_access_token(sign(), { jwks = set, now = NOW })
      assert.equal("issuer", err.reason)
      local cc = sign { iss = jwt.CONSTANT_CONTACT.issuer }
      assert(jwt.verify_access_token(cc, { jwks = set, now = NOW }))
    end)
  end)

  describe("jwks cache", function()
    local function jwks_answer(keys)
      return { status = 200, body = require("cjson").encode { keys = keys } }
    end

    local function fetcher(script, opts)
      local t = fake.new(script)
      local o = { url = "https://keys.example/jwks", transport = t, clock = t.now }
      for k, v in pairs(opts or {}) do o[k] = v end
      return jwks.new(o), t
    end

    it("fetches once and serves from the cache within the TTL", function()
      local keys, t = fetcher { jwks_answer { rsa.jwk } }
      for _ = 1, 10 do assert(keys:key(rsa.kid)) end
      assert.equal(1, #t.requests)
      assert.equal("GET", t.requests[1].method)
    end)

    it("refetches after the TTL", function()
      local keys, t = fetcher({ jwks_answer { rsa.jwk }, jwks_answer { rsa.jwk } }, { ttl = 60 })
      assert(keys:key(rsa.kid))
      t.clock_now = 61
      assert(keys:key(rsa.kid))
      assert.equal(2, #t.requests)
    end)

    it("refetches once for an unknown kid (key rotation)", function()
      local keys, t = fetcher({ jwks_answer { rsa.jwk }, jwks_answer { rsa.jwk, ec.jwk } },
        { min_refetch_interval = 10 })
      assert(keys:key(rsa.kid))
      t.clock_now = 11
      assert(keys:key(ec.kid))
      assert.equal(2, #t.requests)
    end)

    it("bounds refetches: a flood of unknown kids costs one fetch per interval", function()
      local keys, t = fetcher({ jwks_answer { rsa.jwk }, jwks_answer { rsa.jwk }, jwks_answer { rsa.jwk } },
        { min_refetch_interval = 30 })
      assert(keys:key(rsa.kid))
      t.clock_now = 31
      for i = 1, 1000 do
        local key, err = keys:key("bogus-" .. i)
        assert.is_nil(key)
        assert.equal("kid_unknown", err.reason)
      end
      assert.equal(2, #t.requests)
      t.clock_now = 62
      keys:key("bogus-again")
      assert.equal(3, #t.requests)
    end)

    it("keeps serving known keys when a refetch fails", function()
      local keys, t = fetcher({ jwks_answer { rsa.jwk }, { status = 503, body = "" } }, { ttl = 60 })
      assert(keys:key(rsa.kid))
      t.clock_now = 100
      assert(keys:key(rsa.kid))
      assert.equal(2, #t.requests)
    end)

    it("does not hammer an endpoint that is down", function()
      local keys, t = fetcher({ { error = { kind = "network", sent = false } } }, { min_refetch_interval = 30 })
      for _ = 1, 50 do
        local key, err = keys:key(rsa.kid)
        assert.is_nil(key)
        assert.is_truthy(err.reason == "jwks_unavailable" or err.reason == "kid_unknown")
      end
      assert.equal(1, #t.requests)
    end)

    it("reports a key set with no usable keys", function()
      local keys = fetcher { jwks_answer { { kty = "RSA", kid = "short", n = "AQAB", e = "AQAB" } } }
      local key, err = keys:key("short")
      assert.is_nil(key)
      assert.matches("no usable keys", err.message)
    end)
  end)
end)

describe("ctct.webhooks", function()
  local wh, set
  local BODY = '{"url":"https://api.cc.email/v3/partner/accounts/abc","event_type":"account.cancel"}'
  lazy_setup(function()
    wh = jose.keypair("rsa")
    set = { keys = { wh.jwk } }
  end)
  lazy_teardown(function() jose.cleanup(wh) end)

  local function header(over)
    local h = { alg = "RS256", kid = wh.kid, b64 = false, crit = { "b64" }, ts = NOW }
    for k, v in pairs(over or {}) do
      if v == ctct.null then h[k] = nil else h[k] = v end
    end
    return h
  end

  local function check(body, headers, opts)
    local o = { jwks = set, now = NOW }
    for k, v in pairs(opts or {}) do o[k] = v end
    return webhooks.verify(body, headers, o)
  end

  local function rejected(reason, body, headers, opts)
    local ok, err = check(body, headers, opts)
    assert.is_nil(ok)
    assert.equal(reason, err.reason, tostring(err))
    return err
  end

  it("verifies a detached, unencoded-payload RS256 signature over the raw body", function()
    local sig = jose.sign_detached(header(), BODY, wh)
    local ok, info = check(BODY, { ["X-CTCT-WEBHOOK-SIG"] = sig })
    assert.is_true(ok)
    assert.equal("jws", info.method)
    assert.equal(NOW, info.ts)
    assert(check(BODY, { ["x-ctct-webhook-sig"] = sig }))
  end)

  it("rejects a tampered body, even by one byte", function()
    local sig = jose.sign_detached(header(), BODY, wh)
    rejected("signature", BODY:gsub("cancel", "cancer"), { ["x-ctct-webhook-sig"] = sig })
    rejected("signature", BODY .. " ", { ["x-ctct-webhook-sig"] = sig })
  end)

  it("rejects a stale or future ts outside the tolerance", function()
    rejected("stale", BODY, { ["x-ctct-webhook-sig"] = jose.sign_detached(header { ts = NOW - 301 }, BODY, wh) })
    rejected("stale", BODY, { ["x-ctct-webhook-sig"] = jose.sign_detached(header { ts = NOW + 301 }, BODY, wh) })
    rejected("stale", BODY, { ["x-ctct-webhook-sig"] = jose.sign_detached(header { ts = ctct.null }, BODY, wh) })
    assert(check(BODY, { ["x-ctct-webhook-sig"] = jose.sign_detached(header { ts = NOW - 299 }, BODY, wh) }))
    local sig = jose.sign_detached(header { ts = NOW - 100 }, BODY, wh)
    rejected("stale", BODY, { ["x-ctct-webhook-sig"] = sig }, { tolerance = 60 })
  end)

  it("rejects unknown crit entries and a signature over an encoded payload", function()
    rejected("crit_unknown", BODY,
      { ["x-ctct-webhook-sig"] = jose.sign_detached(header { crit = { "b64", "exp-policy" } }, BODY, wh) })
    rejected("b64", BODY, { ["x-ctct-webhook-sig"] = jose.sign_detached(header { b64 = true }, BODY, wh) })
    rejected("crit", BODY, { ["x-ctct-webhook-sig"] = jose.sign_detached(header { crit = ctct.null }, BODY, wh) })
  end)

  it("rejects alg none, other algorithms and unknown keys", function()
    local h = jose.segment(header { alg = "none" })
    rejected("alg_not_allowed", BODY, { ["x-ctct-webhook-sig"] = h .. ".." })
    rejected("kid_unknown", BODY, { ["x-ctct-webhook-sig"] = jose.sign_detached(header { kid = "x" }, BODY, wh) })
  end)

  it("rejects a missing, duplicated or malformed signature header", function()
    rejected("missing_signature", BODY, {})
    rejected("malformed", BODY, { ["x-ctct-webhook-sig"] = "not a jws" })
    rejected("malformed", BODY, { ["x-ctct-webhook-sig"] = "a..b", ["X-CTCT-WEBHOOK-SIG"] = "a..b" })
    assert.has_error(function() webhooks.verify(nil, {}) end)
  end)

  it("checks the legacy x-ctct-hmac-sha256 header in constant time", function()
    local secret = "the-api-secret"
    local mac = core.b64_encode(core.hmac_sha256(secret, BODY))
    local ok, info = check(BODY, { ["x-ctct-hmac-sha256"] = mac }, { secret = secret })
    assert.is_true(ok)
    assert.equal("hmac", info.method)
    rejected("signature", BODY .. "x", { ["x-ctct-hmac-sha256"] = mac }, { secret = secret })
    rejected("signature", BODY, { ["x-ctct-hmac-sha256"] = mac }, { secret = "wrong" })
    rejected("signature", BODY, { ["x-ctct-hmac-sha256"] = "!!!" }, { secret = secret })
    rejected("secret_required", BODY, { ["x-ctct-hmac-sha256"] = mac })
    rejected("missing_signature", BODY, { ["x-ctct-hmac-sha256"] = mac }, { secret = secret, legacy = false })
  end)
end)

describe("client:token_info", function()
  it("reads scopes and expiry from the token with no network call", function()
    local kp = jose.keypair("ec")
    finally(function() jose.cleanup(kp) end)
    local token = jose.sign({ alg = "ES256", kid = kp.kid }, claims(), kp)
    local t = fake.new {}
    t.epoch = NOW
    local client = ctct.new { access_token = token, transport = t }
    local info = assert(client:token_info())
    assert.same({ "account_read", "contact_data" }, info.scopes)
    assert.equal(NOW + 3600, info.expires_at)
    assert.equal(3600, info.expires_in)
    assert.equal("6c2d9a6e-0000-4000-8000-000000000001", info.platform_user_id)
    assert.equal(0, #t.requests)
    local opaque = ctct.new { access_token = "opaque-token", transport = t }
    local none, err = opaque:token_info()
    assert.is_nil(none)
    assert.equal("malformed", err.reason)
  end)
end)
