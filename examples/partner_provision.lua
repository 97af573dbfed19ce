-- examples/partner_provision.lua: the Technology Partner side in one page. Gets a
-- partner token, provisions a client account, sets its billing plan, then acts on
-- its behalf (account_operations/sync) with the same objects as a normal client.
--
--   CTCT_PARTNER_CLIENT_ID=... CTCT_PARTNER_SECRET=... CTCT_PARTNER_API_KEY=... \
--     lua5.4 examples/partner_provision.lua                         (the real API)
--
-- Against a local sandbox (sandbox/README.md), e.g.:
--   eval "$(sandbox/start)"
--   CTCT_BASE_URL=$SANDBOX_URL/v3 CTCT_PARTNER_TOKEN_URL=$SANDBOX_URL/partner-auth/oauth2/token \
--   CTCT_PARTNER_CLIENT_ID=sandbox-partner CTCT_PARTNER_SECRET=sandbox-partner-secret \
--   CTCT_PARTNER_API_KEY=sandbox-partner-api-key lua5.4 examples/partner_provision.lua
--   sandbox/stop "$SANDBOX_DIR"
local partner_mod = require "ctct.partner"

local function env(name)
  local v = os.getenv(name)
  if not v or v == "" then
    io.stderr:write("partner_provision: set ", name, "\n")
    os.exit(2)
  end
  return v
end

local partner = partner_mod.new {
  client_id = env("CTCT_PARTNER_CLIENT_ID"),
  secret = env("CTCT_PARTNER_SECRET"),
  api_key = env("CTCT_PARTNER_API_KEY"),
  token_url = os.getenv("CTCT_PARTNER_TOKEN_URL"), -- nil: Constant Contact's (Cognito)
  base_url = os.getenv("CTCT_BASE_URL"),           -- nil: https://api.cc.email/v3
  cafile = os.getenv("CTCT_CAFILE"),
}

local function must(data, err)
  if data == nil then
    io.stderr:write("partner_provision: ", tostring(err), "\n")
    os.exit(1)
  end
  return data
end

-- 1. A new client account. Every field rule is checked before anything is sent;
-- a bad body gives one validation error naming all the bad fields (err.details).
local stamp = os.date("!%Y%m%d%H%M%S")
local account = must(partner.accounts:create {
  contact_email = "owner+" .. stamp .. "@example.com",
  login_name = "owner_" .. stamp,
  password = "Correct-Horse-" .. stamp,
  first_name = "Hank", last_name = "Smith",
  organization_name = "Hank's Fresh Fruit",
  country_code = "US", state_code = "MA",
  website = "https://hank.example.com",
  managed_site_owner = true,
})
local id = account.encoded_account_id
print("Provisioned client account " .. id)

-- 2. Its billing plan.
local plan = must(partner.accounts:set_plan(id, { plan_type = "GOLD", billing_day_of_month = 15 }))
print(("Plan: %s (billing status %s)"):format(plan.plan_type, tostring(plan.billing_status)))

-- 3. Acting for it: client is a normal ctct client; every request goes through
-- POST /partner/accounts/{id}/account_operations/sync with the partner token.
local client = partner:as_client(id)
local list = must(client.lists:create { name = "Customers " .. stamp })
local contact = must(client.contacts:create {
  email_address = { address = "first.customer+" .. stamp .. "@example.com", permission_to_send = "implicit" },
  first_name = "First", last_name = "Customer", create_source = "Account",
  list_memberships = { list.list_id },
})
print(("Created, as %s, list %q and contact %s"):format(id, list.name, contact.contact_id))

-- 4. The partner's managed accounts.
for a in partner.accounts:each { account_type = "managed" } do
  print(("  managed: %s %s"):format(a.encoded_account_id, a.organization_name or ""))
end
partner:close()
