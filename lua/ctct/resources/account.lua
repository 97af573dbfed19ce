--- client.account: the account's summary, physical address, sender emails and
-- the user's privileges (Account Services).
local base = require "ctct.resources.base"

--- The client.account resource object (ctct.Client's `account` field).
---@class ctct.resources.account
---@field client ctct.Client
---@field NAME string the resource's name, "account"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Account = base.define {
  name = "account",
  methods = {
    summary = { op = "getAccountById" },                                  -- {extra_fields = {...}}
    update_summary = { op = "putCustomerById", body = true },
    physical_address = { op = "getPhysicalAddress" },
    add_physical_address = { op = "addPhysicalAddress", body = true },
    update_physical_address = { op = "putPhysicalAddress", body = true },
    emails = { op = "retrieveEmailAddresses" },                           -- {confirm_status = ...}
    add_email = { op = "addAccountEmailAddress", body = true },
    privileges = { op = "getUserPrivileges" },
  },
}

Account.DOCS = {
  summary = "Account details; opts.extra_fields = { \"physical_address\", \"company_logo\" }.",
  update_summary = "Update account details (PUT /account/summary).",
  physical_address = "The account's physical address.",
  add_physical_address = "Add the physical address (first time).",
  update_physical_address = "Replace the physical address.",
  emails = "Sender email addresses; opts.confirm_status = \"CONFIRMED\" etc.",
  add_email = "Add a sender email address ({ email_address = ... }); it starts unconfirmed.",
  privileges = "The current user's privileges.",
  confirmed_emails = "The confirmed sender addresses, as a set { [address] = true }.",
}

--- The confirmed sender addresses, as a set { [address] = true } | nil, err.
--- (retrieveEmailAddresses with confirm_status = "CONFIRMED"; addresses lower-cased.)
---@return table<string, true>|nil set lower-cased address -> true
---@return ctct.Error? err
function Account:confirmed_emails()
  local list, err = self:emails { confirm_status = "CONFIRMED" }
  if not list then return nil, err end
  local set = {}
  for _, e in ipairs(list) do
    -- The filter is the server's; the status is checked again so nothing unconfirmed slips in.
    if type(e) == "table" and type(e.email_address) == "string"
      and (e.confirm_status or "CONFIRMED") == "CONFIRMED" then
      set[e.email_address:lower()] = true
    end
  end
  return set
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Account.EXAMPLE = [==[
local summary = assert(client.account:summary { extra_fields = { "physical_address" } })
print(summary.organization_name, summary.contact_email)
for _, e in ipairs(assert(client.account:emails { confirm_status = "CONFIRMED" })) do
  print("may send from", e.email_address)
end
print(#assert(client.account:privileges()), "privileges")
]==]

return Account
