-- Fault rules for reliability tests (POST /__sandbox/faults).
--
-- A rule: match ("METHOD /path-prefix", "* /path-prefix" or "/path-prefix"; default
-- any /v3 request), times (default 1, each matching request consumes one), and what
-- to do: latency_ms, status (+ error_key, body, content_type), retry_after, drop,
-- malformed. The first matching rule with times left applies.
--   fault:n            number of rules added since reset
--   fault:<i>          rule i (JSON)
--   fault:<i>:left     its remaining times (decremented atomically across workers)
local store = require "sandbox.store"
local http = require "sandbox.http"

local m = store.m

local _M = {}

local function invalid(i, message)
  http.fail(400, "sandbox.faults.invalid", "fault " .. i .. ": " .. message)
end

local function is_int(v) return type(v) == "number" and v == math.floor(v) end

-- Checks one rule and returns its stored form (match parsed into method + prefix).
local function normalize(i, rule)
  if type(rule) ~= "table" then invalid(i, "must be an object") end
  local out = {}
  if rule.match ~= nil then
    if type(rule.match) ~= "string" then invalid(i, "match must be a string") end
    local method, prefix = rule.match:match("^%s*(%S+)%s+(/%S*)%s*$")
    if not method then
      prefix = rule.match:match("^%s*(/%S*)%s*$")
      method = "*"
    end
    if not prefix then invalid(i, "match must look like 'GET /v3/contacts' or '* /v3/contacts'") end
    out.match, out.method, out.prefix = rule.match, method:upper(), prefix
  end
  local times = rule.times
  if times == nil then times = 1 end
  if not is_int(times) or times < 1 then invalid(i, "times must be a positive integer") end
  out.times = times
  if rule.latency_ms ~= nil then
    if type(rule.latency_ms) ~= "number" or rule.latency_ms < 0 then
      invalid(i, "latency_ms must be a non-negative number")
    end
    out.latency_ms = rule.latency_ms
  end
  if rule.status ~= nil then
    if not is_int(rule.status) or rule.status < 200 or rule.status > 599 then
      invalid(i, "status must be an integer from 200 to 599")
    end
    out.status = rule.status
  end
  for _, name in ipairs({ "error_key", "content_type" }) do
    if rule[name] ~= nil and type(rule[name]) ~= "string" then invalid(i, name .. " must be a string") end
    out[name] = rule[name]
  end
  if rule.body ~= nil then
    if type(rule.body) ~= "string" and type(rule.body) ~= "table" then
      invalid(i, "body must be a string or JSON value")
    end
    out.body = rule.body
  end
  if rule.retry_after ~= nil then
    if type(rule.retry_after) ~= "number" and type(rule.retry_after) ~= "string" then
      invalid(i, "retry_after must be a number or a string")
    end
    out.retry_after = rule.retry_after
  end
  for _, name in ipairs({ "drop", "malformed" }) do
    if rule[name] ~= nil and type(rule[name]) ~= "boolean" then invalid(i, name .. " must be a boolean") end
    out[name] = rule[name] or nil
  end
  return out
end

-- Appends rules (all checked first, so a bad list adds nothing).
function _M.add(rules)
  local checked = {}
  for i, rule in ipairs(rules) do checked[i] = normalize(i, rule) end
  for _, rule in ipairs(checked) do
    local n = m.incr("fault:n", 1, 0)
    m.set_json("fault:" .. n, rule)
    m.set("fault:" .. n .. ":left", rule.times)
  end
  return _M.list()
end

function _M.clear()
  for i = 1, m.get("fault:n") or 0 do
    m.delete("fault:" .. i)
    m.delete("fault:" .. i .. ":left")
  end
  m.delete("fault:n")
end

-- Current rules with times_left, for GET /__sandbox/faults.
function _M.list()
  local out = {}
  for i = 1, m.get("fault:n") or 0 do
    local rule = m.get_json("fault:" .. i)
    if rule then
      rule.method, rule.prefix = nil, nil
      rule.times_left = math.max(0, m.get("fault:" .. i .. ":left") or 0)
      out[#out + 1] = rule
    end
  end
  return out
end

local function matches(rule, method, path)
  if rule.prefix == nil then
    return path == "/v3" or path:sub(1, 4) == "/v3/"
  end
  return (rule.method == "*" or rule.method == method) and path:sub(1, #rule.prefix) == rule.prefix
end

-- Consumes and returns the first matching rule with times left, or nil.
function _M.take(method, path)
  for i = 1, m.get("fault:n") or 0 do
    local left_key = "fault:" .. i .. ":left"
    if (m.get(left_key) or 0) > 0 then
      local rule = m.get_json("fault:" .. i)
      if rule and matches(rule, method, path) and (m.incr(left_key, -1) or -1) >= 0 then
        return rule
      end
    end
  end
  return nil
end

local DEFAULT_KEYS = {
  [429] = "throttled", [500] = "server.error", [502] = "bad.gateway",
  [503] = "service.unavailable", [504] = "gateway.timeout",
}

local function default_body(rule)
  local status = rule.status
  if status < 400 then return nil end
  local key = rule.error_key or DEFAULT_KEYS[status] or "sandbox.fault"
  local message = "Injected fault: HTTP " .. status
  if status == 401 then
    -- AuthorizationErrorSchema is a single object, not an array.
    return { error_key = rule.error_key or "unauthorized", error_message = "Unauthorized" }
  end
  return http.error_body(key, message)
end

-- Applies rule. Returns true when it produced the response (or dropped the
-- connection); false when the request should continue normally.
function _M.apply(rule)
  if rule.latency_ms and rule.latency_ms > 0 then
    ngx.sleep(rule.latency_ms / 1000)
  end
  local headers
  if rule.retry_after ~= nil then headers = { ["Retry-After"] = tostring(rule.retry_after) } end
  if rule.drop then
    http.read_body()
    ngx.exit(444)   -- closes the connection without a response
    return true
  end
  if rule.malformed then
    http.send(200, "<html><body><h1>502 Bad Gateway</h1><p>upstream hiccup</p></body></html>",
      headers, "text/html")
    return true
  end
  if rule.status then
    local body = rule.body
    if body == nil then body = default_body(rule) end
    if type(body) == "table" then body = http.encode(body) end
    http.send(rule.status, body, headers, rule.content_type or "application/json")
    return true
  end
  if headers then
    for name, value in pairs(headers) do ngx.header[name] = value end
  end
  return false
end

return _M
