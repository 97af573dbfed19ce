-- The token endpoint (POST /oauth2/default/v1/token): client authentication, then one
-- of the grants. Every error answer is counted per OAuth error code for the stats.
local common = require "sandbox.oauth.common"
local clients = require "sandbox.oauth.clients"
local codes = require "sandbox.oauth.codes"
local grants = require "sandbox.oauth.grants"
local device = require "sandbox.oauth.device"
local counters = require "sandbox.oauth.counters"
local config = require "sandbox.config"
local store = require "sandbox.store"

local _M = {}

local DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

local GRANTS = {
  authorization_code = codes.exchange,
  refresh_token = grants.refresh,
  [DEVICE_GRANT] = device.poll,
}

-- The token endpoint is itself limited per client (config token_rate_limit_per_second,
-- the real one about 1/s): every authenticated request counts, in fixed one-second
-- windows; over it: 429 with an OAuth error and no Retry-After.
local function throttle(client)
  local limit = config.get().token_rate_limit_per_second
  if limit <= 0 then return end
  local used = store.m.incr("oauth:rl:" .. ngx.time() .. ":" .. client.client_id, 1, 0, 2)
  if used and used > limit then
    counters.bump("throttled")
    common.fail(429, "too_many_requests",
      "Too many token requests: the limit is " .. limit .. " per second per client.")
  end
end

local function token()
  local form = common.form()
  local client = clients.authenticate(form)
  throttle(client)
  if not form.grant_type then common.fail(400, "invalid_request", "The 'grant_type' parameter is required.") end
  local grant = GRANTS[form.grant_type]
  if not grant then
    common.fail(400, "unsupported_grant_type", "The grant type '" .. form.grant_type .. "' is not supported.")
  end
  return 200, grant(client, form), common.no_store()
end

-- Keeps the traceback of a Lua error for the error log.
local function on_error(err)
  if common.error_code(err) then return err end
  return debug.traceback(tostring(err), 2)
end

function _M.serve()
  local ok, status, body, headers = xpcall(token, on_error)
  if ok then return status, body, headers end
  local code = common.error_code(status)
  if code then counters.token_error(code) end
  error(status, 0)
end

return _M
