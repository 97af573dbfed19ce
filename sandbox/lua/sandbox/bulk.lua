-- The work of the bulk activities (/activities/...), done in steps.
--
-- A POST checks its body, resolves what it works on (contact seqs, ids, the import
-- rows) into a job and answers 201 with the activity "initialized". Each later
-- GET /activities/{id} does one step: the activity goes "processing" with
-- percent_done rising, and is "completed" after config.activity_polls polls (0 = all
-- the work is done in the POST). A step does at most its share of the items and stops
-- after STEP_BUDGET seconds anyway (the activity then needs another poll), so no
-- request blocks the nginx worker for long.
--   a:<account>:job:<activity_id>          the job (JSON; gone once completed)
--   a:<account>:job:<activity_id>:input    an import's CSV text or import_data JSON
--   a:<account>:job:<activity_id>:lock     held by the request doing a step
--   a:<account>:export:<activity_id>:<n>   part n of an export's CSV (no header)
--   a:<account>:export:<activity_id>       the export's header line and part count
--   a:<account>:jobs:queued                activities not finished yet (initialized or
--                                          processing): over config.activity_queue_limit
--                                          a new one answers 429, as the real API does
--                                          past 1,000 queued activities
local store = require "sandbox.store"
local http = require "sandbox.http"
local util = require "sandbox.util"
local csv = require "sandbox.csv"
local config = require "sandbox.config"
local activity = require "sandbox.activity"
local contacts = require "sandbox.resources.contacts"
local lists = require "sandbox.resources.lists"
local tags = require "sandbox.resources.tags"
local custom_fields = require "sandbox.resources.custom_fields"

local d = store.d
local people = contacts.collection

local _M = {}

local STEP_BUDGET = 1.0          -- seconds of work per request at most
local MAX_ERRORS = 1000          -- activity_errors kept; more are only counted
local NEW_SUBSCRIBER_SECONDS = 30 * 86400

local function queued_key(account) return store.key(account, "jobs", "queued") end

local function job_key(account, id, part)
  if part then return store.key(account, "job", id, part) end
  return store.key(account, "job", id)
end

function _M.export_key(account, id, n)
  if n then return store.key(account, "export", id, n) end
  return store.key(account, "export", id)
end

local function add_error(record, job, message)
  job.errors = (job.errors or 0) + 1
  local errors = record.activity_errors
  if #errors < MAX_ERRORS then
    errors[#errors + 1] = message
  elseif #errors == MAX_ERRORS then
    errors[#errors + 1] = "(more errors are not listed)"
  end
end

local function clock()
  ngx.update_time()
  return ngx.now()
end

---------------------------------------------------------------------------------------
-- Which contacts a source names. Scans read the raw records and decode only when
-- they must: the raw JSON holds `"<list or tag uuid>"` only where the contact has that
-- membership or tagging (a custom field value equal to such a uuid would also match),
-- and `"deleted_at":` only for deleted contacts.

local sfind = string.find

local function active_raw(raw)
  return sfind(raw, '"permission_to_send":"explicit"', 1, true) ~= nil
    or sfind(raw, '"permission_to_send":"implicit"', 1, true) ~= nil
end

local function any_id_raw(raw, ids)
  for _, id in ipairs(ids) do
    if sfind(raw, '"' .. id .. '"', 1, true) then return true end
  end
  return false
end

local function contact_id_raw(raw)
  return raw:match('"contact_id":"([^"]+)"')
end

local function new_subscriber_raw(raw, since)
  if not active_raw(raw) then return false end
  local c = http.decode(raw)
  return c ~= nil and (util.parse_iso(c.created_at) or 0) >= since
end

-- Export statuses: active, unsubscribed, removed (deleted).
local function status_raw(raw, wanted)
  if wanted == nil then return not sfind(raw, '"deleted_at":', 1, true) end
  if wanted == "removed" then return sfind(raw, '"deleted_at":', 1, true) ~= nil end
  if sfind(raw, '"deleted_at":', 1, true) then return false end
  if wanted == "active" then return active_raw(raw) end
  return sfind(raw, '"permission_to_send":"' .. wanted .. '"', 1, true) ~= nil
end

-- source: the checked request (contact_ids, list_ids, tag_ids, all_active_contacts,
-- new_subscriber, engagement_level, status); exclude: set of contact ids.
-- Returns the seqs in creation order and error messages for unknown contact ids.
function _M.plan_contacts(account, source, exclude)
  local seqs, errors = {}, {}
  if source.contact_ids then
    local seen = {}
    for _, id in ipairs(source.contact_ids) do
      local seq = d.get(people:id_key(account, id))
      local raw = seq and d.get(people:k(account, seq))
      if raw and status_raw(raw, source.status) and not seen[seq] then
        seen[seq] = true
        seqs[#seqs + 1] = seq
      elseif not raw or (source.status == nil and sfind(raw, '"deleted_at":', 1, true)) then
        errors[#errors + 1] = "Contact " .. id .. " not found"
      end
    end
    table.sort(seqs)
    return seqs, errors
  end
  local since = ngx.time() - NEW_SUBSCRIBER_SECONDS
  local match
  if source.list_ids or source.tag_ids then
    local ids = source.list_ids or source.tag_ids
    match = function(raw) return any_id_raw(raw, ids) end
  elseif source.all_active_contacts then
    match = active_raw
  elseif source.engagement_level then
    return seqs, errors   -- the sandbox has no engagement data: nobody matches
  end
  local new_subscriber = source.new_subscriber
  for seq = 1, people:last_seq(account) do
    local raw = d.get(people:k(account, seq))
    if raw and status_raw(raw, source.status) and (match == nil or match(raw))
       and (not new_subscriber or new_subscriber_raw(raw, since))
       and not (exclude and exclude[contact_id_raw(raw)]) then
      seqs[#seqs + 1] = seq
    end
  end
  return seqs, errors
end

---------------------------------------------------------------------------------------
-- Kinds: run(account, job, record, target, deadline) does items job.pos+1 .. target
-- (stopping at the deadline), finish(account, job, record) ends the work, status(job)
-- is the activity's status object.

local KINDS = {}

-- Works on job.items one at a time with each(account, job, record, item).
local function each_item(each)
  return function(account, job, record, target, deadline)
    local items = job.items
    while job.pos < target do
      job.pos = job.pos + 1
      each(account, job, record, items[job.pos])
      if job.pos % 200 == 0 and clock() > deadline then return end
    end
  end
end

-- Works on the contact with this seq, when it still exists and is not deleted.
local function each_contact(change)
  return each_item(function(account, job, record, seq)
    local c = people:at(account, seq)
    if c and not c.deleted_at then
      change(account, c, job)
    else
      add_error(record, job, "Contact " .. (c and c.contact_id or ("#" .. seq)) .. " no longer exists")
    end
  end)
end

local function items_status(job)
  return { items_total_count = job.total, items_completed_count = job.pos }
end

local function membership_status(job)
  local s = items_status(job)
  s.list_count = job.list_count
  return s
end

local function remove_ids(array, set)
  local out = {}
  for _, id in ipairs(array or {}) do
    if not set[id] then out[#out + 1] = id end
  end
  return out
end

local function set_of(items)
  local out = {}
  for _, v in ipairs(items) do out[v] = true end
  return out
end

KINDS.add_list_memberships = {
  run = each_contact(function(account, c, job)
    contacts.modify(account, c, function(x)
      x.list_memberships = x.list_memberships or {}
      contacts.append_unique(x.list_memberships, job.list_ids, 50)
    end)
  end),
  status = membership_status,
}

KINDS.remove_list_memberships = {
  run = each_contact(function(account, c, job)
    local remove = set_of(job.list_ids)
    contacts.modify(account, c, function(x) x.list_memberships = remove_ids(x.list_memberships, remove) end)
  end),
  status = membership_status,
}

KINDS.contacts_taggings_add = {
  run = each_contact(function(account, c, job)
    contacts.modify(account, c, function(x)
      x.taggings = x.taggings or {}
      contacts.append_unique(x.taggings, job.tag_ids)
    end)
  end),
  status = items_status,
}

KINDS.contacts_taggings_remove = {
  run = each_contact(function(account, c, job)
    local remove = set_of(job.tag_ids)
    contacts.modify(account, c, function(x) x.taggings = remove_ids(x.taggings, remove) end)
  end),
  status = items_status,
}

KINDS.contact_delete = {
  run = each_contact(function(account, c) contacts.mark_deleted(account, c) end),
  status = function(job)
    local s = items_status(job)
    s.list_count = job.list_count
    return s
  end,
}

KINDS.contacts_tags_delete = {
  run = each_item(function(account, job, record, id)
    local tag = tags.collection:get(account, id)
    if tag then tags.remove(account, tag) else add_error(record, job, "Tag " .. id .. " not found") end
  end),
  status = items_status,
}

KINDS.custom_fields_delete = {
  run = each_item(function(account, job, record, id)
    local field = custom_fields.get(account, id)
    if field then
      custom_fields.remove(account, field)
    else
      add_error(record, job, "Custom field " .. id .. " not found")
    end
  end),
  status = function() return nil end,
}

KINDS.list_delete = {
  run = each_item(function(account, job, record, id)
    local list = lists.collection:get(account, id)
    if list then
      lists.remove(account, list)
      job.deleted = (job.deleted or 0) + 1
    else
      add_error(record, job, "Contact list " .. id .. " not found")
    end
  end),
  status = function(job) return { list_count = job.deleted or 0 } end,
}

---------------------------------------------------------------------------------------
-- Exports: each step renders its contacts' rows into one part; GET
-- /contact_exports/{id} joins the header and the parts.

local function email_field(c, name)
  local e = c.email_address
  return e and e[name] or nil
end

local function first_of_kind(items, kind)
  for _, item in ipairs(items or {}) do
    if kind == nil or item.kind == kind then return item end
  end
  return (items or {})[1]
end

local function names_of(ids, names)
  local out = {}
  for _, id in ipairs(ids or {}) do
    if names[id] then out[#out + 1] = names[id] end
  end
  return table.concat(out, ", ")
end

-- Column -> value of a contact (job.list_names, job.tag_names, job.cf_ids: lookups).
local EXPORT_COLUMNS = {
  { "contact_id", function(c) return c.contact_id end },
  { "email_address", function(c) return email_field(c, "address") end },
  { "first_name", function(c) return c.first_name end },
  { "last_name", function(c) return c.last_name end },
  { "job_title", function(c) return c.job_title end },
  { "company_name", function(c) return c.company_name end },
  { "phone_number", function(c)
      local p = first_of_kind(c.phone_numbers)
      return p and p.phone_number
    end },
  { "street", function(c) local a = first_of_kind(c.street_addresses); return a and a.street end },
  { "city", function(c) local a = first_of_kind(c.street_addresses); return a and a.city end },
  { "state", function(c) local a = first_of_kind(c.street_addresses); return a and a.state end },
  { "zip", function(c) local a = first_of_kind(c.street_addresses); return a and a.postal_code end },
  { "country", function(c) local a = first_of_kind(c.street_addresses); return a and a.country end },
  { "birthday_month", function(c) return c.birthday_month end },
  { "birthday_day", function(c) return c.birthday_day end },
  { "anniversary", function(c) return c.anniversary end },
  { "sms_number", function(c) return c.sms_channel and c.sms_channel.sms_address end },
  { "email_status", function(c) return email_field(c, "permission_to_send") end },
  { "email_optin_source", function(c) return email_field(c, "opt_in_source") end },
  { "email_optin_date", function(c) return email_field(c, "opt_in_date") end },
  { "email_optout_source", function(c) return email_field(c, "opt_out_source") end },
  { "email_optout_date", function(c) return email_field(c, "opt_out_date") end },
  { "email_optout_reason", function(c) return email_field(c, "opt_out_reason") end },
  { "email_lists", function(c, job) return names_of(c.list_memberships, job.list_names) end },
  { "tags", function(c, job) return names_of(c.taggings, job.tag_names) end },
  { "source_name", function(c) return c.create_source end },
  { "created_at", function(c) return c.created_at end },
  { "updated_at", function(c) return c.updated_at end },
  { "deleted_at", function(c) return c.deleted_at end },
}
local EXPORT_GETTERS = {}
for _, col in ipairs(EXPORT_COLUMNS) do EXPORT_GETTERS[col[1]] = col[2] end
_M.EXPORT_GETTERS = EXPORT_GETTERS
_M.EXPORT_COLUMNS = EXPORT_COLUMNS
_M.EMAIL_DEPENDENT = { email_optin_source = true, email_optin_date = true, email_optout_source = true,
                       email_optout_date = true, email_optout_reason = true }

local function export_row(c, job)
  local values = {}
  local columns = job.columns
  for i = 1, #columns do
    local column = columns[i]
    local cf_id = job.cf_ids[column]
    if cf_id then
      for _, cf in ipairs(c.custom_fields or {}) do
        if cf.custom_field_id == cf_id then values[i] = cf.value end
      end
    else
      values[i] = EXPORT_GETTERS[column](c, job)
    end
  end
  return csv.line(values, #columns)
end

KINDS.contact_exports = {
  run = function(account, job, record, target, deadline)
    local rows = {}
    while job.pos < target do
      job.pos = job.pos + 1
      local c = people:at(account, job.items[job.pos])
      if c then rows[#rows + 1] = export_row(c, job) end
      if job.pos % 500 == 0 and clock() > deadline then break end
    end
    if #rows > 0 then
      job.parts = (job.parts or 0) + 1
      d.set(_M.export_key(account, record.activity_id, job.parts), table.concat(rows))
    end
  end,
  finish = function(account, job, record)
    d.set_json(_M.export_key(account, record.activity_id),
      { header = csv.line(job.columns), parts = job.parts or 0 })
    record.results_href = "/v3/contact_exports/" .. record.activity_id
  end,
  status = items_status,
}

-- The CSV of a completed export (header, then one row per contact in creation
-- order), or nil.
function _M.export_file(account, id)
  local meta = d.get_json(_M.export_key(account, id))
  if not meta then return nil end
  local out = { meta.header }
  for n = 1, meta.parts do out[#out + 1] = d.get(_M.export_key(account, id, n)) or "" end
  return table.concat(out)
end

---------------------------------------------------------------------------------------
-- Imports. job.pos counts CSV lines (the header is line 1) or import_data items.

local function import_status(job)
  return {
    -- A CSV's header line counts as done once the work has started.
    items_total_count = job.total, items_completed_count = job.stepped and job.pos or 0,
    person_count = job.persons or 0,
    error_count = job.error_count or 0, correctable_count = job.correctable_count or 0,
    cannot_add_to_list_count = job.cannot_add or 0,
  }
end

local function import_one(account, job, record, row, where)
  local result, detail, correctable = contacts.import(account, row, job.ctx)
  job.persons = (job.persons or 0) + 1
  if result then
    if detail then job.cannot_add = (job.cannot_add or 0) + 1 end
  else
    if correctable then
      job.correctable_count = (job.correctable_count or 0) + 1
    else
      job.error_count = (job.error_count or 0) + 1
    end
    add_error(record, job, where .. ": " .. detail)
  end
end

local function import_ctx(job)
  job.ctx.cf = {}   -- custom field cache, per step
  return job.ctx
end

KINDS.contacts_file_import = {
  run = function(account, job, record, target, deadline)
    local text = d.get(job_key(account, record.activity_id, "input")) or ""
    import_ctx(job)
    local columns, n = job.columns, #job.columns
    local offset, line = job.offset, job.pos
    local done = 0
    while line < target do
      local fields, next_offset, lines = csv.read(text, offset)
      if not fields then
        line = target
        break
      end
      local at = line + 1
      offset, line = next_offset, line + lines
      if not (#fields == 1 and fields[1] == "") then   -- a blank line
        local row = {}
        for i = 1, n do row[columns[i]] = fields[i] end
        import_one(account, job, record, row, "Line " .. at)
      end
      done = done + 1
      if done % 200 == 0 and clock() > deadline then break end
    end
    job.offset, job.pos = offset, math.min(line, job.total)
  end,
  status = import_status,
}

KINDS.contacts_json_import = {
  run = function(account, job, record, target, deadline)
    local items = http.decode(d.get(job_key(account, record.activity_id, "input")) or "[]") or {}
    import_ctx(job)
    while job.pos < target do
      job.pos = job.pos + 1
      import_one(account, job, record, items[job.pos], "import_data[" .. (job.pos - 1) .. "]")
      if job.pos % 200 == 0 and clock() > deadline then return end
    end
  end,
  status = import_status,
}

---------------------------------------------------------------------------------------
-- The engine.

local function save(account, record, job)
  record.status = KINDS[record.kind].status(job)
  activity.update(account, record)
end

-- One step of record's job; budget: seconds (nil: no limit).
local function step(account, record, job, budget)
  local kind = KINDS[record.kind]
  local now = util.now_iso()
  job.stepped = true
  if record.state == "initialized" then
    record.state, record.started_at = "processing", now
  end
  local polls = math.max(job.polls, 1)
  local k = math.min(job.polls_done + 1, polls)
  local target = job.polls == 0 and job.total or math.ceil(job.total * k / polls)
  local deadline = budget and (clock() + budget) or math.huge
  kind.run(account, job, record, target, deadline)
  if job.pos >= target then job.polls_done = k end
  if job.pos >= job.total and job.polls_done >= polls then
    if kind.finish then kind.finish(account, job, record) end
    record.state, record.percent_done, record.completed_at = "completed", 100, util.now_iso()
    save(account, record, job)
    if job.queued then d.incr(queued_key(account), -1, 0) end
    d.delete(job_key(account, record.activity_id))
    d.delete(job_key(account, record.activity_id, "input"))
    return true
  end
  if job.total > 0 then
    record.percent_done = math.min(99, math.floor(100 * job.pos / job.total))
  else
    record.percent_done = math.floor(100 * job.polls_done / polls)
  end
  save(account, record, job)
  job.ctx = job.ctx and { list_ids = job.ctx.list_ids, sms_permission = job.ctx.sms_permission,
                          strict_columns = job.ctx.strict_columns } or nil
  d.set_json(job_key(account, record.activity_id), job)
  return false
end

-- Advances the activity by one step unless it is done or another request is working
-- on it; returns its record (nil when there is none).
function _M.advance(account, id)
  local record = activity.find(account, id)
  if not record or record.state ~= "initialized" and record.state ~= "processing" then return record end
  local lock = job_key(account, id, "lock")
  if not d.add(lock, 1, 60) then return record end
  local ok, err = pcall(function()
    local job = d.get_json(job_key(account, id))
    if job then step(account, record, job, STEP_BUDGET) end
  end)
  d.delete(lock)
  if not ok then error(err, 0) end
  return record
end

-- Starts an activity of kind over job (items: what run() works on; total defaults to
-- #items; plus what the kind needs). fields: the record's initial fields (errors ...).
-- Returns the 201 body: the activity as created, "initialized".
function _M.start(account, kind, job, fields)
  local cfg = config.get()
  job.pos, job.polls_done = job.pos or 0, 0
  job.polls = cfg.activity_polls
  -- Counted now (atomic across workers), given back when it is over the limit.
  local limit = cfg.activity_queue_limit
  local queued = d.incr(queued_key(account), 1, 0)
  if limit > 0 and queued > limit then
    d.incr(queued_key(account), -1, 0)
    http.fail(429, "activities.api.queue.full", "More than " .. limit
      .. " activities are queued for this account; try again when some have finished")
  end
  if job.polls == 0 then
    d.incr(queued_key(account), -1, 0)   -- done within this request: never queued
  else
    job.queued = true
  end
  job.total = job.total or #job.items
  local f = { activity_errors = {} }
  for k, value in pairs(fields or {}) do f[k] = value end
  if job.initial_errors then
    for _, message in ipairs(job.initial_errors) do add_error(f, job, message) end
    job.initial_errors = nil
  end
  f.status = KINDS[kind].status(job)
  local input = job.input
  job.input = nil
  local record = activity.create(account, kind, f)
  local accepted = activity.render(record)
  if input then d.set(job_key(account, record.activity_id, "input"), input) end
  if job.polls == 0 then
    repeat until step(account, record, job, nil)
  else
    d.set_json(job_key(account, record.activity_id), job)
  end
  return accepted
end

return _M
