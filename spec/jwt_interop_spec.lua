-- ctct.jwt and ctct.webhooks against tokens and signatures issued by
-- independent signers over HTTP: the sandbox (LuaJIT FFI to OpenSSL inside
-- nginx) with its JWKS endpoints, and oidc-provider (node) when installed.
local jwt = require "ctct.jwt"
local jwks = require "ctct.jwks"
local webhooks = require "ctct.webhooks"
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"

describe("tokens issued by the sandbox", function()
  local sb
  lazy_setup(function() sb = sandbox.start() end)
  lazy_teardown(function() if sb then sb:stop() end end)

  local function opts(extra)
    local o = { jwks = jwks.new { url = sb.jwks_url }, issuer = sb.issuer, audience = "https://api.cc.email/v3" }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  it("verify against its JWKS, fetched over HTTP (RS256 and ES256)", function()
    local tok = assert(jwt.verify(sb:jwt(), opts()))
    assert.is_true(tok.verified)
    assert.is_true(tok:has_scope("contact_data"))
    assert.is_string(tok:platform_user_id())
    assert.equal("sandbox-at-1", tok.header.kid)
    local ec = assert(jwt.verify(sb:jwt { key = "ec" }, opts { algorithms = { "ES256" } }))
    assert.equal("ES256", ec.header.alg)
  end)

  it("verify through verify_access_token with the sandbox's issuer", function()
    assert(jwt.verify_access_token(sb:jwt(), { issuer = sb.issuer, jwks = sb.jwks_url }))
  end)

  it("are rejected when expired, mis-issued, for another audience or unknown kid", function()
    local now = core.time()
    local cases = {
      { { claims = { exp = now - 3600 } }, "expired" },
      { { claims = { iss = "https://evil.example" } }, "issuer" },
      { { claims = { aud = "https://elsewhere.example" } }, "audience" },
      { { header = { kid = "rotated-away" } }, "kid_unknown" },
      { { header = { alg = "none" } }, "alg_none" },
      { { key = "hs256", secret = "s3cret", header = { kid = "sandbox-at-1" } }, "alg_not_allowed" },
    }
    local keys = jwks.new { url = sb.jwks_url, min_refetch_interval = 0 }
    for _, c in ipairs(cases) do
      local tok, err = jwt.verify(sb:jwt(c[1]), opts { jwks = keys })
      assert.is_nil(tok)
      assert.equal(c[2], err.reason, tostring(err))
    end
  end)

  it("reads through client:token_info with no request", function()
    local client = require("ctct").new { access_token = sb:jwt(), base_url = sb.base_url }
    local info = assert(client:token_info())
    assert.is_true(info.expires_in > 3500 and info.expires_in <= 3600)
    assert.is_true(#info.scopes >= 2)
  end)

  it("webhook signatures verify over the raw body, and tampering is caught", function()
    local body = '{"url":"' .. sb.base_url .. '/partner/accounts/a1","event_type":"account.cancel"}'
    local sig = sb:webhook_signature(body)
    local ok, info = webhooks.verify(body, { ["X-CTCT-WEBHOOK-SIG"] = sig }, { jwks = sb.webhook_jwks_url })
    assert.is_true(ok)
    assert.equal("sandbox-wh-1", info.kid)
    local bad, err = webhooks.verify(body:gsub("cancel", "disable"), { ["x-ctct-webhook-sig"] = sig },
      { jwks = sb.webhook_jwks_url })
    assert.is_nil(bad)
    assert.equal("signature", err.reason)
    local old = sb:webhook_signature(body, math.floor(core.time()) - 3600)
    bad, err = webhooks.verify(body, { ["x-ctct-webhook-sig"] = old }, { jwks = sb.webhook_jwks_url })
    assert.is_nil(bad)
    assert.equal("stale", err.reason)
    -- An access-token key must not verify webhooks.
    bad, err = webhooks.verify(body, { ["x-ctct-webhook-sig"] = sig }, { jwks = sb.jwks_url })
    assert.is_nil(bad)
    assert.equal("kid_unknown", err.reason)
  end)

  it("webhooks.verify hands jwks_shared_dict to the key set (checked before any fetch)", function()
    local body = '{"event_type":"account.cancel"}'
    local sig = sb:webhook_signature(body)
    local ok, err = pcall(webhooks.verify, body, { ["X-CTCT-WEBHOOK-SIG"] = sig },
      { jwks = sb.webhook_jwks_url .. "?shared", jwks_shared_dict = 42 })
    assert.is_false(ok)
    assert.matches("option 'jwks_shared_dict' must be string, got number", tostring(err), 1, true)
  end)
end)

describe("tokens issued by oidc-provider", function()
  local oidc = require "spec.helpers.oidc"
  local op
  lazy_setup(function()
    assert(oidc.available())
    op = oidc.start { access_token_ttl = 120 }
  end)
  lazy_teardown(function() if op then op:stop() end end)

  it("verify against its JWKS (an OpenID-certified issuer, in node)", function()
    local token = op:client_credentials_token { scope = "contact_data" }
    local tok = assert(jwt.verify(token, { jwks = op.jwks_uri, issuer = op.issuer, audience = oidc.RESOURCE }))
    assert.equal("RS256", tok.header.alg)
    assert.is_true(tok:has_scope("contact_data"))
    assert.is_true(tok:expires_at() > core.time())
  end)

  it("are rejected for another issuer or once tampered", function()
    local token = op:client_credentials_token { scope = "contact_data" }
    local _, err = jwt.verify(token, { jwks = op.jwks_uri, issuer = "https://identity.constantcontact.com/x" })
    assert.equal("issuer", err.reason)
    local h, _, s = token:match("^([^.]+)%.([^.]+)%.([^.]+)$")
    local _, claims = oidc.decode_jwt(token)
    claims.scope = "contact_data campaign_data account_update"
    local forged = h .. "." .. core.b64url_encode(require("cjson").encode(claims)) .. "." .. s
    _, err = jwt.verify(forged, { jwks = op.jwks_uri })
    assert.equal("signature", err.reason)
  end)
end)
