--- partner.accounts: the partner's client accounts (Technology Partners operations).
--
--   for a in partner.accounts:each { account_type = "managed" } do ... end   -- items of site_owner_list
--   partner.accounts:list { limit = 50, account_type = "all" }             -- one page
--   partner.accounts:create { contact_email, login_name, password, country_code, state_code, ... }
--   partner.accounts:plan(id)   partner.accounts:set_plan(id, { plan_type = "GOLD", billing_day_of_month = 15 })
--   partner.accounts:cancel(id, reason_id | { reason_id, effective_date })
--   partner.accounts:create_sso_user(id, { first_name, last_name, role_name, contact_email, login_name,
--                                          external_id, external_provider })
--   partner.accounts:unsubscribe_contacts(id, { email_addresses = {...}, update_source = "Account" })
--
-- Bodies and ids are checked first (ctct.partner.validate): a body breaking
-- rules gives one `validation` error listing every field (err.details) and
-- nothing is sent. Network calls return data, response | nil, err.
local base = require "ctct.resources.base"
local validate = require "ctct.partner.validate"

---@class ctct.partner.accounts
---@field NAME string "partner.accounts"
---@field DOCS table<string, string> method name -> one-line description (docs/API.md)
---@field EXAMPLE string a short example (docs/API.md, run against the sandbox by the specs)
---@field partner ctct.Partner the partner this object belongs to
---@field client ctct.Client the partner's client (partner JWT + x-api-key)
local Accounts = { NAME = "partner.accounts" }
Accounts.__index = Accounts
--- "ctct.partner.accounts".
---@return string
Accounts.__tostring = function() return "ctct.partner.accounts" end

--- The accounts object of `partner` (made by partner.accounts on first use).
---@param partner ctct.Partner
---@return ctct.partner.accounts
function Accounts.new(partner) return setmetatable({ partner = partner, client = partner.client }, Accounts) end

Accounts.DOCS = {
  list = "One page of client accounts: opts offset, limit (10-50), account_type = all | managed | unmanaged.",
  each = "Every client account (site_owner_list items), one at a time, page after page.",
  all = "All client accounts (opts.max, default 10,000), and whether more were left.",
  create = "Provision a client account (spec Provision); every field rule is checked first.",
  plan = "The billing plan of a client account (PlanTiersObject).",
  set_plan = "Change the billing plan: { plan_type = TRIAL|BRONZE|SILVER|GOLD, plan_group_id, billing_day_of_month }.",
  cancel = "Cancel a client account: reason_id (1, 2, 3, 11, 12, 14, 21, 27, 30) or { reason_id, effective_date }.",
  create_sso_user = "Add a user to an SSO-enabled client account (spec SSOUser, all fields required).",
  unsubscribe_contacts = "Unsubscribe contacts of a client account: { email_addresses, update_source, ... }.",
}

local ITEMS = "site_owner_list"

--- One page of client accounts: opts offset, limit (10-50), account_type = all | managed | unmanaged.
---@param opts? ctct.params.getPartnerSiteOwners
---@return ctct.schema.PartnerAccount|nil data
---@return ctct.Response|ctct.Error response_or_err
function Accounts:list(opts) return self.client:call("getPartnerSiteOwners", opts) end
--- Every client account (site_owner_list items), one at a time, page after page.
--- Raises the ctct.Error if a page fails.
---@param opts? ctct.params.getPartnerSiteOwners
---@return fun(): ctct.schema.PartnerAccount.site_owner_list_item? items
function Accounts:each(opts) return base.each(self.client, "getPartnerSiteOwners", ITEMS, opts) end
--- All client accounts (opts.max, default 10,000), and whether more were left.
---@param opts? ctct.params.getPartnerSiteOwners the operation's parameters, and max (default 10,000)
---@return ctct.schema.PartnerAccount.site_owner_list_item[]|nil items
---@return boolean|ctct.Error more_or_err
function Accounts:all(opts) return base.all(self.client, "getPartnerSiteOwners", ITEMS, opts) end

--- Provision a client account: { encoded_account_id, provision_uuid } | nil, err.
--- Every field rule of the spec's Provision is checked first (one `validation` error listing them).
---@param account ctct.schema.Provision
---@return ctct.schema.ProvisionResponse|nil data
---@return ctct.Response|ctct.Error response_or_err
function Accounts:create(account)
  local ok, err = validate.provision(account)
  if not ok then return nil, err end
  return self.client:call("provision", { body = account })
end

-- An id checked before anything is sent.
local function with_id(id, f)
  local ok, err = validate.account_id(id)
  if not ok then return nil, err end
  return f(ok)
end

--- The billing plan of a client account (PlanTiersObject).
---@param id string the encoded_account_id
---@return ctct.schema.PlanTiersObject|nil data
---@return ctct.Response|ctct.Error response_or_err
function Accounts:plan(id)
  return with_id(id, function(i) return self.client:call("getPlan", { encoded_account_id = i }) end)
end

--- Change the billing plan: { plan_type = TRIAL|BRONZE|SILVER|GOLD, plan_group_id, billing_day_of_month }.
---@param id string the encoded_account_id
---@param plan ctct.schema.PlanInfo
---@return ctct.schema.PlanTiersObject|nil data
---@return ctct.Response|ctct.Error response_or_err
function Accounts:set_plan(id, plan)
  return with_id(id, function(i)
    local ok, err = validate.plan(plan)
    if not ok then return nil, err end
    return self.client:call("setPlan", { encoded_account_id = i, body = plan })
  end)
end

--- Cancel a client account: reason_id (1, 2, 3, 11, 12, 14, 21, 27, 30) or { reason_id, effective_date }.
---@param id string the encoded_account_id
---@param reason? integer|ctct.schema.AccountCancellation a reason_id, or the whole body
---@return ctct.schema.AccountCancellation|nil data
---@return ctct.Response|ctct.Error response_or_err
function Accounts:cancel(id, reason)
  return with_id(id, function(i)
    local body = reason
    if reason == nil then body = {}
    elseif type(reason) == "number" then body = { reason_id = reason } end
    local ok, err = validate.cancellation(body)
    if not ok then return nil, err end
    return self.client:call("cancelAccount", { encoded_account_id = i, body = body })
  end)
end

--- Add a user to an SSO-enabled client account (spec SSOUser, all fields required).
---@param id string the encoded_account_id
---@param user ctct.schema.SSOUser
---@return true|nil ok
---@return ctct.Response|ctct.Error response_or_err
function Accounts:create_sso_user(id, user)
  return with_id(id, function(i)
    local ok, err = validate.sso_user(user)
    if not ok then return nil, err end
    return self.client:call("createSSOUser", { encoded_account_id = i, body = user })
  end)
end

---@class ctct.partner.accounts.UnsubscribeBody
---@field email_addresses? string[] at most 500 (exactly one with global_unsubscribe)
---@field update_source 'Account'|'Contact'|'System'
---@field opt_out_reason? string at most 255 characters
---@field delete_contacts? boolean
---@field global_unsubscribe? boolean

--- Unsubscribe contacts of a client account: { email_addresses, update_source, ... }.
---@param id string the encoded_account_id
---@param body ctct.partner.accounts.UnsubscribeBody
---@return ctct.schema.PartnerUnsubscribeResponse|nil data
---@return ctct.Response|ctct.Error response_or_err
function Accounts:unsubscribe_contacts(id, body)
  return with_id(id, function(i)
    local ok, err = validate.unsubscribe(body)
    if not ok then return nil, err end
    return self.client:call("partnerUnsubscribeContacts", { encoded_account_id = i, body = body })
  end)
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Accounts.EXAMPLE = [==[
local account = assert(partner.accounts:create {
  contact_email = "owner@example.com", login_name = "hanks_fruit", password = "Correct-Horse-42",
  first_name = "Hank", last_name = "Smith", organization_name = "Hank's Fresh Fruit",
  country_code = "US", state_code = "MA", website = "https://hank.example.com",
})
local id = account.encoded_account_id
assert(partner.accounts:set_plan(id, { plan_type = "GOLD", billing_day_of_month = 15 }))
print(id, assert(partner.accounts:plan(id)).plan_type)
local client = partner:as_client(id)            -- the usual objects, acting for that account
assert(client.contacts:create { email_address = { address = "first@example.com" } })
for a in partner.accounts:each { account_type = "managed" } do print(a.encoded_account_id) end
]==]

return Accounts
