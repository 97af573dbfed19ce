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
function M.array(t)
  if t ~= nil and type(t) ~= "table" then
    error("ctct.array: expected a table, got " .. type(t), 2)
  end
  return setmetatable(t or {}, array_mt)
end

--- True when `t` carries the array mark.
function M.is_array(t)
  return type(t) == "table" and getmetatable(t) == array_mt
end

--- An object that encodes its keys in the order given (then any other keys);
-- decode{ ordered = true } makes such objects.
function M.ordered(t, keys)
  local mt = { __name = "ctct.object" }
  for i, k in ipairs(keys) do mt[i] = k end
  return setmetatable(t or {}, mt)
end

--- Decode text. opts: max_depth (200), max_bytes (64 MiB), ordered (false: when
-- true, objects remember their key order, for tools that print what was sent).
-- Returns the value, or nil, a reason naming the byte offset, and the offset.
function M.decode(text, opts)
  if type(text) ~= "string" then
    return nil, "expected JSON text, got " .. type(text), 0
  end
  return core.json_decode(text, opts)
end

--- Encode a value. opts: root (the name paths start with, "value"), max_depth.
-- Returns the text, or nil and a reason naming the path.
function M.encode(v, opts)
  return core.json_encode(v, opts)
end

return M
