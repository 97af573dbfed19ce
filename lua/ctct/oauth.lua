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
local config = require "ctct.config"
local core = require "ctct.core"
local errors = require "ctct.errors"
local json = require "ctct.json"
local options = require "ctct.options"

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

M.AUTHZ_URL = "https://authz.constantcontact.com/oauth2/default/v1"

--- The scopes Constant Contact defines (protocol reference), plus OpenID's.
M.SCOPES = { "account_read", "account_update", "contact_data", "campaign_data", "billing_data",
             "offline_access", "openid" }
local KNOWN_SCOPE = {}
for _, s in ipairs(M.SCOPES) do KNOWN_SCOPE[s] = true end

--- The four endpoints under an authorization server base URL.
---@param base? string the authorization server's base URL (default AUTHZ_URL)
---@return {authorize: string, token: string, device: string, revoke: string} urls
function M.endpoints(base)
  base = (base or M.AUTHZ_URL):gsub("/+$", "")
  return { authorize = base .. "/authorize", token = base .. "/token",
           device = base .. "/device/authorize", revoke = base .. "/revoke" }
end

-- Raise a programmer error naming the argument (level 3: the caller of the flow).
local function bad(name, rule)
  error("ctct.oauth: bad argument '" .. name .. "': " .. rule, 3)
end

local function need_string(opts, name)
  local v = opts[name]
  if type(v) ~= "string" or v == "" then bad(name, "required (a non-empty string)") end
  return v
end

local function endpoint(opts, which)
  local given = opts[which .. "_url"]
  if given ~= nil then
    if type(given) ~= "string" or not given:match("^https?://[^/%s]+") then
      bad(which .. "_url", "must be an absolute http(s) URL")
    end
    return given
  end
  return M.endpoints(opts.authz_url)[which]
end

-- Scopes as one space-separated string; unknown names are refused with the
-- valid list (a typo would otherwise surface as a confusing server error),
-- unless opts.strict_scopes == false (other servers), which only warns.
local function scope_string(opts)
  local scope = opts.scope
  if type(scope) == "string" then
    local list = {}
    for s in scope:gmatch("%S+") do list[#list + 1] = s end
    scope = list
  end
  if type(scope) ~= "table" or #scope == 0 then
    bad("scope", "a non-empty list such as { \"contact_data\", \"offline_access\" }")
  end
  for _, s in ipairs(scope) do
    if type(s) ~= "string" or s:find("[%s%c\"\\]") then bad("scope", "scope names are plain words") end
    if not KNOWN_SCOPE[s] then
      local msg = "unknown scope '" .. s .. "'; Constant Contact's scopes are " .. table.concat(M.SCOPES, ", ")
      if opts.strict_scopes == false then
        if opts.logger then opts.logger("warn", "ctct.oauth: " .. msg) end
      else
        bad("scope", msg)
      end
    end
  end
  return table.concat(scope, " ")
end

local function check_redirect_uri(uri)
  if type(uri) ~= "string" or not uri:match("^https?://[^/%s]+") then
    bad("redirect_uri", "must be an absolute http(s) URL registered for the app")
  end
  if uri:find("#", 1, true) then bad("redirect_uri", "must not contain a fragment") end
  return uri
end

local function client_of(opts)
  local id = need_string(opts, "client_id")
  local secret = opts.client_secret
  if secret ~= nil and (type(secret) ~= "string" or secret == "") then
    bad("client_secret", "must be a non-empty string when given")
  end
  return { id = id, secret = secret }
end

-- The transport for a call: the caller's, or a new one (ngx inside nginx, else curl).
local function transport_of(opts)
  return config.transport { transport = opts.transport, timeout = opts.timeout or 30,
                            connect_timeout = opts.connect_timeout, cafile = opts.cafile, insecure = opts.insecure }
end

local function wall_clock(opts, transport)
  return opts.time or transport.time or core.time
end

local function auth_error(e)
  if errors.is(e) then return e end
  return errors.new { kind = "auth", error_key = e.error_key, status = e.status,
                      message = "OAuth: " .. (e.error_key or "error") .. ": " .. (e.message or "") }
end

-- POST a form request; returns status, decoded JSON (or nil) | nil, err.
local function send(transport, req)
  local res, err = transport:request(req)
  if not res then return nil, err end
  return res.status, json.decode(res.body or "")
end

-- Run a token request and parse the answer into a token.
local function token_call(opts, params)
  local transport = transport_of(opts)
  local req = core.oauth_form_request(endpoint(opts, "token"), params, client_of(opts))
  local status, decoded = send(transport, req)
  if not status then return nil, decoded end
  local token, e = core.oauth_token(status, decoded, wall_clock(opts, transport)())
  if not token then return nil, auth_error(e) end
  return token
end

--- A PKCE pair (RFC 7636, S256): verifier, challenge. With a verifier, its challenge.
--- Raises on a verifier RFC 7636 does not allow.
---@param verifier? string default: a new random one
---@return string verifier
---@return string challenge
function M.pkce(verifier)
  local v, challenge = core.oauth_pkce(verifier)
  if not v then bad("verifier", challenge) end
  return v, challenge
end

--- The URL to send the user to, and the session to keep until the callback:
-- { state, code_verifier, redirect_uri, nonce }.
-- opts: client_id, redirect_uri, scope (list), state (default random),
-- pkce (default true), nonce, prompt, authorize_url | authz_url, strict_scopes.
local function authorization_url(opts)
  if type(opts) ~= "table" then bad("options", "expected a table") end
  local params = {
    response_type = "code",
    client_id = need_string(opts, "client_id"),
    redirect_uri = check_redirect_uri(opts.redirect_uri),
    scope = scope_string(opts),
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
  return core.oauth_authorize_url(endpoint(opts, "authorize"), params), session
end

local function parse_query(q)
  local out = {}
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    local function unescape(s)
      return (s:gsub("%+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
    end
    out[unescape(k)] = unescape(v)
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
    bad("session", "the session (or state) from authorization_url")
  end
  local params = callback
  if type(callback) == "string" then
    params = parse_query(callback:match("%?([^#]*)") or callback:match("^[^/]*=.*$") and callback or "")
  elseif type(callback) ~= "table" then
    bad("callback", "the callback URL, its query string or its parameters")
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
  if type(opts) ~= "table" then bad("options", "expected a table") end
  local session = opts.session or {}
  local params = {
    grant_type = "authorization_code",
    code = need_string(opts, "code"),
    redirect_uri = check_redirect_uri(opts.redirect_uri or session.redirect_uri),
    code_verifier = opts.code_verifier or session.code_verifier,
  }
  if not opts.client_secret and not params.code_verifier then
    bad("code_verifier", "a public client (no client_secret) must use PKCE")
  end
  return token_call(opts, params)
end

--- Refresh. opts: client_id, client_secret?, refresh_token, scope?, token_url | authz_url.
local function refresh(opts)
  if type(opts) ~= "table" then bad("options", "expected a table") end
  local params = { grant_type = "refresh_token", refresh_token = need_string(opts, "refresh_token") }
  if opts.scope then params.scope = scope_string(opts) end
  return token_call(opts, params)
end

--- Revoke a token where the server offers it (RFC 7009).
-- opts: client_id, client_secret?, token, token_type_hint?, revoke_url | authz_url.
local function revoke(opts)
  if type(opts) ~= "table" then bad("options", "expected a table") end
  local params = { token = need_string(opts, "token"), token_type_hint = opts.token_type_hint }
  local transport = transport_of(opts)
  local status, decoded = send(transport, core.oauth_form_request(endpoint(opts, "revoke"), params, client_of(opts)))
  if not status then return nil, decoded end
  if status == 200 then return true end
  local _, e = core.oauth_token(status, decoded, 0)
  return nil, auth_error(e)
end

-- Technology partners: the client credentials grant ----------------------------------

M.PARTNER_TOKEN_URL = "https://v3api-partner.auth.us-east-1.amazoncognito.com/oauth2/token"
M.PARTNER_SCOPE = "v3api/general.partner"

--- A partner token (client credentials grant at the partner token endpoint).
-- opts: client_id, client_secret, scope? (default v3api/general.partner),
-- token_url? (default M.PARTNER_TOKEN_URL), transport?, time?, timeout?, cafile?.
-- Returns a token { access_token, token_type, expires_at, obtained_at, scope? }
-- (it cannot be refreshed: ask for a new one) or nil, err (kind "auth" with the
-- server's OAuth error in error_key, or network/timeout/tls). The secret never
-- appears in an error.
local function client_credentials(opts)
  if type(opts) ~= "table" then bad("options", "expected a table") end
  local id = need_string(opts, "client_id")
  local secret = opts.client_secret
  if type(secret) ~= "string" or secret == "" then bad("client_secret", "required (a non-empty string)") end
  local scope = opts.scope or M.PARTNER_SCOPE
  if type(scope) == "table" then scope = table.concat(scope, " ") end
  if type(scope) ~= "string" or scope == "" or scope:find("%c") then
    bad("scope", "a non-empty string such as " .. M.PARTNER_SCOPE)
  end
  local token_url = opts.token_url or M.PARTNER_TOKEN_URL
  if type(token_url) ~= "string" or not token_url:match("^https?://[^/%s]+") then
    bad("token_url", "must be an absolute http(s) URL")
  end
  local transport = transport_of(opts)
  local ok, req = pcall(core.oauth_client_credentials_request, token_url, id, secret, scope)
  if not ok then bad("client_id", "cannot build the token request (too long or invalid)") end
  local res, err = transport:request(req)
  if not res then return nil, err end
  local decoded = json.decode(res.body or "")
  local token, e = core.oauth_token(res.status, decoded, wall_clock(opts, transport)())
  if not token then
    if e.error_key == "server_error" and res.status == 415 then
      e.error_key = "unsupported_media_type"
    end
    e = auth_error(e)
    -- A server may echo what it was sent: the secret never leaves in error text.
    if e.message and e.message:find(secret, 1, true) then
      e.message = e.message:gsub(secret:gsub("%p", "%%%0"), "[secret]")
    end
    return nil, e
  end
  return token
end

-- The device flow --------------------------------------------------------------------

--- A device flow in progress (RFC 8628): show verification_uri and user_code, then wait().
---@class ctct.oauth.Device
---@field user_code string the code the user enters
---@field verification_uri string where the user enters it
---@field verification_uri_complete? string the URI with the code in it
---@field expires_in integer seconds the code had left when the flow started
---@field interval number seconds between polls (the server's; slow_down adds 5)
---@field token_url string
---@field on_prompt? fun(device: ctct.oauth.Device) the flow's on_prompt option
local Device = {}
Device.__index = Device
M.Device = Device

--- Start the device flow (RFC 8628). opts: client_id, client_secret?, scope,
-- device_url, token_url | authz_url, transport, time, sleep, on_prompt.
-- Returns a device: fields user_code, verification_uri, verification_uri_complete,
-- expires_in, interval; methods poll() and wait{...}.
local function device(opts)
  if type(opts) ~= "table" then bad("options", "expected a table") end
  local client = client_of(opts)
  local transport = transport_of(opts)
  local time = wall_clock(opts, transport)
  local req = core.oauth_form_request(endpoint(opts, "device"), { scope = scope_string(opts) }, client)
  local status, decoded = send(transport, req)
  if not status then return nil, decoded end
  if status < 200 or status > 299 then
    local _, e = core.oauth_token(status, decoded, 0)
    return nil, auth_error(e)
  end
  local state, e = core.oauth_device(decoded, time())
  if not state then return nil, auth_error(e) end
  local info = state:info()
  return setmetatable({
    user_code = info.user_code,
    verification_uri = info.verification_uri,
    verification_uri_complete = info.verification_uri_complete,
    expires_in = math.floor(info.expires_at - time()),
    interval = info.interval,
    state = state, client = client, transport = transport, time = time,
    sleep = opts.sleep or transport.sleep or core.sleep,
    token_url = endpoint(opts, "token"),
    on_prompt = opts.on_prompt,
  }, Device)
end

--- One poll of the token endpoint. Returns the token, or nil and an error: with
--- `pending = true` (and error_key authorization_pending or slow_down) while the
--- user has not answered yet, final otherwise (access_denied, expired_token, ...).
---@return ctct.oauth.Tokens|nil token
---@return ctct.Error? err
function Device:poll()
  local status, decoded = send(self.transport, self.state:poll_request(self.token_url, self.client))
  if not status then return nil, decoded end
  local outcome, value = self.state:handle(status, decoded, self.time())
  if outcome == "token" then return value end
  if outcome == "pending" or outcome == "slow_down" then
    self.interval = self.state:info().interval
    return nil, errors.new { kind = "auth", pending = true,
      error_key = outcome == "pending" and "authorization_pending" or "slow_down",
      message = "OAuth: waiting for the user to approve (" .. outcome .. ")" }
  end
  return nil, auth_error(value)
end

--- Poll at the server's pace (slow_down adds 5 s) until the user approves,
--- denies, or the code expires. opts: on_prompt(device) called once first
--- (show verification_uri and user_code), timeout (seconds, besides the code's
--- own expiry), on_poll(err) after each pending answer. Raises on a bad option.
---@param opts? {on_prompt?: fun(device: ctct.oauth.Device), on_poll?: fun(err: ctct.Error), timeout?: number}
---@return ctct.oauth.Tokens|nil token
---@return ctct.Error? err
function Device:wait(opts)
  opts = options.check("ctct.oauth device:wait", opts,
    { on_prompt = "function", on_poll = "function", timeout = "number" }, 2)
  local prompt = opts.on_prompt or self.on_prompt
  if prompt then prompt(self) end
  local deadline = opts.timeout and self.time() + opts.timeout
  while true do
    local wait, e = self.state:wait_time(self.time())
    if not wait then return nil, auth_error(e) end
    if deadline and self.time() + wait > deadline then
      return nil, errors.new { kind = "timeout", message = "OAuth: gave up waiting for the device approval" }
    end
    if wait > 0 then self.sleep(wait) end
    local token, err = self:poll()
    if token then return token end
    if not err.pending then return nil, err end
    if opts.on_poll then opts.on_poll(err) end
  end
end

-- The loopback redirect catcher (RFC 8252) -----------------------------------------------

--- A listener on 127.0.0.1 for the redirect of one login (RFC 8252).
---@class ctct.oauth.Loopback
---@field redirect_uri string "http://127.0.0.1:<port><path>", to register and send
---@field port integer the port listened on
---@field path string the redirect's path (default "/callback")
---@field read_timeout number seconds one connection may take to send its request
local Loopback = {}
Loopback.__index = Loopback
M.Loopback = Loopback

local PAGE = [[<!doctype html><meta charset="utf-8"><title>%s</title>
<body style="font-family:sans-serif;margin:3em"><h1>%s</h1><p>%s</p></body>]]

--- Listen on 127.0.0.1 (port 0: any free one) for the one redirect of a login.
-- opts: port, path (default "/callback"), read_timeout (seconds one connection
-- may take to send its request, default 5). Fields: redirect_uri, port.
local function loopback(opts)
  opts = opts or {}
  local read_timeout = opts.read_timeout or 5
  if type(read_timeout) ~= "number" or not (read_timeout > 0) then
    bad("read_timeout", "a positive number of seconds")
  end
  local listener, err = core.loopback_listen(opts.port or 0)
  if not listener then return nil, errors.new { kind = "network", message = "cannot listen on 127.0.0.1: " .. err } end
  local path = opts.path or "/callback"
  local port = listener:port()
  return setmetatable({ listener = listener, port = port, path = path, read_timeout = read_timeout,
                        redirect_uri = "http://127.0.0.1:" .. port .. path }, Loopback)
end

--- Wait (at most `timeout` seconds, default 300) for the redirect, answer the
--- browser, close the listener, and return the checked code (see parse_callback).
--- Only the redirect of this login ends the wait: a connection that sends
--- nothing is dropped after read_timeout (others are read meanwhile), a callback
--- whose state is not this login's (forged or stale) gets a 400 page, another
--- path a 404, and the wait goes on until the deadline.
---@param session ctct.oauth.Session|string the session from authorization_url, or its state
---@param timeout? number seconds (default 300)
---@return string|nil code
---@return ctct.Error? err
function Loopback:wait(session, timeout)
  local deadline = core.monotonic() + (timeout or 300)
  while true do
    local left = deadline - core.monotonic()
    if left <= 0 then break end
    local method, target = self.listener:accept(left, math.min(self.read_timeout, left))
    if not method then
      if target == "timeout" then break end
      self:close()
      return nil, errors.new { kind = "network", message = "loopback redirect: " .. tostring(target) }
    end
    local path, query = target:match("^([^?]*)%??(.*)$")
    if path == self.path and method == "GET" then
      local code, err = M.parse_callback(parse_query(query or ""), session)
      if code or err.error_key ~= "state_mismatch" then
        -- This login's answer (its state matched): a code, or the server's error.
        local title = code and "Login complete" or "Login failed"
        local text = code and "You can close this window and return to the application."
          or "The application reports: " .. (err.error_key or "error") .. "."
        self.listener:respond(code and 200 or 400, "text/html; charset=utf-8", PAGE:format(title, title, text))
        self:close()
        return code, err
      end
      -- Not this login's callback: refuse it and keep waiting for the real one.
      self.listener:respond(400, "text/html; charset=utf-8", PAGE:format("Login failed", "Login failed",
        "This is not the answer to the login in progress (its state does not match)."))
    elseif path == self.path then
      self.listener:respond(400, "text/plain", "bad request\n") -- not a GET, or not HTTP
    else
      self.listener:respond(404, "text/plain", "not found\n") -- favicon and the like
    end
  end
  self:close()
  return nil, errors.new { kind = "timeout", message = "OAuth: no redirect arrived on " .. self.redirect_uri }
end

--- Stop listening (wait does it when it returns).
function Loopback:close()
  self.listener:close()
end

--- The whole native-app login: a loopback listener, the authorization URL with
-- PKCE, the browser (opts.open(url), default: print it), the redirect, and the
-- code exchange. opts as authorization_url plus client_secret?, open, timeout
-- (the whole login, default 300 s), read_timeout (one connection, default 5 s),
-- port, token_url | authz_url, transport.
local function login_pkce(opts)
  if type(opts) ~= "table" then bad("options", "expected a table") end
  local catcher, err = loopback { port = opts.port, path = opts.path, read_timeout = opts.read_timeout }
  if not catcher then return nil, err end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.redirect_uri, o.pkce = catcher.redirect_uri, true
  local ok, url, session = pcall(authorization_url, o)
  if not ok then catcher:close(); error(url, 2) end
  local open = opts.open or function(u) io.stderr:write("Open this URL to log in:\n  ", u, "\n") end
  open(url)
  local code
  code, err = catcher:wait(session, opts.timeout)
  if not code then return nil, err end
  o.code, o.session = code, session
  return exchange_code(o)
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
local FLOWS = { authorization_url = authorization_url, exchange_code = exchange_code, refresh = refresh,
                revoke = revoke, client_credentials = client_credentials, device = device,
                loopback = loopback, login_pkce = login_pkce }
for name, fn in pairs(FLOWS) do
  local where = "ctct.oauth." .. name
  M[name] = function(opts, ...)
    if type(opts) == "table" then options.check(where, opts, OPTIONS, 2) end
    return fn(opts, ...)
  end
end

return M
