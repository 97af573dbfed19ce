--- ctct.jwt: read and verify JSON Web Tokens (Constant Contact access tokens,
-- or any RS256/PS256/ES256/HS256 JWT).
--
--   local tok = jwt.decode(access_token)        -- NOT verified: for reading your own token
--   tok:scopes(), tok:has_scope("contact_data"), tok:expires_at(), tok:is_expired(60)
--
--   local tok, err = jwt.verify(token, { jwks = "https://.../keys", issuer = ..., audience = ... })
--   -- err.reason names the failed check: malformed, too_large, alg_none, alg_not_allowed,
--   -- kid_missing, kid_unknown, jwks_unavailable, signature, expired, not_yet_valid,
--   -- issued_in_future, issuer, audience, crit_unknown, crit_malformed, exp_missing
--
-- The byte work (base64url, JSON segments, UTF-8, signatures) is done in C by
-- ctct.core; this module decides policy.
local core = require "ctct.core"
local options = require "ctct.options"
local errors = require "ctct.errors"
local json = require "ctct.json"

---@class ctct.jwt
---@field MAX_BYTES integer the default size cap of a token (16384 bytes)
---@field DEFAULT_LEEWAY integer seconds of clock skew tolerated by default (60)
---@field CONSTANT_CONTACT {issuer: string, audience: string, jwks_uri: string} Constant Contact's token issuer
---@field OPTIONS table<string, string> verify's option names -> their types (ctct.options rules)
---@field Token ctct.jwt.Token the class of decoded tokens
---@field reject fun(reason: string, message: string): nil, ctct.Error nil and an `auth` error (invalid_token)
---@field decode_unverified fun(token: string, max_bytes?: integer): ctct.jwt.Token|nil, ctct.Error? jwt.decode
local M = {}

M.MAX_BYTES = 16384
M.DEFAULT_LEEWAY = 60

--- Constant Contact's access-token issuer, audience and keys (protocol reference).
M.CONSTANT_CONTACT = {
  issuer = "https://identity.constantcontact.com/oauth2/aus1lm3ry9mF7x2Ja0h8",
  audience = "https://api.cc.email/v3",
  jwks_uri = "https://identity.constantcontact.com/oauth2/aus1lm3ry9mF7x2Ja0h8/v1/keys",
}

local function reject(reason, message)
  return nil, errors.new { kind = "auth", error_key = "invalid_token", reason = reason,
                           message = "token rejected (" .. reason .. "): " .. message }
end
M.reject = reject

---@class ctct.jwt.Token
---@field raw string the token as given
---@field header table<string, ctct.json.Value> the decoded JOSE header (alg, kid, typ, ...)
---@field claims table<string, ctct.json.Value> the decoded claims
---@field verified boolean true once jwt.verify checked the signature and claims
---@field platform_user_id fun(self: ctct.jwt.Token): string? the Constant Contact user (platform_user_id)
---@field client_id fun(self: ctct.jwt.Token): string? the `cid` claim
---@field user_id fun(self: ctct.jwt.Token): string? the `uid` claim
---@field subject fun(self: ctct.jwt.Token): string? the `sub` claim
---@field issuer fun(self: ctct.jwt.Token): string? the `iss` claim
---@field jti fun(self: ctct.jwt.Token): string? the `jti` claim
local Token = {}
Token.__index = Token
M.Token = Token

--- "ctct.jwt.Token(alg=..., sub=..., verified=...)".
---@return string
function Token:__tostring()
  return "ctct.jwt.Token(alg=" .. tostring(self.header.alg) .. ", sub=" .. tostring(self.claims.sub) ..
    ", verified=" .. tostring(self.verified) .. ")"
end

--- A claim by name (nil when absent); any JSON value.
---@param name string
---@return ctct.json.Value? value
function Token:claim(name) return self.claims[name] end

--- Scopes, from `scp` (an array, or a space-separated string) or `scope`.
---@return string[] scopes
function Token:scopes()
  local out = {}
  for _, name in ipairs { "scp", "scope" } do
    local v = self.claims[name]
    if type(v) == "table" then
      for _, s in ipairs(v) do
        if type(s) == "string" then out[#out + 1] = s end
      end
      return out
    elseif type(v) == "string" then
      for s in v:gmatch("%S+") do out[#out + 1] = s end
      return out
    end
  end
  return out
end

--- True when the token's scopes include `scope`.
---@param scope string
---@return boolean
function Token:has_scope(scope)
  for _, s in ipairs(self:scopes()) do
    if s == scope then return true end
  end
  return false
end

local function number_claim(self, name)
  local v = self.claims[name]
  if type(v) == "number" then return v end
  return nil
end

--- Unix time the token expires (the `exp` claim), or nil.
---@return number? exp
function Token:expires_at() return number_claim(self, "exp") end
--- Unix time the token was issued (the `iat` claim), or nil.
---@return number? iat
function Token:issued_at() return number_claim(self, "iat") end
--- Unix time the token becomes valid (the `nbf` claim), or nil.
---@return number? nbf
function Token:not_before() return number_claim(self, "nbf") end
--- Unix time the user authenticated (the `auth_time` claim), or nil.
---@return number? auth_time
function Token:auth_time() return number_claim(self, "auth_time") end

--- True when `exp` is past `now` (default: the current time) minus `leeway` seconds.
--- A token without `exp` never expires (false).
---@param leeway? number seconds (default 0)
---@param now? number Unix time (default: the clock)
---@return boolean
function Token:is_expired(leeway, now)
  local exp = self:expires_at()
  if not exp then return false end
  now = now or core.time()
  return now >= exp + (leeway or 0)
end

local function string_claim(name)
  return function(self)
    local v = self.claims[name]
    if type(v) == "string" then return v end
    return nil
  end
end

-- The Constant Contact user (platform_user_id), and the standard claims
-- (typed as fields of ctct.jwt.Token).
Token.platform_user_id = string_claim("platform_user_id")
Token.client_id = string_claim("cid")
Token.user_id = string_claim("uid")
Token.subject = string_claim("sub")
Token.issuer = string_claim("iss")
Token.jti = string_claim("jti")

--- Audiences as an array (aud may be a string or an array).
---@return string[] audiences
function Token:audience()
  local aud = self.claims.aud
  if type(aud) == "string" then return { aud } end
  local out = {}
  if type(aud) == "table" then
    for _, a in ipairs(aud) do
      if type(a) == "string" then out[#out + 1] = a end
    end
  end
  return out
end

--- Decode a JWT WITHOUT verifying it: for reading the claims of a token you
--- received from the authorization server yourself. Never trust it for access
--- decisions; use jwt.verify for that. Returns a Token (verified = false) or nil, err.
---@param token string the compact JWT
---@param max_bytes? integer size cap (default jwt.MAX_BYTES)
---@return ctct.jwt.Token|nil token
---@return ctct.Error? err an `auth` error, reason malformed or too_large
function M.decode(token, max_bytes)
  if type(token) ~= "string" then
    return reject("malformed", "a token must be a string, got " .. type(token))
  end
  local limit = max_bytes or M.MAX_BYTES
  if #token > limit then
    return reject("too_large", ("%d bytes, limit %d"):format(#token, limit))
  end
  local header_json, payload_json = core.jws_decode(token, limit)
  if not header_json then return reject("malformed", payload_json) end
  local header = json.decode(header_json)
  if type(header) ~= "table" or type(header.alg) ~= "string" then
    return reject("malformed", "the header is not a JSON object with an 'alg'")
  end
  local claims = json.decode(payload_json)
  if type(claims) ~= "table" or claims[1] ~= nil then
    return reject("malformed", "the payload is not a JSON object of claims")
  end
  return setmetatable({ raw = token, header = header, claims = claims, verified = false }, Token)
end
M.decode_unverified = M.decode

local function list(v)
  if v == nil then return nil end
  if type(v) == "table" then return v end
  return { v }
end

local function contains(haystack, needle)
  for _, v in ipairs(haystack) do
    if v == needle then return true end
  end
  return false
end

-- Header parameters JWS and JWA define: RFC 7515 4.1.11 forbids them in crit.
local REGISTERED = { alg = true, jku = true, jwk = true, kid = true, x5u = true, x5c = true, x5t = true,
                     ["x5t#S256"] = true, typ = true, cty = true, crit = true, enc = true, zip = true }

-- RFC 7515 4.1.11: crit lists extension parameters the recipient must
-- understand; one it does not (we implement none; opts.crit names the caller's)
-- means the token must be rejected.
local function check_crit(header, understood)
  local crit = header.crit
  if crit == nil then return true end
  if type(crit) ~= "table" or next(crit) == nil then
    return reject("crit_malformed", "'crit' must be a non-empty array of header parameter names")
  end
  local n, seen = #crit, {}
  for k in pairs(crit) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
      return reject("crit_malformed", "'crit' must be an array")
    end
  end
  for _, name in ipairs(crit) do
    if type(name) ~= "string" or name == "" then
      return reject("crit_malformed", "'crit' must list header parameter names (strings)")
    end
    if REGISTERED[name] then return reject("crit_malformed", "'crit' may not list '" .. name .. "'") end
    if seen[name] then return reject("crit_malformed", "'crit' lists '" .. name .. "' twice") end
    seen[name] = true
    if header[name] == nil then
      return reject("crit_malformed", "'crit' lists '" .. name .. "', which the header does not have")
    end
  end
  for _, name in ipairs(crit) do
    if not (understood and contains(understood, name)) then
      return reject("crit_unknown", "critical header parameter '" .. name .. "' is not understood")
    end
  end
  return true
end

-- The key (or HS256 secret) for this token from opts: key, secret or jwks.
local function find_key(tok, opts, jwks_for)
  local alg = tok.header.alg
  if alg == "HS256" then
    if type(opts.secret) ~= "string" then
      return reject("alg_not_allowed", "HS256 needs opts.secret")
    end
    return opts.secret
  end
  if opts.key then
    if type(opts.key) == "table" then
      local key, why = core.jwk(opts.key)
      if not key then return reject("key_unusable", why) end
      return key
    end
    return opts.key
  end
  local kid = tok.header.kid
  if type(kid) ~= "string" or kid == "" then
    return reject("kid_missing", "the header names no key ('kid')")
  end
  local set = jwks_for(opts.jwks, opts)
  if not set then return reject("jwks_unavailable", "no keys given: pass opts.jwks, opts.key or opts.secret") end
  local key, err = set:key(kid)
  if not key then
    if err.reason == "kid_unknown" then return reject("kid_unknown", err.message) end
    return reject("jwks_unavailable", err.message)
  end
  return key
end

-- jwt.verify's options (see M.verify) and their types (ctct.options rules).
M.OPTIONS = { jwks = "string|table", shared_dict = "string", key = "table|userdata", secret = "string",
              algorithms = "string[]", issuer = "string|string[]", audience = "string|string[]",
              leeway = "number", require_exp = "boolean", crit = "string|string[]",
              now = "number|function", max_bytes = "integer" }

--- Verify a JWT's signature and claims. opts:
---   jwks       a ctct.jwks object, a JWKS table { keys = {...} }, or its URL
---   shared_dict inside nginx, with a jwks URL: the lua_shared_dict that shares the
---              fetched key set between workers (one fetch per TTL for all of them)
---   key        a single key instead (a JWK table or a core.jwk key), for tokens without kid
---   secret     the shared secret, only with algorithms = { "HS256" }
---   algorithms allowed algorithms (default { "RS256" }); "none" is never allowed
---   issuer, audience   expected values (a string or a list; checked when given)
---   leeway     seconds of clock skew tolerated (default 60)
---   require_exp reject a token without `exp` (reason exp_missing; verify_access_token sets it)
---   crit       header parameters the caller understands and checks itself: a token whose
---              `crit` names any other is rejected (crit_unknown, RFC 7515 4.1.11)
---   now        Unix time, or a function returning it (default: the clock)
---   max_bytes  size cap (default 16 KiB)
--- Returns a Token with verified = true, or nil and an `auth` error whose
--- `reason` names the failed check. Raises on an unknown or mistyped option.
---@param token string the compact JWT
---@param opts? ctct.jwt.Options
---@return ctct.jwt.Token|nil token
---@return ctct.Error? err an `auth` error whose `reason` names the failed check
function M.verify(token, opts)
  opts = options.check("ctct.jwt.verify", opts, M.OPTIONS, 2)
  local tok, err = M.decode(token, opts.max_bytes)
  if not tok then return nil, err end
  local alg = tok.header.alg
  if alg == "none" or alg == "" then return reject("alg_none", "unsigned tokens are never accepted") end
  local allowed = opts.algorithms or { "RS256" }
  if not contains(allowed, alg) then
    return reject("alg_not_allowed", "'" .. alg .. "' is not one of " .. table.concat(allowed, ", "))
  end
  if alg == "HS256" and (opts.jwks or opts.key) then
    return reject("alg_not_allowed", "HS256 with public keys configured (algorithm confusion)")
  end
  local crit_ok
  crit_ok, err = check_crit(tok.header, list(opts.crit))
  if not crit_ok then return nil, err end

  local key
  key, err = find_key(tok, opts, require("ctct.jwks").from)
  if not key then return nil, err end
  local ok, why = core.jws_verify(tok.raw, alg, key, opts.max_bytes or M.MAX_BYTES)
  if not ok then return reject("signature", why) end

  local now = opts.now
  if type(now) == "function" then now = now() end
  now = now or core.time()
  local leeway = opts.leeway or M.DEFAULT_LEEWAY
  local exp, nbf, iat = tok:expires_at(), tok:not_before(), tok:issued_at()
  if tok.claims.exp ~= nil and not exp then return reject("malformed", "'exp' is not a number") end
  if not exp and opts.require_exp then return reject("exp_missing", "the token has no 'exp' claim") end
  if exp and now >= exp + leeway then
    return reject("expired", ("expired %d s ago"):format(math.floor(now - exp)))
  end
  if nbf and now + leeway < nbf then
    return reject("not_yet_valid", ("valid in %d s"):format(math.floor(nbf - now)))
  end
  if iat and now + leeway < iat then
    return reject("issued_in_future", ("issued %d s in the future"):format(math.floor(iat - now)))
  end
  local issuers = list(opts.issuer)
  if issuers and not contains(issuers, tok.claims.iss) then
    return reject("issuer", "issuer '" .. tostring(tok.claims.iss) .. "' is not expected")
  end
  local audiences = list(opts.audience)
  if audiences then
    local match = false
    for _, a in ipairs(tok:audience()) do
      if contains(audiences, a) then match = true end
    end
    if not match then return reject("audience", "no expected audience in the token") end
  end
  tok.verified = true
  return tok
end

--- Verify a Constant Contact access token against Constant Contact's issuer,
--- audience and keys (each overridable in opts, e.g. for the sandbox). An access
--- token must carry `exp` (RFC 9068 2.2): one without is rejected (exp_missing).
--- Raises on an unknown or mistyped option.
---@param token string the compact JWT (an access token)
---@param opts? ctct.jwt.Options
---@return ctct.jwt.Token|nil token
---@return ctct.Error? err an `auth` error whose `reason` names the failed check
function M.verify_access_token(token, opts)
  options.check("ctct.jwt.verify_access_token", opts, M.OPTIONS, 2)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.require_exp = true
  o.issuer = o.issuer or M.CONSTANT_CONTACT.issuer
  o.audience = o.audience or M.CONSTANT_CONTACT.audience
  o.jwks = o.jwks or M.CONSTANT_CONTACT.jwks_uri
  return M.verify(token, o)
end

return M
