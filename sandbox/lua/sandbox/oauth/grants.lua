-- Issuing, refreshing and revoking tokens.
--
-- A grant is one approval by the user (a code exchange or a device approval) and the
-- family of tokens that descends from it: every access and refresh token names its
-- grant id, so revoking the family is one write (auth.revoke_grant), checked on every
-- later use.
--   oauth:rt:<refresh_token>       -> JSON { cid, account, scopes, grant, auth_time, nonce }
--                                     (TTL: 180 days, the real idle expiry)
--   oauth:rt:<refresh_token>:used  -> times presented while rotation was on; the one
--                                     request whose incr answers 1 wins
local json = require "sandbox.json"
local store = require "sandbox.store"
local auth = require "sandbox.auth"
local issuer = require "sandbox.issuer"
local common = require "sandbox.oauth.common"
local settings = require "sandbox.oauth.settings"
local counters = require "sandbox.oauth.counters"

local m = store.m
local fail = common.fail

local _M = {}

local REFRESH_IDLE = 180 * 86400

local function rt_key(token) return "oauth:rt:" .. token end

function _M.new_grant_id()
  return common.random(18)
end

-- The token response for g = { cid, account, scopes, grant, auth_time, nonce,
-- granted }: scopes are the access token's, granted (default: scopes) the grant's,
-- which a refresh token keeps even when a refresh narrows the access token's.
-- refresh_token: answer this one again (rotation off) instead of making a new one.
function _M.issue(g, refresh_token)
  local cfg = settings.get()
  local ttl = cfg.access_token_ttl
  local granted = g.granted or g.scopes
  local token, claims = issuer.access_token{
    client_id = g.cid, account = g.account, scopes = g.scopes, ttl = ttl, auth_time = g.auth_time,
  }
  -- Usable on /v3 until the exp claim, to the millisecond (a TTL of 0 would be "never").
  auth.register(token, g.account, math.max(0.001, claims.exp - ngx.now()), g.grant)
  local body = {
    access_token = token, token_type = "Bearer", expires_in = ttl, scope = table.concat(g.scopes, " "),
  }
  if common.has(granted, "offline_access") then
    if not refresh_token then
      refresh_token = common.random(32)
      m.set_json(rt_key(refresh_token), {
        cid = g.cid, account = g.account, scopes = granted, grant = g.grant,
        auth_time = g.auth_time, nonce = g.nonce, issued_at = ngx.now(),
      }, REFRESH_IDLE)
    end
    body.refresh_token = refresh_token
  end
  if common.has(g.scopes, "openid") then
    body.id_token = issuer.id_token{
      client_id = g.cid, account = g.account, ttl = ttl, auth_time = g.auth_time, nonce = g.nonce,
    }
  end
  return body
end

-- A refresh token's record (any state), or nil.
function _M.refresh_record(token)
  return m.get_json(rt_key(token))
end

local INVALID_RT = "The refresh token is invalid or expired."

-- A used refresh token came back: someone holds a stale copy, so the whole family goes
-- (RFC 9700 4.14.2, as Okta and oidc-provider do).
local function reuse(rec)
  counters.bump("refresh_reuse")
  auth.revoke_grant(rec.grant)
  fail(400, "invalid_grant", INVALID_RT)
end

-- grant_type=refresh_token for client.
function _M.refresh(client, form)
  local token = form.refresh_token
  if not token then fail(400, "invalid_request", "The 'refresh_token' parameter is required.") end
  local rec = _M.refresh_record(token)
  if not rec or rec.cid ~= client.client_id then fail(400, "invalid_grant", INVALID_RT) end
  local used_key = rt_key(token) .. ":used"
  if m.get(used_key) then reuse(rec) end   -- rotated away already, whatever the config is now
  if auth.grant_revoked(rec.grant) then fail(400, "invalid_grant", INVALID_RT) end

  local scopes = rec.scopes
  if form.scope then
    -- A refresh may narrow the scopes, never widen them (RFC 6749 6).
    local asked, why = common.parse_scopes(form.scope)
    if not asked then fail(400, "invalid_scope", why) end
    for _, s in ipairs(asked) do
      if not common.has(rec.scopes, s) then
        fail(400, "invalid_scope", "The requested scope '" .. s .. "' was not granted to this refresh token.")
      end
    end
    scopes = asked
  end

  local early = settings.get().early_refresh_age
  if early > 0 and rec.issued_at and ngx.now() - rec.issued_at < early then counters.bump("early_refresh") end
  local g = { cid = rec.cid, account = rec.account, scopes = scopes, granted = rec.scopes,
              grant = rec.grant, auth_time = rec.auth_time, nonce = rec.nonce }
  local body
  if settings.get().refresh_rotation then
    -- incr is atomic across workers: of simultaneous requests exactly one sees 1.
    if m.incr(used_key, 1, 0, REFRESH_IDLE) ~= 1 then reuse(rec) end
    body = _M.issue(g)
  else
    m.set_json(rt_key(token), rec, REFRESH_IDLE)   -- long-lived: the idle expiry starts again
    body = _M.issue(g, token)
  end
  counters.bump("refresh_token")
  return body
end

-- The client id (cid claim) of an access token the sandbox issued, or nil.
function _M.token_client(token)
  local payload = token:match("^[^.]+%.([^.]+)%.[^.]+$")
  local text = payload and common.b64url_decode(payload)
  local claims = text and json.decode(text)
  return type(claims) == "table" and claims.cid or nil
end

-- RFC 7009: revokes token when it is a live token issued to client; answers whether
-- it did. A refresh token takes its whole family (access tokens included) with it.
function _M.revoke(client, token)
  local rec = _M.refresh_record(token)
  if rec then
    if rec.cid ~= client.client_id or auth.grant_revoked(rec.grant) then return false end
    auth.revoke_grant(rec.grant)
    return true
  end
  if _M.token_client(token) == client.client_id and auth.lookup(token) then
    auth.revoke(token)
    return true
  end
  return false
end

return _M
