--- ctct_example.config: the example app's settings and the shared ctct objects.
--
-- Set once in init_by_lua* (see ../../nginx.conf); every handler reads it.
-- Clients are made per request (cheap: no connection is opened until a call, and
-- the ngx transport pools connections per worker), while tokens and the rate
-- limiter's counts live in lua_shared_dicts that all workers share.
local ctct = require "ctct"

local M = { settings = nil }

local REQUIRED = { "base_url", "authz_url", "client_id", "redirect_uri", "cookie_secret" }

--- set{ base_url, authz_url, client_id, client_secret?, redirect_uri, cookie_secret,
--       scope = {...}, signup_account = "user:owner", signup_list_ids = {...},
--       webhook_jwks_url?, token_dict = "ctct_tokens", ratelimit_dict = "ctct_ratelimit",
--       cache_dict = "ctct_cache" (webhook keys),
--       per_second = 4, timeout = 10 }
function M.set(settings)
  for _, k in ipairs(REQUIRED) do
    if type(settings[k]) ~= "string" or settings[k] == "" then
      error("ctct_example.config: setting '" .. k .. "' is required", 2)
    end
  end
  if #settings.cookie_secret < 32 then
    error("ctct_example.config: cookie_secret must be at least 32 characters of random data", 2)
  end
  settings.scope = settings.scope or { "account_read", "contact_data", "offline_access" }
  settings.signup_account = settings.signup_account or "user:owner"
  settings.token_dict = settings.token_dict or "ctct_tokens"
  settings.ratelimit_dict = settings.ratelimit_dict or "ctct_ratelimit"
  settings.cache_dict = settings.cache_dict or "ctct_cache"
  M.settings = settings
end

local keys -- the webhook key set, one per worker, its fetched copy shared by all

--- The webhook signing keys: fetched once per TTL for all workers (shared dict).
function M.webhook_keys()
  if not keys then
    keys = require("ctct.jwks").new {
      url = M.settings.webhook_jwks_url or require("ctct.webhooks").DEFAULT_JWKS_URL,
      shared_dict = M.settings.cache_dict,
    }
  end
  return keys
end

--- The token store (lua_shared_dict) shared by all workers.
function M.store()
  return require("ctct.store.shdict").new { dict = M.settings.token_dict }
end

--- A client acting for `account` (a key of the token store: "user:<id>" for an app
-- user who connected their Constant Contact account). Tokens are refreshed ahead
-- of expiry, by one worker for all (the store's cross-worker lock).
function M.client_for(account)
  local s = M.settings
  return ctct.new {
    base_url = s.base_url, authz_url = s.authz_url,
    client_id = s.client_id, client_secret = s.client_secret,
    token_store = M.store(), account = account,
    timeout = s.timeout or 10, deadline = (s.timeout or 10) * 3,
    -- One bucket for the whole nginx instance (Constant Contact allows 4/s per key).
    rate_limit = { shared_dict = s.ratelimit_dict, per_second = s.per_second or 4 },
    logger = function(level, message)
      ngx.log(level == "info" and ngx.INFO or level == "debug" and ngx.DEBUG or ngx.WARN, "ctct: ", message)
    end,
    on_request = require("ctct_example.metrics").on_request, -- GET /metrics
  }
end

--- Answer with a JSON body.
function M.json(status, value)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(require("ctct.json").encode(value))
  return ngx.exit(status)
end

--- Answer a ctct.Error: logged (warn: upstream trouble, not ours), then 502/504
-- for network trouble, 503 when a login is needed, else the API's status.
function M.fail(err, what)
  ngx.log(ngx.WARN, what, " failed: ", tostring(err))
  local status = 502
  if err.kind == "timeout" then status = 504
  elseif err.error_key == "login_required" then status = 503
  elseif err.kind == "validation" then status = 400
  elseif err.status and err.status >= 400 and err.status < 500 then status = 422 end
  return M.json(status, { error = err.kind, error_key = err.error_key, message = err.message })
end

--- The app's own user for this request. The example trusts an X-App-User header,
-- which a real app must set itself (its session, or auth_request) and never take
-- from the browser.
function M.app_user()
  local user = ngx.var.http_x_app_user
  if user and user:match("^[%w._@-]+$") and #user <= 128 then return user end
  return nil
end

return M
