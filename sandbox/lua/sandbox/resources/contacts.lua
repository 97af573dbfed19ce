-- /contacts: contacts (definitions ContactResource, ContactPostRequest,
-- ContactPutRequest, Contacts).
--
-- Contacts live in an ordered collection (creation order = listing order). A deleted
-- contact stays, marked with deleted_at, and frees its email address for a new contact.
--   a:<account>:contact@email:<lowercased address> -> contact_id (non-deleted only)
--   a:<account>:contact:deleted                    count of deleted contacts
local collection = require "sandbox.collection"
local store = require "sandbox.store"
local http = require "sandbox.http"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local lists = require "sandbox.resources.lists"

local d = store.d

local contacts = collection.new("contact", "contact_id")

local _M = { collection = contacts }

local ERR = "contacts.api.validation.error"
local NOT_FOUND = "contacts.api.not.found"
local CONFLICT = "contacts.api.conflict"

local LIMIT_DEFAULT, LIMIT_MAX = 50, 500

local SUBRESOURCES = { "custom_fields", "list_memberships", "phone_numbers", "street_addresses",
                       "notes", "taggings" }
local ALL_SUBRESOURCES = {}
for _, name in ipairs(SUBRESOURCES) do ALL_SUBRESOURCES[name] = true end

local STATUSES = { all = true, active = true, deleted = true, not_set = true,
                   pending_confirmation = true, temp_hold = true, unsubscribed = true }
local PERMISSIONS = { explicit = true, implicit = true, not_set = true,
                      pending_confirmation = true, temp_hold = true, unsubscribed = true }
local SOURCES = { Contact = true, Account = true }

local function bad(message) http.fail(400, ERR, message) end

local function deleted_key(account) return store.key(account, "contact", "deleted") end

-- The contact's status as the `status` filter sees it.
local function status_of(c)
  if c.deleted_at then return "deleted" end
  local p = c.email_address and c.email_address.permission_to_send
  if p == "explicit" or p == "implicit" then return "active" end
  return p or "not_set"
end

---------------------------------------------------------------------------------------
-- Input checks. Each returns the value to store (nil when absent) or raises a 400.

local function absent(v) return v == nil or v == http.null end

local function opt_string(body, name, max)
  local v = body[name]
  if absent(v) then return nil end
  if type(v) ~= "string" then bad(name .. " must be a string") end
  if max and #v > max then bad(name .. " must be at most " .. max .. " characters") end
  return v
end

local function opt_int(body, name, lo, hi)
  local v = body[name]
  if absent(v) then return nil end
  if type(v) ~= "number" or v ~= math.floor(v) or v < lo or v > hi then
    bad(name .. " must be an integer from " .. lo .. " to " .. hi)
  end
  return v
end

local function opt_array(body, name, max)
  local v = body[name]
  if absent(v) then return nil end
  if type(v) ~= "table" or (next(v) ~= nil and v[1] == nil) then bad(name .. " must be an array") end
  if #v > max then bad(name .. " accepts at most " .. max .. " items") end
  return v
end

local function source(body, name)
  local v = body[name]
  if absent(v) then bad(name .. " is required") end
  if not SOURCES[v] then bad(name .. " must be Contact or Account") end
  return v
end

local function id_list(body, name, must_exist, account)
  local ids = opt_array(body, name, 50)
  if not ids then return {} end
  local seen, out = {}, {}
  for _, id in ipairs(ids) do
    if type(id) ~= "string" or id == "" then bad(name .. " must contain ids") end
    if must_exist and not must_exist(account, id) then
      bad(name .. " contains " .. id .. ", which does not exist")
    end
    if not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
  return out
end

local function objects(body, name, max, each)
  local items = opt_array(body, name, max)
  local out = {}
  for i, item in ipairs(items or {}) do
    if type(item) ~= "table" then bad(name .. "[" .. i .. "] must be an object") end
    out[i] = each(item, name .. "[" .. i .. "]")
  end
  return out
end

local function custom_field(item, where)
  local id = opt_string(item, "custom_field_id")
  if not id then bad(where .. ".custom_field_id is required") end
  return { custom_field_id = id, value = opt_string(item, "value", 255),
           choice_ids = not absent(item.choice_ids) and item.choice_ids or nil }
end

local function stamp(sub, id_field, now, src)
  sub[id_field] = util.uuid()
  sub.created_at, sub.updated_at = now, now
  sub.create_source, sub.update_source = src, src
  return sub
end

local PHONE_KINDS = { home = true, work = true, mobile = true, other = true }
local ADDRESS_KINDS = { home = true, work = true, other = true }

local function phone_number(now, src)
  return function(item, where)
    local number = opt_string(item, "phone_number", 25)
    if not number then bad(where .. ".phone_number is required") end
    local kind = opt_string(item, "kind")
    if kind and not PHONE_KINDS[kind] then bad(where .. ".kind must be home, work, mobile or other") end
    return stamp({ phone_number = number, kind = kind }, "phone_number_id", now, src)
  end
end

local function street_address(now, src)
  return function(item, where)
    local kind = opt_string(item, "kind")
    if not kind then bad(where .. ".kind is required") end
    if not ADDRESS_KINDS[kind] then bad(where .. ".kind must be home, work or other") end
    local a = stamp({ kind = kind, street = opt_string(item, "street", 255) }, "street_address_id", now, src)
    for _, field in ipairs({ "city", "state", "postal_code", "country" }) do
      a[field] = opt_string(item, field, 50)
    end
    a.create_source, a.update_source = nil, nil
    return a
  end
end

local function note(now)
  return function(item, where)
    local content = opt_string(item, "content", 2000)
    if not content then bad(where .. ".content is required") end
    return { note_id = opt_string(item, "note_id") or util.uuid(),
             created_at = opt_string(item, "created_at") or now, content = content }
  end
end

local function sms_channel(body, now, src)
  local v = body.sms_channel
  if absent(v) then return nil end
  if type(v) ~= "table" then bad("sms_channel must be an object") end
  local full = opt_string(v, "full_sms_address", 16)
  if not full or not full:match("^%d+$") then bad("sms_channel.full_sms_address must be digits") end
  local consents = objects(v, "sms_channel_consents", 10, function(item, where)
    local permission = opt_string(item, "sms_consent_permission")
    local consent_type = opt_string(item, "consent_type")
    if not permission or not consent_type then
      bad(where .. " needs sms_consent_permission and consent_type")
    end
    return { sms_consent_permission = permission, consent_type = consent_type,
             consent_medium_details = opt_string(item, "consent_medium_details", 255),
             opt_in_date = now }
  end)
  return { sms_channel_id = util.uuid(), sms_address = full, full_sms_address = full,
           create_source = src, update_source = src, sms_channel_consents = consents }
end

-- email_address for storage; keeps timestamps when the address does not change.
local function email_address(body, previous, src, now)
  local v = body.email_address
  if absent(v) then return nil end
  if type(v) ~= "table" then bad("email_address must be an object") end
  local address = opt_string(v, "address", 80)
  if not address or not address:match("^[^%s@]+@[^%s@]+%.[^%s@]+$") then
    bad("email_address.address must be a valid email address")
  end
  local same = previous and previous.address:lower() == address:lower()
  local permission = opt_string(v, "permission_to_send")
  if permission and not PERMISSIONS[permission] then
    bad("email_address.permission_to_send does not have a valid value")
  end
  permission = permission or (same and previous.permission_to_send) or "implicit"
  local e = {
    address = address,
    permission_to_send = permission,
    created_at = same and previous.created_at or now,
    updated_at = now,
    opt_in_source = same and previous.opt_in_source or src,
    confirm_status = "off",
  }
  if permission == "explicit" then
    e.opt_in_date = same and previous.opt_in_date or now
  elseif permission == "unsubscribed" then
    e.opt_out_source, e.opt_out_date = src, now
    e.opt_out_reason = opt_string(v, "opt_out_reason", 255)
  end
  return e
end

-- The writable part of a contact from a POST or PUT body. previous: the stored contact
-- for a PUT. src: create_source (POST) or update_source (PUT).
local function contact_fields(account, body, previous, src)
  local now = util.now_iso()
  local c = {
    email_address = email_address(body, previous and previous.email_address, src, now),
    first_name = opt_string(body, "first_name", 50),
    last_name = opt_string(body, "last_name", 50),
    job_title = opt_string(body, "job_title", 50),
    company_name = opt_string(body, "company_name", 50),
    birthday_month = opt_int(body, "birthday_month", 1, 12),
    birthday_day = opt_int(body, "birthday_day", 1, 31),
    anniversary = opt_string(body, "anniversary", 10),
    custom_fields = objects(body, "custom_fields", 25, custom_field),
    phone_numbers = objects(body, "phone_numbers", 3, phone_number(now, src)),
    street_addresses = objects(body, "street_addresses", 3, street_address(now, src)),
    notes = objects(body, "notes", 150, note(now)),
    list_memberships = id_list(body, "list_memberships", lists.exists, account),
    taggings = id_list(body, "taggings"),
    sms_channel = sms_channel(body, now, src),
    updated_at = now,
  }
  if (c.birthday_month == nil) ~= (c.birthday_day == nil) then
    bad("birthday_month and birthday_day must be given together")
  end
  if not c.email_address and not c.sms_channel then
    bad("email_address or sms_channel is required")
  end
  return c
end

---------------------------------------------------------------------------------------
-- Output.

local function live_memberships(account, c)
  local out = {}
  for _, id in ipairs(c.list_memberships or {}) do
    if lists.exists(account, id) then out[#out + 1] = id end
  end
  return out
end

-- ContactResource with the sub-resources named in include (a set).
local function render(account, c, include)
  local out = {
    contact_id = c.contact_id,
    email_address = c.email_address,
    first_name = c.first_name,
    last_name = c.last_name,
    job_title = c.job_title,
    company_name = c.company_name,
    birthday_month = c.birthday_month,
    birthday_day = c.birthday_day,
    anniversary = c.anniversary,
    create_source = c.create_source,
    update_source = c.update_source,
    created_at = c.created_at,
    updated_at = c.updated_at,
    deleted_at = c.deleted_at,
  }
  if c.sms_channel then
    local sms = util.copy(c.sms_channel)
    sms.full_sms_address = nil
    sms.sms_channel_consents = http.array(sms.sms_channel_consents)
    out.sms_channel = sms
  end
  for name in pairs(include) do
    local value = c[name]
    if name == "list_memberships" then value = live_memberships(account, c) end
    out[name] = http.array(value)
  end
  return out
end

local function include_arg(args)
  local include = {}
  if args.include == nil then return include end
  for _, name in ipairs(util.split_csv(args.include)) do
    if not ALL_SUBRESOURCES[name] then bad("include does not have a valid value: '" .. name .. "'") end
    include[name] = true
  end
  return include
end

---------------------------------------------------------------------------------------
-- Membership counters follow each contact's lists and status.

local function count_memberships(account, c, delta)
  if c.deleted_at then return end
  lists.adjust_members(account, c.list_memberships, delta, status_of(c) == "active")
end

local function email_index(c)
  return c.email_address and c.email_address.address:lower()
end

local function claim_email(account, c)
  local email = email_index(c)
  if not email then return end
  local ok, owner = contacts:claim(account, "email", email, c.contact_id)
  if not ok then
    http.fail(409, CONFLICT, "Email address " .. c.email_address.address ..
      " is already in use by contact " .. tostring(owner))
  end
end

local function find(req, allow_deleted)
  local c = contacts:get(req.account, req.params.contact_id)
  if not c or (c.deleted_at and not allow_deleted) then
    http.fail(404, NOT_FOUND, "Contact " .. tostring(req.params.contact_id) .. " not found")
  end
  return c
end

---------------------------------------------------------------------------------------
-- Handlers.

local function create_contact(req)
  local body = req:json()
  local src = source(body, "create_source")
  local c = contact_fields(req.account, body, nil, src)
  c.contact_id = util.uuid()
  c.create_source, c.update_source = src, src
  c.created_at = c.updated_at
  claim_email(req.account, c)
  contacts:insert(req.account, c)
  count_memberships(req.account, c, 1)
  return 201, render(req.account, c, ALL_SUBRESOURCES)
end

local function get_contact(req)
  local include = include_arg(req.args)
  return 200, render(req.account, find(req, true), include)
end

-- A PUT replaces the contact: whatever the body leaves out is cleared.
local function put_contact(req)
  local old = find(req)
  local body = req:json()
  local src = source(body, "update_source")
  local c = contact_fields(req.account, body, old, src)
  c.contact_id, c.seq = old.contact_id, old.seq
  c.create_source, c.created_at, c.update_source = old.create_source, old.created_at, src
  if email_index(c) ~= email_index(old) then
    claim_email(req.account, c)
    if email_index(old) then contacts:release(req.account, "email", email_index(old), old.contact_id) end
  end
  count_memberships(req.account, old, -1)
  contacts:update(req.account, c)
  count_memberships(req.account, c, 1)
  return 200, render(req.account, c, ALL_SUBRESOURCES)
end

local function delete_contact(req)
  local c = find(req)
  count_memberships(req.account, c, -1)
  local now = util.now_iso()
  c.deleted_at, c.updated_at = util.today(), now
  if c.email_address then
    contacts:release(req.account, "email", email_index(c), c.contact_id)
    c.email_address.permission_to_send = "unsubscribed"
    c.email_address.opt_out_source, c.email_address.opt_out_date = "Account", now
    c.email_address.updated_at = now
  end
  contacts:update(req.account, c)
  d.incr(deleted_key(req.account), 1, 0)
  return 204
end

-- The set of statuses asked for (default: every status but deleted), or nil for all.
local function status_arg(args)
  if args.status == nil then
    local set = util.copy(STATUSES)
    set.all, set.deleted = nil, nil
    return set
  end
  local set = {}
  for _, s in ipairs(util.split_csv(args.status)) do
    if not STATUSES[s] then bad("status does not have a valid value: '" .. s .. "'") end
    if s == "all" then return nil end
    set[s] = true
  end
  return set
end

local function set_arg(args, name, max)
  if args[name] == nil then return nil end
  local items = util.split_csv(args[name])
  if #items > max then bad(name .. " accepts at most " .. max .. " ids") end
  local set = {}
  for _, id in ipairs(items) do set[id] = true end
  return set
end

local function any_in(ids, set)
  for _, id in ipairs(ids or {}) do
    if set[id] then return true end
  end
  return false
end

local function get_contacts(req)
  local args, account = req.args, req.account
  local limit, from = pager.window(args, LIMIT_DEFAULT, LIMIT_MAX)
  local include = include_arg(args)
  local statuses = status_arg(args)
  local email = args.email ~= nil and tostring(args.email):lower() or nil
  local tags = set_arg(args, "tags", 50)
  local in_lists = set_arg(args, "lists", 25)
  if in_lists then
    -- A deleted list's id may linger in contacts' records: it must match nothing.
    for id in pairs(in_lists) do
      if not lists.exists(account, id) then in_lists[id] = nil end
    end
  end
  if args.include_count ~= nil and args.include_count ~= true
     and args.include_count ~= "true" and args.include_count ~= "false" then
    bad("include_count must be true or false")
  end
  local include_count = args.include_count == true or args.include_count == "true"

  local filtered = email or tags or in_lists or args.status ~= nil
  local function match(c)
    if statuses and not statuses[status_of(c)] then return false end
    if email and email_index(c) ~= email then return false end
    if in_lists and not any_in(c.list_memberships, in_lists) then return false end
    if tags and not any_in(c.taggings, tags) then return false end
    return true
  end

  local page, next_from
  if in_lists and next(in_lists) == nil then
    page = {}   -- only unknown lists asked for: nothing can match
  elseif email and statuses and not statuses.deleted then
    -- Non-deleted contacts are indexed by email: no scan needed.
    local id = contacts:lookup(account, "email", email)
    local c = id and contacts:get(account, id)
    page = {}
    if c and c.seq >= from and match(c) then page[1] = c end
  else
    page, next_from = contacts:page(account, from, limit, match)
  end

  local out = {}
  for i, c in ipairs(page) do out[i] = render(account, c, include) end
  local body = {
    contacts = http.array(out),
    _links = pager.links("/v3/contacts", limit, next_from, args,
      { "email", "lists", "tags", "status", "include", "include_count" }),
  }
  if include_count then
    if not filtered then
      body.contacts_count = contacts:count(account) - (d.get(deleted_key(account)) or 0)
    elseif from == 1 and not next_from then
      body.contacts_count = #page   -- the first page holds every match
    else
      body.contacts_count = contacts:count_matching(account, match)
    end
  end
  return 200, body
end

_M.routes = {
  { "GET", "/contacts", get_contacts },
  { "POST", "/contacts", create_contact },
  { "GET", "/contacts/{contact_id}", get_contact },
  { "PUT", "/contacts/{contact_id}", put_contact },
  { "DELETE", "/contacts/{contact_id}", delete_contact },
}

return _M
