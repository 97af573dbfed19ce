-- What clients did to /v3 since the last reset: counters, distinct connections, calls
-- per route, and the last LOG_SIZE requests (never the token itself); and, under
-- "oauth", the authorization server's counters (sandbox/oauth/counters.lua).
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

local m = store.m

local _M = {}

local LOG_SIZE = 200
_M.LOG_SIZE = LOG_SIZE

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
    content_type = ngx.var.content_type or http.null,
    authorization = auth.scheme(),
    body_bytes = ngx.ctx.body_bytes or tonumber(ngx.var.http_content_length) or 0,
    status = ngx.status,
  }
  local n = m.incr("reqlog:n", 1, 0)
  entry.n = n
  m.set_json("reqlog:" .. (n % LOG_SIZE), entry)
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
    by_route = by_route,
    oauth = oauth_counters.summary(),
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
