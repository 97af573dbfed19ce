--- tools/gen_schemas.lua: writes lua/ctct/api/schemas.lua, the shape of every
-- definition of Constant Contact's official spec (the bodies the API takes and gives).
--
--   lua5.4 tools/gen_schemas.lua [SPEC] [OUTPUT]
--   (defaults: ../shared/newer-spec/ctct-v3-swagger-3.0.178.yaml, lua/ctct/api/schemas.lua;
--   a .yaml spec is read through tools/spec_json.py, see tools/spec_source.lua)
--
-- Only what a body check needs: each property's type, its array items, the
-- definition it refers to, enum, string lengths, and each object's required list.
-- Inline objects and constrained array items become definitions of their own,
-- named after where they sit ("Parent.property", "Parent.property[]"), so `items`
-- and `values` are always one name: a JSON type or a definition.
-- spec/generated_spec.lua fails when the committed table differs from a fresh run.
local cjson = require "cjson"
local source = dofile((arg[0]:match("^(.*)/[^/]+$") or ".") .. "/spec_source.lua")

local spec_path = arg[1] or source.DEFAULT
local out_path = arg[2] or "lua/ctct/api/schemas.lua"

local spec = cjson.decode(source.json_text(spec_path))

local TYPES = { object = true, array = true, string = true, integer = true, number = true, boolean = true }
local defs = {}   -- name -> { type, properties, required, items, values, enum, ... }

local function ref_name(schema)
  local ref = schema["$ref"]
  return ref and assert(ref:match("^#/definitions/(.+)$"), "unsupported $ref " .. ref)
end

local function is_plain(schema)
  for k, v in pairs(schema) do
    local free_form = k == "properties" and next(v) == nil   -- an object of any members
    if not free_form and k ~= "type" and k ~= "description" and k ~= "example" and k ~= "format" and k ~= "readOnly"
      and k ~= "title" and k ~= "default" and k ~= "x-deprecated" then
      return false
    end
  end
  return true
end

local definition

-- A schema in a place that takes one name (array items, map values): its $ref, its
-- plain type, or a definition made of it under `name`.
local function named(schema, name)
  if type(schema) ~= "table" then return nil end
  local ref = ref_name(schema)
  if ref then return ref end
  if is_plain(schema) and TYPES[schema.type] and schema.type ~= "array" then return schema.type end
  definition(name, schema)
  return name
end

-- The type a $ref stands for (definitions without a type are objects).
local function type_of_ref(name)
  local target = assert(spec.definitions[name], "no definition " .. name)
  return target.type or "object"
end

local function property(schema, where)
  local ref = ref_name(schema)
  if ref then return { type = type_of_ref(ref), ref = ref } end
  local t = schema.type or (schema.properties and "object")
  assert(TYPES[t], where .. ": unsupported type " .. tostring(t))
  local p = { type = t, enum = schema.enum, min_length = schema.minLength, max_length = schema.maxLength }
  if t == "array" then
    p.items = named(schema.items or { type = "string" }, where .. "[]")
  elseif t == "object" and (next(schema.properties or {}) or type(schema.additionalProperties) == "table"
      or schema.required) then
    definition(where, schema)
    p.ref = where
  end
  return p
end

function definition(name, schema)
  assert(not defs[name], "definition defined twice: " .. name)
  local d = { type = schema.type or "object", enum = schema.enum, min_length = schema.minLength,
              max_length = schema.maxLength }
  assert(TYPES[d.type], name .. ": unsupported type " .. tostring(d.type))
  defs[name] = d
  if schema.type == "array" then d.items = named(schema.items or { type = "string" }, name .. "[]") end
  if schema.properties then
    d.properties = {}
    for pname, p in pairs(schema.properties) do d.properties[pname] = property(p, name .. "." .. pname) end
  end
  if type(schema.additionalProperties) == "table" then
    d.values = named(schema.additionalProperties, name .. "{}")
  end
  if schema.required and #schema.required > 0 then
    d.required = {}
    for i, r in ipairs(schema.required) do d.required[i] = r end
    table.sort(d.required)
  end
end

local top = {}
for name in pairs(spec.definitions) do top[#top + 1] = name end
table.sort(top)
for _, name in ipairs(top) do definition(name, spec.definitions[name]) end

-- Where the spec contradicts itself or the API (the client checks bodies against
-- these definitions before sending, so a wrong "required" would refuse a correct
-- request): { definition, member, what is done, why }.
local CORRECTIONS = {
  { "Provision", "state_code", "not required",
    "in the required list, but its own description asks for it only in the US" },
}
for _, c in ipairs(CORRECTIONS) do
  local d = assert(defs[c[1]], "correction for a missing definition " .. c[1])
  local kept, found = {}, false
  for _, r in ipairs(d.required or {}) do
    if r == c[2] then found = true else kept[#kept + 1] = r end
  end
  assert(found, "correction: " .. c[1] .. "." .. c[2] .. " is not required in the spec any more")
  d.required = #kept > 0 and kept or nil
end

-- Deterministic Lua source ---------------------------------------------------------------

local function str(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\%03d", c:byte())
  end) .. '"'
end

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true "
  .. "until while"):gmatch("%a+") do KEYWORDS[w] = true end

local function key(k)
  if k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. str(k) .. "]"
end

local function value(v)
  if type(v) == "string" then return str(v) end
  if type(v) == "number" then return v == math.floor(v) and string.format("%d", v) or tostring(v) end
  if type(v) == "boolean" then return tostring(v) end
  local parts = {}
  for _, x in ipairs(v) do parts[#parts + 1] = value(x) end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local FIELDS = { "type", "ref", "items", "values", "enum", "min_length", "max_length" }

local function fields(d)
  local parts = {}
  for _, k in ipairs(FIELDS) do
    if d[k] ~= nil then parts[#parts + 1] = k .. " = " .. value(d[k]) end
  end
  return parts
end

local names = {}
for name in pairs(defs) do names[#names + 1] = name end
table.sort(names)

local lines = {
  "-- lua/ctct/api/schemas.lua: the shape of every definition of the Constant Contact V3 API.",
  "-- GENERATED by tools/gen_schemas.lua from the official spec " .. spec.info.version ..
    " (" .. #top .. " definitions). Do not edit: run `make schemas`.",
  "--",
  "-- definitions[name] = { type, ref, items, values, enum, min_length, max_length, required,",
  "--                       properties = { [property] = { type, ref, items, enum, min_length, max_length } } }",
  "--   type: object, array, string, integer, number or boolean; ref: the definition an",
  "--   object property follows; items (arrays) and values (maps): a type or a definition.",
  "-- Inline objects are definitions named \"Parent.property\" (array items \"Parent.property[]\").",
  "--",
  "-- Corrections of spec defects applied by the generator:",
}
for _, c in ipairs(CORRECTIONS) do
  lines[#lines + 1] = "--   " .. c[1] .. "." .. c[2] .. ": " .. c[3] .. " (" .. c[4] .. ")"
end
for _, l in ipairs {
  "return {",
  "  version = " .. str(spec.info.version) .. ",",
  "  definitions = {",
} do lines[#lines + 1] = l end
-- "name = { a, b, ... }," in lines of at most 120 characters.
local function list_lines(indent, name, items)
  local line = indent .. name .. " = {"
  for i, item in ipairs(items) do
    local piece = " " .. str(item) .. (i < #items and "," or " },")
    if #line + #piece > 120 then
      lines[#lines + 1] = line
      line = indent .. "  " .. piece:sub(2)
    else
      line = line .. piece
    end
  end
  lines[#lines + 1] = line
end

for _, name in ipairs(names) do
  local d = defs[name]
  local head = "    " .. key(name) .. " = { " .. table.concat(fields(d), ", ")
  if not d.properties and not d.required then
    lines[#lines + 1] = head .. " },"
  else
    lines[#lines + 1] = head .. ","
    if d.required then list_lines("      ", "required", d.required) end
    lines[#lines + 1] = "      properties = {"
    local props = {}
    for pname in pairs(d.properties) do props[#props + 1] = pname end
    table.sort(props)
    for _, pname in ipairs(props) do
      lines[#lines + 1] = "        " .. key(pname) .. " = { " .. table.concat(fields(d.properties[pname]), ", ")
        .. " },"
    end
    lines[#lines + 1] = "      },"
    lines[#lines + 1] = "    },"
  end
end
lines[#lines + 1] = "  },"
lines[#lines + 1] = "}"

local out = assert(io.open(out_path, "wb"))
out:write(table.concat(lines, "\n"), "\n")
out:close()
io.stderr:write(("gen_schemas: %d definitions (%d with inline ones) -> %s\n"):format(#top, #names, out_path))
