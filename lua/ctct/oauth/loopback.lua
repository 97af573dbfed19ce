--- ctct.oauth.loopback: native apps with a browser (RFC 8252): catch the one redirect
-- of a login on 127.0.0.1, and the whole login (login_pkce) around it.
local flow = require "ctct.oauth.code" -- authorization_url, parse_callback, exchange_code
local core = require "ctct.core"
local errors = require "ctct.errors"
local request = require "ctct.oauth.request"

--- The loopback redirect catcher (ctct.oauth.loopback and login_pkce are the same functions).
---@class ctct.oauth.loopback
---@field Loopback ctct.oauth.Loopback the class of a listener
---@field loopback fun(opts?: ctct.oauth.Options): ctct.oauth.Loopback?, ctct.Error? listen on 127.0.0.1
---@field login_pkce fun(opts: ctct.oauth.Options): ctct.oauth.Tokens?, ctct.Error? the whole native-app login
local M = {}

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
    request.bad("read_timeout", "a positive number of seconds")
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
      local code, err = flow.parse_callback(flow.parse_query(query or ""), session)
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
  if type(opts) ~= "table" then request.bad("options", "expected a table") end
  local catcher, err = loopback { port = opts.port, path = opts.path, read_timeout = opts.read_timeout }
  if not catcher then return nil, err end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.redirect_uri, o.pkce = catcher.redirect_uri, true
  local ok, url, session = pcall(flow.authorization_url, o)
  if not ok then catcher:close(); error(url, 2) end
  local open = opts.open or function(u) io.stderr:write("Open this URL to log in:\n  ", u, "\n") end
  open(url)
  local code
  code, err = catcher:wait(session, opts.timeout)
  if not code then return nil, err end
  o.code, o.session = code, session
  return flow.exchange_code(o)
end

M.loopback, M.login_pkce = loopback, login_pkce

return M
