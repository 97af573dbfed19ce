--- tools/gen_operations.lua: writes lua/ctct/api/operations.lua, the table of
-- every V3 operation, from Constant Contact's official spec.
--
--   lua5.4 tools/gen_operations.lua [SPEC] [OUTPUT]
--   (defaults: ../shared/newer-spec/ctct-v3-swagger-3.0.178.yaml, lua/ctct/api/operations.lua;
--   a .yaml spec is read through tools/spec_json.py, see tools/spec_source.lua)
--
-- The table drives client:call's validation, the resource objects, the docs,
-- the editor stubs and the contract test. A new spec version is one run away;
-- spec/generated_spec.lua fails when the committed table differs from a
-- fresh run.
--
-- The spec has defects that would make the client refuse requests the API
-- accepts (see ../shared/spec/KNOWN-DEFECTS.md, measured on 3.0.172; all still in
-- 3.0.178). They are corrected here, each correction listed in the generated
-- file's header; nothing else is changed. The corrections by pattern (a csv
-- string, an enum on an array, bounds on a string) apply where the defect is;
-- the ones named per parameter (LIST_PARAMS) first check that the defect is
-- still there, exactly, and stop the run if not.
local cjson = require "cjson"
local source = dofile((arg[0]:match("^(.*)/[^/]+$") or ".") .. "/spec_source.lua")

local spec_path = arg[1] or source.DEFAULT
local out_path = arg[2] or "lua/ctct/api/operations.lua"

local spec = cjson.decode(source.json_text(spec_path))

local corrections = {}
local function correct(op_id, name, what)
  corrections[#corrections + 1] = ("%s %s: %s"):format(op_id, name, what)
end

-- Parameters whose "maximum" counts items of a comma-separated list (the
-- descriptions say so), with the item format. Each must still be a string with
-- that maximum and no items, in the place given.
local LIST_PARAMS = {
  ["getContacts lists"] = { max_items = 25, ["in"] = "query" },
  ["getContacts tags"] = { max_items = 50, format = "uuid", ["in"] = "query", spec_format = "uuid" },
  -- Path segments holding "a comma-separated list of ids" (not in KNOWN-DEFECTS.md).
  ["getEmailSummary campaign_ids"] = { max_items = 150, ["in"] = "path" },
  ["getEmailCampaignActivitySummary campaign_activity_ids"] = { max_items = 10, ["in"] = "path" },
}
local list_params_seen = {}

local function stale(what)
  io.stderr:write("gen_operations: spec correction no longer matches the spec: ", what,
    " (check ../shared/spec/KNOWN-DEFECTS.md against this spec version, then remove or change the correction)\n")
  os.exit(1)
end

-- The defect of a LIST_PARAMS entry, exactly as it was measured.
local function check_list_param(key, list, p)
  if list_params_seen[key] then stale(key .. " appears twice") end
  list_params_seen[key] = true
  if not (p["in"] == list["in"] and p.type == "string" and p.maximum == list.max_items and p.items == nil
      and p.format == list.spec_format and p.maxItems == nil) then
    stale(("%s is no longer a comma-separated list declared as a %s string with maximum %d"):format(key,
      list.spec_format or "plain", list.max_items))
  end
end

local function security_of(op)
  local sec = op.security or {}
  for _, alt in ipairs(sec) do
    if alt.ctctPartnerAuthorizer or alt.api_key then return "partner", {} end
  end
  local scopes, seen = {}, {}
  for _, alt in ipairs(sec) do
    for _, list in pairs(alt) do
      for _, s in ipairs(list) do
        if not seen[s] then seen[s] = true; scopes[#scopes + 1] = s end
      end
    end
  end
  table.sort(scopes)
  return "oauth", scopes
end

local function schema_name(schema)
  if type(schema) ~= "table" then return nil end
  local ref = schema["$ref"] or (schema.items and schema.items["$ref"])
  local name = ref and ref:match("([^/]+)$")
  if schema.type == "array" and name then return name .. "[]" end
  return name or schema.type
end

-- One parameter, normalised: type, items, collection format, bounds.
local function param_of(op_id, p)
  local out = { name = p.name, ["in"] = p["in"], required = p.required == true or nil }
  if p["in"] == "body" then
    out.schema = schema_name(p.schema)
    return out
  end
  out.type, out.format, out.default = p.type, p.format, p.default
  out.enum = p.enum
  out.minimum, out.maximum = p.minimum, p.maximum
  out.min_length, out.max_length, out.pattern = p.minLength, p.maxLength, p.pattern
  if p.type == "array" then
    out.items = { type = p.items and p.items.type or "string", enum = p.items and p.items.enum }
    out.collection = p.collectionFormat or "csv"
    out.max_items = p.maxItems
    if p.enum and not out.items.enum then -- the enum belongs to the items
      out.items.enum, out.enum = p.enum, nil
      correct(op_id, p.name, "enum moved from the array to its items")
    end
  elseif p.format == "csv" then -- a comma-separated list declared as one string
    out.type, out.format = "array", nil
    out.items = { type = "string", enum = (p.items and p.items.enum) or p.enum }
    out.enum = nil
    -- A string has no collectionFormat: a stray "multi" (tracking_activities_list)
    -- would send the name once per value, which the API and Prism refuse.
    out.collection = "csv"
    correct(op_id, p.name, "string with format csv read as a comma-separated array")
  end
  local list = LIST_PARAMS[op_id .. " " .. p.name]
  if list then
    check_list_param(op_id .. " " .. p.name, list, p)
    out.type, out.items, out.collection = "array", { type = "string", format = list.format }, "csv"
    out.format, out.maximum, out.max_items = nil, nil, list.max_items
    correct(op_id, p.name, ("comma-separated list of at most %d%s"):format(list.max_items,
      list.format and (" " .. list.format .. "s") or " values"))
  elseif out.type == "string" and (out.minimum or out.maximum) then
    if p.name == "limit" or p.name == "page" then
      out.type, out.format = "integer", nil
      correct(op_id, p.name, "numeric bounds on a string: read as an integer")
    else
      out.minimum, out.maximum = nil, nil
      correct(op_id, p.name, "numeric bounds on a string dropped")
    end
  end
  return out
end

-- The definition a successful answer follows (the lowest 2xx status with a schema),
-- for the LuaLS stubs' return types; every operation of the spec names one or none.
local function response_of(op)
  local codes = {}
  for code, r in pairs(op.responses or {}) do
    if tostring(code):match("^2") and type(r) == "table" and r.schema then codes[#codes + 1] = tostring(code) end
  end
  table.sort(codes)
  local schema = codes[1] and op.responses[codes[1]].schema
  local ref = schema and schema["$ref"]
  if ref then return (ref:match("^#/definitions/(.+)$")) end
  if schema and schema.type == "array" and schema.items and schema.items["$ref"] then
    return schema.items["$ref"]:match("^#/definitions/(.+)$") .. "[]"
  end
  return nil
end

local ops = {}
for path, item in pairs(spec.paths) do
  local shared = item.parameters or {}
  for method, op in pairs(item) do
    if method ~= "parameters" then
      local params = {}
      for _, p in ipairs(shared) do params[#params + 1] = param_of(op.operationId, p) end
      for _, p in ipairs(op.parameters or {}) do params[#params + 1] = param_of(op.operationId, p) end
      local security, scopes = security_of(op)
      ops[op.operationId] = {
        response = response_of(op),
        method = method:upper(), path = path, tag = (op.tags or {})[1],
        summary = op.summary and op.summary:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "") or nil,
        security = security, scopes = scopes, params = params,
        consumes = op.consumes or spec.consumes, produces = op.produces or spec.produces,
      }
    end
  end
end

-- Deterministic Lua source ---------------------------------------------------------------

local function str(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\%03d", c:byte())
  end) .. '"'
end

local function value(v)
  local t = type(v)
  if t == "string" then return str(v) end
  if t == "number" then return v == math.floor(v) and string.format("%d", v) or tostring(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then
    local parts = {}
    for _, x in ipairs(v) do parts[#parts + 1] = value(x) end
    return "{ " .. table.concat(parts, ", ") .. " }"
  end
  error("cannot write a " .. t)
end

local PARAM_KEYS = { "name", "in", "required", "type", "format", "items", "collection", "enum", "minimum",
                     "maximum", "max_items", "min_length", "max_length", "pattern", "default", "schema" }

local function param_source(p)
  local parts = {}
  for _, k in ipairs(PARAM_KEYS) do
    local v = p[k]
    if v ~= nil and v ~= cjson.null then
      local key = k == "in" and '["in"]' or k
      if k == "items" then
        local items = { "type = " .. str(v.type) }
        if v.format then items[#items + 1] = "format = " .. str(v.format) end
        if v.enum then items[#items + 1] = "enum = " .. value(v.enum) end
        parts[#parts + 1] = "items = { " .. table.concat(items, ", ") .. " }"
      else
        parts[#parts + 1] = key .. " = " .. value(v)
      end
    end
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local gone = {}
for key in pairs(LIST_PARAMS) do
  if not list_params_seen[key] then gone[#gone + 1] = key end
end
table.sort(gone)
if #gone > 0 then stale("no parameter " .. table.concat(gone, ", ")) end

local ids = {}
for id in pairs(ops) do ids[#ids + 1] = id end
table.sort(ids)
table.sort(corrections)

local lines = {
  "-- lua/ctct/api/operations.lua: every operation of the Constant Contact V3 API.",
  "-- GENERATED by tools/gen_operations.lua from the official spec " .. spec.info.version ..
    " (" .. #ids .. " operations). Do not edit: run `make operations`.",
  "--",
  "-- Corrections of spec defects applied by the generator:",
}
for _, c in ipairs(corrections) do lines[#lines + 1] = "--   " .. c end
lines[#lines + 1] = "return {"
lines[#lines + 1] = "  version = " .. str(spec.info.version) .. ","
lines[#lines + 1] = "  base_path = " .. str(spec.basePath) .. ","
lines[#lines + 1] = "  operations = {"
for _, id in ipairs(ids) do
  local op = ops[id]
  lines[#lines + 1] = "    " .. id .. " = {"
  lines[#lines + 1] = "      method = " .. str(op.method) .. ", path = " .. str(op.path) ..
    ", tag = " .. str(op.tag) .. ","
  if op.summary then lines[#lines + 1] = "      summary = " .. str(op.summary) .. "," end
  if op.response then lines[#lines + 1] = "      response = " .. str(op.response) .. "," end
  lines[#lines + 1] = "      security = " .. str(op.security) .. ", scopes = " .. value(op.scopes) .. ","
  lines[#lines + 1] = "      consumes = " .. value(op.consumes or {}) ..
    ", produces = " .. value(op.produces or {}) .. ","
  lines[#lines + 1] = "      params = {"
  for _, p in ipairs(op.params) do lines[#lines + 1] = "        " .. param_source(p) .. "," end
  lines[#lines + 1] = "      },"
  lines[#lines + 1] = "    },"
end
lines[#lines + 1] = "  },"
lines[#lines + 1] = "}"

local out = assert(io.open(out_path, "wb"))
out:write(table.concat(lines, "\n"), "\n")
out:close()
io.stderr:write(("gen_operations: %d operations, %d corrections -> %s\n"):format(#ids, #corrections, out_path))
