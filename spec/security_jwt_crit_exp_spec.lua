-- Issue 17: a JWT with a `crit` header parameter we do not understand must be
-- rejected (RFC 7515 4.1.11), and an access token must carry `exp` (RFC 9068
-- 2.2): verify_access_token rejects one without it, with a stable reason.
local jwt = require "ctct.jwt"
local jose = require "spec.helpers.jose"

local NOW = 1800000000

local function claims(over)
  local c = { iss = jwt.CONSTANT_CONTACT.issuer, aud = jwt.CONSTANT_CONTACT.audience, sub = "user-1",
              iat = NOW - 10, exp = NOW + 3600 }
  for k, v in pairs(over or {}) do
    if v == false then c[k] = nil else c[k] = v end
  end
  return c
end

describe("security: JWT crit header and required exp", function()
  local rsa, set
  lazy_setup(function()
    rsa = jose.keypair("rsa")
    set = { keys = { rsa.jwk } }
  end)
  lazy_teardown(function() jose.cleanup(rsa) end)

  local function sign(header_over, claims_over)
    local h = { alg = "RS256", kid = rsa.kid, typ = "JWT" }
    for k, v in pairs(header_over or {}) do h[k] = v end
    return jose.sign(h, claims(claims_over), rsa)
  end

  local function rejected(reason, token, opts)
    local o = { jwks = set, now = NOW }
    for k, v in pairs(opts or {}) do o[k] = v end
    local tok, err = jwt.verify(token, o)
    assert.is_nil(tok)
    assert.equal("auth", err.kind)
    assert.equal(reason, err.reason, tostring(err))
    return err
  end

  it("rejects a token whose crit names a parameter it does not understand", function()
    local err = rejected("crit_unknown", sign { crit = { "exp-policy" }, ["exp-policy"] = "strict" })
    assert.matches("exp%-policy", err.message)
    -- b64 changes the signing input, which jwt.verify does not implement
    rejected("crit_unknown", sign { crit = { "b64" }, b64 = false })
  end)

  it("rejects a malformed crit (not a non-empty array of strings, or naming standard parameters)", function()
    rejected("crit_malformed", sign { crit = "exp-policy" })
    rejected("crit_malformed", sign { crit = { 42 } })
    rejected("crit_malformed", sign { crit = { "alg" } })
    rejected("crit_malformed", sign { crit = { "x", "x" }, x = 1 })
    rejected("crit_malformed", sign { crit = { "x" } }) -- named but absent from the header
  end)

  it("accepts crit parameters the caller says it understands", function()
    local token = sign { crit = { "exp-policy" }, ["exp-policy"] = "strict" }
    local tok = assert(jwt.verify(token, { jwks = set, now = NOW, crit = { "exp-policy" } }))
    assert.equal("strict", tok.header["exp-policy"])
  end)

  it("verify_access_token rejects a token without exp (reason exp_missing)", function()
    local token = sign(nil, { exp = false })
    local tok, err = jwt.verify_access_token(token, { jwks = set, now = NOW })
    assert.is_nil(tok)
    assert.equal("exp_missing", err.reason)
    assert.matches("token rejected %(exp_missing%)", tostring(err))
    -- a plain jwt.verify only checks exp when present, unless told otherwise
    assert(jwt.verify(token, { jwks = set, now = NOW }))
    rejected("exp_missing", token, { require_exp = true })
    assert(jwt.verify_access_token(sign(), { jwks = set, now = NOW }))
  end)
end)
