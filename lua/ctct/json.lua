--- ctct.json: exact JSON, decoded and encoded by ctct.core (simdjson underneath).
--
-- What the API sent is what the user gets, and sends back:
--  * every decoded array, empty or not, carries the array mark (`json.array_mt`),
--    so a read-modify-write sends `[]` where the API sent `[]`;
--  * integers decode as Lua integers on Lua 5.4 (int64; beyond it, floats), as
--    numbers on LuaJIT; `null` decodes as `json.null` (equal to cjson.null);
--  * duplicate keys: the last one wins;
--  * the encoder follows the mark, writes integers without `.0` and floats in
--    the shortest text that reads back the same (on 5.4 an integral float keeps
--    its `.0`, it stays a float), and refuses NaN, infinities, cycles, sparse
--    arrays, tables mixing indices and names, invalid UTF-8 and functions,
--    naming the path (`body.street_addresses[2].city`).
local core = require "ctct.core"

--- The JSON null: a NULL light userdata (the same value as cjson.null).
---@alias ctct.json.null lightuserdata

--- A decoded JSON value (objects and arrays are tables; arrays carry the array mark).
---@alias ctct.json.Value table|string|number|boolean|ctct.json.null

--- Options of json.decode.
---@class ctct.json.DecodeOptions
---@field max_depth? integer deepest nesting accepted (default MAX_DEPTH, 200)
---@field max_bytes? integer largest text accepted (default MAX_BYTES, 64 MiB)
---@field ordered? boolean objects remember their key order (default false)

--- Options of json.encode.
---@class ctct.json.EncodeOptions
---@field root? string the name error paths start with (default "value")
---@field max_depth? integer deepest nesting written (default 200)

---@class ctct.json
---@field null ctct.json.null decoded nulls are this value; a field set to it is sent as `null`
---@field array_mt table the metatable every array carries (decoded, or made by json.array)
---@field MAX_DEPTH integer default nesting bound of decode
---@field MAX_BYTES integer default size bound of decode (bytes)
local M = {}

--- The JSON null: decoded nulls are this value, and a body field set to it is
-- sent as `null`. It is a NULL light userdata, the same value as cjson.null.
M.null = core.json_null

--- The metatable every array carries (decoded, or made by json.array).
M.array_mt = core.json_array_mt
local array_mt = M.array_mt

--- Default bounds of decode: nesting depth and body size.
M.MAX_DEPTH = 200
M.MAX_BYTES = 64 * 1024 * 1024

--- Mark `t` (or a new table) as a JSON array, so that it encodes as `[]` when empty.
--- Raises when `t` is given and is not a table.
---@param t? table the table to mark (default: a new one)
---@return table t the same table, marked
function M.array(t)
  if t ~= nil and type(t) ~= "table" then
    error("ctct.array: expected a table, got " .. type(t), 2)
  end
  return setmetatable(t or {}, array_mt)
end

--- True when `t` carries the array mark. Accepts any value (false for non-tables).
---@param t any any Lua value
---@return boolean
function M.is_array(t)
  return type(t) == "table" and getmetatable(t) == array_mt
end

--- An object that encodes its keys in the order given (then any other keys);
--- decode{ ordered = true } makes such objects.
---@param t? table the object (default: a new table)
---@param keys string[] the key order
---@return table t the same table, with the order attached
function M.ordered(t, keys)
  local mt = { __name = "ctct.object" }
  for i, k in ipairs(keys) do mt[i] = k end
  return setmetatable(t or {}, mt)
end

--- Decode text. opts: max_depth (200), max_bytes (64 MiB), ordered (false: when
--- true, objects remember their key order, for tools that print what was sent).
--- Returns the value, or nil, a reason naming the byte offset, and the offset.
---@param text string the JSON text
---@param opts? ctct.json.DecodeOptions
---@return ctct.json.Value|nil value the decoded value (nil on failure)
---@return string? err why the text is not JSON, naming the byte offset
---@return integer? offset the byte offset of the failure
function M.decode(text, opts)
  if type(text) ~= "string" then
    return nil, "expected JSON text, got " .. type(text), 0
  end
  return core.json_decode(text, opts)
end

--- Encode a value. opts: root (the name paths start with, "value"), max_depth.
--- Returns the text, or nil and a reason naming the path.
---@param v ctct.json.Value|nil the value to encode (nil encodes as `null`)
---@param opts? ctct.json.EncodeOptions
---@return string|nil text the JSON text
---@return string? err why the value cannot be JSON, naming the path
function M.encode(v, opts)
  return core.json_encode(v, opts)
end

return M
