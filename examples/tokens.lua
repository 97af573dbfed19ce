-- examples/tokens.lua: what an access token says about itself, verifying a
-- token you received, and checking a webhook's signature.
--
--   CTCT_ACCESS_TOKEN=... lua5.4 examples/tokens.lua
--
-- Against the sandbox (make demo's), point the issuer and key sets at it:
--   CTCT_ISSUER=$SANDBOX_URL/oauth2/aus1lm3ry9mF7x2Ja0h8 CTCT_JWKS_URL=$CTCT_ISSUER/v1/keys
--   CTCT_WEBHOOK_JWKS_URL=$SANDBOX_URL/.well-known/jwks.json
-- and optionally CTCT_WEBHOOK_BODY / CTCT_WEBHOOK_SIG for a signed notification.
local ctct = require "ctct"
local jwt = require "ctct.jwt"
local webhooks = require "ctct.webhooks"

local token = assert(os.getenv("CTCT_ACCESS_TOKEN"), "set CTCT_ACCESS_TOKEN")

-- 1. Your own token: no network call (Constant Contact retired token_info).
local client = ctct.new { access_token = token }
local info, err = client:token_info()
if not info then error(tostring(err)) end
print(("token: scopes %s; expires in %d s; user %s"):format(
  table.concat(info.scopes, " "), info.expires_in or -1, tostring(info.platform_user_id)))

-- 2. A token someone sent you (e.g. your own API's clients): verify before trusting it.
local tok
tok, err = jwt.verify_access_token(token, {
  issuer = os.getenv("CTCT_ISSUER"),   -- nil: Constant Contact's
  jwks = os.getenv("CTCT_JWKS_URL"),
})
if tok then
  print("verified: signed by key " .. tok.header.kid .. ", issued to " .. tostring(tok:client_id()))
else
  print("not accepted: " .. err.reason .. " (" .. err.message .. ")")
end

-- 3. A webhook call: verify the raw body against the X-CTCT-WEBHOOK-SIG header.
local body, sig = os.getenv("CTCT_WEBHOOK_BODY"), os.getenv("CTCT_WEBHOOK_SIG")
if body and sig then
  local ok, why = webhooks.verify(body, { ["X-CTCT-WEBHOOK-SIG"] = sig },
    { jwks = os.getenv("CTCT_WEBHOOK_JWKS_URL") })
  print(ok and ("webhook: authentic (signed at " .. why.ts .. ")") or ("webhook: rejected, " .. why.reason))
end
