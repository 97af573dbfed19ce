-- examples/login_pkce.lua: log in through the browser on this machine
-- (authorization code + PKCE with a loopback redirect, RFC 8252), and store
-- the tokens like examples/login_device.lua does.
--
--   CTCT_CLIENT_ID=<your API key> lua5.4 examples/login_pkce.lua
--
-- Register http://127.0.0.1/callback (any port) as a redirect URI of your app.
-- CTCT_CLIENT_SECRET is only for confidential apps; CTCT_OPEN is the command
-- that opens a URL (default: xdg-open, else the URL is printed).
local ctct = require "ctct"
local oauth = require "ctct.oauth"
local filestore = require "ctct.store.file"

local client_id = assert(os.getenv("CTCT_CLIENT_ID"), "set CTCT_CLIENT_ID to your application's API key")
local authz_url = os.getenv("CTCT_AUTHZ_URL")
local account = os.getenv("CTCT_ACCOUNT") or "default"
local opener = os.getenv("CTCT_OPEN") or "xdg-open"

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local token, err = oauth.login_pkce {
  client_id = client_id,
  client_secret = os.getenv("CTCT_CLIENT_SECRET"),
  scope = { "account_read", "contact_data", "offline_access" },
  authz_url = authz_url,
  timeout = 300,
  open = function(url)
    print("Opening the login page (or open it yourself):\n  " .. url)
    io.stdout:flush()
    -- in the background: the redirect comes back to us while the browser runs
    os.execute(opener .. " " .. quote(url) .. " >/dev/null 2>&1 &")
  end,
}
if not token then error(tostring(err)) end

local store = filestore.new { path = os.getenv("CTCT_TOKEN_FILE") }
assert(store:set(account, token))
print("Logged in; tokens stored in " .. store.path)

local client = ctct.new { token_store = store, account = account, client_id = client_id,
                          client_secret = os.getenv("CTCT_CLIENT_SECRET"), authz_url = authz_url,
                          base_url = os.getenv("CTCT_BASE_URL") }
local summary = assert(client:request("GET", "/account/summary"))
print("Account: " .. tostring(summary.organization_name or summary.encoded_account_id))
