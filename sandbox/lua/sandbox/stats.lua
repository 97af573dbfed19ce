-- What clients did to /v3 since the last reset: counters, distinct connections, calls
-- per route, and the last LOG_SIZE requests (never the token itself); and, under
-- "oauth", the authorization server's counters (sandbox/oauth/counters.lua); under
-- "json_capture", the lines written and skipped (capture.lua).
--   stats:<counter>            requests, connections, throttled, quota_exceeded
--   stats:conn:<serial>        seen connection serials (ngx.var.connection, unique
--                              across workers)
--   stats:route:<route>        calls per "METHOD /v3/path/{param}"
--   stats:routes / :route_n:i  the route names seen, in first-seen order
--   reqlog:n / reqlog:<i%N>    ring buffer of request records
local store = require "sandbox.store"
local auth = require "sandbox.auth"
local http = require "sandbox.http"
local oauth_counters = require "sandbox.oauth.counters"
local capture = require "sandbox.capture"

local m = store.m

local _M = {}

local LOG_SIZE = 200
_M.LOG_SIZE = LOG_SIZE
local BODY_MAX = 64 * 1024   -- bytes of a request body the log keeps

-- The raw JSON request body as the log keeps it: body, truncated (nil when none).
local function logged_body(ctx)
  local body = ctx.request_body
  if body == nil or not http.is_json_type(ctx.request_type) then return nil end
  if #body <= BODY_MAX then return body end
  local cut = BODY_MAX
  -- Not inside a UTF-8 sequence: the log is JSON, and JSON text is UTF-8.
  while cut > 0 and body:byte(cut + 1) >= 0x80 and body:byte(cut + 1) < 0xC0 do cut = cut - 1 end
  return body:sub(1, cut), true
end

function _M.bump(name)
  m.incr("stats:" .. name, 1, 0)
end

local function count_route(route)
  if m.add("stats:route:" .. route, 0) then
    local n = m.incr("stats:routes", 1, 0)
    m.set("stats:route_n:" .. n, route)
  end
  m.incr("stats:route:" .. route, 1, 0)
end

-- Log phase of a /v3 request (ngx.status is final here, 444 for a dropped one).
function _M.record(route)
  _M.bump("requests")
  local conn = ngx.var.connection
  if m.add("stats:conn:" .. conn, true) then _M.bump("connections") end
  count_route(route)

  local version = ngx.req.http_version()
  local entry = {
    method = ngx.req.get_method(),
    uri = ngx.var.request_uri,
    connection = tonumber(conn),
    http_version = version and string.format("%.1f", version) or http.null,
    user_agent = ngx.var.http_user_agent or http.null,
    accept_encoding = ngx.var.http_accept_encoding or http.null,
    content_type = ngx.ctx.request_type or ngx.var.content_type or http.null,
    authorization = auth.scheme(),
    body_bytes = ngx.ctx.body_bytes or tonumber(ngx.var.http_content_length) or 0,
    status = ngx.status,
  }
  entry.body, entry.body_truncated = logged_body(ngx.ctx)
  local n = m.incr("reqlog:n", 1, 0)
  entry.n = n
  local key = "reqlog:" .. (n % LOG_SIZE)
  if not pcall(m.set_json, key, entry) then
    entry.body, entry.body_truncated = nil, nil   -- not UTF-8: not JSON text, not kept
    m.set_json(key, entry)
  end
end

function _M.summary()
  local by_route = {}
  for i = 1, m.get("stats:routes") or 0 do
    local route = m.get("stats:route_n:" .. i)
    if route then by_route[route] = m.get("stats:route:" .. route) end
  end
  return {
    requests = m.get("stats:requests") or 0,
    connections = m.get("stats:connections") or 0,
    throttled = m.get("stats:throttled") or 0,
    quota_exceeded = m.get("stats:quota_exceeded") or 0,
    access_tokens_used = m.get("stats:access_tokens_used") or 0,
    by_route = by_route,
    oauth = oauth_counters.summary(),
    json_capture = capture.counts(),
  }
end

-- The last LOG_SIZE requests, oldest first.
function _M.requests()
  local n = m.get("reqlog:n") or 0
  local out = {}
  for i = math.max(1, n - LOG_SIZE + 1), n do
    local entry = m.get_json("reqlog:" .. (i % LOG_SIZE))
    if entry and entry.n == i then
      entry.n = nil
      out[#out + 1] = entry
    end
  end
  return out
end

return _M
