-- The device authorization grant (RFC 8628): POST /oauth2/default/v1/device/authorize,
-- polling at the token endpoint, and the user's approval (admin POST
-- /__sandbox/oauth/device, or the page at verification_uri, /activate).
--   oauth:dc:<device_code>           -> JSON { cid, scopes, user_code, expires_at, interval }
--                                       (kept an hour past expiry, to answer expired_token)
--   oauth:dc:<device_code>:decision  -> "approve <account>" or "deny" (dict:add: decided once)
--   oauth:dc:<device_code>:last      -> time of the last poll
--   oauth:dc:<device_code>:interval  -> the current interval (slow_down adds 5 s)
--   oauth:dc:<device_code>:used      -> token exchanges after approval (incr: first one wins)
--   oauth:uc:<USERCODE>              -> device_code (upper case, no dash)
local store = require "sandbox.store"
local http = require "sandbox.http"
local auth = require "sandbox.auth"
local jose = require "sandbox.jose"
local issuer = require "sandbox.issuer"
local common = require "sandbox.oauth.common"
local clients = require "sandbox.oauth.clients"
local settings = require "sandbox.oauth.settings"
local grants = require "sandbox.oauth.grants"
local counters = require "sandbox.oauth.counters"
local pages = require "sandbox.oauth.pages"

local m = store.m
local fail = common.fail

local _M = {}

_M.PAGE_PATH = "/activate"   -- the real verification_uri is a page on the authorization host too

local KEEP_EXPIRED = 3600

local function dc_key(device_code) return "oauth:dc:" .. device_code end
local function uc_key(user_code) return "oauth:uc:" .. user_code end

-- RFC 8628 6.1: 20 consonants, no vowels (no words) and no look-alikes; 8 of them
-- give about 34.6 bits.
local ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"

local function new_user_code()
  local out = {}
  while #out < 8 do
    for b in jose.random_bytes(16):gmatch(".") do
      local v = b:byte()
      if v < 240 and #out < 8 then   -- 240 = 12 * 20: no modulo bias
        local k = v % 20 + 1
        out[#out + 1] = ALPHABET:sub(k, k)
      end
    end
  end
  return table.concat(out)
end

-- "abcd-efgh", "ABCDEFGH" and "ABCD EFGH" are the same code.
local function normalize(user_code)
  if type(user_code) ~= "string" then return nil end
  return (user_code:upper():gsub("[%s%-]", ""))
end

-- POST /oauth2/default/v1/device/authorize (form: client_id, scope).
function _M.authorize()
  local form = common.form()
  local client = clients.authenticate(form)
  local scopes, why = common.parse_scopes(form.scope)
  if not scopes then fail(400, "invalid_scope", why) end
  local cfg = settings.get()
  local device_code, user_code = common.random(32), nil
  for _ = 1, 10 do
    local candidate = new_user_code()
    if m.add(uc_key(candidate), device_code, cfg.device_expires_in) then
      user_code = candidate
      break
    end
  end
  if not user_code then error("no free user code after 10 tries") end
  m.set_json(dc_key(device_code), {
    cid = client.client_id, scopes = scopes, user_code = user_code,
    expires_at = ngx.now() + cfg.device_expires_in, interval = cfg.device_interval,
  }, cfg.device_expires_in + KEEP_EXPIRED)
  counters.bump("device_authorizations")
  local shown = user_code:sub(1, 4) .. "-" .. user_code:sub(5)
  local page = issuer.base_url() .. _M.PAGE_PATH
  return 200, {
    device_code = device_code, user_code = shown, verification_uri = page,
    verification_uri_complete = page .. "?user_code=" .. shown,
    expires_in = cfg.device_expires_in, interval = cfg.device_interval,
  }, common.no_store()
end

-- grant_type=urn:ietf:params:oauth:grant-type:device_code for client.
function _M.poll(client, form)
  local device_code = form.device_code
  if not device_code then fail(400, "invalid_request", "The 'device_code' parameter is required.") end
  local key = dc_key(device_code)
  local rec = m.get_json(key)
  if not rec or rec.cid ~= client.client_id then
    fail(400, "invalid_grant", "The device code is invalid or has expired.")
  end
  local now = ngx.now()
  if now >= rec.expires_at then fail(400, "expired_token", "The device code has expired.") end

  -- Polled sooner than the interval after the previous poll: slow_down, and the
  -- interval grows by 5 s for every later poll (RFC 8628 3.5).
  local last = m.get(key .. ":last")
  m.set(key .. ":last", now, rec.expires_at - now + KEEP_EXPIRED)
  local interval = m.get(key .. ":interval") or rec.interval
  if last and now - last < interval then
    m.incr(key .. ":interval", 5, rec.interval, rec.expires_at - now + KEEP_EXPIRED)
    fail(400, "slow_down", "The client is polling too frequently: wait " .. (interval + 5) .. " s between polls.")
  end

  local decision = m.get(key .. ":decision")
  if decision == nil then
    fail(400, "authorization_pending", "The device authorization is pending. Please try again later.")
  elseif decision == "deny" then
    fail(400, "access_denied", "The resource owner or authorization server denied the request.")
  end
  if m.incr(key .. ":used", 1, 0, rec.expires_at - now + KEEP_EXPIRED) ~= 1 then
    fail(400, "invalid_grant", "The device code is invalid or has expired.")
  end
  local body = grants.issue{
    cid = rec.cid, account = decision:match("^approve (.+)$"), scopes = rec.scopes,
    grant = grants.new_grant_id(), auth_time = ngx.time(),
  }
  counters.bump("device_code")
  return body
end

-- The user's answer for user_code: action "approve" (for account, default the
-- configured one) or "deny". Returns nil, or status and message when it cannot be done.
local function decide(user_code, action, account)
  if action ~= "approve" and action ~= "deny" then return 400, "action must be 'approve' or 'deny'" end
  account = account or settings.get().account
  if not auth.valid_account_name(account) then return 400, "account must be 1-64 of letters, digits and _.-" end
  local normalized = normalize(user_code)
  local device_code = normalized and normalized ~= "" and m.get(uc_key(normalized))
  local rec = device_code and m.get_json(dc_key(device_code))
  if not rec or ngx.now() >= rec.expires_at then return 404, "unknown or expired user_code" end
  local value = action == "deny" and "deny" or ("approve " .. account)
  if not m.add(dc_key(device_code) .. ":decision", value, rec.expires_at - ngx.now() + KEEP_EXPIRED) then
    return 409, "this user_code was already approved or denied"
  end
  return nil
end

-- Admin POST /__sandbox/oauth/device { user_code, action, account }.
function _M.admin_decide(body)
  local status, message = decide(body.user_code, body.action, body.account)
  if status then http.fail(status, "sandbox.device." .. (status == 409 and "decided" or "invalid"), message) end
  return { user_code = body.user_code, action = body.action }
end

-- GET /activate[?user_code=...]: the verification page.
function _M.page()
  local args = http.query_args()
  return pages.activate(_M.PAGE_PATH, args.user_code, settings.get().account)
end

-- POST /activate (the page's form): user_code, decision, account.
function _M.page_decision()
  local form = common.form()
  local status, message = decide(form.user_code, form.decision, form.account)
  if status then pages.fail(status, "invalid_request", message) end
  local done = form.decision == "approve" and "Device approved" or "Device denied"
  return pages.answer(200, done, "<p>You can return to your device.</p>\n")
end

return _M
