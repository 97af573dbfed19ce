-- A set of runtime knobs kept in the meta shared dict: defaults, checked
-- updates, and back to the defaults on reset (the dict is cleared).
--   local knobs = settings.new("config", DEFAULTS, CHECKS, "config")
--   knobs.get() -> every knob's value;  knobs.update(changes) -> the new values
-- CHECKS: name -> { function(value) -> ok, "what it must be" }.
local store = require "sandbox.store"
local http = require "sandbox.http"

local m = store.m

local _M = {}

function _M.new(key, defaults, checks, label)
  local knobs = { DEFAULTS = defaults }

  function knobs.get()
    local current = m.get_json(key) or {}
    local out = {}
    for name, default in pairs(defaults) do
      local v = current[name]
      if v == nil then v = default end
      out[name] = v
    end
    return out
  end

  -- All fields are checked before any is applied: one bad field changes nothing.
  function knobs.update(changes)
    local current = knobs.get()
    for name, value in pairs(changes) do
      local check = checks[name]
      if not check then
        http.fail(400, "sandbox.config.invalid", "unknown " .. label .. " field '" .. tostring(name) .. "'")
      end
      if not check[1](value) then http.fail(400, "sandbox.config.invalid", name .. " must be " .. check[2]) end
    end
    for name, value in pairs(changes) do current[name] = value end
    m.set_json(key, current)
    return current
  end

  return knobs
end

function _M.positive(v) return type(v) == "number" and v >= 1 and v == math.floor(v) end
function _M.non_negative(v) return type(v) == "number" and v >= 0 and v == math.floor(v) end

return _M
