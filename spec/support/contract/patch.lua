-- The official V3 spec with its known defects corrected, for the contract test
-- (spec/contract_spec.lua) to run Prism on. The corrections are the ones measured
-- in ../shared/spec/KNOWN-DEFECTS.md: request-side ones (a correct request is
-- refused) and response-side ones (an example breaks its own schema, which Prism
-- turns into a 500 under --errors), plus one the contract test found (lists of ids
-- in a path segment, see path_lists). The original (the spec `make operations`
-- uses, ../shared/newer-spec/ctct-v3-swagger-3.0.178.yaml, read as JSON through
-- tools/spec_json.py) is only read; the copy goes to a new file.
--
-- Every correction first checks that the defect is still there, exactly as
-- documented, and raises if not: a new spec version must be looked at, not patched
-- blindly. KNOWN-DEFECTS.md was measured on 3.0.172; every defect it lists, and the
-- path lists, are still in 3.0.178 exactly as they were (this file's checks).
--
--   local patch = require "spec.support.contract.patch"
--   local path, lines = patch.write()          -- corrected copy in a temp file
--   lua5.4 spec/support/contract/patch.lua [source.yaml|source.json [out.json]]
--
-- Runs on Lua 5.4 and LuaJIT (ctct.json: ordered decoding, so the copy keeps the
-- spec's key order and its empty arrays).
local json = require "ctct.json"

local M = {}

M.VERSION = "3.0.178" -- the spec version these corrections were checked against

local here = debug.getinfo(1, "S").source:gsub("^@", "")
local ROOT = here:match("^(.*)/spec/support/contract/[^/]+$") or "."
local spec_source = dofile(ROOT .. "/tools/spec_source.lua")

-- The spec next to the repository (the one `make operations` uses), unless
-- CTCT_V3_SPEC names another file (.yaml or .json).
function M.default_source()
  local env = os.getenv("CTCT_V3_SPEC")
  if env and env ~= "" then return env end
  return spec_source.DEFAULT
end

local function fail(what)
  error("spec correction no longer matches the spec: " .. what ..
    " (check ../shared/spec/KNOWN-DEFECTS.md against this spec version)", 0)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

local function same_list(a, b)
  if type(a) ~= "table" or type(b) ~= "table" or #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- operationId -> { op = operation, method, path }.
local function index_operations(doc)
  local ops = {}
  for _, path in ipairs(sorted_keys(doc.paths)) do
    for _, method in ipairs(sorted_keys(doc.paths[path])) do
      local op = doc.paths[path][method]
      if type(op) == "table" and op.operationId then
        ops[op.operationId] = { op = op, method = method, path = path }
      end
    end
  end
  return ops
end

local function param(ops, op_id, name)
  local entry = ops[op_id]
  if not entry then fail("operation " .. op_id .. " is gone") end
  for _, p in ipairs(entry.op.parameters or {}) do
    if p.name == name then return p end
  end
  fail(op_id .. " has no parameter '" .. name .. "'")
end

-- Definition name -> the operations whose parameters reach it through $refs.
local function definition_users(doc, ops)
  local function refs(node, out)
    if type(node) ~= "table" then return out end
    if type(node["$ref"]) == "string" then
      local name = node["$ref"]:match("^#/definitions/(.+)$")
      if name then out[name] = true end
    end
    for _, v in pairs(node) do refs(v, out) end
    return out
  end
  local direct = {}
  for name, def in pairs(doc.definitions) do direct[name] = refs(def, {}) end
  local users = {}
  for _, op_id in ipairs(sorted_keys(ops)) do
    local seen, todo = {}, {}
    for name in pairs(refs(ops[op_id].op, {})) do todo[#todo + 1] = name end
    while #todo > 0 do
      local name = table.remove(todo)
      if not seen[name] then
        seen[name] = true
        users[name] = users[name] or {}
        users[name][#users[name] + 1] = op_id
        for next_name in pairs(direct[name] or {}) do todo[#todo + 1] = next_name end
      end
    end
  end
  return users
end

-- ---- request side -------------------------------------------------------------------

-- `maxItems: 0` on an array whose description gives a real limit: no array could
-- ever be sent. Generic (dropped wherever it occurs), each place counted.
local MAX_ITEMS_ZERO_PLACES = 6

local function drop_max_items_zero(doc, ops, out)
  local users = definition_users(doc, ops)
  local places = {}
  local function walk(node, trail)
    if type(node) ~= "table" then return end
    if node.maxItems == 0 then
      node.maxItems = nil
      places[#places + 1] = trail
    end
    for _, k in ipairs(sorted_keys(node)) do
      if type(node[k]) == "table" then walk(node[k], trail .. "/" .. tostring(k)) end
    end
  end
  walk(doc, "")
  if #places ~= MAX_ITEMS_ZERO_PLACES then
    fail(("'maxItems: 0' found in %d places, KNOWN-DEFECTS.md documents %d"):format(#places, MAX_ITEMS_ZERO_PLACES))
  end
  for _, trail in ipairs(places) do
    local def = trail:match("^/definitions/([^/]+)")
    local where = trail:gsub("^/definitions/", ""):gsub("/properties/", "."):gsub("/items", "[]")
    local used_by = def and users[def] and (" (" .. table.concat(users[def], ", ") .. ")") or ""
    out[#out + 1] = where .. ": maxItems 0 dropped" .. used_by
  end
end

-- `type: string, format: csv` with an enum of the single values: the documented
-- comma-separated use (include=custom_fields,list_memberships) fails the enum.
-- Generic; the set of places must be the documented one.
local CSV_ENUM_PARAMS = {
  "getAccountById extra_fields",
  "getContact include",
  "getContacts include",
  "getContacts sms_status",
  "getContacts status",
  "retrieveEmailCampaignActivityUsingGET include",
}

local function csv_enums_as_arrays(ops, out)
  local found = {}
  for _, op_id in ipairs(sorted_keys(ops)) do
    for _, p in ipairs(ops[op_id].op.parameters or {}) do
      if p.format == "csv" and p.type == "string" and p.enum then
        p.type, p.format, p.collectionFormat = "array", nil, "csv"
        p.items = { type = "string", enum = p.enum }
        p.enum = nil
        found[#found + 1] = op_id .. " " .. p.name
        out[#out + 1] = op_id .. " " .. p.name .. ": csv string with an enum -> array of " ..
          #p.items.enum .. " enum values, collectionFormat csv"
      end
    end
  end
  table.sort(found)
  if not same_list(found, CSV_ENUM_PARAMS) then
    fail("csv parameters with an enum are [" .. table.concat(found, ", ") .. "], documented [" ..
      table.concat(CSV_ENUM_PARAMS, ", ") .. "]")
  end
end

-- getContacts `tags`: one uuid string with `maximum: 50`, although it takes up to
-- 50 comma-separated tag ids.
local function contacts_tags(ops, out)
  local p = param(ops, "getContacts", "tags")
  if not (p.type == "string" and p.format == "uuid" and p.maximum == 50 and p.items == nil) then
    fail("getContacts tags is no longer a single uuid string with maximum 50")
  end
  p.type, p.format, p.maximum = "array", nil, nil
  p.items = { type = "string", format = "uuid" }
  p.collectionFormat, p.maxItems = "csv", 50
  out[#out + 1] = "getContacts tags: array of uuid, csv, maxItems 50"
end

-- getSocialProfilesUsingGET `include`: the enum sits on the array, so no array
-- (not even ["accessible"]) matches it.
local function social_include(ops, out)
  local p = param(ops, "getSocialProfilesUsingGET", "include")
  if not (p.type == "array" and type(p.enum) == "table" and type(p.items) == "table" and p.items.enum == nil) then
    fail("getSocialProfilesUsingGET include no longer has its enum on the array")
  end
  p.items.enum, p.enum = p.enum, nil
  out[#out + 1] = "getSocialProfilesUsingGET include: enum [" .. table.concat(p.items.enum, ", ") ..
    "] moved into items"
end

-- A comma-separated list of ids in a path segment, declared as one string (with a
-- numeric `maximum` meant as the list size). Prism splits a path value on commas
-- before validating it, so the documented use with several ids is refused: "must
-- be string". Not in KNOWN-DEFECTS.md (measured with one id only). The copy drops
-- the type and describes the list (items uuid, maxItems): Prism 5.14 crashes (the
-- node process dies, TypeError in deserializeArray) on `type: array` in a path,
-- since it splits the value a second time; without a type it validates the list it
-- already split, item by item, and a single id as it is.
local PATH_LISTS = {
  { "getEmailCampaignActivitySummary", "campaign_activity_ids", 10 },
  { "getEmailSummary", "campaign_ids", 150 },
}

local function path_lists(ops, out)
  for _, fix in ipairs(PATH_LISTS) do
    local op_id, name, max = fix[1], fix[2], fix[3]
    local p = param(ops, op_id, name)
    if not (p["in"] == "path" and p.type == "string" and p.maximum == max and p.items == nil
        and type(p.description) == "string" and p.description:find("comma%-separated list")) then
      fail(op_id .. " " .. name .. " is no longer a comma-separated list declared as a string with maximum " .. max)
    end
    p.type, p.maximum = nil, nil
    p.items = { type = "string", format = "uuid" }
    p.maxItems = max
    out[#out + 1] = ("%s %s: comma-separated path list declared as one string -> list of uuid, maxItems %d," ..
      " no type (not in KNOWN-DEFECTS.md)"):format(op_id, name, max)
  end
end

-- ---- response side ------------------------------------------------------------------

-- Schema examples that break their own schema. Prism builds its responses from
-- them, and under --errors answers 500 for a right request. Each is replaced by
-- the same value written as the schema asks.
local BAD_EXAMPLES = {
  { "CustomFieldChoice", "choice_id", "9A63BC", 1, "integer" },
  { "HistoryDetails", "consent_action_time", "2023-01-23 06:09:23 -0800", "2023-01-23T06:09:23-08:00", "date-time" },
  { "ResendToNonOpenersObject", "delay_minutes", "10,080", 10080, "integer" },
  { "ContactTrackingActivity", "contact_id", "71600990-908b-11e6-907f-00166bff25",
    "71600990-908b-11e6-907f-00166bff2500", "uuid" },
  { "ContactTrackingActivity", "campaign_activity_id", "010a0-1234-5678-9012-1100a0c1ab2a",
    "010a0000-1234-5678-9012-1100a0c1ab2a", "uuid" },
  { "ContactOpenAndClickRates", "contact_id", "71600990-908b-11e6-907f-00166bff25",
    "71600990-908b-11e6-907f-00166bff2500", "uuid" },
  { "ContactCampaignActivitiesSummary", "contact_id", "71600990-908b-11e6-907f-00166bff25",
    "71600990-908b-11e6-907f-00166bff2500", "uuid" },
}

local function response_examples(doc, ops, out)
  local users = definition_users(doc, ops)
  for _, fix in ipairs(BAD_EXAMPLES) do
    local def_name, prop_name, bad, good, kind = fix[1], fix[2], fix[3], fix[4], fix[5]
    local def = doc.definitions[def_name]
    local prop = def and def.properties and def.properties[prop_name]
    if not prop then fail(def_name .. "." .. prop_name .. " is gone") end
    if prop.example ~= bad then
      fail(def_name .. "." .. prop_name .. " example is " .. json.encode(prop.example) ..
        ", not the documented " .. json.encode(bad))
    end
    prop.example = good
    out[#out + 1] = ("%s.%s: example %s -> %s (%s)%s"):format(def_name, prop_name, json.encode(bad),
      json.encode(good), kind, users[def_name] and (" (" .. table.concat(users[def_name], ", ") .. ")") or "")
  end
end

--- Corrects the decoded spec in place; returns the list of corrections applied
-- (one line each). Raises when a documented defect is not found as documented.
function M.patch(doc)
  if type(doc) ~= "table" or type(doc.paths) ~= "table" or type(doc.definitions) ~= "table" then
    fail("not a Swagger 2.0 document")
  end
  if doc.info and doc.info.version ~= M.VERSION then
    fail("spec version " .. tostring(doc.info.version) .. ", the defects were measured on " .. M.VERSION)
  end
  local ops, out = index_operations(doc), {}
  drop_max_items_zero(doc, ops, out)
  csv_enums_as_arrays(ops, out)
  contacts_tags(ops, out)
  social_include(ops, out)
  path_lists(ops, out)
  response_examples(doc, ops, out)
  return out
end

-- ctct.json keeps what the spec says: empty arrays stay `[]` (e.g.
-- `security: [{ api_key: [] }]`), objects keep their key order (ordered decoding;
-- members a correction adds come after the spec's own), integers stay integers.
local function decode(text)
  local doc, err = json.decode(text, { ordered = true })
  if doc == nil then error("the spec is not valid JSON: " .. tostring(err), 0) end
  return doc
end

local function encode(doc)
  return assert(json.encode(doc, { root = "spec" }))
end

-- A fresh temp file name ending in .json (Prism goes by the extension).
local function temp_json()
  local base = os.tmpname()
  os.remove(base)
  return base .. "-ctct-v3-corrected.json"
end

--- Moves every path under the spec's basePath (/v3) and sets basePath to "/": Prism
-- ignores basePath, and a proxy in front of the sandbox must match /v3/... (the
-- library's URLs and the relative `_links.next.href` the API returns).
function M.under_base_path(doc)
  local base = doc.basePath
  if type(base) ~= "string" or not base:match("^/[%w/]*[%w]$") then fail("basePath is " .. tostring(base)) end
  local mt = getmetatable(doc.paths)
  local keys = {}
  for i = 1, #(mt or {}) do keys[i] = mt[i] end
  if #keys == 0 then keys = sorted_keys(doc.paths) end
  local paths, order = {}, {}
  for _, k in ipairs(keys) do
    paths[base .. k] = doc.paths[k]
    order[#order + 1] = base .. k
  end
  doc.paths = json.ordered(paths, order)
  doc.basePath = "/"
end

--- Reads source (default M.default_source()), corrects it and writes the copy to
-- dest (default a new temp file). Returns dest and the correction lines. opts:
-- base_path = true also applies M.under_base_path.
function M.write(source, dest, opts)
  if source == nil or source == "" then source = M.default_source() end
  dest = dest or temp_json()
  local doc = decode(spec_source.json_text(source))
  local lines = M.patch(doc)
  if opts and opts.base_path then M.under_base_path(doc) end
  local f = assert(io.open(dest, "wb"))
  f:write(encode(doc))
  f:close()
  return dest, lines
end

-- As a script: write the copy and print the corrections.
if arg and arg[0] and arg[0]:match("patch%.lua$") then
  local ok, dest, lines = pcall(M.write, arg[1], arg[2])
  if not ok then
    io.stderr:write(tostring(dest), "\n")
    os.exit(1)
  end
  for _, line in ipairs(lines) do print("spec correction: " .. line) end
  print("corrected spec: " .. dest)
end

return M
