-- The sandbox as an issuer of signed access tokens (JWTs) and partner-webhook
-- signatures, so ctct's verifier can be checked against keys and tokens it did not
-- make. The keys are made by sandbox/start; their JWKS are served like the real hosts':
--   <url>/oauth2/aus1lm3ry9mF7x2Ja0h8/v1/keys   access-token keys (RSA + EC)
--   <url>/.well-known/jwks.json                  webhook-signing key
local jose = require "sandbox.jose"
local http = require "sandbox.http"
local json = require "sandbox.json"

local _M = {}

local AUTH_SERVER = "/oauth2/aus1lm3ry9mF7x2Ja0h8"
_M.JWKS_PATH = AUTH_SERVER .. "/v1/keys"
_M.WEBHOOK_JWKS_PATH = "/.well-known/jwks.json"
_M.AUDIENCE = "https://api.cc.email/v3"

-- key name (as in /__sandbox/jwt's "key") -> kid
_M.KIDS = { rsa = "sandbox-at-1", ec = "sandbox-ec-1", webhook = "sandbox-wh-1" }

-- The user and application every default token is for (fixed, so tests can expect them).
local CLIENT_ID = "5c0e6c0a-7a3b-4e29-9d3c-2b8f5a1e0c41"
local USER = {
  uid = "00u1sandbox0user0001",
  sub = "sandbox-user",
  platform_user_id = "8d6f2b9e-3c41-4a57-b0e2-6f1d9a7c3e58",
}
local SCOPES = { "account_read", "contact_data", "offline_access" }

-- Set once in init_by_lua (in the master, before the workers fork) and only read
-- afterwards; loading there makes a bad key file stop nginx from starting.
local state

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then error("sandbox.issuer: cannot read key: " .. tostring(err), 0) end
  local s = f:read("*a")
  f:close()
  return s
end

-- opts.url: the sandbox's base URL; opts.keys: { rsa = path, ec = path, webhook = path }.
function _M.init(opts)
  assert(opts.url and opts.keys, "sandbox.issuer: needs the sandbox URL and the key paths (sandbox/start)")
  local keys = {}
  for name, path in pairs(opts.keys) do
    keys[name] = jose.load_private_key(read_file(path), { kid = _M.KIDS[name] })
  end
  assert(keys.rsa and keys.rsa.kty == "RSA", "the access-token key must be RSA")
  assert(keys.ec and keys.ec.kty == "EC", "the EC key must be P-256")
  assert(keys.webhook and keys.webhook.kty == "RSA", "the webhook key must be RSA")
  state = {
    keys = keys,
    url = opts.url,
    issuer = opts.url .. AUTH_SERVER,
    jwks = { keys = { jose.jwk(keys.rsa), jose.jwk(keys.ec) } },
    webhook_jwks = { keys = { jose.jwk(keys.webhook) } },
  }
end

function _M.issuer() return state.issuer end
function _M.base_url() return state.url end
function _M.jwks() return state.jwks end
function _M.webhook_jwks() return state.webhook_jwks end

local function invalid(message)
  http.fail(400, "sandbox.request.invalid", message)
end

-- Copies the members of from (a JSON object) into into; a JSON null removes one.
local function merge(into, from, what)
  if from == nil then return into end
  if type(from) ~= "table" or json.is_array(from) then invalid(what .. " must be a JSON object") end
  for k, v in pairs(from) do
    if v == http.null then into[k] = nil else into[k] = v end
  end
  return into
end

-- The key named in a request ("rsa", "ec", "webhook", or "hs256" with secret) and
-- the header it signs with by default.
local function pick_key(name, secret, default)
  name = name or default
  if name == "hs256" then
    if type(secret) ~= "string" or secret == "" then invalid('"key": "hs256" needs a non-empty "secret"') end
    return jose.hmac_key(secret), { alg = "HS256" }
  end
  local key = type(name) == "string" and state.keys[name]
  if not key then invalid('key must be "rsa", "ec", "webhook" or "hs256"') end
  return key, { alg = key.alg, kid = key.kid }
end

local function sign_or_fail(sign, header, payload, key)
  if header.alg ~= "none" then
    local why = jose.check_alg(header.alg, key)
    if why then invalid(why) end
  end
  return sign(header, payload, key)
end

-- Claims shaped like a real Constant Contact access token.
local function default_claims(now, expires_in)
  return {
    iss = state.issuer,
    aud = _M.AUDIENCE,
    iat = now,
    exp = now + expires_in,
    auth_time = now,
    jti = "AT." .. jose.b64url(jose.random_bytes(24)),
    cid = CLIENT_ID,
    uid = USER.uid,
    sub = USER.sub,
    platform_user_id = USER.platform_user_id,
    scp = { SCOPES[1], SCOPES[2], SCOPES[3] },
  }
end

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- The sandbox user who owns an account. The default account's is USER (the one in
-- /__sandbox/jwt's default claims); other accounts get ids derived from their name,
-- stable across restarts.
function _M.user(account)
  if account == "default" then return USER end
  local h = hex(jose.sha256("sandbox-user:" .. account))
  return {
    uid = "00u" .. h:sub(1, 17),
    sub = "sandbox-user-" .. account,
    platform_user_id = string.format("%s-%s-4%s-8%s-%s", h:sub(18, 25), h:sub(26, 29), h:sub(30, 32),
      h:sub(33, 35), h:sub(36, 47)),
  }
end

local function sign_rs256(claims)
  local key = state.keys.rsa
  return jose.sign_jwt({ alg = key.alg, kid = key.kid }, claims, key)
end

-- An access token issued by the OAuth endpoints: t = { client_id, account, scopes
-- (array), ttl (seconds), auth_time }. Returns the JWT and its claims.
function _M.access_token(t)
  local claims = default_claims(ngx.time(), t.ttl)
  local user = _M.user(t.account)
  claims.cid, claims.uid, claims.sub = t.client_id, user.uid, user.sub
  claims.platform_user_id = user.platform_user_id
  claims.auth_time = t.auth_time or claims.iat
  claims.scp = t.scopes
  return sign_rs256(claims), claims
end

-- An OpenID Connect ID token (scope openid): t = { client_id, account, ttl,
-- auth_time, nonce (optional) }.
function _M.id_token(t)
  local now = ngx.time()
  local user = _M.user(t.account)
  return sign_rs256({
    iss = state.issuer, aud = t.client_id, sub = user.sub, iat = now, exp = now + t.ttl,
    auth_time = t.auth_time or now, nonce = t.nonce, amr = { "pwd" },
    jti = "ID." .. jose.b64url(jose.random_bytes(24)),
  })
end

-- POST /__sandbox/jwt: a compact JWS from { claims, header, key, secret, expires_in,
-- payload } (all optional). payload, a string, replaces the encoded claims verbatim
-- (for malformed-claims tests).
function _M.token(req)
  local expires_in = req.expires_in or 3600
  if type(expires_in) ~= "number" then invalid("expires_in must be a number of seconds") end
  if req.payload ~= nil and type(req.payload) ~= "string" then invalid("payload must be a string") end
  local key, header = pick_key(req.key, req.secret, "rsa")
  merge(header, req.header, "header")
  local payload = req.payload or merge(default_claims(ngx.time(), expires_in), req.claims, "claims")
  return sign_or_fail(jose.sign_jwt, header, payload, key)
end

-- The X-CTCT-WEBHOOK-SIG value for body (the exact bytes sent) at Unix time ts: a JWS
-- with a detached, unencoded payload (RFC 7797) signed with the webhook key.
-- header_overrides (optional) changes or (JSON null) removes protected header members;
-- key_name/secret choose another key as in /__sandbox/jwt. Returns the value and the
-- protected header. Outgoing webhook notifications use this too.
function _M.webhook_signature(body, ts, header_overrides, key_name, secret)
  if type(body) ~= "string" then invalid("body must be a string (the exact raw request body)") end
  ts = ts or ngx.time()
  if type(ts) ~= "number" then invalid("ts must be a number (Unix seconds)") end
  local key, header = pick_key(key_name, secret, "webhook")
  header.b64, header.crit, header.ts = false, { "b64" }, ts
  merge(header, header_overrides, "header")
  return sign_or_fail(jose.sign_detached, header, body, key), header
end

return _M
