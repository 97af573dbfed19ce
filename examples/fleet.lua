-- examples/fleet.lua: a job that many hosts can run at once for one API key: the
-- accounts' tokens and the key's rate budget live in Redis, so every host shares one
-- budget and each token is refreshed once per expiry, fleet-wide (docs/SCALING.md).
--
--   CTCT_REDIS=127.0.0.1:6379 CTCT_CLIENT_ID=... CTCT_CLIENT_SECRET=... \
--   CTCT_ACCOUNTS=acct-1,acct-2 lua5.4 examples/fleet.lua
--
-- (optional: CTCT_REDIS_PASSWORD, CTCT_BASE_URL, CTCT_TOKEN_URL, CTCT_HOSTS = how many
-- hosts run it, for the limiter's fallback while Redis is unreachable). The accounts'
-- tokens must be in the store already: store:set(account, token) after each login.
local ctct = require "ctct"

local function need(name) return assert(os.getenv(name), "set " .. name) end
local host, port = need("CTCT_REDIS"):match("^([^:]+):(%d+)$")
local redis = { host = host, port = tonumber(port), password = os.getenv("CTCT_REDIS_PASSWORD") }
local client_id = need("CTCT_CLIENT_ID")

local store = require("ctct.store.redis").new { redis = redis, api_key = client_id }
local limiter = require("ctct.ratelimit.redis").new { redis = redis, api_key = client_id, per_second = 3.85,
  hosts = tonumber(os.getenv("CTCT_HOSTS") or "1"), logger = function(level, msg) io.stderr:write(level, ": ", msg,
    "\n") end }

for account in need("CTCT_ACCOUNTS"):gmatch("[^,]+") do
  local client = ctct.new { token_store = store, account = account, client_id = client_id,
                            client_secret = os.getenv("CTCT_CLIENT_SECRET"), token_url = os.getenv("CTCT_TOKEN_URL"),
                            base_url = os.getenv("CTCT_BASE_URL"), rate_limit = limiter }
  local summary, err = client.account:summary()
  if summary then
    print(("%s: %s (%s)"):format(account, tostring(summary.organization_name), tostring(summary.encoded_account_id)))
  else
    print(("%s: %s"):format(account, tostring(err)))
  end
end
