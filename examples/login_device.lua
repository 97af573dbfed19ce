-- examples/login_device.lua: log in without a browser on this machine (the
-- device flow), keep the tokens in the file token store, and use them.
--
--   CTCT_CLIENT_ID=<your API key> lua5.4 examples/login_device.lua
--
-- Optional: CTCT_AUTHZ_URL (authorization server, e.g. the sandbox's
-- $SANDBOX_URL/oauth2/default/v1), CTCT_BASE_URL (API), CTCT_TOKEN_FILE,
-- CTCT_ACCOUNT (which account the tokens are for; default "default").
local ctct = require "ctct"
local oauth = require "ctct.oauth"
local filestore = require "ctct.store.file"

local client_id = assert(os.getenv("CTCT_CLIENT_ID"), "set CTCT_CLIENT_ID to your application's API key")
local authz_url = os.getenv("CTCT_AUTHZ_URL")
local account = os.getenv("CTCT_ACCOUNT") or "default"

-- 1. Ask for a device code; offline_access brings a refresh token.
local device, err = oauth.device {
  client_id = client_id,
  scope = { "account_read", "contact_data", "offline_access" },
  authz_url = authz_url,
}
if not device then error(tostring(err)) end

-- 2. The user approves on any device; we poll at the server's pace.
local token
token, err = device:wait {
  on_prompt = function(d)
    print(("To log in, open %s and enter the code %s"):format(d.verification_uri, d.user_code))
    io.stdout:flush()
  end,
}
if not token then error(tostring(err)) end

-- 3. Keep it (0600 file, atomic writes); the client refreshes it from there.
local store = filestore.new { path = os.getenv("CTCT_TOKEN_FILE") }
assert(store:set(account, token))
print("Logged in; tokens stored in " .. store.path)

local client = ctct.new { token_store = store, account = account, client_id = client_id,
                          authz_url = authz_url, base_url = os.getenv("CTCT_BASE_URL") }
local summary = assert(client:request("GET", "/account/summary"))
print("Account: " .. tostring(summary.organization_name or summary.encoded_account_id))
