--- ctct.errors: the one error type every network-facing function returns.
--
-- Functions that talk to the network return `result` or `nil, err`, where `err`
-- is a `ctct.Error`. Its `tostring` is one readable line; it never carries a
-- token, a secret or a request header.
--
-- Terminals: the fields keep what the server sent (err.message is the API's own
-- error_message, for programs to read), but `tostring` shows every control
-- character as a visible escape (ESC as \x1b, a C1 control as \u009b, a byte
-- that is not UTF-8 as \xNN; CR, LF and TAB as a space), so printing an error
-- never hands a terminal an escape sequence, a title change or a bell, and
-- stays one line. errors.printable(text) does the same for other text.
--
-- Fields: kind (http, network, timeout, tls, auth, rate_limited, validation,
-- protocol), status, error_key, message, request_id, retry_after, details
-- (every error object the API sent), method and path (without the query).
local json = require "ctct.json"

--- What went wrong, in one word (the keys of errors.KINDS).
---@alias ctct.ErrorKind 'http'|'network'|'timeout'|'tls'|'auth'|'rate_limited'|'validation'|'protocol'|'storage'

---@class ctct.errors
---@field Error ctct.Error the error class (its metatable)
---@field KINDS table<ctct.ErrorKind, true> the valid kinds
---@field printable fun(text: any): string any value (tostring'd) made safe for a terminal, on one line
---@field snippet fun(text?: string, max?: integer): string the printable start of a body (max 200 bytes)
---@field parse_error_body fun(decoded: any): string?, string?, table[]? key, message, details of any decoded body
local M = {}

--- The error every network-facing function returns as `nil, err`; `tostring` gives one printable line.
---@class ctct.Error
---@field kind ctct.ErrorKind
---@field message string the server's own error_message, or ours
---@field status? integer the HTTP status
---@field error_key? string the API's (or OAuth's) error key, e.g. "invalid_grant", "login_required"
---@field request_id? string the server's request id (x-request-id and the like)
---@field retry_after? number seconds to wait before trying again
---@field details? (table|string)[] every error object the API sent (or the per-item problems)
---@field method? string the request's method
---@field path? string the request's path, without the query
---@field param? string the parameter at fault (validation)
---@field operation? string the operationId at fault (validation)
---@field attempts? integer how many attempts were made (when retried)
---@field problems? string[] what does not fit the spec's body schema (validation)
---@field suggestions? string[] the nearest operationIds to an unknown one
---@field fields? string[] the invalid fields' names (partner validation)
---@field reason? string why a token or webhook was rejected (jwt, jwks, webhooks)
---@field pending? boolean the device flow is still waiting for the user
---@field sent? boolean whether the request may have reached the server (network errors)
---@field curl_code? integer libcurl's error code (curl transport)
---@field started? table the activities already started when a multi-chunk import failed
local Error = {}
Error.__index = Error
Error.__name = "ctct.Error"
M.Error = Error

local KINDS = {
  http = true, network = true, timeout = true, tls = true, auth = true,
  rate_limited = true, validation = true, protocol = true,
  storage = true, -- a token store or shared state that cannot be read or written (disk, Redis)
}
M.KINDS = KINDS

--- Make an error; `fields.kind` must be one of the kinds above. Raises on an unknown kind.
---@param fields ctct.Error the error's fields (message defaults to the kind); the table becomes the error
---@return ctct.Error
function M.new(fields)
  if not KINDS[fields.kind] then
    error("ctct.errors.new: unknown error kind '" .. tostring(fields.kind) .. "'", 2)
  end
  fields.message = fields.message or fields.kind
  return setmetatable(fields, Error)
end

--- True when `v` is a ctct.Error. Accepts any Lua value.
---@param v any any value
---@return boolean
function M.is(v)
  return getmetatable(v) == Error
end

-- The length and code point of the UTF-8 sequence at i (lead byte c), or nil
-- when it is not one (overlong, surrogate, beyond U+10FFFF, truncated).
local function utf8_at(s, i, c)
  local len, cp, lo, hi
  if c >= 0xC2 and c <= 0xDF then len, cp = 2, c - 0xC0
  elseif c >= 0xE0 and c <= 0xEF then len, cp = 3, c - 0xE0
  elseif c >= 0xF0 and c <= 0xF4 then len, cp = 4, c - 0xF0
  else return nil end
  lo, hi = 0x80, 0xBF
  if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F
  elseif c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
  for k = 1, len - 1 do
    local b = s:byte(i + k)
    if not b or b < lo or b > hi then return nil end
    cp = cp * 64 + (b - 0x80)
    lo, hi = 0x80, 0xBF
  end
  return len, cp
end

--- `text` safe for a terminal, on one line: CR/LF/TAB runs become a space, other
-- C0 controls and DEL become \xNN, C1 controls (U+0080-U+009F) \u00NN, bytes
-- that are not UTF-8 \xNN. Everything else (printable ASCII, valid UTF-8) stays.
local function printable(text)
  text = tostring(text)
  if not text:find("[%z\1-\31\127-\255]") then return text end
  text = text:gsub("[\r\n\t]+", " ")
  local out, i, n = {}, 1, #text
  while i <= n do
    local c = text:byte(i)
    if c < 0x20 or c == 0x7F then
      out[#out + 1] = ("\\x%02x"):format(c)
      i = i + 1
    elseif c < 0x80 then
      local j = text:find("[%z\1-\31\127-\255]", i) or n + 1
      out[#out + 1] = text:sub(i, j - 1)
      i = j
    else
      local len, cp = utf8_at(text, i, c)
      if not len then
        out[#out + 1] = ("\\x%02x"):format(c)
        i = i + 1
      else
        out[#out + 1] = cp < 0xA0 and ("\\u%04x"):format(cp) or text:sub(i, i + len - 1)
        i = i + len
      end
    end
  end
  return table.concat(out)
end
M.printable = printable

--- The error on one printable line: "ctct: kind status key: message (METHOD path) [request id]".
---@return string
function Error:__tostring()
  local head = "ctct: " .. self.kind
  if self.status then head = head .. " " .. self.status end
  if self.error_key then head = head .. " " .. self.error_key end
  local line = head .. ": " .. self.message
  if self.method and self.path then
    line = line .. " (" .. self.method .. " " .. self.path .. ")"
  end
  if self.request_id then line = line .. " [request " .. self.request_id .. "]" end
  if self.retry_after then
    line = line .. string.format(" retry after %gs", self.retry_after)
  end
  return printable(line)
end

-- Printable start of a body that is not what we expected (an HTML proxy page,
-- a truncated answer): control characters flattened, length bounded.
local function snippet(text, max)
  max = max or 200
  local s = (text or ""):sub(1, max):gsub("[%c]+", " ")
  if #(text or "") > max then s = s .. "..." end
  return s
end
M.snippet = snippet

local STATUS_TEXT = {
  [400] = "bad request", [401] = "unauthorized", [403] = "forbidden", [404] = "not found",
  [405] = "method not allowed", [409] = "conflict", [415] = "unsupported media type",
  [422] = "unprocessable entity", [429] = "too many requests", [500] = "internal server error",
  [502] = "bad gateway", [503] = "service unavailable", [504] = "gateway timeout",
}

local function kind_for_status(status)
  if status == 401 or status == 403 then return "auth" end
  if status == 429 then return "rate_limited" end
  return "http"
end

-- The three shapes Constant Contact uses, parsed defensively:
-- [{error_key, error_message}, ...], {error_key, error_message}, and OAuth's
-- {error, error_description}. Returns key, message, details.
local function parse_error_body(decoded)
  if type(decoded) ~= "table" then return nil end
  if decoded[1] ~= nil then
    local first = decoded[1]
    if type(first) == "table" then
      local key = type(first.error_key) == "string" and first.error_key or nil
      local msg = type(first.error_message) == "string" and first.error_message or nil
      local messages = {}
      for _, e in ipairs(decoded) do
        if type(e) == "table" and type(e.error_message) == "string" then
          messages[#messages + 1] = e.error_message
        end
      end
      if #messages > 1 then msg = table.concat(messages, "; ") end
      return key, msg, decoded
    end
    return nil
  end
  if type(decoded.error_key) == "string" or type(decoded.error_message) == "string" then
    return decoded.error_key, decoded.error_message, { decoded }
  end
  if type(decoded.error) == "string" then
    local desc = decoded.error_description
    return decoded.error, type(desc) == "string" and desc or decoded.error, { decoded }
  end
  if type(decoded.message) == "string" then
    return nil, decoded.message, { decoded }
  end
  return nil
end
M.parse_error_body = parse_error_body

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                 Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved,
-- unlike os.time, which reads the local zone).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- Seconds to wait from a Retry-After value: delay-seconds or an HTTP-date
--- (IMF-fixdate), relative to `now` (Unix seconds). nil when unparseable.
---@param value? string the header's value (anything else gives nil)
---@param now? number Unix seconds (default os.time())
---@return number|nil seconds
function M.parse_retry_after(value, now)
  if type(value) ~= "string" then return nil end
  local secs = value:match("^%s*(%d+)%s*$")
  if secs then return tonumber(secs) end
  local d, mon, y, hh, mm, ss = value:match("^%s*%a+,%s+(%d+)%s+(%a+)%s+(%d+)%s+(%d+):(%d+):(%d+)%s+GMT%s*$")
  if d and MONTHS[mon] then
    local at = days_from_civil(tonumber(y), MONTHS[mon], tonumber(d)) * 86400
      + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
    local wait = at - (now or os.time())
    return wait > 0 and wait or 0
  end
  return nil
end

local REQUEST_ID_HEADERS = { "x-request-id", "x-correlation-id", "x-amzn-requestid" }

--- Build the error for a non-2xx response.
--- res: { status, headers, body }; ctx: { method, path, now }.
---@param res {status: integer, headers?: table<string, string>, body?: string}
---@param ctx? {method?: string, path?: string, now?: number}
---@return ctct.Error
function M.from_response(res, ctx)
  local status = res.status
  local headers = res.headers or {}
  local decoded = nil
  if res.body and res.body ~= "" then decoded = json.decode(res.body) end
  local key, message, details = parse_error_body(decoded)
  if not message then
    message = "HTTP " .. status .. " " .. (STATUS_TEXT[status] or "error")
    if res.body and res.body:match("%S") then
      message = message .. ": " .. snippet(res.body)
    end
  end
  local request_id
  for _, h in ipairs(REQUEST_ID_HEADERS) do
    if headers[h] then request_id = headers[h]; break end
  end
  return M.new {
    kind = kind_for_status(status),
    status = status,
    error_key = key,
    message = message,
    details = details,
    request_id = request_id,
    retry_after = M.parse_retry_after(headers["retry-after"], ctx and ctx.now),
    method = ctx and ctx.method,
    path = ctx and ctx.path,
  }
end

return M
