--- ctct.json: JSON through lua-cjson, with a way to send an empty array.
--
-- Debian's lua-cjson 2.1.0 encodes every empty table as `{}`, but the API needs
-- `"list_ids": []`. `json.array(t)` marks a table as an array; an empty marked
-- array is encoded as `[]`. When the loaded cjson has its own marker
-- (`empty_array_mt`, OpenResty's fork), that is used directly.
local cjson_module = require "cjson"

-- A private instance: our settings never change the application's cjson.
local cjson = cjson_module.new()
cjson.encode_max_depth(200)
cjson.decode_max_depth(200)

local M = {}

--- The JSON null (cjson.null): decoded nulls compare equal to it, and a body
-- field set to it is sent as `null`.
M.null = cjson_module.null

local native_mt = cjson_module.empty_array_mt
local array_mt = native_mt or { __name = "ctct.array" }
M.array_mt = array_mt

--- Mark `t` (or a new table) as a JSON array, so that it encodes as `[]` when empty.
function M.array(t)
  if t ~= nil and type(t) ~= "table" then
    error("ctct.array: expected a table, got " .. type(t), 2)
  end
  return setmetatable(t or {}, array_mt)
end

--- True when `t` was marked with json.array.
function M.is_array(t)
  return type(t) == "table" and getmetatable(t) == array_mt
end

-- Without a native marker, empty marked arrays are swapped for a placeholder
-- string that cannot occur by chance, and the placeholder is then replaced by
-- `[]` in the text. Tables are copied only along the paths that hold one.
local PLACEHOLDER = string.format("\1ctct-empty-array-%08x%08x\1",
  math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
local PLACEHOLDER_JSON = cjson.encode(PLACEHOLDER)
local MAX_DEPTH = 200

local function swap_empty_arrays(v, depth)
  if type(v) ~= "table" then return v, false end
  if depth > MAX_DEPTH then
    error("nested deeper than " .. MAX_DEPTH .. " levels (a cycle?)", 0)
  end
  if getmetatable(v) == array_mt and next(v) == nil then return PLACEHOLDER, true end
  local copy
  for k, x in pairs(v) do
    local nx, changed = swap_empty_arrays(x, depth + 1)
    if changed then
      if not copy then
        copy = {}
        for k2, x2 in pairs(v) do copy[k2] = x2 end
      end
      copy[k] = nx
    end
  end
  return copy or v, copy ~= nil
end

local function plain_replace(s, from, to)
  local out, i = {}, 1
  while true do
    local a, b = s:find(from, i, true)
    if not a then break end
    out[#out + 1] = s:sub(i, a - 1)
    out[#out + 1] = to
    i = b + 1
  end
  out[#out + 1] = s:sub(i)
  return table.concat(out)
end

--- Encode a value. Returns the text, or nil and a reason (a function value,
-- a sparse array, a cycle...).
function M.encode(v)
  if native_mt then
    local ok, text = pcall(cjson.encode, v)
    if not ok then return nil, tostring(text) end
    return text
  end
  local ok, swapped, changed = pcall(swap_empty_arrays, v, 0)
  if not ok then return nil, tostring(swapped) end
  local ok2, text = pcall(cjson.encode, swapped)
  if not ok2 then return nil, tostring(text) end
  if changed then text = plain_replace(text, PLACEHOLDER_JSON, "[]") end
  return text
end

--- Decode text. Returns the value, or nil and a reason.
function M.decode(text)
  local ok, v = pcall(cjson.decode, text)
  if not ok then return nil, tostring(v) end
  return v
end

return M
