-- JSON in the sandbox: ctct.core's exact decoder and encoder (src/json.c), so the
-- sandbox tells `[]` from `{}` in what clients send and says `[]` where the API does.
-- Decoded arrays carry json.array_mt, and so must every array the sandbox builds
-- for an answer or for its state (json.array): an empty unmarked table is `{}`.
-- No ngx here: jose.lua uses it outside nginx too (ctct.core is then found through
-- the caller's package.cpath, e.g. LUA_CPATH='build/jit/?.so').
local core = require "ctct.core"

local array_mt = core.json_array_mt

local _M = {
  null = core.json_null,   -- the same value as ngx.null and cjson.null
  array_mt = array_mt,
}

-- Marks t (or a new table) as a JSON array, in place; returns it.
function _M.array(t)
  return setmetatable(t or {}, array_mt)
end

function _M.is_array(v)
  return getmetatable(v) == array_mt
end

-- Returns the value, or nil and a message naming the byte offset.
function _M.decode(text)
  return core.json_decode(text)
end

-- Compact text; raises on what JSON cannot say (a sandbox bug: NaN, mixed tables ...).
function _M.encode(value)
  local text, err = core.json_encode(value)
  if not text then error("sandbox.json: cannot encode: " .. err, 2) end
  return text
end

return _M
