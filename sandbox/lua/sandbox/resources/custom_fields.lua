-- /contact_custom_fields: custom field definitions (CustomField, CustomFieldRequest,
-- CustomFieldPutRequest, CustomFields). At most 100 per account, like the API.
-- Values live on contacts (custom_fields: [{custom_field_id, value}]); deleting a field
-- leaves stale values in contact records that are never shown again.
--   a:<account>:custom_field@name:<lowercased name> -> custom_field_id
local collection = require "sandbox.collection"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"

local fields = collection.new("custom_field", "custom_field_id")

local _M = { collection = fields }

local v = check.new("custom_fields.api.validation.error")
local NOT_FOUND = "custom_fields.api.not.found"
local CONFLICT = "custom_fields.api.conflict"

local LIMIT_DEFAULT, LIMIT_MAX = 50, 100
local MAX_FIELDS = 100

_M.TYPES = check.set({ "string", "date", "number", "currency", "boolean", "single_select", "multi_select" })
local SELECT = { single_select = true, multi_select = true }
local DISPLAY_TYPES = check.set({ "radio", "checkbox", "dropdown" })

function _M.get(account, id)
  return fields:get(account, id)
end

function _M.exists(account, id)
  return type(id) == "string" and fields:get(account, id) ~= nil
end

-- The field named `name` (the `cf:<name>` of imports), case-insensitive, or nil.
function _M.by_name(account, name)
  local id = fields:lookup(account, "name", name:lower())
  return id and fields:get(account, id)
end

-- "Vehicle make and model" -> "Vehicle_make_and_model"
local function name_of(label)
  return (util.trim(label):gsub("%s+", "_"))
end

local MONTH_DAY_YEAR = { "^(%d%d?)/(%d%d?)/(%d%d%d%d)$", "^(%d%d?)%-(%d%d?)%-(%d%d%d%d)$" }
local YEAR_MONTH_DAY = { "^(%d%d%d%d)/(%d%d?)/(%d%d?)$", "^(%d%d%d%d)%-(%d%d?)%-(%d%d?)$" }

-- The date formats the API accepts for dates (MM/DD/YYYY, YYYY-MM-DD, M-D-YYYY ...).
function _M.valid_date(s)
  for _, p in ipairs(MONTH_DAY_YEAR) do
    local m, dd = s:match(p)
    if m then return tonumber(m) >= 1 and tonumber(m) <= 12 and tonumber(dd) >= 1 and tonumber(dd) <= 31 end
  end
  for _, p in ipairs(YEAR_MONTH_DAY) do
    local _, m, dd = s:match(p)
    if m then return tonumber(m) >= 1 and tonumber(m) <= 12 and tonumber(dd) >= 1 and tonumber(dd) <= 31 end
  end
  return util.parse_iso(s) ~= nil
end

-- Checks a contact's value for field; returns nil or a message saying what is wrong.
function _M.value_problem(field, value, choice_ids)
  if value ~= nil and type(value) ~= "string" then return "value must be a string" end
  if value and #value > 255 then return "value must be at most 255 characters" end
  local t = field.type
  if value and value ~= "" then
    if t == "date" and not _M.valid_date(value) then
      return "value '" .. value .. "' is not a date for custom field " .. field.name
    elseif (t == "number" or t == "currency") and not tonumber(value) then
      return "value '" .. value .. "' is not a number for custom field " .. field.name
    elseif t == "boolean" and value ~= "true" and value ~= "false" then
      return "value must be true or false for custom field " .. field.name
    end
  end
  if choice_ids ~= nil then
    if not SELECT[t] then return "choice_ids only apply to single_select and multi_select fields" end
    if type(choice_ids) ~= "table" then return "choice_ids must be an array" end
    local known = {}
    for _, c in ipairs(field.choices or {}) do known[tostring(c.choice_id)] = true end
    for _, id in ipairs(choice_ids) do
      if not known[tostring(id)] then return "choice_id " .. tostring(id) .. " is not a choice of " .. field.name end
    end
    if t == "single_select" and #choice_ids > 1 then return "a single_select field takes one choice" end
  end
  return nil
end

local function render(field)
  local out = util.copy(field)
  out.seq = nil
  if field.choices then
    local choices = {}
    for i, c in ipairs(field.choices) do
      choices[i] = util.copy(c)
      choices[i].custom_field_id = field.custom_field_id
    end
    out.choices = json.array(choices)
  end
  return out
end

local function find(req)
  local field = fields:get(req.account, req.params.custom_field_id)
  if not field then
    http.fail(404, NOT_FOUND, "Custom field " .. tostring(req.params.custom_field_id) .. " not found")
  end
  return field
end

local function claim_name(account, name, id)
  if not fields:claim(account, "name", name:lower(), id) then
    http.fail(409, CONFLICT, "A custom field named '" .. name .. "' already exists")
  end
end

-- choices from a request; keeps the choice_id of an existing choice with the same id.
local function choices_of(body, field_type, now)
  local items = v:array(body, "choices", { max = 100, item = "object" })
  if not items then return nil end
  if not SELECT[field_type] then v:fail("choices only apply to single_select and multi_select fields") end
  local out = {}
  for i, item in ipairs(items) do
    local where = "choices[" .. (i - 1) .. "]"
    local choice_label = v:string(item, "choice_label",
      { required = true, max = 255, label = where .. ".choice_label" })
    out[i] = {
      choice_id = v:integer(item, "choice_id", { min = 1, label = where .. ".choice_id" }) or i,
      choice_label = choice_label,
      display_order = v:integer(item, "display_order", { min = 0, label = where .. ".display_order" }) or i,
      created_at = now, updated_at = now,
    }
  end
  return out
end

local function metadata_of(body)
  local m = v:object(body, "metadata")
  if not m then return nil end
  local out = {
    display_type = v:enum(m, "display_type", DISPLAY_TYPES, { label = "metadata.display_type" }),
    allow_negative = v:boolean(m, "allow_negative", { label = "metadata.allow_negative" }),
    decimal_places = v:integer(m, "decimal_places", { min = 0, max = 4, label = "metadata.decimal_places" }),
    currency_code = v:string(m, "currency_code", { max = 3, label = "metadata.currency_code" }),
    integer = v:boolean(m, "integer", { label = "metadata.integer" }),
    display_format = v:string(m, "display_format", { max = 20, label = "metadata.display_format" }),
  }
  return next(out) and out or nil
end

local handlers = {}

function handlers.list(req)
  local limit, from = pager.window(req.args, LIMIT_DEFAULT, LIMIT_MAX)
  local page, next_from = fields:page(req.account, from, limit)
  local out = {}
  for i, field in ipairs(page) do out[i] = render(field) end
  return 200, {
    custom_fields = json.array(out),
    _links = pager.links("/v3/contact_custom_fields", limit, next_from, req.args),
  }
end

function handlers.create(req)
  local body = req:json()
  local label = v:string(body, "label", { required = true, max = 50 })
  local field_type = v:enum(body, "type", _M.TYPES, { required = true })
  local now = util.now_iso()
  local choices = choices_of(body, field_type, now)
  if SELECT[field_type] and (not choices or #choices == 0) then
    v:fail("choices are required for " .. field_type .. " fields")
  end
  local version = v:integer(body, "version", { min = 1, max = 2 })
  local metadata = metadata_of(body)
  if fields:count(req.account) >= MAX_FIELDS then
    v:fail("An account can have at most " .. MAX_FIELDS .. " custom fields")
  end
  local id = util.uuid()
  local name = name_of(label)
  claim_name(req.account, name, id)
  local field = fields:insert(req.account, {
    custom_field_id = id, label = label, name = name, type = field_type, metadata = metadata,
    version = field_type == "date" and (version or 2) or nil, choices = choices,
    created_at = now, updated_at = now,
  })
  return 201, render(field)
end

function handlers.get(req)
  return 200, render(find(req))
end

-- Changes the label (and so the name) and the choices of a select field.
function handlers.put(req)
  local field = find(req)
  local body = req:json()
  local label = v:string(body, "label", { max = 50 })
  local now = util.now_iso()
  local choices = choices_of(body, field.type, now)
  if label then
    local name = name_of(label)
    if name:lower() ~= field.name:lower() then
      claim_name(req.account, name, field.custom_field_id)
      fields:release(req.account, "name", field.name:lower(), field.custom_field_id)
    end
    field.label, field.name = label, name
  end
  if choices then field.choices = choices end
  field.updated_at = now
  fields:update(req.account, field)
  return 200, render(field)
end

-- Removes a field (DELETE and the custom_fields_delete activity).
function _M.remove(account, field)
  fields:remove(account, field)
  fields:release(account, "name", field.name:lower(), field.custom_field_id)
end

function handlers.delete(req)
  _M.remove(req.account, find(req))
  return 204
end

_M.handlers = handlers

return _M
