-- /activities: bulk activities (definitions Activities, Activity, ListActivityAddContacts,
-- ListActivityRemoveContacts, ContactDelete, ContactsExport, ContactsJsonImport,
-- TagAddRemoveContacts, TagIdList500Limit, CustomFieldId100, ListIdList100) and
-- /contact_exports/{file_export_id}.
--
-- Each POST checks its body (400 naming the field), resolves its contacts or ids and
-- answers 201 with the activity "initialized"; the work runs in steps on later
-- GET /activities/{id} (sandbox/bulk.lua).
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local check = require "sandbox.check"
local pager = require "sandbox.pager"
local csv = require "sandbox.csv"
local multipart = require "sandbox.multipart"
local activity = require "sandbox.activity"
local bulk = require "sandbox.bulk"
local contacts = require "sandbox.resources.contacts"
local lists = require "sandbox.resources.lists"
local tags = require "sandbox.resources.tags"
local custom_fields = require "sandbox.resources.custom_fields"

local v = check.new("activities.api.validation.error")
local NOT_FOUND = "activities.api.not.found"

local MAX_IMPORT_BYTES = 4 * 1024 * 1024
local MAX_IMPORT_LINES = 40000

local handlers = {}

---------------------------------------------------------------------------------------
-- Checks.

local function uuids(t, name, max, o)
  o = o or {}
  local items = v:array(t, name, { max = max, item = "uuid", unique = true, label = o.label,
                                   required = o.required, min = o.min })
  if items and #items == 0 and not o.allow_empty then
    v:fail((o.label or name) .. " must contain at least 1 item(s)")
  end
  return items
end

local function must_exist(account, ids, exists, label, what)
  for _, id in ipairs(ids or {}) do
    if not exists(account, id) then v:fail(label .. " contains " .. id .. ", which is not an existing " .. what) end
  end
  return ids
end

-- Source properties: { name, "ids" | "bool" | "string" | "segment", max }.
local function read_source(account, body, allowed)
  local src = v:object(body, "source", { required = true })
  local known = {}
  for _, a in ipairs(allowed) do known[a[1]] = true end
  local unknown = {}
  for k in pairs(src) do
    if not known[k] then unknown[#unknown + 1] = tostring(k) end
  end
  table.sort(unknown)
  if #unknown > 0 then v:fail("source." .. unknown[1] .. " is not a source property of this activity") end
  local out, given, names = {}, {}, {}
  for _, a in ipairs(allowed) do
    local name, kind, max = a[1], a[2], a[3]
    local label = "source." .. name
    names[#names + 1] = label
    local value
    if kind == "ids" then
      value = uuids(src, name, max, { label = label })
    elseif kind == "bool" then
      value = v:boolean(src, name, { label = label })
      if value == false then value = nil end
    elseif kind == "string" then
      value = v:string(src, name, { label = label, max = 100 })
    elseif kind == "segment" then
      value = v:integer(src, name, { label = label, min = 1 })
    end
    if value ~= nil then
      out[name] = value
      given[#given + 1] = label
    end
  end
  if #given == 0 then v:fail("source must have one of " .. table.concat(names, ", ")) end
  if #given > 1 then
    v:fail(given[1] .. " and " .. given[2] .. " are mutually exclusive: source takes exactly one of them")
  end
  if out.segment_id then v:fail("source.segment_id: segment sources are not emulated by the sandbox") end
  must_exist(account, out.list_ids, lists.exists, "source.list_ids", "contact list")
  must_exist(account, out.tag_ids, tags.exists, "source.tag_ids", "tag")
  return out
end

-- exclude.contact_ids as a set (nil when absent); only with all_active_contacts or
-- list_ids sources.
local function read_exclude(body, source, max)
  local ex = v:object(body, "exclude")
  if not ex then return nil end
  local ids = uuids(ex, "contact_ids", max, { label = "exclude.contact_ids", allow_empty = true }) or {}
  if source and not (source.all_active_contacts or source.list_ids) then
    v:fail("exclude only applies with source.all_active_contacts or source.list_ids")
  end
  return check.set(ids)
end

local function target_lists(account, body, max)
  local ids = uuids(body, "list_ids", max, { required = true })
  return must_exist(account, ids, lists.exists, "list_ids", "contact list")
end

local function target_tags(account, body)
  local ids = uuids(body, "tag_ids", 50, { required = true })
  return must_exist(account, ids, tags.exists, "tag_ids", "tag")
end

---------------------------------------------------------------------------------------
-- GET /activities, GET /activities/{activity_id}

local STATES = check.set({ "processing", "completed", "cancelled", "failed", "timed_out" })

function handlers.list(req)
  local args = req.args
  local limit, from = pager.window(args, 50, 500)
  local state = v:query_enum(args, "state", STATES)
  local match = state and function(record) return record.state == state end or nil
  local page, next_from = activity.collection:page(req.account, from, limit, match)
  local out = {}
  for i, record in ipairs(page) do out[i] = activity.render(record) end
  return 200, {
    activities = json.array(out),
    _links = pager.links("/v3/activities", limit, next_from, args, { "state" }),
  }
end

-- Each GET moves a pending activity one step on.
function handlers.get(req)
  local record = bulk.advance(req.account, req.params.activity_id)
  if not record then
    http.fail(404, NOT_FOUND, "Activity " .. req.params.activity_id .. " not found")
  end
  return 200, activity.render(record)
end

---------------------------------------------------------------------------------------
-- List memberships, tags, deletes.

local LIST_ADD_SOURCES = { { "contact_ids", "ids", 500 }, { "list_ids", "ids", 50 }, { "tag_ids", "ids", 50 },
                           { "all_active_contacts", "bool" }, { "engagement_level", "string" },
                           { "segment_id", "segment" } }
local LIST_REMOVE_SOURCES = { { "contact_ids", "ids", 500 }, { "list_ids", "ids", 50 }, { "tag_ids", "ids", 50 },
                              { "all_active_contacts", "bool" }, { "engagement_level", "string" } }
local TAGGING_SOURCES = { { "contact_ids", "ids", 500 }, { "list_ids", "ids", 50 }, { "tag_ids", "ids", 50 },
                          { "all_active_contacts", "bool" }, { "new_subscriber", "bool" } }

local function membership(kind, sources)
  return function(req)
    local account, body = req.account, req:json()
    local source = read_source(account, body, sources)
    local exclude = read_exclude(body, source)
    local list_ids = target_lists(account, body, 50)
    local seqs, errors = bulk.plan_contacts(account, source, exclude)
    return 201, bulk.start(account, kind, { items = seqs, list_ids = list_ids, list_count = #list_ids,
                                            initial_errors = errors })
  end
end

handlers.add_list_memberships = membership("add_list_memberships", LIST_ADD_SOURCES)
handlers.remove_list_memberships = membership("remove_list_memberships", LIST_REMOVE_SOURCES)

local function tagging(kind)
  return function(req)
    local account, body = req.account, req:json()
    local source = read_source(account, body, TAGGING_SOURCES)
    local exclude = read_exclude(body, source)
    local tag_ids = target_tags(account, body)
    local seqs, errors = bulk.plan_contacts(account, source, exclude)
    return 201, bulk.start(account, kind, { items = seqs, tag_ids = tag_ids, initial_errors = errors })
  end
end

handlers.contacts_taggings_add = tagging("contacts_taggings_add")
handlers.contacts_taggings_remove = tagging("contacts_taggings_remove")

function handlers.contact_delete(req)
  local account, body = req.account, req:json()
  local contact_ids = uuids(body, "contact_ids", 500)
  local list_ids = uuids(body, "list_ids", 50)
  if contact_ids and list_ids then v:fail("contact_ids and list_ids are mutually exclusive") end
  if not contact_ids and not list_ids then v:fail("contact_ids or list_ids is required") end
  must_exist(account, list_ids, lists.exists, "list_ids", "contact list")
  local seqs, errors = bulk.plan_contacts(account, { contact_ids = contact_ids, list_ids = list_ids })
  return 201, bulk.start(account, "contact_delete", { items = seqs, initial_errors = errors,
                                                    list_count = list_ids and #list_ids or nil })
end

local function id_delete(kind, name, max)
  return function(req)
    local ids = uuids(req:json(), name, max, { required = true })
    return 201, bulk.start(req.account, kind, { items = ids })
  end
end

handlers.contacts_tags_delete = id_delete("contacts_tags_delete", "tag_ids", 500)
handlers.custom_fields_delete = id_delete("custom_fields_delete", "custom_field_ids", 100)
handlers.list_delete = id_delete("list_delete", "list_ids", 100)

---------------------------------------------------------------------------------------
-- Exports.

local EXPORT_STATUSES = check.set({ "active", "unsubscribed", "removed" })
-- Which filters each filter may be combined with (ContactsExport).
local EXPORT_WITH = {
  contact_ids = check.set({ "status" }),
  list_ids = check.set({ "status", "exclude", "new_subscriber" }),
  tag_ids = {},
  segment_id = {},
  new_subscriber = check.set({ "list_ids", "exclude" }),
  status = check.set({ "contact_ids", "list_ids" }),
  exclude = check.set({ "list_ids", "new_subscriber" }),
}
local EXPORT_ORDER = { "contact_ids", "list_ids", "tag_ids", "segment_id", "new_subscriber", "status", "exclude" }

local function names_by_id(collection_, account, id_field)
  local out = {}
  for _, record in ipairs(collection_:all(account)) do out[record[id_field]] = record.name end
  return out
end

function handlers.contact_exports(req)
  local account, body = req.account, req:json()
  local f = {
    contact_ids = uuids(body, "contact_ids", 500),
    list_ids = must_exist(account, uuids(body, "list_ids", 50), lists.exists, "list_ids", "contact list"),
    tag_ids = must_exist(account, uuids(body, "tag_ids", 50), tags.exists, "tag_ids", "tag"),
    segment_id = v:integer(body, "segment_id", { min = 1 }),
    new_subscriber = v:boolean(body, "new_subscriber") or nil,
    status = v:enum(body, "status", EXPORT_STATUSES),
    exclude = nil,
  }
  local ex = v:object(body, "exclude")
  if ex then
    f.exclude = check.set(uuids(ex, "contact_ids", 50, { label = "exclude.contact_ids", allow_empty = true }) or {})
  end
  for i, a in ipairs(EXPORT_ORDER) do
    for j = i + 1, #EXPORT_ORDER do
      local b = EXPORT_ORDER[j]
      if f[a] ~= nil and f[b] ~= nil and not EXPORT_WITH[a][b] then
        v:fail(a .. " and " .. b .. " are mutually exclusive")
      end
    end
  end
  if f.segment_id then v:fail("segment_id: segment exports are not emulated by the sandbox") end

  -- Columns: fields, or every contact field and then every custom field (cf:<name>).
  local all_fields = custom_fields.collection:all(account)
  local cf_ids = {}
  for _, field in ipairs(all_fields) do cf_ids["cf:" .. field.name] = field.custom_field_id end
  local columns = v:array(body, "fields", { item = "string", unique = true, min = 1 })
  if columns then
    local has_email = false
    for i, name in ipairs(columns) do
      if name == "email_address" then has_email = true end
      if not bulk.EXPORT_GETTERS[name] then
        local cf = name:sub(1, 3) == "cf:" and custom_fields.by_name(account, name:sub(4))
        if not cf then v:fail("fields[" .. (i - 1) .. "] is not a contact field: '" .. name .. "'") end
        cf_ids[name] = cf.custom_field_id
      end
    end
    for _, name in ipairs(columns) do
      if bulk.EMAIL_DEPENDENT[name] and not has_email then
        v:fail("fields must include email_address to export " .. name)
      end
    end
  else
    columns = {}
    for _, col in ipairs(bulk.EXPORT_COLUMNS) do columns[#columns + 1] = col[1] end
    for _, field in ipairs(all_fields) do columns[#columns + 1] = "cf:" .. field.name end
  end

  local seqs, errors = bulk.plan_contacts(account, {
    contact_ids = f.contact_ids, list_ids = f.list_ids, tag_ids = f.tag_ids,
    new_subscriber = f.new_subscriber, status = f.status,
  }, f.exclude)
  return 201, bulk.start(account, "contact_exports", {
    items = seqs, initial_errors = errors, columns = columns, cf_ids = cf_ids,
    list_names = names_by_id(lists.collection, account, "list_id"),
    tag_names = names_by_id(tags.collection, account, "tag_id"),
  })
end

-- GET /contact_exports/{file_export_id}: the CSV of a completed export (its id is the
-- activity's).
function handlers.export_file(req)
  local id = req.params.file_export_id
  local record = activity.find(req.account, id)
  if not record or record.kind ~= "contact_exports" then
    http.fail(404, NOT_FOUND, "Contact export " .. id .. " not found")
  end
  local text = record.state == "completed" and bulk.export_file(req.account, id)
  if not text then
    http.fail(404, NOT_FOUND, "Contact export " .. id .. " is not ready yet (activity state " .. record.state .. ")")
  end
  return 200, text, nil, "text/csv"
end

---------------------------------------------------------------------------------------
-- Imports.

local SMS_PERMISSIONS = check.set({ "not_set", "explicit" })

local function import_list_ids(account, raw_values)
  local ids = json.array()
  for _, raw in ipairs(raw_values) do
    for _, id in ipairs(util.split_csv(raw)) do ids[#ids + 1] = id end
  end
  return target_lists(account, { list_ids = ids }, 50)
end

-- multipart/form-data: file (the CSV), list_ids (comma-separated, or repeated), and
-- sms_permission_to_send.
function handlers.contacts_file_import(req)
  local account = req.account
  local ctype = ngx.var.content_type or ""
  if not multipart.boundary(ctype) then
    http.fail(415, "activities.api.unsupported.media.type",
      "Content-Type must be multipart/form-data with a boundary, got '" .. ctype .. "'")
  end
  local parts, list = multipart.parse(http.read_body(), ctype)
  if not parts then v:fail(list) end
  local file = parts.file
  if not file then v:fail("file is required") end
  local data = file.data
  if #data > MAX_IMPORT_BYTES then
    http.fail(413, "activities.api.payload.too.large",
      "file is " .. #data .. " bytes; an import file takes at most 4 MB (" .. MAX_IMPORT_BYTES .. " bytes)")
  end
  local list_values = {}
  for _, part in ipairs(list) do
    if part.name == "list_ids" then list_values[#list_values + 1] = part.data end
  end
  local list_ids = import_list_ids(account, list_values)
  local sms_permission = parts.sms_permission_to_send and util.trim(parts.sms_permission_to_send.data) or nil
  if sms_permission and not SMS_PERMISSIONS[sms_permission] then
    v:fail("sms_permission_to_send does not have a valid value: '" .. sms_permission .. "'")
  end

  if data:sub(1, 3) == "\239\187\191" then data = data:sub(4) end   -- UTF-8 BOM
  local lines = csv.count_lines(data)
  if lines > MAX_IMPORT_LINES then
    v:fail("file has " .. lines .. " lines; an import file takes at most 40,000 lines including the header")
  end
  local header, offset, header_lines = csv.read(data, 1)
  if not header or (#header == 1 and util.trim(header[1]) == "") then
    v:fail("file is empty: a header row is required")
  end
  local columns, seen = {}, {}
  for i, raw in ipairs(header) do
    local name = util.trim(raw)
    if name:sub(1, 3):lower() == "cf:" then
      local cf = custom_fields.by_name(account, name:sub(4))
      if not cf then
        v:fail("file: column " .. i .. " names custom field '" .. name:sub(4) .. "', which does not exist")
      end
      name = "cf:" .. cf.name:lower()
    else
      name = name:lower()
      if not contacts.IMPORT_COLUMNS[name] then
        v:fail("file: column " .. i .. " '" .. raw .. "' is not an import column")
      end
    end
    if seen[name] then v:fail("file: column '" .. name .. "' appears twice in the header") end
    seen[name] = true
    columns[i] = name
  end
  if not seen.email and not seen.sms_number then v:fail("file: the header must have an email or sms_number column") end
  if seen.sms_number and sms_permission == "explicit" and not seen.sms_consent_date then
    v:fail("file: sms_permission_to_send explicit needs an sms_consent_date column")
  end
  return 201, bulk.start(account, "contacts_file_import", {
    total = lines, pos = header_lines, offset = offset, columns = columns, input = data,
    ctx = { list_ids = list_ids, sms_permission = sms_permission },
  }, { source_file_name = file.filename or "import.csv" })
end

function handlers.contacts_json_import(req)
  local account, body = req.account, req:json()
  if (ngx.ctx.body_bytes or 0) > MAX_IMPORT_BYTES then
    http.fail(413, "activities.api.payload.too.large",
      "the request body takes at most 4 MB (" .. MAX_IMPORT_BYTES .. " bytes)")
  end
  local import_data = v:array(body, "import_data", { required = true, min = 1, item = "object" })
  local list_ids = target_lists(account, body, 50)
  local sms_permission = v:enum(body, "sms_permission_to_send", SMS_PERMISSIONS)
  return 201, bulk.start(account, "contacts_json_import", {
    total = #import_data, input = http.encode(import_data),
    ctx = { list_ids = list_ids, sms_permission = sms_permission },
  })
end

return { handlers = handlers }
