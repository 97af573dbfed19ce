-- Runtime knobs set through POST /__sandbox/config; back to DEFAULTS on reset.
local store = require "sandbox.store"
local http = require "sandbox.http"

local m = store.m

local _M = {}

-- The real API's limits: 4 requests per second and 10,000 per day per key.
_M.DEFAULTS = {
  rate_limit_per_second = 4,   -- 0 = off
  daily_quota = 10000,         -- 0 = off
  latency_ms = 0,              -- added before every /v3 request
}

local KEY = "config"

function _M.get()
  local current = m.get_json(KEY) or {}
  local out = {}
  for name, default in pairs(_M.DEFAULTS) do
    local v = current[name]
    if v == nil then v = default end
    out[name] = v
  end
  return out
end

-- Applies the known fields of `changes` (validated as non-negative integers).
function _M.update(changes)
  local current = _M.get()
  for name, value in pairs(changes) do
    if _M.DEFAULTS[name] == nil then
      http.fail(400, "sandbox.config.invalid", "unknown config field '" .. tostring(name) .. "'")
    end
    if type(value) ~= "number" or value < 0 or value ~= math.floor(value) then
      http.fail(400, "sandbox.config.invalid", name .. " must be a non-negative integer")
    end
    current[name] = value
  end
  m.set_json(KEY, current)
  return current
end

return _M
