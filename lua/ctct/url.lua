--- ctct.url: percent-encoding, query strings, and splitting the base URL.
local M = {}

--- Percent-encode everything but RFC 3986's unreserved characters.
function M.escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

--- Percent-encode one path segment: RFC 3986 pchar (unreserved, sub-delims,
-- ':' and '@') stays as it is, so "id1,id2" keeps its comma.
function M.escape_segment(s)
  return (tostring(s):gsub("[^%w%-%._~!$&'()*+,;=:@]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

--- Decode %XX escapes (a path segment: '+' stays '+'); with `form`, '+' is a space
-- too (application/x-www-form-urlencoded, query strings).
---@param s string
---@param form? boolean
---@return string
function M.unescape(s, form)
  if form then s = s:gsub("%+", " ") end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- A number as the API reads it in a URL: integers (and integral floats, as
-- JSON may have given them) without a fraction, others in full precision.
function M.number(v)
  if math.type and math.type(v) == "integer" then return string.format("%d", v) end
  if v == math.floor(v) and math.abs(v) < 2^53 then return string.format("%.0f", v) end
  return string.format("%.17g", v)
end

local function scalar(name, v)
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      error("query parameter '" .. name .. "' must be a finite number", 0)
    end
    return M.number(v)
  end
  error("query parameter '" .. name .. "' must be a string, number, boolean or array, got " .. t, 0)
end

--- Encode a query table as `a=1&b=x%20y`, keys sorted so the text is stable.
-- An array value becomes one comma-separated value (the API's csv format).
-- Raises a message naming the parameter for values that cannot be sent.
function M.query(params)
  local keys = {}
  for k in pairs(params) do
    if type(k) ~= "string" then error("query parameter names must be strings", 0) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = params[k]
    local text
    if type(v) == "table" then
      local items, n = {}, 0
      for _ in pairs(v) do n = n + 1 end
      if n ~= #v then error("query parameter '" .. k .. "' must be an array of values, not a map", 0) end
      for i, item in ipairs(v) do items[i] = M.escape(scalar(k, item)) end
      text = table.concat(items, ",")
    else
      text = M.escape(scalar(k, v))
    end
    parts[#parts + 1] = M.escape(k) .. "=" .. text
  end
  return table.concat(parts, "&")
end

--- Split an absolute http(s) URL into origin ("https://host:port") and path
-- ("/v3", "" when none). nil when it is not such a URL.
function M.split(u)
  if type(u) ~= "string" then return nil end
  local origin, path = u:match("^(https?://[^/?#%s]+)([^?#%s]*)$")
  if not origin then return nil end
  return origin, path
end

return M
