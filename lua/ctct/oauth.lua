--- ctct.oauth: getting tokens from Constant Contact's authorization server.
--
--   -- Web apps: authorization code (+ PKCE, on by default)
--   local url, session = oauth.authorization_url{ client_id = ..., redirect_uri = ..., scope = {...} }
--   -- ...redirect the user to url, keep session (state, code_verifier) e.g. in a signed cookie...
--   local code, err = oauth.parse_callback(callback_url_or_query, session)
--   local token, err = oauth.exchange_code{ client_id = ..., client_secret = ..., code = code, session = session }
--
--   -- Devices and CLIs: the device flow
--   local device = assert(oauth.device{ client_id = ..., scope = { "contact_data", "offline_access" } })
--   local token, err = device:wait{ on_prompt = function(d) print(d.verification_uri, d.user_code) end }
--
--   -- Native apps with a browser: code + PKCE with a loopback redirect (RFC 8252)
--   local token, err = oauth.login_pkce{ client_id = ..., scope = {...}, open = function(url) ... end }
--
--   oauth.refresh{ client_id, client_secret?, refresh_token }   oauth.revoke{ ..., token }
--
--   -- Technology partners: client credentials at the partner token endpoint
--   local token, err = oauth.client_credentials{ client_id = ..., client_secret = ... }
--
-- Tokens are tables { access_token, refresh_token, token_type, scope, expires_at,
-- obtained_at, id_token }. Failures return nil and a ctct.Error (kind "auth" with the
-- server's OAuth error in error_key, or network/timeout/tls); bad arguments raise.
-- The protocol (URLs, requests, answers, the device polling rules) is in C
-- (ctct.core.oauth_*); this module carries it over a transport.
-- Each flow is its own module under ctct.oauth (request: what they share; code,
-- device, loopback, partner); this one checks their options and exports them.
local code = require "ctct.oauth.code"
local device = require "ctct.oauth.device"
local loopback = require "ctct.oauth.loopback"
local options = require "ctct.options"
local partner = require "ctct.oauth.partner"
local request = require "ctct.oauth.request"


--- The tokens a flow returns: { access_token, refresh_token, token_type, scope, expires_at, obtained_at, id_token }.
---@class ctct.oauth.Tokens: ctct.TokenRecord
---@field access_token string
---@field token_type 'Bearer'
---@field obtained_at number Unix seconds when the token was received
---@field expires_at? number Unix seconds (obtained_at + the server's expires_in)
---@field refresh_token? string with the offline_access scope (single use where the server rotates them)
---@field scope? string the granted scopes, space-separated
---@field id_token? string the OpenID Connect ID token (scope openid)

--- What authorization_url returns to keep until the callback (e.g. in a signed cookie).
---@class ctct.oauth.Session
---@field state string the random state the callback must carry back
---@field redirect_uri string
---@field code_verifier? string the PKCE verifier (absent with pkce = false)
---@field nonce? string

--- The flows check their options first (an unknown name or a wrong type raises); bad arguments
--- raise, failures return nil and a ctct.Error (kind "auth" with the server's OAuth error in
--- error_key, or network/timeout/tls).
---@class ctct.oauth
---@field AUTHZ_URL string Constant Contact's authorization server (its base URL)
---@field SCOPES string[] the scopes Constant Contact defines, plus OpenID's
---@field PARTNER_TOKEN_URL string the partner token endpoint (client credentials grant)
---@field PARTNER_SCOPE string the partner scope, "v3api/general.partner"
---@field OPTIONS table<string, string> the flows' option names -> their types (ctct.options rules)
---@field Device ctct.oauth.Device the device flow class (its metatable)
---@field Loopback ctct.oauth.Loopback the loopback redirect catcher class (its metatable)
---@field parse_query fun(q: string): table<string, string> a query string's parameters, decoded
--- The URL to send the user to, and the session to keep until the callback. opts: client_id,
--- redirect_uri, scope (list), state (default random), pkce (default true), nonce, prompt,
--- authorize_url | authz_url, strict_scopes.
---@field authorization_url fun(opts: ctct.oauth.Options): string, ctct.oauth.Session
--- Exchange an authorization code for tokens. opts: client_id, client_secret (confidential apps;
--- public PKCE apps send none), code, session (from authorization_url) or redirect_uri +
--- code_verifier, token_url | authz_url, transport.
---@field exchange_code fun(opts: ctct.oauth.Options): ctct.oauth.Tokens?, ctct.Error?
--- Refresh. opts: client_id, client_secret?, refresh_token, scope?, token_url | authz_url.
---@field refresh fun(opts: ctct.oauth.Options): ctct.oauth.Tokens?, ctct.Error?
--- Revoke a token where the server offers it (RFC 7009): true | nil, err.
--- opts: client_id, client_secret?, token, token_type_hint?, revoke_url | authz_url.
---@field revoke fun(opts: ctct.oauth.Options): true?, ctct.Error?
--- A partner token (client credentials grant at the partner token endpoint; it cannot be
--- refreshed: ask for a new one). opts: client_id, client_secret, scope? (default PARTNER_SCOPE),
--- token_url? (default PARTNER_TOKEN_URL), transport?, time?, timeout?, cafile?. The secret never
--- appears in an error.
---@field client_credentials fun(opts: ctct.oauth.Options): ctct.oauth.Tokens?, ctct.Error?
--- Start the device flow (RFC 8628). opts: client_id, client_secret?, scope, device_url,
--- token_url | authz_url, transport, time, sleep, on_prompt.
---@field device fun(opts: ctct.oauth.Options): ctct.oauth.Device?, ctct.Error?
--- Listen on 127.0.0.1 (port 0: any free one) for the one redirect of a login. opts: port,
--- path (default "/callback"), read_timeout (seconds one connection may take, default 5).
---@field loopback fun(opts?: ctct.oauth.Options): ctct.oauth.Loopback?, ctct.Error?
--- The whole native-app login: a loopback listener, the authorization URL with PKCE, the
--- browser (opts.open(url), default: print it), the redirect, and the code exchange. opts as
--- authorization_url plus client_secret?, open, timeout (the whole login, default 300 s),
--- read_timeout (one connection, default 5 s), port, token_url | authz_url, transport.
---@field login_pkce fun(opts: ctct.oauth.Options): ctct.oauth.Tokens?, ctct.Error?
local M = {}

M.AUTHZ_URL = request.AUTHZ_URL
M.SCOPES = request.SCOPES
M.PARTNER_TOKEN_URL = partner.PARTNER_TOKEN_URL
M.PARTNER_SCOPE = partner.PARTNER_SCOPE
M.Device = device.Device
M.Loopback = loopback.Loopback
M.parse_query = code.parse_query

--- The four endpoints under an authorization server base URL.
---@param base? string the authorization server's base URL (default AUTHZ_URL)
---@return {authorize: string, token: string, device: string, revoke: string} urls
function M.endpoints(base)
  return request.endpoints(base)
end

--- A PKCE pair (RFC 7636, S256): verifier, challenge. With a verifier, its challenge.
--- Raises on a verifier RFC 7636 does not allow.
---@param verifier? string default: a new random one
---@return string verifier
---@return string challenge
function M.pkce(verifier)
  return code.pkce(verifier)
end

--- The code from the redirect back to the app, after checking its state in
--- constant time. `callback`: the full URL, its query string, or a table of
--- parameters; `session` from authorization_url (or its state string).
--- Returns code | nil, auth error (state_mismatch, access_denied, ...).
---@param callback string|table<string, string> the callback URL, its query string, or its parameters
---@param session ctct.oauth.Session|string the session from authorization_url, or its state
---@return string|nil code
---@return ctct.Error? err
function M.parse_callback(callback, session)
  return code.parse_callback(callback, session)
end

-- The public flows check their option names and types first (options.check: an
-- unknown name or a wrong type raises, naming it and the nearest right name).
-- One table of settings may serve every flow (authorization_url, then
-- exchange_code with the same table), so each accepts the names of all of them.
local OPTIONS = {
  transport = "table", timeout = "number", connect_timeout = "number", cafile = "string", insecure = "boolean",
  time = "function", logger = "function", strict_scopes = "boolean",
  client_id = "string", client_secret = "string", scope = "table|string",
  authz_url = "string", authorize_url = "string", token_url = "string", device_url = "string",
  revoke_url = "string",
  redirect_uri = "string", state = "string", nonce = "string", prompt = "string", pkce = "boolean",
  code = "string", code_verifier = "string", session = "table",
  refresh_token = "string", token = "string", token_type_hint = "string",
  sleep = "function", on_prompt = "function",
  open = "function", port = "integer", path = "string", read_timeout = "number",
}
M.OPTIONS = OPTIONS
local FLOWS = { authorization_url = code.authorization_url, exchange_code = code.exchange_code,
                refresh = code.refresh, revoke = code.revoke, client_credentials = partner.client_credentials,
                device = device.device, loopback = loopback.loopback, login_pkce = loopback.login_pkce }
for name, fn in pairs(FLOWS) do
  local where = "ctct.oauth." .. name
  M[name] = function(opts, ...)
    if type(opts) == "table" then options.check(where, opts, OPTIONS, 2) end
    return fn(opts, ...)
  end
end

return M
