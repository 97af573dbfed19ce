--- ctct_example.connect: "connect your Constant Contact account" for the app's users.
--
--   GET /connect            -> 302 to Constant Contact's login (authorization code + PKCE),
--                              the login's state in a signed HttpOnly cookie
--   GET /connect/callback   -> checks state, exchanges the code (through the ngx
--                              transport), stores the tokens under "user:<app user>"
--   GET /me/account         -> one API call with that user's token (refreshed when
--                              it is about to expire, once for all workers)
local oauth = require "ctct.oauth"
local config = require "ctct_example.config"
local cookie = require "ctct_example.cookie"

local M = {}

local LOGIN_MAX_AGE = 600

local function secure()
  return config.settings.redirect_uri:match("^https://") ~= nil
end

function M.start()
  local user = config.app_user()
  if not user then return config.json(401, { error = "not signed in to the app" }) end
  local s = config.settings
  local url, session = oauth.authorization_url {
    client_id = s.client_id, redirect_uri = s.redirect_uri, scope = s.scope, authz_url = s.authz_url,
  }
  ngx.header["Set-Cookie"] = cookie.make(s.cookie_secret, {
    user = user, state = session.state, verifier = session.code_verifier, redirect_uri = session.redirect_uri,
  }, LOGIN_MAX_AGE, secure())
  ngx.header["Cache-Control"] = "no-store"
  return ngx.redirect(url, 302)
end

function M.callback()
  local s = config.settings
  local login, why = cookie.read(s.cookie_secret)
  if not login then
    ngx.log(ngx.WARN, "ctct connect: ", why)
    return config.json(400, { error = "bad_login", message = why })
  end
  ngx.header["Set-Cookie"] = cookie.clear(secure())  -- one use, success or not
  local session = { state = login.state, code_verifier = login.verifier, redirect_uri = login.redirect_uri }
  local code, err = oauth.parse_callback(ngx.var.args or "", session)
  if not code then
    ngx.log(ngx.WARN, "ctct connect: ", tostring(err))
    return config.json(400, { error = err.error_key, message = err.message })
  end
  local token
  token, err = oauth.exchange_code {
    client_id = s.client_id, client_secret = s.client_secret, authz_url = s.authz_url,
    code = code, session = session, timeout = s.timeout,
  }
  if not token then return config.fail(err, "exchanging the authorization code") end
  local ok, serr = config.store():set("user:" .. login.user, token)
  if not ok then return config.fail(serr, "storing the tokens") end
  return config.json(200, { connected = true, user = login.user })
end

function M.account()
  local user = config.app_user()
  if not user then return config.json(401, { error = "not signed in to the app" }) end
  local client = config.client_for("user:" .. user)
  local summary, err = client.account:summary()
  if not summary then return config.fail(err, "reading the account summary") end
  return config.json(200, { organization_name = summary.organization_name, encoded_account_id =
    summary.encoded_account_id })
end

return M
