-- /contacts: contacts (definitions ContactResource, ContactPostRequest,
-- ContactPutRequest, Contacts).
--
-- Contacts live in an ordered collection (creation order = listing order). A deleted
-- contact stays, marked with deleted_at, and keeps its email address as the real API
-- does: POST /contacts with an address the account ever held (a deleted contact's
-- included) answers 409 contacts.api.conflict; POST /contacts/sign_up_form
-- (create-or-update) brings the deleted contact back instead.
--   a:<account>:contact@email:<lowercased address> -> contact_id (non-deleted only)
--   a:<account>:contact@held:<lowercased address>  -> contact_id of the deleted holder
--   a:<account>:contact:deleted                    count of deleted contacts
local collection = require "sandbox.collection"
local store = require "sandbox.store"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"
local lists = require "sandbox.resources.lists"
local tags = require "sandbox.resources.tags"
local custom_fields = require "sandbox.resources.custom_fields"

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
  if not json.is_array(v) then bad(name .. " must be an array") end
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

-- Deleted tags and custom fields linger in contact records but are never shown.
local function live_taggings(account, c)
  local out = {}
  for _, id in ipairs(c.taggings or {}) do
    if tags.collection:has(account, id) then out[#out + 1] = id end
  end
  return out
end

local function live_custom_fields(account, c)
  local out = {}
  for _, cf in ipairs(c.custom_fields or {}) do
    if custom_fields.collection:has(account, cf.custom_field_id) then out[#out + 1] = cf end
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
    sms.sms_channel_consents = json.array(sms.sms_channel_consents)
    out.sms_channel = sms
  end
  for name in pairs(include) do
    local value = c[name]
    if name == "list_memberships" then
      value = live_memberships(account, c)
    elseif name == "taggings" then
      value = live_taggings(account, c)
    elseif name == "custom_fields" then
      value = live_custom_fields(account, c)
    end
    out[name] = json.array(value)
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
  tags.adjust(account, c.taggings, delta)
end

local function email_index(c)
  return c.email_address and c.email_address.address:lower()
end

-- The deleted contact that last held address `email` (lowercased), or nil.
local function held_by(account, email)
  local id = contacts:lookup(account, "held", email)
  local c = id and contacts:get(account, id)
  return c and c.deleted_at and c or nil
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
  local held = email_index(c) and held_by(req.account, email_index(c))
  if held then
    http.fail(409, CONFLICT, "Email address " .. c.email_address.address ..
      " already belongs to deleted contact " .. held.contact_id .. "; update it or use /contacts/sign_up_form")
  end
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

-- Marks a (non-deleted) contact deleted: DELETE and the contact_delete activity.
function _M.mark_deleted(account, c)
  count_memberships(account, c, -1)
  local now = util.now_iso()
  c.deleted_at, c.updated_at = util.today(), now
  if c.email_address then
    contacts:release(account, "email", email_index(c), c.contact_id)
    d.set(store.key(account, "contact") .. "@held:" .. email_index(c), c.contact_id)
    c.email_address.permission_to_send = "unsubscribed"
    c.email_address.opt_out_source, c.email_address.opt_out_date = "Account", now
    c.email_address.updated_at = now
  end
  contacts:update(account, c)
  d.incr(deleted_key(account), 1, 0)
end

local function delete_contact(req)
  _M.mark_deleted(req.account, find(req))
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
  local tag_set = set_arg(args, "tags", 50)
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

  local filtered = email or tag_set or in_lists or args.status ~= nil
  local function match(c)
    if statuses and not statuses[status_of(c)] then return false end
    if email and email_index(c) ~= email then return false end
    if in_lists and not any_in(c.list_memberships, in_lists) then return false end
    if tag_set and not any_in(c.taggings, tag_set) then return false end
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
    contacts = json.array(out),
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

---------------------------------------------------------------------------------------
-- Helpers for the bulk activities (sandbox/bulk.lua): they keep the email index and
-- the list and tag counters right, like the handlers above.

_M.status_of = status_of
_M.email_index = email_index

-- The non-deleted contact whose email address is `email` (any case), or nil.
function _M.by_email(account, email)
  local id = contacts:lookup(account, "email", email:lower())
  return id and contacts:get(account, id)
end

-- Changes a stored contact through mutate(c) (which must not change its email
-- address), keeping the counters, and writes it back.
function _M.modify(account, c, mutate)
  count_memberships(account, c, -1)
  mutate(c)
  count_memberships(account, c, 1)
  contacts:update(account, c)
end

local function append_unique(array, items, max)
  local have = {}
  for _, v in ipairs(array) do have[v] = true end
  local added = 0
  for _, v in ipairs(items) do
    if not have[v] and (not max or #array < max) then
      array[#array + 1] = v
      have[v] = true
      added = added + 1
    end
  end
  return added
end
_M.append_unique = append_unique

-- Columns of a contact import (CSV header or JSON import_data property) besides
-- email, sms_number, sms_consent_date and cf:<custom field name>.
local IMPORT_TEXT = { first_name = 50, last_name = 50, job_title = 50, company_name = 50 }
local PHONE_COLUMNS = { phone = "other", home_phone = "home", work_phone = "work",
                        mobile_phone = "mobile", other_phone = "other" }
local ADDRESS_KINDS_BY_PREFIX = { [""] = "home", home_ = "home", work_ = "work", other_ = "other" }
local ADDRESS_PARTS = { street = 255, street2 = 255, city = 50, state = 50, zip = 50, country = 50 }

local IMPORT_COLUMNS = { email = true, sms_number = true, sms_consent_date = true,
                         birthday_month = true, birthday_day = true, anniversary = true }
for name in pairs(IMPORT_TEXT) do IMPORT_COLUMNS[name] = true end
for name in pairs(PHONE_COLUMNS) do IMPORT_COLUMNS[name] = true end
-- { kind, { { column, part, max } ... } } per address prefix, made once.
local ADDRESS_COLUMNS = {}
for prefix, kind in pairs(ADDRESS_KINDS_BY_PREFIX) do
  local columns = {}
  for part, max in pairs(ADDRESS_PARTS) do
    IMPORT_COLUMNS[prefix .. part] = true
    columns[#columns + 1] = { prefix .. part, part, max }
  end
  ADDRESS_COLUMNS[#ADDRESS_COLUMNS + 1] = { kind, columns }
end
IMPORT_COLUMNS["home country"] = true   -- spelled so in JsonImportContact
_M.IMPORT_COLUMNS = IMPORT_COLUMNS

local function cell(row, name)
  local v = row[name]
  if v == nil or v == http.null then return nil end
  if type(v) ~= "string" and type(v) ~= "number" then return nil end
  v = util.trim(tostring(v))
  if v == "" then return nil end
  return v
end

local function small_int(v, lo, hi)
  local n = tonumber(v)
  return n and n == math.floor(n) and n >= lo and n <= hi and n or nil
end

-- Reads and checks one import row. Returns the parsed fields, or nil, message,
-- correctable (invalid email, birthday or anniversary, no email nor SMS number:
-- correctable_count; anything else: error_count).
local function import_fields(account, row, ctx)
  local f = { email = cell(row, "email"), sms = cell(row, "sms_number") }
  if not f.email and not f.sms then return nil, "has neither an email nor an sms_number", true end
  if f.email and (#f.email > 80 or not check.is_email(f.email)) then
    return nil, "invalid email address '" .. f.email .. "'", true
  end
  if f.sms then
    local digits = f.sms:gsub("[%s%-%(%)%.]", "")
    if not digits:match("^%d%d%d%d%d%d%d+$") or #digits > 15 then
      return nil, "invalid sms_number '" .. f.sms .. "'", true
    end
    f.sms = digits
  end
  for name, max in pairs(IMPORT_TEXT) do
    local v = cell(row, name)
    if v and #v > max then return nil, name .. " is longer than " .. max .. " characters", false end
    f[name] = v
  end
  local bm, bd = cell(row, "birthday_month"), cell(row, "birthday_day")
  if bm or bd then
    f.birthday_month, f.birthday_day = small_int(bm, 1, 12), small_int(bd, 1, 31)
    if not f.birthday_month or not f.birthday_day then
      return nil, "invalid birthday (birthday_month '" .. tostring(bm) .. "', birthday_day '"
        .. tostring(bd) .. "')", true
    end
  end
  f.anniversary = cell(row, "anniversary")
  if f.anniversary and not custom_fields.valid_date(f.anniversary) then
    return nil, "invalid anniversary '" .. f.anniversary .. "'", true
  end
  f.sms_consent_date = cell(row, "sms_consent_date")
  f.phones = {}
  for column, kind in pairs(PHONE_COLUMNS) do
    local v = cell(row, column)
    if v then
      if #v > 25 then return nil, column .. " is longer than 25 characters", false end
      f.phones[#f.phones + 1] = { kind = kind, phone_number = v }
    end
  end
  f.addresses = {}
  for _, by_kind in ipairs(ADDRESS_COLUMNS) do
    local a
    for _, col in ipairs(by_kind[2]) do
      local column = col[1]
      local v = row[column] ~= nil and cell(row, column)
        or (column == "home_country" and cell(row, "home country")) or nil
      if v then
        if #v > col[3] then return nil, column .. " is longer than " .. col[3] .. " characters", false end
        a = a or { kind = by_kind[1] }
        a[col[2]] = v
      end
    end
    if a then f.addresses[#f.addresses + 1] = a end
  end
  f.custom_fields = {}
  for column, value in pairs(row) do
    if type(column) == "string" and column:sub(1, 3) == "cf:" then
      local v = cell(row, column)
      if v then
        local name = column:sub(4)
        local field = ctx.cf[name:lower()]
        if field == nil then
          field = custom_fields.by_name(account, name) or false
          ctx.cf[name:lower()] = field
        end
        if not field then return nil, "custom field '" .. name .. "' does not exist", false end
        local problem = custom_fields.value_problem(field, v)
        if problem then return nil, problem, false end
        f.custom_fields[#f.custom_fields + 1] = { custom_field_id = field.custom_field_id, value = v }
      end
    elseif type(value) ~= "nil" and ctx.strict_columns and not IMPORT_COLUMNS[column] then
      return nil, "unknown column '" .. tostring(column) .. "'", false
    end
  end
  if #f.custom_fields > 25 then return nil, "more than 25 custom fields", false end
  return f
end

local function set_phone(c, p, now)
  for _, have in ipairs(c.phone_numbers) do
    if have.kind == p.kind then
      have.phone_number, have.updated_at, have.update_source = p.phone_number, now, "Account"
      return
    end
  end
  if #c.phone_numbers < 3 then
    c.phone_numbers[#c.phone_numbers + 1] = stamp({ kind = p.kind, phone_number = p.phone_number },
      "phone_number_id", now, "Account")
  end
end

local function set_address(c, a, now)
  local street = a.street
  if a.street2 then street = street and (street .. " " .. a.street2) or a.street2 end
  local target
  for _, have in ipairs(c.street_addresses) do
    if have.kind == a.kind then target = have end
  end
  if not target then
    if #c.street_addresses >= 3 then return end
    target = { street_address_id = util.uuid(), kind = a.kind, created_at = now }
    c.street_addresses[#c.street_addresses + 1] = target
  end
  target.street = street or target.street
  target.city, target.state = a.city or target.city, a.state or target.state
  target.postal_code, target.country = a.zip or target.postal_code, a.country or target.country
  target.updated_at = now
end

local function set_custom_field(c, cf)
  for _, have in ipairs(c.custom_fields) do
    if have.custom_field_id == cf.custom_field_id then
      have.value = cf.value
      return
    end
  end
  c.custom_fields[#c.custom_fields + 1] = cf
end

local function new_contact(now, src)
  return { contact_id = util.uuid(), create_source = src, update_source = src,
           created_at = now, updated_at = now, custom_fields = {}, phone_numbers = {},
           street_addresses = {}, notes = {}, list_memberships = {}, taggings = {} }
end

local function new_sms_channel(digits, permission, consent_date, src, now)
  return { sms_channel_id = util.uuid(), sms_address = digits, full_sms_address = digits,
           create_source = src, update_source = src,
           sms_channel_consents = { { sms_consent_permission = permission or "not_set",
                                      consent_type = "promotional_sms",
                                      opt_in_date = consent_date or now } } }
end

-- Creates or updates (by email) the contact of one import row and adds it to
-- ctx.list_ids. ctx: { list_ids, cf = {} (a cache), sms_permission, strict_columns }.
-- Returns "created" or "updated" and whether the contact, unsubscribed, could not be
-- added to the lists; or nil, message, correctable.
function _M.import(account, row, ctx)
  local f, message, correctable = import_fields(account, row, ctx)
  if not f then return nil, message, correctable end
  local now = util.now_iso()
  local c = f.email and _M.by_email(account, f.email)
  local created = c == nil
  if created then
    c = new_contact(now, "Account")
    if f.email then
      c.email_address = { address = f.email, permission_to_send = "implicit", created_at = now,
                          updated_at = now, opt_in_source = "Account", confirm_status = "off" }
    end
  else
    count_memberships(account, c, -1)
    c.update_source, c.updated_at = "Account", now
  end
  for name in pairs(IMPORT_TEXT) do
    if f[name] then c[name] = f[name] end
  end
  if f.birthday_month then c.birthday_month, c.birthday_day = f.birthday_month, f.birthday_day end
  if f.anniversary then c.anniversary = f.anniversary end
  for _, p in ipairs(f.phones) do set_phone(c, p, now) end
  for _, a in ipairs(f.addresses) do set_address(c, a, now) end
  for _, cf in ipairs(f.custom_fields) do set_custom_field(c, cf) end
  if f.sms and not c.sms_channel then
    c.sms_channel = new_sms_channel(f.sms, ctx.sms_permission, f.sms_consent_date, "Account", now)
  end
  local cannot_add = not created and status_of(c) == "unsubscribed"
  if not cannot_add then append_unique(c.list_memberships, ctx.list_ids, 50) end
  if created then
    if f.email then
      local ok = contacts:claim(account, "email", f.email:lower(), c.contact_id)
      if not ok then return nil, "email address '" .. f.email .. "' is already being imported", false end
    end
    contacts:insert(account, c)
  else
    contacts:update(account, c)
  end
  count_memberships(account, c, 1)
  return created and "created" or "updated", cannot_add
end

---------------------------------------------------------------------------------------
-- GET /contacts/counts, GET /contacts/contact_id_xrefs.

local v = check.new(ERR)
local NEW_SUBSCRIBER_SECONDS = 30 * 86400

-- Counts by consent state of the non-deleted contacts. Scans the raw records (no JSON
-- decoding unless include=new_subscriber): 50,000 contacts take some 30 ms.
local function counts(req)
  local include = v:query_csv(req.args, "include", { set = { new_subscriber = true } })
  local new_subscriber = include ~= nil and #include > 0
  local out = { total = 0, explicit = 0, implicit = 0, pending = 0, unsubscribed = 0 }
  if new_subscriber then out.new_subscriber = 0 end
  local since = ngx.time() - NEW_SUBSCRIBER_SECONDS
  local sfind = string.find
  for seq = 1, contacts:last_seq(req.account) do
    local raw = d.get(contacts:k(req.account, seq))
    if raw and not sfind(raw, '"deleted_at":', 1, true) then
      out.total = out.total + 1
      local p = raw:match('"permission_to_send":"([%w_]+)"')
      if p == "explicit" or p == "implicit" or p == "unsubscribed" then
        out[p] = out[p] + 1
      elseif p == "pending_confirmation" then
        out.pending = out.pending + 1
      end
      if new_subscriber and (p == "explicit" or p == "implicit") then
        local c = http.decode(raw)
        if c and (util.parse_iso(c.created_at) or 0) >= since then
          out.new_subscriber = out.new_subscriber + 1
        end
      end
    end
  end
  return 200, out
end

local function xrefs(req)
  return 200, lists.xrefs(contacts, req.account, req.args, "contact_id")
end

---------------------------------------------------------------------------------------
-- POST /contacts/sign_up_form (ContactCreateOrUpdateInput): create or update by email
-- (or SMS number); a partial update that appends lists and custom fields. The contact
-- gave explicit permission, so the address is (re)subscribed. An address whose
-- contact was deleted exists in the account: that contact is updated (brought back).

local su = check.new(ERR)

local function sign_up_sms(body, now)
  local s = su:object(body, "sms_channel")
  if not s then return nil end
  local address = su:string(s, "sms_address", { required = true, max = 16, label = "sms_channel.sms_address" })
  su:string(s, "dial_code", { required = true, max = 4, label = "sms_channel.dial_code" })
  su:string(s, "country_code", { required = true, max = 2, label = "sms_channel.country_code" })
  local consents = su:array(s, "sms_channel_consents", { required = true, item = "object", max = 10,
                                                         label = "sms_channel.sms_channel_consents" })
  local digits = address:gsub("[%s%-%(%)%.]", "")
  if not digits:match("^%d+$") then su:fail("sms_channel.sms_address must be a phone number") end
  local channel = new_sms_channel(digits, nil, nil, "Contact", now)
  channel.sms_channel_consents = {}
  for i, item in ipairs(consents) do
    local where = "sms_channel.sms_channel_consents[" .. (i - 1) .. "]"
    channel.sms_channel_consents[i] = {
      sms_consent_permission = su:string(item, "sms_consent_permission",
        { required = true, label = where .. ".sms_consent_permission" }),
      consent_type = su:string(item, "consent_type", { required = true, label = where .. ".consent_type" }),
      opt_in_date = now,
    }
  end
  return channel
end

local function sign_up_form(req)
  local account, body = req.account, req:json()
  local now = util.now_iso()
  local email = su:string(body, "email_address", { max = 80, email = true })
  local list_ids = su:array(body, "list_memberships", { required = true, min = 1, max = 50, item = "uuid",
                                                        unique = true })
  for _, id in ipairs(list_ids) do
    if not lists.exists(account, id) then http.fail(404, NOT_FOUND, "Contact list " .. id .. " not found") end
  end
  local sms = sign_up_sms(body, now)
  if not email and not sms then su:fail("email_address or sms_channel is required") end
  local fields = {}
  for name, max in pairs(IMPORT_TEXT) do fields[name] = su:string(body, name, { max = max }) end
  local phone = su:string(body, "phone_number", { max = 25 })
  local bm = su:integer(body, "birthday_month", { min = 1, max = 12 })
  local bd = su:integer(body, "birthday_day", { min = 1, max = 31 })
  if (bm == nil) ~= (bd == nil) then su:fail("birthday_month and birthday_day must be given together") end
  local anniversary = su:string(body, "anniversary", { max = 10 })
  if anniversary and not custom_fields.valid_date(anniversary) then
    su:fail("anniversary must be a date such as MM/DD/YYYY or YYYY-MM-DD")
  end
  local address = su:object(body, "street_address")
  if address then
    local kind = su:enum(address, "kind", ADDRESS_KINDS, { required = true, label = "street_address.kind" })
    address = { kind = kind, street = su:string(address, "street", { max = 255, label = "street_address.street" }),
                city = su:string(address, "city", { max = 50, label = "street_address.city" }),
                state = su:string(address, "state", { max = 50, label = "street_address.state" }),
                zip = su:string(address, "postal_code", { max = 50, label = "street_address.postal_code" }),
                country = su:string(address, "country", { max = 50, label = "street_address.country" }) }
  end
  local cfs = {}
  for i, item in ipairs(su:array(body, "custom_fields", { max = 50, item = "object" }) or {}) do
    local where = "custom_fields[" .. (i - 1) .. "]"
    local id = su:string(item, "custom_field_id", { required = true, label = where .. ".custom_field_id" })
    local field = custom_fields.get(account, id)
    if not field then su:fail(where .. ".custom_field_id " .. id .. " does not exist") end
    local value = su:string(item, "value", { max = 255, label = where .. ".value" })
    local problem = custom_fields.value_problem(field, value)
    if problem then su:fail(where .. ": " .. problem) end
    cfs[#cfs + 1] = { custom_field_id = id, value = value }
  end

  local c = email and _M.by_email(account, email)
  -- The address's deleted contact is the existing contact: it comes back, with the
  -- sign-up's lists only.
  local revived = not c and email and held_by(account, email:lower())
  c = c or revived or nil
  local created = c == nil
  if created then
    c = new_contact(now, "Contact")
  else
    count_memberships(account, c, -1)   -- nothing for a deleted contact: it counts nowhere
    c.update_source, c.updated_at = "Contact", now
  end
  if revived then
    c.deleted_at, c.list_memberships = nil, {}
    d.incr(deleted_key(account), -1, 0)
    claim_email(account, c)
  end
  if email then
    local e = c.email_address or { address = email, created_at = now }
    e.address, e.updated_at = email, now
    if e.permission_to_send ~= "explicit" then
      e.permission_to_send, e.opt_in_source, e.opt_in_date = "explicit", "Contact", now
      e.opt_out_source, e.opt_out_date, e.opt_out_reason = nil, nil, nil
    end
    e.confirm_status = e.confirm_status or "off"
    c.email_address = e
  end
  for name in pairs(IMPORT_TEXT) do
    if fields[name] then c[name] = fields[name] end
  end
  if bm then c.birthday_month, c.birthday_day = bm, bd end
  if anniversary then c.anniversary = anniversary end
  if phone then set_phone(c, { kind = "other", phone_number = phone }, now) end
  if address then set_address(c, address, now) end
  for _, cf in ipairs(cfs) do set_custom_field(c, cf) end
  if sms then c.sms_channel = sms end
  append_unique(c.list_memberships, list_ids, 50)
  if created then
    claim_email(account, c)
    contacts:insert(account, c)
  else
    contacts:update(account, c)
  end
  count_memberships(account, c, 1)
  return created and 201 or 200, { contact_id = c.contact_id, action = created and "created" or "updated" }
end

---------------------------------------------------------------------------------------
-- PUT /contacts/resubscribe/{contact_id}: sends (once) the confirmation email to an
-- unsubscribed contact and adds it to list_ids; until the contact confirms, which never
-- happens in the sandbox, its permission is pending_confirmation.
local function resubscribe(req)
  local c = find(req)
  local list_ids = su:array(req:json(), "list_ids", { required = true, min = 1, max = 50, item = "uuid",
                                                     unique = true })
  for _, id in ipairs(list_ids) do
    if not lists.exists(req.account, id) then http.fail(404, NOT_FOUND, "Contact list " .. id .. " not found") end
  end
  if not c.email_address then
    http.fail(400, ERR, "Contact " .. c.contact_id .. " has no email address")
  end
  if c.resubscribe_sent_at then
    http.fail(409, CONFLICT, "A resubscribe email was already sent to contact " .. c.contact_id)
  end
  if c.email_address.permission_to_send ~= "unsubscribed" then
    http.fail(409, CONFLICT, "Contact " .. c.contact_id .. " is not unsubscribed")
  end
  _M.modify(req.account, c, function(x)
    local now = util.now_iso()
    x.resubscribe_sent_at, x.updated_at, x.update_source = now, now, "Account"
    x.email_address.permission_to_send, x.email_address.confirm_status = "pending_confirmation", "pending"
    x.email_address.updated_at = now
    append_unique(x.list_memberships, list_ids, 50)
  end)
  return 200
end

---------------------------------------------------------------------------------------
-- GET /contacts/sms_engagement_history/{contact_id}: one entry per SMS consent.
local function sms_history(req)
  local c = find(req, true)
  local out = {}
  local channel = c.sms_channel
  for i, consent in ipairs(channel and channel.sms_channel_consents or {}) do
    local opted_out = consent.sms_consent_permission == "unsubscribed"
    local at = consent.opt_in_date or c.created_at
    out[i] = {
      contact_id = c.contact_id,
      sms_channel_id = channel.sms_channel_id,
      sms_channel_history_id = util.derived_uuid(c.contact_id, "sms", tostring(i)),
      insert_time = at,
      history_details = {
        state = opted_out and "O" or "E",
        source = channel.create_source == "Contact" and "C" or "A",
        consent_type = consent.consent_type,
        consent_action_time = at,
        consent_action_type = opted_out and "opt_out" or "opt_in",
        consent_medium_type = channel.create_source == "Contact" and "LF" or "FI",
        source_consent_timestamp = at,
        source_sms_number = channel.sms_address,
      },
    }
  end
  return 200, json.array(out)
end

-- Routes are in sandbox/router.lua.
_M.handlers = {
  list = get_contacts, create = create_contact, get = get_contact, put = put_contact,
  delete = delete_contact, counts = counts, xrefs = xrefs, sign_up_form = sign_up_form,
  resubscribe = resubscribe, sms_history = sms_history,
}

return _M
