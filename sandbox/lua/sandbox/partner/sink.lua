-- A webhook callback sink for tests: POST /__sandbox/webhook-sink/<name> keeps the raw
-- request (body bytes, headers with lower-case names) and answers 204; GET returns
-- {"requests": [...]} oldest first; DELETE forgets them.
--   sink:<name>:n / sink:<name>:<i>  -> count / JSON { body, headers }
local store = require "sandbox.store"
local http = require "sandbox.http"
local json = require "sandbox.json"

local m = store.m

local _M = {}

local MAX = 100   -- kept per sink (the oldest are dropped)

function _M.valid_name(name)
  return type(name) == "string" and #name >= 1 and #name <= 100 and name:match("^[%w_.%-]+$") ~= nil
end

local function store_request(name)
  local body = http.read_body()
  local headers = ngx.req.get_headers(100)   -- lower-case names
  local n = m.incr("sink:" .. name .. ":n", 1, 0)
  m.set_json("sink:" .. name .. ":" .. (n % MAX), { n = n, body = body, headers = headers })
end

local function requests(name)
  local n = m.get("sink:" .. name .. ":n") or 0
  local out = {}
  for i = math.max(1, n - MAX + 1), n do
    local r = m.get_json("sink:" .. name .. ":" .. (i % MAX))
    if r and r.n == i then out[#out + 1] = { body = r.body, headers = r.headers } end
  end
  return out
end

local function forget(name)
  local n = m.get("sink:" .. name .. ":n") or 0
  for i = math.max(1, n - MAX + 1), n do m.delete("sink:" .. name .. ":" .. (i % MAX)) end
  m.delete("sink:" .. name .. ":n")
end

-- Returns status, body for the admin dispatcher.
function _M.serve(method, name)
  if not _M.valid_name(name) then
    http.fail(400, "sandbox.request.invalid", "a sink name is 1-100 of letters, digits and _.-")
  end
  if method == "POST" or method == "PUT" then
    store_request(name)
    return 204
  elseif method == "GET" then
    return 200, { requests = json.array(requests(name)) }
  elseif method == "DELETE" then
    forget(name)
    return 204
  end
  http.fail(405, "method.not.allowed", "use POST, GET or DELETE", { Allow = "DELETE, GET, POST, PUT" })
end

return _M
