-- Small pure helpers: identifiers, timestamps, string checks.
local random = math.random
local format = string.format

local _M = {}

-- Seeded per worker in init_worker (see app.lua) so workers do not share a sequence.
function _M.seed()
  math.randomseed(ngx.now() * 1000 + ngx.worker.pid() * 7919)
end

-- Random version 4 uuid; callers insert it with dict:add, so a collision is caught.
function _M.uuid()
  return format("%08x-%04x-4%03x-%04x-%04x%08x",
    random(0, 0xffffffff), random(0, 0xffff), random(0, 0xfff),
    0x8000 + random(0, 0x3fff), random(0, 0xffff), random(0, 0xffffffff))
end

-- Lowercase letters and digits, like encoded_account_id ("p07e1l8cdif9dl").
function _M.random_id(n)
  local alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
  local out = {}
  for i = 1, n do
    local k = random(1, #alphabet)
    out[i] = alphabet:sub(k, k)
  end
  return table.concat(out)
end

-- ISO 8601 UTC, e.g. 2026-11-24T10:00:00Z.
function _M.now_iso()
  return (ngx.utctime():gsub(" ", "T")) .. "Z"
end

-- Date only (deleted_at is a date in ContactResource).
function _M.today()
  return ngx.utctime():sub(1, 10)
end

function _M.trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- "a, b,,c" -> { "a", "b", "c" }
function _M.split_csv(s)
  local out = {}
  for item in tostring(s):gmatch("[^,]+") do
    item = _M.trim(item)
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

function _M.is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

-- A shallow copy, so rendering never mutates a stored record.
function _M.copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

return _M
