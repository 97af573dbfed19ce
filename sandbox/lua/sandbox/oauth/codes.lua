-- Authorization codes: single use, short-lived, bound to the client, the redirect URI
-- and the PKCE challenge of their authorization request.
--   oauth:code:<code>       -> JSON { cid, redirect_uri, scopes, challenge, account, nonce,
--                              auth_time, grant } (TTL: code_ttl)
--   oauth:code:<code>:used  -> exchanges attempted; the one request whose incr answers 1 wins
local store = require "sandbox.store"
local auth = require "sandbox.auth"
local jose = require "sandbox.jose"
local common = require "sandbox.oauth.common"
local settings = require "sandbox.oauth.settings"
local grants = require "sandbox.oauth.grants"
local counters = require "sandbox.oauth.counters"

local m = store.m
local fail = common.fail

local _M = {}

local function key(code) return "oauth:code:" .. code end

-- A new code for an approved request r = { cid, redirect_uri, scopes, challenge,
-- nonce } on behalf of account's user.
function _M.issue(r, account)
  local code = common.random(32)
  m.set_json(key(code), {
    cid = r.cid, redirect_uri = r.redirect_uri, scopes = r.scopes, challenge = r.challenge,
    account = account, nonce = r.nonce, auth_time = ngx.time(), grant = grants.new_grant_id(),
  }, settings.get().code_ttl)
  counters.bump("authorizations")
  return code
end

local INVALID = "The authorization code is invalid or has expired."

-- A code presented twice: whoever holds it is not to be trusted, so the tokens issued
-- from it go too (RFC 6749 4.1.2).
local function reuse(rec)
  counters.bump("code_reuse")
  auth.revoke_grant(rec.grant)
  fail(400, "invalid_grant", INVALID)
end

-- RFC 7636 4.6: BASE64URL(SHA256(verifier)) must equal the S256 challenge.
local function check_pkce(rec, verifier)
  if verifier and not common.valid_pkce(verifier) then
    fail(400, "invalid_request", "The 'code_verifier' must be 43-128 characters of [A-Za-z0-9-._~].")
  end
  if rec.challenge == nil then
    if verifier then
      fail(400, "invalid_grant", "PKCE verification failed: the authorization request had no code_challenge.")
    end
    return
  end
  if not verifier then fail(400, "invalid_grant", "PKCE verification failed: the 'code_verifier' is missing.") end
  if jose.b64url(jose.sha256(verifier)) ~= rec.challenge then
    fail(400, "invalid_grant", "PKCE verification failed.")
  end
end

-- grant_type=authorization_code for client.
function _M.exchange(client, form)
  if not form.code then fail(400, "invalid_request", "The 'code' parameter is required.") end
  if not form.redirect_uri then fail(400, "invalid_request", "The 'redirect_uri' parameter is required.") end
  local rec = m.get_json(key(form.code))
  if not rec or rec.cid ~= client.client_id then fail(400, "invalid_grant", INVALID) end
  local used_key = key(form.code) .. ":used"
  if m.get(used_key) then reuse(rec) end
  if form.redirect_uri ~= rec.redirect_uri then
    fail(400, "invalid_grant",
      "The 'redirect_uri' does not match the redirection URI used in the authorization request.")
  end
  check_pkce(rec, form.code_verifier)
  -- Checked above, consumed only here: a mistyped verifier does not burn the code,
  -- and of simultaneous exchanges exactly one sees 1.
  if m.incr(used_key, 1, 0, settings.get().code_ttl) ~= 1 then reuse(rec) end
  local body = grants.issue{
    cid = rec.cid, account = rec.account, scopes = rec.scopes, grant = rec.grant,
    auth_time = rec.auth_time, nonce = rec.nonce,
  }
  counters.bump("authorization_code")
  return body
end

return _M
