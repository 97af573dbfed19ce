--- ctct.oauth.code: the authorization code flow (+ PKCE): the URL to send the user
-- to, the callback's code (state checked in constant time), the code exchange, and
-- refresh and revoke, which use the same token endpoint.
local core = require "ctct.core"
local errors = require "ctct.errors"
local request = require "ctct.oauth.request"
local url = require "ctct.url"

local M = {}

--- A PKCE pair (RFC 7636, S256): verifier, challenge. With a verifier, its challenge.
--- Raises on a verifier RFC 7636 does not allow.
---@param verifier? string default: a new random one
---@return string verifier
---@return string challenge
function M.pkce(verifier)
  local v, challenge = core.oauth_pkce(verifier)
  if not v then request.bad("verifier", challenge) end
  return v, challenge
end

--- The URL to send the user to, and the session to keep until the callback:
-- { state, code_verifier, redirect_uri, nonce }.
-- opts: client_id, redirect_uri, scope (list), state (default random),
-- pkce (default true), nonce, prompt, authorize_url | authz_url, strict_scopes.
local function authorization_url(opts)
  if type(opts) ~= "table" then request.bad("options", "expected a table") end
  local params = {
    response_type = "code",
    client_id = request.need_string(opts, "client_id"),
    redirect_uri = request.check_redirect_uri(opts.redirect_uri),
    scope = request.scope_string(opts),
    state = opts.state or core.oauth_state(),
    nonce = opts.nonce,
    prompt = opts.prompt,
  }
  local session = { state = params.state, redirect_uri = params.redirect_uri, nonce = opts.nonce }
  if opts.pkce ~= false then
    local verifier, challenge = M.pkce()
    params.code_challenge, params.code_challenge_method = challenge, "S256"
    session.code_verifier = verifier
  end
  return core.oauth_authorize_url(request.endpoint(opts, "authorize"), params), session
end

--- A query string's parameters, decoded (application/x-www-form-urlencoded).
---@param q string
---@return table<string, string>
local function parse_query(q)
  local out = {}
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[url.unescape(k, true)] = url.unescape(v, true)
  end
  return out
end
M.parse_query = parse_query

--- The code from the redirect back to the app, after checking its state in
--- constant time. `callback`: the full URL, its query string, or a table of
--- parameters; `session` from authorization_url (or its state string).
--- Returns code | nil, auth error (state_mismatch, access_denied, ...).
---@param callback string|table<string, string> the callback URL, its query string, or its parameters
---@param session ctct.oauth.Session|string the session from authorization_url, or its state
---@return string|nil code
---@return ctct.Error? err
function M.parse_callback(callback, session)
  local expected = type(session) == "table" and session.state or session
  if type(expected) ~= "string" or expected == "" then
    request.bad("session", "the session (or state) from authorization_url")
  end
  local params = callback
  if type(callback) == "string" then
    params = parse_query(callback:match("%?([^#]*)") or callback:match("^[^/]*=.*$") and callback or "")
  elseif type(callback) ~= "table" then
    request.bad("callback", "the callback URL, its query string or its parameters")
  end
  local state = params.state
  if type(state) ~= "string" or not core.equal(state, expected) then
    return nil, errors.new { kind = "auth", error_key = "state_mismatch",
      message = "OAuth: the callback's state does not match this login (a forged or stale callback)" }
  end
  if params.error then
    return nil, errors.new { kind = "auth", error_key = params.error,
      message = "OAuth: " .. params.error .. ": " .. (params.error_description or "the login was not completed") }
  end
  if type(params.code) ~= "string" or params.code == "" then
    return nil, errors.new { kind = "auth", error_key = "invalid_callback",
      message = "OAuth: the callback has no code" }
  end
  return params.code
end

--- Exchange an authorization code for tokens. opts: client_id, client_secret (confidential
-- apps; public PKCE apps send none), code, session (from authorization_url) or
-- redirect_uri + code_verifier, token_url | authz_url, transport.
local function exchange_code(opts)
  if type(opts) ~= "table" then request.bad("options", "expected a table") end
  local session = opts.session or {}
  local params = {
    grant_type = "authorization_code",
    code = request.need_string(opts, "code"),
    redirect_uri = request.check_redirect_uri(opts.redirect_uri or session.redirect_uri),
    code_verifier = opts.code_verifier or session.code_verifier,
  }
  if not opts.client_secret and not params.code_verifier then
    request.bad("code_verifier", "a public client (no client_secret) must use PKCE")
  end
  return request.token_call(opts, params)
end

--- Refresh. opts: client_id, client_secret?, refresh_token, scope?, token_url | authz_url.
local function refresh(opts)
  if type(opts) ~= "table" then request.bad("options", "expected a table") end
  local params = { grant_type = "refresh_token", refresh_token = request.need_string(opts, "refresh_token") }
  if opts.scope then params.scope = request.scope_string(opts) end
  return request.token_call(opts, params)
end

--- Revoke a token where the server offers it (RFC 7009).
-- opts: client_id, client_secret?, token, token_type_hint?, revoke_url | authz_url.
local function revoke(opts)
  if type(opts) ~= "table" then request.bad("options", "expected a table") end
  local params = { token = request.need_string(opts, "token"), token_type_hint = opts.token_type_hint }
  local transport = request.transport_of(opts)
  local req = core.oauth_form_request(request.endpoint(opts, "revoke"), params, request.client_of(opts))
  local status, decoded = request.send(transport, req)
  if not status then return nil, decoded end
  if status == 200 then return true end
  local _, e = core.oauth_token(status, decoded, 0)
  return nil, request.auth_error(e)
end

M.authorization_url, M.exchange_code, M.refresh, M.revoke = authorization_url, exchange_code, refresh, revoke

return M
