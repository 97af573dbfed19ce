-- Input checks shared by the resources. Each raises a 400 APIErrorSchema naming the
-- field or query parameter (like the API), or returns the value to store (nil when
-- absent; JSON null counts as absent).
--
--   local v = check.new("tags.api.validation.error")
--   local name = v:string(body, "name", { required = true, max = 255 })
--   local limit = v:query_int(req.args, "limit", { default = 50, min = 1, max = 500 })
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"

local _M = {}

local Checker = {}
Checker.__index = Checker

function _M.new(error_key)
  return setmetatable({ key = error_key }, Checker)
end

function _M.absent(v) return v == nil or v == http.null end
local absent = _M.absent

-- Decoded bodies (ctct.core) mark their arrays, so {} is an object and [] an array;
-- a list the sandbox built itself (form fields ...) may be a plain 1..n table.
function _M.is_array(v)
  return json.is_array(v) or (type(v) == "table" and v[1] ~= nil)
end

function _M.is_object(v)
  return type(v) == "table" and not _M.is_array(v)
end

local EMAIL = "^[^%s@,;]+@[^%s@,;]+%.[^%s@,;]+$"

function _M.is_email(s)
  return type(s) == "string" and #s <= 254 and s:match(EMAIL) ~= nil
end

function Checker:fail(message)
  http.fail(400, self.key, message)
end

local function label(name, o) return (o and o.label) or name end

function Checker:required(value, name, o)
  if absent(value) then self:fail(label(name, o) .. " is required") end
end

---------------------------------------------------------------------------------------
-- Body fields: t[name], o = { required, min, max, label, ... }.

function Checker:string(t, name, o)
  o = o or {}
  local v = t[name]
  if absent(v) then
    if o.required then self:fail(label(name, o) .. " is required") end
    return nil
  end
  if type(v) ~= "string" then self:fail(label(name, o) .. " must be a string") end
  if o.required and o.non_blank ~= false and util.trim(v) == "" then
    self:fail(label(name, o) .. " must not be blank")
  end
  if o.max and #v > o.max then self:fail(label(name, o) .. " must be at most " .. o.max .. " characters") end
  if o.min and #v < o.min then self:fail(label(name, o) .. " must be at least " .. o.min .. " characters") end
  if o.email and not _M.is_email(v) then self:fail(label(name, o) .. " must be a valid email address") end
  return v
end

function Checker:enum(t, name, set, o)
  local v = self:string(t, name, o)
  if v ~= nil and not set[v] then
    self:fail(label(name, o) .. " does not have a valid value: '" .. v .. "'")
  end
  return v
end

function Checker:integer(t, name, o)
  o = o or {}
  local v = t[name]
  if absent(v) then
    if o.required then self:fail(label(name, o) .. " is required") end
    return nil
  end
  if type(v) ~= "number" or v ~= math.floor(v) then self:fail(label(name, o) .. " must be an integer") end
  if (o.min and v < o.min) or (o.max and v > o.max) then
    self:fail(label(name, o) .. " must be an integer from " .. tostring(o.min or "-inf") .. " to "
      .. tostring(o.max or "inf"))
  end
  return v
end

function Checker:boolean(t, name, o)
  o = o or {}
  local v = t[name]
  if absent(v) then
    if o.required then self:fail(label(name, o) .. " is required") end
    return nil
  end
  if type(v) ~= "boolean" then self:fail(label(name, o) .. " must be true or false") end
  return v
end

function Checker:object(t, name, o)
  o = o or {}
  local v = t[name]
  if absent(v) then
    if o.required then self:fail(label(name, o) .. " is required") end
    return nil
  end
  if not _M.is_object(v) then
    self:fail(label(name, o) .. " must be an object")
  end
  return v
end

-- o.item: "string", "uuid", "integer", "email", "object" or nil (anything);
-- o.unique drops repeated items.
function Checker:array(t, name, o)
  o = o or {}
  local v = t[name]
  local lbl = label(name, o)
  if absent(v) then
    if o.required then self:fail(lbl .. " is required") end
    return nil
  end
  if not _M.is_array(v) then self:fail(lbl .. " must be an array") end
  if o.min and #v < o.min then self:fail(lbl .. " must contain at least " .. o.min .. " item(s)") end
  if o.max and #v > o.max then self:fail(lbl .. " accepts at most " .. o.max .. " items") end
  local out, seen = json.array(), {}   -- stays an array in stored state, even empty
  for i, item in ipairs(v) do
    local where = lbl .. "[" .. (i - 1) .. "]"
    local kind = o.item
    if kind == "string" or kind == "uuid" or kind == "email" then
      if type(item) ~= "string" or item == "" then self:fail(where .. " must be a non-empty string") end
      if kind == "uuid" and not util.is_uuid(item) then self:fail(where .. " must be a uuid, got '" .. item .. "'") end
      if kind == "email" and not _M.is_email(item) then
        self:fail(where .. " must be a valid email address, got '" .. item .. "'")
      end
    elseif kind == "integer" then
      if type(item) ~= "number" or item ~= math.floor(item) then self:fail(where .. " must be an integer") end
    elseif kind == "object" then
      if not _M.is_object(item) then self:fail(where .. " must be an object") end
    end
    if not (o.unique and seen[item]) then
      seen[item] = true
      out[#out + 1] = item
    end
  end
  return out
end

-- A date-time string (ISO 8601); returns the string and its epoch seconds.
function Checker:date_time(t, name, o)
  local v = self:string(t, name, o)
  if v == nil then return nil end
  local epoch = util.parse_iso(v)
  if not epoch then self:fail(label(name, o) .. " must be an ISO 8601 date-time, got '" .. v .. "'") end
  return v, epoch
end

---------------------------------------------------------------------------------------
-- Query parameters (strings; repeated names were collapsed to the first value).

local function query_value(args, name)
  local v = args[name]
  if v == true then v = "" end   -- ?name without a value
  return v
end

function Checker:query_required(args, name)
  local v = query_value(args, name)
  if v == nil or v == "" then self:fail(name .. " is required") end
  return v
end

function Checker:query_bool(args, name, default)
  local v = args[name]
  if v == nil then return default or false end
  if v == true or v == "true" then return true end
  if v == "false" then return false end
  self:fail(name .. " must be true or false")
end

function Checker:query_enum(args, name, set, o)
  local v = query_value(args, name)
  if v == nil then return o and o.default end
  if not set[v] then self:fail(name .. " does not have a valid value: '" .. tostring(v) .. "'") end
  return v
end

-- An integer parameter (limits are "integer" or "string" in the spec; both are
-- checked as integers): 400 naming it when malformed or out of [min, max].
function Checker:query_int(args, name, o)
  o = o or {}
  local raw = query_value(args, name)
  if raw == nil then
    if o.required then self:fail(name .. " is required") end
    return o.default
  end
  local n = tonumber(raw)
  if n == nil or n ~= math.floor(n) or (o.min and n < o.min) or (o.max and n > o.max) then
    self:fail(name .. " must be an integer between " .. tostring(o.min or "-inf") .. " and "
      .. tostring(o.max or "inf") .. ", got '" .. tostring(raw) .. "'")
  end
  return n
end

-- A comma-separated list: o.max items at most, each in o.set or matching o.item
-- ("uuid", "digits"); returns the list (nil when absent).
function Checker:query_csv(args, name, o)
  o = o or {}
  local raw = query_value(args, name)
  if raw == nil then
    if o.required then self:fail(name .. " is required") end
    return nil
  end
  local items = util.split_csv(raw)
  if o.required and #items == 0 then self:fail(name .. " is required") end
  if o.max and #items > o.max then self:fail(name .. " accepts at most " .. o.max .. " values") end
  for _, item in ipairs(items) do
    if o.set and not o.set[item] then
      self:fail(name .. " does not have a valid value: '" .. item .. "'")
    elseif o.item == "uuid" and not util.is_uuid(item) then
      self:fail(name .. " must contain uuids, got '" .. item .. "'")
    elseif o.item == "digits" and not item:match("^%d+$") then
      self:fail(name .. " must contain numeric ids, got '" .. item .. "'")
    end
  end
  return items
end

-- An ISO 8601 date-time parameter; returns its epoch seconds (nil when absent).
function Checker:query_date(args, name, o)
  local raw = query_value(args, name)
  if raw == nil or raw == "" then
    if o and o.required then self:fail(name .. " is required") end
    return nil
  end
  -- A '+' offset left unescaped in the query arrives as a space.
  local epoch = util.parse_iso((tostring(raw):gsub(" (%d%d:?%d%d)$", "+%1")))
  if not epoch then self:fail(name .. " must be an ISO 8601 date-time, got '" .. tostring(raw) .. "'") end
  return epoch
end

-- A set (name -> true) from a list.
function _M.set(list)
  local out = {}
  for _, v in ipairs(list) do out[v] = true end
  return out
end

return _M
