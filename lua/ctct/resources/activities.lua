--- client.activities: bulk activities, the API's asynchronous jobs.
--
--   local job = assert(client.activities:import_csv(csv_text, { list_ids = { list_id } }))
--   assert(job:wait{ on_progress = function(j) print(j.percent_done) end })
--   local export = assert(client.activities:export{ list_ids = { list_id } })
--   assert(export:wait()); assert(export:download("contacts.csv"))
--
-- Every job returns an Activity (:status(), :wait{}, .errors); imports larger
-- than one request allows (CSV: 40,000 lines including the header and 4 MB;
-- JSON: 4 MB) are split into several activities, returned as one group with
-- the same methods. Input is checked before anything is sent: a CSV row
-- without an email or sms_number, or with the wrong number of fields, is
-- reported with its line number.
local base = require "ctct.resources.base"
local Activity = require "ctct.activity"
local csv = require "ctct.csv"
local errors = require "ctct.errors"
local json = require "ctct.json"

-- The API's limits per request (protocol reference; the spec's descriptions).
local CSV_MAX_LINES = 40000          -- including the header
local MAX_BYTES = 4 * 1000 * 1000    -- "4 MB", kept a little under 4 MiB on purpose

--- The client.activities resource object (ctct.Client's `activities` field).
---@class ctct.resources.activities
---@field client ctct.Client
---@field NAME string the resource's name, "activities"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
---@field Group ctct.resources.activities.Group the class of split imports' groups
local Activities = base.define {
  name = "activities",
  collection = { op = "getActivityStatusCollection", items = "activities" },
  methods = {
    add_list_memberships = { op = "postListAddContact", body = true, activity = true },
    remove_list_memberships = { op = "postListRemoveContact", body = true, activity = true },
    add_tags = { op = "postTagAddContact", body = true, activity = true },
    remove_tags = { op = "postTagRemoveContact", body = true, activity = true },
    delete_contacts = { op = "postContactDelete", body = true, activity = true },
    delete_lists = { op = "postListDelete", body = true, activity = true },
    delete_custom_fields = { op = "postCustomFieldDelete", body = true, activity = true },
    delete_tags = { op = "postTagDelete", body = true, activity = true },
    export = { op = "postContactsExport", body = true, activity = true },
  },
}

Activities.DOCS = {
  list = "One page of activities; opts: limit (1-500), state.",
  each = "Every activity, one at a time.",
  all = "All activities (opts.max, default 10,000).",
  get = "An activity by id, as an Activity object.",
  add_list_memberships = "Add contacts to lists: { source = { list_ids | contact_ids | ... }, list_ids = { ... } }.",
  remove_list_memberships = "Remove contacts from lists (same body shape).",
  add_tags = "Tag contacts: { source = { ... }, tag_ids = { ... } }.",
  remove_tags = "Untag contacts (same body shape).",
  delete_contacts = "Delete contacts: { contact_ids = { ... } } or { list_ids = { ... } }.",
  delete_lists = "Delete lists: { list_ids = { ... } }.",
  delete_custom_fields = "Delete custom fields: { custom_field_ids = { ... } }.",
  delete_tags = "Delete tags: { tag_ids = { ... } }.",
  export = "Export contacts to CSV: { contact_ids | list_ids | segment_id, fields, status }; then " ..
    "activity:wait() and activity:download(path).",
  download = "Stream an export's CSV into a file: download(file_export_id, path) -> bytes.",
  import_csv = "Import CSV text: import_csv(text, { list_ids = { ... }, sms_permission_to_send }) -> job.",
  import_csv_file = "Import a CSV file: import_csv_file(path, opts) -> job.",
  import_contacts = "Import an array of contacts (JSON import): import_contacts(contacts, { list_ids = {...} }).",
  check_csv = "Check CSV text for the import's rules without sending: true | nil, err (err.details: rows).",
}

--- An activity by id (getActivity), as an Activity object.
---@param activity_id string
---@return ctct.Activity|nil activity
---@return ctct.Error? err
function Activities:get(activity_id)
  local data, err = self.client:call("getActivity", { activity_id = activity_id })
  if not data then return nil, err end
  return Activity.new(self.client, data)
end

--- Stream export file_export_id into `path`; returns the bytes written (getContactsExport).
---@param file_export_id string
---@param path string the file to write the CSV into
---@return integer|nil bytes
---@return ctct.Error? err
function Activities:download(file_export_id, path)
  local ok, res = self.client:call("getContactsExport", { file_export_id = file_export_id }, { sink = path })
  if not ok then return nil, res end
  return res.bytes
end

-- Several activities as one job ------------------------------------------------------------

--- Several activities (the chunks of one split import) as one job, with Activity's methods.
---@class ctct.resources.activities.Group
---@field client ctct.Client
---@field activities ctct.Activity[] one per chunk, in order
---@field offsets integer[] the first line (CSV) or contact (JSON) of each chunk
---@field state? string "processing" until every activity ended, then "completed" or a failed one's state
---@field percent_done? integer the mean of the activities' percent_done
---@field errors {chunk: integer, first_line: integer, message: string, error: string|table}[]
local Group = {}
Group.__index = Group
Activities.Group = Group

local function group(client, activities, offsets)
  return setmetatable({ client = client, activities = activities, offsets = offsets, errors = {} }, Group)
end

--- "ctct.ActivityGroup(<n> activities, <state>)".
---@return string
function Group:__tostring()
  return ("ctct.ActivityGroup(%d activities, %s)"):format(#self.activities, tostring(self.state))
end

local function sync(g)
  local done, percent, errs = true, 0, {}
  local state = "completed"
  for i, a in ipairs(g.activities) do
    if not a:done() then done = false end
    if a.state ~= "completed" and a:done() then state = a.state end
    percent = percent + (tonumber(a.percent_done) or 0)
    for _, e in ipairs(a.errors or {}) do
      -- activity_errors are strings ("Line 3: ...") or { message = ... } objects, by kind.
      local message = type(e) == "table" and e.message or tostring(e)
      errs[#errs + 1] = { chunk = i, first_line = g.offsets[i], message = message, error = e }
    end
  end
  g.percent_done = math.floor(percent / math.max(#g.activities, 1))
  g.state = done and state or "processing"
  g.errors = errs
  return g
end

--- True once every activity has ended.
---@return boolean
function Group:done() return sync(self).state ~= "processing" end

--- Fetch the current state of the activities not yet ended. Returns self | nil, err.
---@return ctct.resources.activities.Group|nil group
---@return ctct.Error? err
function Group:status()
  for _, a in ipairs(self.activities) do
    if not a:done() then
      local ok, err = a:status()
      if not ok then return nil, err end
    end
  end
  return sync(self)
end

--- Wait for every activity (see Activity:wait); on_progress gets the group.
--- opts.timeout (seconds, default 600) is for the whole group. Returns self | nil, err.
---@param opts? ctct.resources.activities.WaitOptions
---@return ctct.resources.activities.Group|nil group
---@return ctct.Error? err
function Group:wait(opts)
  opts = opts or {}
  local deadline = self.client.clock() + (opts.timeout or 600)
  for _, a in ipairs(self.activities) do
    local o = { interval = opts.interval, max_interval = opts.max_interval,
                timeout = math.max(deadline - self.client.clock(), 0.001),
                on_progress = opts.on_progress and function() opts.on_progress(sync(self)) end }
    local ok, err = a:wait(o)
    if not ok then
      sync(self)
      return nil, err
    end
  end
  return sync(self)
end

--- The options of Group:wait (those of Activity:wait; on_progress gets the group).
---@class ctct.resources.activities.WaitOptions
---@field timeout? number seconds for the whole group (default 600)
---@field interval? number the first wait between polls (seconds, default 0.5)
---@field max_interval? number the longest wait between polls (seconds, default 10)
---@field on_progress? fun(group: ctct.resources.activities.Group) called after each poll

--- The options of the imports (import_csv, import_csv_file, import_contacts).
---@class ctct.resources.activities.ImportOptions
---@field list_ids string[] the lists to add the contacts to (required by the API; 1-50 for JSON)
---@field sms_permission_to_send? string

-- Imports ------------------------------------------------------------------------------

local function invalid(op, message, details)
  return nil, errors.new { kind = "validation", operation = op, message = op .. ": " .. message, details = details }
end

local EMAIL = "^[^@%s]+@[^@%s]+%.[^@%s]+$"

-- Check CSV text; returns the header, the records and the column indexes.
local function parse_csv(text)
  if type(text) ~= "string" or text == "" then return invalid("contactsCSVImport", "the CSV is empty") end
  local records, bad = csv.parse(text)
  if not records then
    return invalid("contactsCSVImport", ("line %d: %s"):format(bad.line, bad.message), { bad })
  end
  local header = table.remove(records, 1)
  if not header then return invalid("contactsCSVImport", "the CSV has no header row") end
  local col = {}
  for i, name in ipairs(header.fields) do col[name:lower():gsub("^%s+", ""):gsub("%s+$", "")] = i end
  if not col.email and not col.sms_number then
    return invalid("contactsCSVImport", "the header needs an 'email' and/or an 'sms_number' column")
  end
  if #records == 0 then return invalid("contactsCSVImport", "the CSV has no contacts") end
  local problems = {}
  for _, r in ipairs(records) do
    local why
    if #r.fields ~= #header.fields then
      why = ("has %d fields, the header has %d"):format(#r.fields, #header.fields)
    else
      local email = col.email and r.fields[col.email] or ""
      local sms = col.sms_number and r.fields[col.sms_number] or ""
      if email == "" and sms == "" then
        why = "has neither an email nor an sms_number"
      elseif email ~= "" and not email:match(EMAIL) then
        why = "'" .. email .. "' is not an email address"
      end
    end
    if why then
      problems[#problems + 1] = { line = r.line, message = ("line %d %s"):format(r.line, why) }
      if #problems >= 20 then break end
    end
  end
  if #problems > 0 then
    return invalid("contactsCSVImport", problems[1].message ..
      (#problems > 1 and (" (and " .. (#problems - 1) .. (#problems >= 20 and "+" or "") .. " more)") or ""),
      problems)
  end
  return header, records
end

--- Check CSV text against the import's rules without sending anything.
--- The error's details list the bad rows ({ line, message }).
---@param text string the CSV
---@return boolean|nil ok
---@return ctct.Error? err
function Activities:check_csv(text) -- luacheck: ignore 212/self
  local header, records = parse_csv(text)
  if not header then return nil, records end
  return true
end

local function send_all(self, chunks, send)
  local acts, offsets = {}, {}
  for i, chunk in ipairs(chunks) do
    local data, err = send(chunk)
    if not data then
      if #acts > 0 then err.started = group(self.client, acts, offsets) end -- what already runs
      return nil, err
    end
    acts[i] = Activity.new(self.client, data)
    offsets[i] = chunk.first_line
  end
  return group(self.client, acts, offsets)
end

--- Import CSV text (a header with email and/or sms_number, then one contact per
--- line). opts: list_ids (required by the API), sms_permission_to_send.
--- Checked first (see check_csv); more than one request allows is split (contactsCSVImport per
--- chunk) and returned as a Group. When a later chunk fails, err.started holds the group already sent.
---@param text string the CSV
---@param opts ctct.resources.activities.ImportOptions
---@return ctct.resources.activities.Group|nil job
---@return ctct.Error? err
function Activities:import_csv(text, opts)
  opts = opts or {}
  local header, records = parse_csv(text)
  if not header then return nil, records end
  local head = text:sub(header.from, header.to)
  local chunks, current, size = {}, nil, 0
  for _, r in ipairs(records) do
    local row = text:sub(r.from, r.to)
    if not current or #current.rows + 2 > CSV_MAX_LINES or size + #row + 1 > MAX_BYTES then
      current = { rows = {}, first_line = r.line }
      chunks[#chunks + 1] = current
      size = #head + 1
    end
    current.rows[#current.rows + 1] = row
    size = size + #row + 1
  end
  return send_all(self, chunks, function(chunk)
    return self.client:call("contactsCSVImport", {
      file = head .. "\n" .. table.concat(chunk.rows, "\n") .. "\n",
      list_ids = opts.list_ids, sms_permission_to_send = opts.sms_permission_to_send,
    })
  end)
end

--- Import the CSV file at `path` (see import_csv).
---@param path string
---@param opts ctct.resources.activities.ImportOptions
---@return ctct.resources.activities.Group|nil job
---@return ctct.Error? err
function Activities:import_csv_file(path, opts)
  local f, why = io.open(path, "rb")
  if not f then return invalid("contactsCSVImport", "cannot read " .. tostring(path) .. ": " .. tostring(why)) end
  local text = f:read("*a")
  f:close()
  return self:import_csv(text, opts)
end

--- Import contacts given as Lua tables (JSON import: email and/or sms_number,
--- first_name, ..., "cf:<custom field>"). opts: list_ids (1-50, required),
--- sms_permission_to_send. Checked first; split into several bulkImportContactsJSON requests
--- beyond 4 MB and returned as a Group (err.started: the group already sent, as for import_csv).
---@param contacts ctct.schema.JsonImportContact[]
---@param opts ctct.resources.activities.ImportOptions
---@return ctct.resources.activities.Group|nil job
---@return ctct.Error? err
function Activities:import_contacts(contacts, opts)
  opts = opts or {}
  if type(contacts) ~= "table" or #contacts == 0 then
    return invalid("bulkImportContactsJSON", "contacts must be a non-empty array")
  end
  local chunks, current, size = {}, nil, 0
  for i, c in ipairs(contacts) do
    if type(c) ~= "table" or ((c.email == nil or c.email == "") and (c.sms_number == nil or c.sms_number == "")) then
      return invalid("bulkImportContactsJSON", ("contact %d has neither an email nor an sms_number"):format(i))
    end
    if c.email and not tostring(c.email):match(EMAIL) then
      return invalid("bulkImportContactsJSON", ("contact %d: '%s' is not an email address"):format(i, c.email))
    end
    local text, why = json.encode(c)
    if not text then return invalid("bulkImportContactsJSON", ("contact %d: %s"):format(i, why)) end
    if not current or size + #text + 1 > MAX_BYTES then
      current = { contacts = {}, first_line = i }
      chunks[#chunks + 1] = current
      size = 200 -- the envelope: list_ids and the keys
    end
    current.contacts[#current.contacts + 1] = c
    size = size + #text + 1
  end
  return send_all(self, chunks, function(chunk)
    return self.client:call("bulkImportContactsJSON", { body = {
      import_data = chunk.contacts, list_ids = opts.list_ids, sms_permission_to_send = opts.sms_permission_to_send,
    } })
  end)
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Activities.EXAMPLE = [==[
local list = assert(client.lists:create { name = "Imported" })
local job = assert(client.activities:import_csv("email,first_name\nada@example.com,Ada\n",
                                                { list_ids = { list.list_id } }))
assert(job:wait { timeout = 600, on_progress = function(j) print(j.state, j.percent_done) end })
local export = assert(client.activities:export { list_ids = { list.list_id } })
assert(export:wait { timeout = 600 })
local path = os.tmpname()
print(assert(export:download(path)), "bytes of CSV in", path)
os.remove(path)
]==]

return Activities
