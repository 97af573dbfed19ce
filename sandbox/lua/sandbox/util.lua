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

-- Seconds since the epoch of an ISO 8601 date or date-time ("2024-01-15",
-- "2024-01-15T10:00:00Z", "2024-01-15T10:00:00.123-05:00", "...+0500"), or nil.
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

function _M.parse_iso(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 then return nil end
  local h, mi, sec, offset = 0, 0, 0, 0
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[T ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, after = tail:match("^:(%d%d)(.*)$")
    if ss then sec, tail = tonumber(ss), after end
    local frac, after_frac = tail:match("^%.(%d+)(.*)$")
    if frac then sec, tail = sec + tonumber("0." .. frac), after_frac end
    if tail == "Z" or tail == "" then
      offset = 0
    else
      local sign, oh, om = tail:match("^([+-])(%d%d):?(%d%d)$")
      if not sign then return nil end
      offset = (tonumber(oh) * 60 + tonumber(om)) * 60 * (sign == "-" and -1 or 1)
    end
    if h > 23 or mi > 59 or sec >= 61 then return nil end
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
end

-- ISO 8601 UTC of seconds since the epoch (whole seconds).
function _M.iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

-- A stable 32-bit number from strings: the "random" numbers of generated reports.
function _M.hash(...)
  return ngx.crc32_long(table.concat({ ... }, "\0"))
end

-- A uuid derived from strings (same input, same uuid), for generated report rows.
function _M.derived_uuid(...)
  local h = ngx.md5(table.concat({ ... }, "\0"))
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-4" .. h:sub(14, 16) .. "-"
    .. string.format("%x", 8 + tonumber(h:sub(17, 17), 16) % 4) .. h:sub(18, 20) .. "-" .. h:sub(21, 32)
end

-- A shallow copy, so rendering never mutates a stored record.
function _M.copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

return _M
