-- Request body shapes from the official spec (lua/ctct/api/schemas.lua, generated),
-- checked like the API's JSON schema validation: an object where the spec says
-- array (`"list_memberships": {}`), an array where it says object, a string where it
-- says integer ... each answer 400 json.field.invalid naming the member as a JSON
-- pointer: "#/street_addresses/0/kind: expected type string, found object".
-- Nested definitions, array items and map values are checked too; null and absent
-- members are left to the handlers (required fields, enums and lengths are theirs).
local http = require "sandbox.http"
local json = require "sandbox.json"
local defs = require("ctct.api.schemas").definitions

local _M = {}

local null, is_array = json.null, json.is_array
local MAX_ERRORS = 20

-- The node of a type name or a definition name.
local NODES = {}
for _, t in ipairs { "object", "array", "string", "integer", "number", "boolean" } do NODES[t] = { type = t } end

local function node_of(name)
  local n = NODES[name] or defs[name]
  if not n then error("shape: no definition " .. tostring(name)) end
  return n
end

-- The JSON type of a value: decoded arrays carry the mark; one the sandbox built may
-- be a plain 1..n table (decoded objects never have key 1).
local function found(v)
  local t = type(v)
  if t == "table" then return (is_array(v) or v[1] ~= nil) and "array" or "object" end
  if t == "number" then return (v == math.floor(v) and v - v == 0) and "integer" or "number" end
  return t
end

-- RFC 6901 escaping of one pointer segment.
local function segment(name)
  return (tostring(name):gsub("~", "~0"):gsub("/", "~1"))
end

local function check(v, node, path, out)
  if v == nil or v == null or #out >= MAX_ERRORS then return end
  if node.ref then node = node_of(node.ref) end
  local want, got = node.type, found(v)
  if got ~= want and not (want == "number" and got == "integer") then
    out[#out + 1] = path .. ": expected type " .. want .. ", found " .. got
    return
  end
  if want == "array" and node.items then
    local item = node_of(node.items)
    for i = 1, #v do check(v[i], item, path .. "/" .. (i - 1), out) end
  elseif want == "object" then
    local props = node.properties
    if props then
      for name, p in pairs(props) do check(v[name], p, path .. "/" .. segment(name), out) end
    end
    if node.values then
      local value = node_of(node.values)
      for k, x in pairs(v) do
        if not (props and props[k]) then check(x, value, path .. "/" .. segment(k), out) end
      end
    end
  end
end

-- The messages for value against schema ("Definition", "Definition[]" for an array of
-- them, or a JSON type), sorted; empty when it fits.
function _M.errors(value, schema)
  local base = schema:match("^(.-)%[%]$")
  local node = base and { type = "array", items = base } or node_of(schema)
  local out = {}
  check(value, node, "#", out)
  table.sort(out)
  return out
end

-- Raises the API's 400 when value does not fit schema.
function _M.check(value, schema)
  local errors = _M.errors(value, schema)
  if #errors == 0 then return end
  local body = json.array()
  for i, message in ipairs(errors) do body[i] = { error_key = "json.field.invalid", error_message = message } end
  http.fail_body(400, body)
end

return _M
