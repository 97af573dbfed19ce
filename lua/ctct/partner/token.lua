--- ctct.partner.token: the partner JWT, cached in the process.
--
--   local tokens = token.new{ client_id = ..., client_secret = ..., token_url = ..., transport = ... }
--   local jwt, err = tokens:get()                 -- a cached one, or a new one
--   local jwt, err = tokens:after_unauthorized(used) -- the API said 401 to `used`
--
-- A partner token lives 3600 s and cannot be refreshed: a new one is asked for
-- `skew` seconds (default 60) before it expires, or once after a 401. Single
-- flight: while one request for a token is under way (e.g. over nginx
-- cosockets, where other coroutines run meanwhile), every other caller waits
-- for its answer instead of asking again. The secret is kept in a closure, not
-- in a visible field, so printing the object never shows it.
local errors = require "ctct.errors"
local lock = require "ctct.lock"
local oauth = require "ctct.oauth"

local M = {}
local Tokens = {}
Tokens.__index = Tokens
M.Tokens = Tokens

M.DEFAULT_LIFETIME = 3600
M.WAIT_STEP = 0.01

--- new{ client_id, client_secret, token_url?, scope?, skew = 60, transport, time = fn,
--       sleep = fn, logger?, wait_timeout = 60, shared_dict? }
-- shared_dict (inside nginx): the token is kept in that lua_shared_dict and asked
-- for by one worker for all (ctct.ngx.partner_token).
function M.new(opts)
  local secret = opts.client_secret
  local self = setmetatable({
    client_id = opts.client_id,
    token_url = opts.token_url,
    scope = opts.scope,
    skew = opts.skew or 60,
    transport = opts.transport,
    time = opts.time,
    sleep = opts.sleep,
    logger = opts.logger,
    wait_timeout = opts.wait_timeout or 60,
    account = "partner", -- for Client:__tostring
    requests = 0,        -- token requests made (tests, metrics)
  }, Tokens)
  if opts.shared_dict ~= nil then
    require("ctct.ngx.partner_token").attach(self, opts.shared_dict, 3)
  end
  self.fetch = function()
    return oauth.client_credentials {
      client_id = self.client_id, client_secret = secret, token_url = self.token_url, scope = self.scope,
      transport = self.transport, time = self.time,
    }
  end
  return self
end

function Tokens:__tostring()
  return "ctct.partner.token(" .. self.client_id .. ")"
end

function Tokens:fresh(tok)
  tok = tok or self.current
  return tok ~= nil and tok.expires_at - self.skew > self.time()
end

-- Wait for the request under way; returns its outcome.
function Tokens:wait_for_flight(flight)
  local done, err = lock.wait_until(function() return flight.done end, { timeout = self.wait_timeout,
    sleep = self.sleep, step = M.WAIT_STEP, message = "gave up waiting for the partner token request" })
  if not done then return nil, err end
  if flight.token then return flight.token.access_token end
  return nil, flight.err
end

-- Ask for a new token, or join the request already under way.
function Tokens:renew()
  if self.flight then return self:wait_for_flight(self.flight) end
  local flight = {}
  self.flight = flight
  self.requests = self.requests + 1
  local ok, tok, err = pcall(self.fetch)
  if not ok then
    tok, err = nil, errors.new { kind = "auth", error_key = "token_request_failed",
      message = "the partner token request failed: " .. tostring(tok) }
  end
  if tok then
    if type(tok.expires_at) ~= "number" then
      local jwt = require("ctct.jwt").decode(tok.access_token)
      tok.expires_at = jwt and jwt:expires_at() or (self.time() + M.DEFAULT_LIFETIME)
    end
    self.current = tok
    if self.logger then self.logger("info", "got a new partner token for client '" .. self.client_id .. "'") end
  end
  flight.token, flight.err, flight.done = tok, err, true
  self.flight = nil
  if not tok then return nil, err end
  return tok.access_token
end

--- The partner JWT to send now.
function Tokens:get()
  if self:fresh() then return self.current.access_token end
  if self.shared then return self.shared:get(self) end
  return self:renew()
end

--- The API answered 401 to `used`: a new token, unless one came meanwhile.
function Tokens:after_unauthorized(used)
  if self.shared then return self.shared:after_unauthorized(self, used) end
  if self.current and self.current.access_token ~= used and self:fresh() then
    return self.current.access_token
  end
  if self.flight then return self:wait_for_flight(self.flight) end
  self.current = nil
  return self:renew() -- the Client retries once with it, then reports the 401
end

--- Forget the cached token (the next call asks for a new one).
function Tokens:clear()
  self.current = nil
end

return M
