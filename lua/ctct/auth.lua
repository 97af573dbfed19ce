--- ctct.auth: keeping one account's access token fresh, from a token store.
--
-- A client made with `token_store` (and client_id, client_secret?) asks this
-- token source (get, after_unauthorized) for a token before each request:
--   * a stored token that is still fresh (expires_at more than `refresh_skew`
--     seconds away) is used as is;
--   * otherwise it is refreshed under the store's lock: whoever gets the lock
--     first refreshes, and everyone who waited finds the new token in the store
--     and uses it (single flight, within a process and, for the file store,
--     across processes);
--   * the new token (with its rotated refresh token) is written to the store
--     BEFORE it is used: rotating refresh tokens are single use, and a new one
--     lost after use would lock the account out;
--   * after a 401, the token is refreshed once (it may have been revoked or
--     aged out early), and if that cannot work the error says a new login is
--     needed (error_key "login_required").
local core = require "ctct.core"
local errors = require "ctct.errors"
local lock = require "ctct.lock"
local oauth = require "ctct.oauth"

local M = {}
local Auth = {}
Auth.__index = Auth

local function login_required(account, why)
  return errors.new { kind = "auth", error_key = "login_required",
                      message = "a new login is needed for account '" .. account .. "': " .. why }
end

--- new{ store, account = "default", client_id, client_secret?, token_url?, authz_url?,
--       refresh_skew = 60, transport?, time = fn, logger? }
function M.new(opts)
  return setmetatable({
    store = opts.store,
    account = opts.account or "default",
    client_id = opts.client_id,
    client_secret = opts.client_secret,
    token_url = opts.token_url,
    authz_url = opts.authz_url,
    skew = opts.refresh_skew or 60,
    sleep = opts.sleep or core.sleep,
    store_retry = opts.store_retry or 10, -- seconds a refreshed token may wait for the store
    transport = opts.transport,
    time = opts.time,
    logger = opts.logger,
    refreshes = 0, -- how many refreshes this object made (tests, metrics)
  }, Auth)
end

function Auth:log(level, message)
  if self.logger then self.logger(level, message) end
end

-- Expiry of a token: expires_at, else the JWT's exp claim (unverified: it is
-- our own token), else unknown (then only a 401 triggers a refresh).
local function expiry(token)
  if type(token.expires_at) == "number" then return token.expires_at end
  local jwt = require("ctct.jwt").decode(token.access_token or "")
  return jwt and jwt:expires_at() or nil
end

function Auth:fresh(token)
  if type(token) ~= "table" or type(token.access_token) ~= "string" then return false end
  local exp = expiry(token)
  return exp == nil or exp - self.skew > self.time()
end

-- Refresh under the lock unless someone else already replaced `seen`.
function Auth:refresh_locked(seen)
  return self.store:lock(self.account, function()
    local current, err = self.store:get(self.account)
    if err then return nil, err end
    if not current then return nil, login_required(self.account, "no stored token") end
    if seen and current.access_token ~= seen.access_token and self:fresh(current) then
      return current -- refreshed by another process or coroutine while we waited
    end
    if not current.refresh_token then
      return nil, login_required(self.account, "the access token expired and there is no refresh token " ..
        "(ask for the offline_access scope)")
    end
    if not self.client_id then
      return nil, login_required(self.account, "no client_id to refresh with")
    end
    local new
    new, err = oauth.refresh {
      client_id = self.client_id, client_secret = self.client_secret,
      refresh_token = current.refresh_token, token_url = self.token_url, authz_url = self.authz_url,
      transport = self.transport, time = self.time,
    }
    if not new then
      if err.kind == "auth" and (err.error_key == "invalid_grant" or err.error_key == "invalid_token") then
        -- Another host may have rotated it (a lease that expired mid-refresh): read again
        -- before declaring the account lost.
        local again = self.store:get(self.account)
        if again and again.refresh_token ~= current.refresh_token and self:fresh(again) then return again end
        return nil, login_required(self.account, "the refresh token was rejected (" .. err.error_key .. ")")
      end
      return nil, err
    end
    -- A server with long-lived refresh tokens may not send one back: keep ours.
    new.refresh_token = new.refresh_token or current.refresh_token
    local ok, serr = self.store:set(self.account, new)
    if not ok and serr and serr.kind == "storage" and not tostring(serr.message):find("newer token", 1, true) then
      -- The refresh token is spent: the new one must reach the store. A store that is
      -- briefly away (a Redis restart or failover) is asked again, for up to store_retry s.
      ok, serr = lock.wait_until(function()
        local done, e = self.store:set(self.account, new)
        if done then return true end
        return false, e
      end, { timeout = self.store_retry, sleep = self.sleep, step = 0.1, max_step = 1,
             message = "the store stayed unavailable for " .. self.store_retry .. " s" })
    end
    if not ok then
      return nil, errors.new { kind = "auth", error_key = "store_failed",
        message = "refreshed, but the new token could not be stored, so it is not used: " ..
          tostring(serr and serr.message or serr) }
    end
    self.refreshes = self.refreshes + 1
    self:log("info", "refreshed the access token of account '" .. self.account .. "'")
    return new
  end)
end

--- The access token to send now (refreshing first when it is about to expire):
-- the token source interface (get, after_unauthorized) ctct.new's token_source takes.
function Auth:get()
  local current, err = self.store:get(self.account)
  if err then return nil, err end
  if not current then
    return nil, login_required(self.account, "no token stored; log in first")
  end
  if self:fresh(current) then return current.access_token end
  local new
  new, err = self:refresh_locked(current)
  if not new then return nil, err end
  return new.access_token
end

--- The server answered 401 to `used` (an access token string): refresh once.
function Auth:after_unauthorized(used)
  local current = self.store:get(self.account)
  if current and current.access_token ~= used and self:fresh(current) then
    return current.access_token -- already replaced since the request went out
  end
  local new, err = self:refresh_locked(current and current.access_token == used and current or { access_token = used })
  if not new then return nil, err end
  if new.access_token == used then
    return nil, login_required(self.account, "the token was refused and refreshing gave no new one")
  end
  return new.access_token
end

return M
