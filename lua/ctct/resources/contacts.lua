--- client.contacts: contacts, their counts, SMS history and id cross-references.
--
--   for c in client.contacts:each{ status = { "active" }, lists = { list_id },
--                                  include = { "list_memberships", "taggings" } } do ... end
--   local c = assert(client.contacts:create{ email_address = { address = "a@b.example" },
--                                            first_name = "Ada", list_memberships = { list_id } })
--   client.contacts:create_or_update{ email_address = { address = ... }, list_memberships = {...} }
--
-- Filters are the API's: status, email, lists, segment_id, tags, updated_after/
-- before, created_after/before, optout_after/before, include, sms_status,
-- include_count, limit (1-500).
local base = require "ctct.resources.base"
local errors = require "ctct.errors"
local paginate = require "ctct.paginate"

--- The client.contacts resource object (ctct.Client's `contacts` field).
---@class ctct.resources.contacts
---@field client ctct.Client
---@field NAME string the resource's name, "contacts"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Contacts = base.define {
  name = "contacts",
  methods = {
    get = { op = "getContact", args = { "contact_id" } },                 -- {include = {...}}
    delete = { op = "deleteContact", args = { "contact_id" } },
    counts = { op = "countContact" },                                     -- {include = ...}
    sms_engagement_history = { op = "getSmsEngagementHistory", args = { "contact_id" } },
    resubscribe = { op = "resubscribeContact", args = { "contact_id" }, body = true },
    id_xrefs = { op = "getContactIdXrefs" },                              -- {sequence_ids = {...}}
  },
}

Contacts.DOCS = {
  list = "One page of contacts (with the filters); answers 202 while a segment is being computed.",
  each = "Every contact matching the filters, one at a time (waits out a segment's 202).",
  all = "All matching contacts (opts.max, default 10,000).",
  get = "One contact; opts.include = { \"custom_fields\", \"list_memberships\", ... }.",
  create = "Create a contact (needs email_address.address and/or sms_channel; create_source defaults to " ..
    "\"Account\").",
  update = "Replace a contact (PUT; update_source defaults to \"Account\").",
  create_or_update = "Create, or update by email/phone, as a sign-up form does (POST /contacts/sign_up_form).",
  delete = "Delete a contact.",
  counts = "Contact counts by status; opts.include = \"active\" etc.",
  sms_engagement_history = "A contact's SMS consent and engagement history.",
  resubscribe = "Resubscribe a contact who unsubscribed (needs a reason body per the API).",
  id_xrefs = "V2 contact ids to V3: { sequence_ids = { ... } }.",
}

local EMAIL = "^[^@%s]+@[^@%s]+%.[^@%s]+$"

--- The API's own rule, which the spec does not state: a contact needs an email
-- address and/or an SMS number. Returns true | nil, validation error.
local function check(contact, op)
  if type(contact) ~= "table" then
    return nil, errors.new { kind = "validation", param = "body", message = op .. ": a contact must be a table" }
  end
  local email = type(contact.email_address) == "table" and contact.email_address.address or contact.email_address
  local sms = contact.sms_channel
  if email == nil and sms == nil then
    return nil, errors.new { kind = "validation", param = "email_address", operation = op,
      message = op .. ": a contact needs email_address.address and/or sms_channel" }
  end
  if email ~= nil and (type(email) ~= "string" or not email:match(EMAIL)) then
    return nil, errors.new { kind = "validation", param = "email_address", operation = op,
      message = op .. ": email_address.address is not an email address: " .. tostring(email) }
  end
  return true
end

local function with_default(contact, key, value)
  if contact[key] ~= nil then return contact end
  local copy = {}
  for k, v in pairs(contact) do copy[k] = v end
  copy[key] = value
  return copy
end

--- Create a contact (createContact); create_source defaults to "Account".
--- It needs email_address.address and/or sms_channel: checked first (nil and a validation error if not).
---@param contact ctct.schema.ContactPostRequest
---@param opts? ctct.params.createContact further parameters of the operation
---@return ctct.schema.ContactResource|nil contact
---@return ctct.Response|ctct.Error response_or_err
function Contacts:create(contact, opts)
  local ok, err = check(contact, "createContact")
  if not ok then return nil, err end
  return base.invoke(self, "create", { op = "createContact", body = true },
    with_default(contact, "create_source", "Account"), opts)
end

--- Replace a contact (PUT, putContact); checked as create is; update_source defaults to "Account".
---@param contact_id string
---@param contact ctct.schema.ContactPutRequest
---@param opts? ctct.params.putContact further parameters of the operation
---@return ctct.schema.ContactResource|nil contact
---@return ctct.Response|ctct.Error response_or_err
function Contacts:update(contact_id, contact, opts)
  local ok, err = check(contact, "putContact")
  if not ok then return nil, err end
  return base.invoke(self, "update", { op = "putContact", args = { "contact_id" }, body = true },
    contact_id, with_default(contact, "update_source", "Account"), opts)
end

--- Create, or update by email/phone, as a sign-up form does (createOrUpdateContact).
--- POST /contacts/sign_up_form; the contact is checked as create checks it.
---@param contact ctct.schema.ContactCreateOrUpdateInput
---@param opts? ctct.params.createOrUpdateContact further parameters of the operation
---@return ctct.schema.ContactCreateOrUpdateResponse|nil result
---@return ctct.Response|ctct.Error response_or_err
function Contacts:create_or_update(contact, opts)
  local ok, err = check(contact, "createOrUpdateContact")
  if not ok then return nil, err end
  return base.invoke(self, "create_or_update", { op = "createOrUpdateContact", body = true }, contact, opts)
end

--- The options of contacts:each: getContacts' filters, and how long to wait out a segment's 202.
---@class ctct.resources.contacts.EachOptions: ctct.params.getContacts
---@field segment_wait? number seconds (default 60)

--- The options of contacts:all: those of each, and the most items to collect.
---@class ctct.resources.contacts.AllOptions: ctct.resources.contacts.EachOptions
---@field max? integer default 10,000

-- GET /contacts, asking again while a segment is computed (202), for at most
-- `patience` seconds.
local function first_page(self, params, patience)
  local waited, wait = 0, 0.5
  while true do
    local page, res = self.client:call("getContacts", params)
    if not page or res.status ~= 202 then return page, res end
    if waited >= patience then
      return nil, errors.new { kind = "timeout", message = "the segment is still being computed (HTTP 202)" }
    end
    self.client.sleep(wait)
    waited, wait = waited + wait, math.min(wait * 2, 5)
  end
end

--- One page of contacts with the filters (getContacts); answers 202 while a segment is computed.
---@param opts? ctct.params.getContacts the filters
---@return ctct.schema.Contacts|nil page
---@return ctct.Response|ctct.Error response_or_err
function Contacts:list(opts)
  return self.client:call("getContacts", opts or {})
end

--- Every contact matching the filters, one at a time (getContacts, page after page).
--- opts: the filters, and segment_wait (seconds to wait out a segment's 202, default 60).
--- Raises the ctct.Error if a page fails.
---@param opts? ctct.resources.contacts.EachOptions
---@return fun(): ctct.schema.ContactResource? items
function Contacts:each(opts)
  local params = {}
  for k, v in pairs(opts or {}) do params[k] = v end
  local patience = params.segment_wait or 60
  params.segment_wait = nil
  return paginate.items(paginate.pages_from(self.client, function() return first_page(self, params, patience) end),
    "contacts", "getContacts")
end

--- All matching contacts (at most opts.max, default 10,000) and whether more were left.
---@param opts? ctct.resources.contacts.AllOptions
---@return ctct.schema.ContactResource[]|nil items
---@return boolean|ctct.Error more_or_err
function Contacts:all(opts)
  local params = {}
  for k, v in pairs(opts or {}) do params[k] = v end
  local max = params.max or 10000
  params.max = nil
  local ok, list, more = pcall(paginate.collect, self:each(params), max)
  if not ok then return nil, list end
  return list, more
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Contacts.EXAMPLE = [==[
local c = assert(client.contacts:create {
  email_address = { address = "grace@example.com", permission_to_send = "implicit" },
  first_name = "Grace",
})
local navy = assert(client.lists:create { name = "Navy" })
assert(client.contacts:create_or_update { email_address = "grace@example.com", job_title = "Admiral",
                                          list_memberships = { navy.list_id } })
for contact in client.contacts:each { email = "grace@example.com", include = { "list_memberships" } } do
  print(contact.first_name, contact.job_title, #contact.list_memberships)
end
assert(client.contacts:delete(c.contact_id))
]==]

return Contacts
