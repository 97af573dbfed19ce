--- ctct.api.validate: a request body checked against its definition in the
-- official spec (lua/ctct/api/schemas.lua, generated) before it is sent: required
-- members, JSON types, string lengths, at any depth. Every problem is collected,
-- each naming the member as a path (`body.street_addresses[2].city`), so one
-- validation error says all that is wrong.
--
--   local problems = validate.body("ContactPutRequest", body, { partial = false })
--
-- Where the spec says array and the value is an empty table without a mark, the
-- table gets the array mark (json.array) so it is sent as [] and not {}: an empty
-- Lua table is both, and the spec says which one is meant.
-- opts.partial (PATCH): required members are not asked for.
-- The spec's definitions have no enums (KNOWN-DEFECTS: its looseness); rules the
-- API guide adds live with the resource methods.
local json = require "ctct.json"
local defs = require("ctct.api.schemas").definitions

local M = {}

local null, is_array = json.null, json.is_array
local MAX_PROBLEMS = 50

local NAMES = setmetatable({}, { __mode = "k" }) -- definition -> its property names, sorted
local NODES = {}
for _, t in ipairs { "object", "array", "string", "integer", "number", "boolean" } do NODES[t] = { type = t } end

local function node_of(name)
  return NODES[name] or defs[name]
end

-- The JSON type a Lua value is sent as; "empty" for an unmarked empty table.
local function json_type(v)
  local t = type(v)
  if t == "table" then
    if v == null then return "null" end
    if is_array(v) then return "array" end
    if next(v) == nil then return "empty" end
    return v[1] ~= nil and "array" or "object"
  end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "number" end
    return v == math.floor(v) and "integer" or "number"
  end
  return t
end

local function member(path, name)
  if type(name) == "string" and name:match("^[%a_][%w_]*$") then return path .. "." .. name end
  return path .. "[" .. string.format("%q", tostring(name)) .. "]"
end

local check

local function problem(out, path, text)
  if #out < MAX_PROBLEMS then out[#out + 1] = path .. ": " .. text
  else out.more = true end
end

-- Characters, as the API counts them: UTF-8 lead bytes (Lua 5.4 and LuaJIT alike).
local function length(s)
  return select(2, s:gsub("[^\128-\191]", ""))
end

local function check_string(v, node, path, out)
  local n = (node.min_length or node.max_length) and length(v)
  if node.min_length and n < node.min_length then
    problem(out, path, "must be at least " .. node.min_length .. " characters, got " .. n)
  elseif node.max_length and n > node.max_length then
    problem(out, path, "must be at most " .. node.max_length .. " characters, got " .. n)
  end
end

local function check_object(v, node, path, out, opts)
  local props = node.properties or {}
  if node.required and not opts.partial then
    for _, name in ipairs(node.required) do
      if v[name] == nil or v[name] == null then problem(out, member(path, name), "is required") end
    end
  end
  -- Names sorted, so the problems come in a stable order.
  local names = NAMES[node]
  if not names then
    names = {}
    for name in pairs(props) do names[#names + 1] = name end
    table.sort(names)
    NAMES[node] = names
  end
  for _, name in ipairs(names) do
    local x = v[name]
    if x ~= nil and x ~= null then check(x, props[name], member(path, name), out, opts) end
  end
  if node.values then
    local value = node_of(node.values)
    for k, x in pairs(v) do
      if not props[k] and x ~= null and value then check(x, value, member(path, k), out, opts) end
    end
  end
end

function check(v, node, path, out, opts)
  if #out >= MAX_PROBLEMS then return end
  if node.ref then
    local target = node_of(node.ref)
    if not target then return end
    node = target
  end
  local want, got = node.type, json_type(v)
  if got == "empty" then
    -- {} is either: the spec decides, and an array gets the mark so it is sent as [].
    if want == "array" then
      if getmetatable(v) == nil then json.array(v) end
      return
    elseif want == "object" then
      return check_object(v, node, path, out, opts)
    end
  end
  local fits = got == want or (want == "number" and got == "integer")
  if not fits then
    local article = (want == "array" or want == "object" or want == "integer") and "an " or "a "
    local shown = got == "empty" and "an empty table" or got
    if type(v) == "string" and #v <= 40 then shown = shown .. " " .. string.format("%q", v) end
    return problem(out, path, "must be " .. article .. want .. ", got " .. shown)
  end
  if want == "string" then
    check_string(v, node, path, out)
  elseif want == "array" and node.items then
    local item = node_of(node.items)
    if item then
      for i = 1, #v do
        if v[i] ~= null then check(v[i], item, path .. "[" .. i .. "]", out, opts) end
      end
    end
  elseif want == "object" then
    check_object(v, node, path, out, opts)
  end
end

--- The problems of body against definition `schema` (a list of "path: rule"
-- strings in the body's order, at most 50; `more` is true when there were more),
-- or an empty list when it fits. Unknown definitions check nothing.
function M.body(schema, body, opts)
  opts = opts or {}
  local out = {}
  local base = schema:match("^(.-)%[%]$")
  local node = base and { type = "array", items = base } or node_of(schema)
  if node then check(body, node, "body", out, opts) end
  return out
end

return M
