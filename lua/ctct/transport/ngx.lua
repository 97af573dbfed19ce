--- ctct.transport.ngx: HTTP through nginx cosockets (OpenResty / ngx_lua).
--
-- The same interface as ctct.transport.curl (see there), for code running in
-- nginx workers, where a blocking libcurl call would stall every request of the
-- worker. ctct.new (and the OAuth flows, the JWKS fetch, the partner token
-- request) pick it by themselves inside nginx; see ctct.transport.default.
--
--   local t = require("ctct.transport.ngx").new{ timeout = 30, connect_timeout = 10 }
--   local res, err = t:request{ method = "GET", url = "https://api.cc.email/v3/...",
--                               headers = {...}, timeout = 5 }
--
-- HTTP/1.1 over ngx.socket.tcp: TLS with certificate and host name verification
-- (against nginx's `lua_ssl_trusted_certificate`; `insecure = true` turns it off
-- by name), connections pooled with setkeepalive, Content-Length, chunked and
-- read-until-close bodies, no compression asked for. Host names need nginx's
-- `resolver` directive (IP addresses do not).
--
-- Cosockets exist in the rewrite, access and content phases, in ngx.timer
-- callbacks and in the ssl_certificate / ssl_session_fetch / ssl_client_hello
-- phases. Elsewhere (init, init_worker outside a timer, set, header_filter,
-- body_filter, log, balancer) a request raises an error naming the phase: it is
-- a programming error, and nginx logs it and answers 500 while the worker keeps
-- serving.
local core = require "ctct.core"
local errors = require "ctct.errors"

local M = {}

local Transport = {}
Transport.__index = Transport

-- Phases with cosockets (ngx.get_phase() names).
M.COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

--- True when running inside nginx with the Lua module (cosockets may exist).
function M.in_nginx()
  return type(ngx) == "table" and type(ngx.get_phase) == "function" and type(ngx.socket) == "table"
    and type(ngx.socket.tcp) == "function"
end

--- The current phase and whether HTTP through cosockets is possible in it.
function M.phase_ok()
  if not M.in_nginx() then return false, "no nginx" end
  local phase = ngx.get_phase()
  return M.COSOCKET_PHASES[phase] == true, phase
end

--- Raise (at `level`) unless the current phase has cosockets.
function M.check_phase(level)
  local ok, phase = M.phase_ok()
  if not ok and not M.in_nginx() then
    error("ctct.transport.ngx works only inside nginx (ngx_lua); elsewhere use ctct.transport.curl",
      (level or 1) + 1)
  end
  if not ok then
    error("ctct: no HTTP possible in nginx's '" .. tostring(phase) .. "' phase (no cosockets there, and a " ..
      "blocking call would stall the worker): call ctct from rewrite_by_lua*, access_by_lua*, content_by_lua* " ..
      "or an ngx.timer.at callback", (level or 1) + 1)
  end
end

-- Clocks: a monotonic clock for durations (ctct.core's, a vDSO call that never
-- blocks), nginx's wall clock (updated first) for Unix time, ngx.sleep to wait.
Transport.now = core.monotonic
function Transport.time()
  ngx.update_time()
  return ngx.now()
end
function Transport.sleep(seconds)
  return ngx.sleep(seconds)
end

local DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024

--- new{ connect_timeout = 10, timeout = 30, insecure = false, user_agent,
--       max_response_bytes = 64 MiB, pool_size = 32, keepalive_timeout = 60 }
-- cafile, proxy and http2 are curl transport options and are not used here: the
-- trusted certificates are nginx's `lua_ssl_trusted_certificate`.
function M.new(opts)
  opts = opts or {}
  return setmetatable({
    name = "ngx",
    connect_timeout = opts.connect_timeout or 10,
    timeout = opts.timeout or 30,
    verify = not opts.insecure,
    user_agent = opts.user_agent or ("ctct-lua/" .. core.VERSION),
    max_response = opts.max_response_bytes or DEFAULT_MAX_RESPONSE,
    pool_size = opts.pool_size or 32,
    keepalive_ms = math.floor((opts.keepalive_timeout or 60) * 1000),
  }, Transport)
end

local DEFAULT_PORT = { http = 80, https = 443 }

local function split_url(u)
  local scheme, authority, target = u:match("^(%a[%w+.-]*)://([^/?#]+)([^#]*)")
  if not scheme then return nil end
  scheme = scheme:lower()
  if not DEFAULT_PORT[scheme] then return nil end
  local host, port = authority:match("^%[([^%]]+)%]:?(%d*)$") -- [IPv6]:port
  if not host then host, port = authority:match("^([^:@]+):?(%d*)$") end
  if not host then return nil end
  port = tonumber(port) or DEFAULT_PORT[scheme]
  if target == "" then target = "/" elseif target:sub(1, 1) == "?" then target = "/" .. target end
  local host_header = host:find(":", 1, true) and ("[" .. host .. "]") or host
  if port ~= DEFAULT_PORT[scheme] then host_header = host_header .. ":" .. port end
  return scheme, host, port, target, host_header
end

local function fail(kind, message, sent, extra)
  local e = { kind = kind, message = message, sent = sent }
  for k, v in pairs(extra or {}) do e[k] = v end
  return nil, errors.new(e)
end

-- A certificate problem, as opposed to a broken or refused handshake.
local function tls_message(host, err)
  local msg = "TLS handshake with " .. host .. " failed: " .. tostring(err)
  if err and (err:find("certificate") or err:find("^%d+:")) then
    msg = msg .. " (certificates are checked against nginx's lua_ssl_trusted_certificate," ..
      " e.g. /etc/ssl/certs/ca-certificates.crt on Debian)"
  end
  return msg
end

local function build_head(self, req, target, host_header)
  local lines = { req.method .. " " .. target .. " HTTP/1.1", "Host: " .. host_header }
  local has = {}
  for k, v in pairs(req.headers or {}) do
    local lk = k:lower()
    if lk ~= "host" and lk ~= "content-length" and lk ~= "connection" and lk ~= "transfer-encoding" then
      has[lk] = true
      lines[#lines + 1] = k .. ": " .. tostring(v)
    end
  end
  if not has["user-agent"] then lines[#lines + 1] = "User-Agent: " .. self.user_agent end
  if not has["accept-encoding"] then lines[#lines + 1] = "Accept-Encoding: identity" end
  local body = req.body
  if body ~= nil or req.method == "POST" or req.method == "PUT" or req.method == "PATCH" then
    lines[#lines + 1] = "Content-Length: " .. #(body or "")
  end
  lines[#lines + 1] = "Connection: keep-alive"
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- Read the status line and headers. Returns status, headers, version | nil, err, got_any.
local function read_head(sock)
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err, false end
    local version, status = line:match("^HTTP/(%d%.?%d?) (%d%d%d)")
    if not status then return nil, "bad status line: " .. line:sub(1, 80), true end
    status = tonumber(status)
    local headers = {}
    while true do
      local h
      h, err = sock:receive("*l")
      if not h then return nil, err, true end
      if h == "" then break end
      local name, value = h:match("^([^:%s]+)%s*:%s*(.-)%s*$")
      if name then
        name = name:lower()
        if headers[name] then headers[name] = headers[name] .. ", " .. value else headers[name] = value end
      end
    end
    -- 1xx interim answers (100 Continue) are skipped; 101 is not expected.
    if status >= 200 or status == 101 then return status, headers, version end
  end
end

-- Read a chunked body. Returns body | nil, err.
local function read_chunked(sock, limit)
  local parts, total = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "bad chunk size line: " .. line:sub(1, 40) end
    if size == 0 then
      repeat -- trailers, up to the empty line
        line, err = sock:receive("*l")
        if not line then return nil, err end
      until line == ""
      return table.concat(parts)
    end
    total = total + size
    if total > limit then return nil, "too large" end
    local data
    data, err = sock:receive(size)
    if not data then return nil, err end
    parts[#parts + 1] = data
    local crlf
    crlf, err = sock:receive(2)
    if crlf ~= "\r\n" then return nil, err or "bad chunk terminator" end
  end
end

-- One exchange on one connection. Returns res | nil, err-fields, stale (a
-- reused connection the server had closed before reading anything).
function Transport:exchange(req, scheme, host, port, target, host_header, timeout_ms)
  local sock = ngx.socket.tcp()
  local connect_ms = math.min(timeout_ms, math.floor(self.connect_timeout * 1000))
  sock:settimeouts(connect_ms, timeout_ms, timeout_ms)
  local pool = scheme .. "://" .. host .. ":" .. port .. (self.verify and "" or "#insecure")
  local ok, err = sock:connect(host, port, { pool = pool })
  if not ok then
    sock:close()
    if err == "timeout" then
      return nil, { kind = "timeout", sent = false,
                    message = "connecting to " .. host .. ":" .. port .. " timed out after " .. connect_ms .. " ms" }
    end
    return nil, { kind = "network", sent = false, message = "cannot connect to " .. host .. ":" .. port .. ": " .. err }
  end
  local reused = (sock:getreusedtimes() or 0) > 0
  if scheme == "https" and not reused then
    -- lua-resty-core 0.1.25 (Debian 12) raises "assertion failed!" instead of
    -- returning the error when a handshake that failed verification finished
    -- without yielding: that is a TLS failure too, whose detail nginx keeps.
    local pok, session
    pok, session, err = pcall(sock.sslhandshake, sock, nil, host, self.verify)
    if not pok then
      session, err = nil, "the handshake failed (certificate verification or protocol error)"
    end
    if not session then
      sock:close()
      if err == "timeout" then
        return nil, { kind = "timeout", sent = false, message = "TLS handshake with " .. host .. " timed out" }
      end
      return nil, { kind = "tls", sent = false, message = tls_message(host, err) }
    end
  end
  sock:settimeouts(connect_ms, timeout_ms, timeout_ms)

  local bytes
  bytes, err = sock:send(build_head(self, req, target, host_header))
  if not bytes then
    sock:close()
    if reused then return nil, nil, true end
    return nil, { kind = err == "timeout" and "timeout" or "network", sent = err == "timeout",
                  message = "sending to " .. host .. ":" .. port .. " failed: " .. err }
  end

  local status, headers, version = read_head(sock)
  if not status then
    local got_any = version
    err = headers
    sock:close()
    if reused and not got_any and err == "closed" then return nil, nil, true end
    if err == "timeout" then
      return nil, { kind = "timeout", sent = true,
                    message = "no answer from " .. host .. ":" .. port .. " within " .. timeout_ms .. " ms" }
    end
    return nil, { kind = got_any and "protocol" or "network", sent = true,
                  message = "reading the answer of " .. host .. ":" .. port .. " failed: " .. tostring(err) }
  end

  local body = ""
  local keep = version ~= "1.0" and not (headers["connection"] or ""):lower():find("close", 1, true)
  local no_body = req.method == "HEAD" or status == 204 or status == 304 or status < 200
  if not no_body then
    local te = (headers["transfer-encoding"] or ""):lower()
    if te:find("chunked", 1, true) then
      body, err = read_chunked(sock, self.max_response)
    elseif headers["content-length"] then
      local n = tonumber(headers["content-length"])
      if not n or n < 0 then
        body, err = nil, "bad Content-Length " .. headers["content-length"]
      elseif n > self.max_response then
        body, err = nil, "too large"
      elseif n > 0 then
        body, err = sock:receive(n)
      end
    else
      keep = false
      body, err = sock:receive("*a")
      if body and #body > self.max_response then body, err = nil, "too large" end
    end
  end
  if body == nil then
    sock:close()
    if err == "too large" then
      return nil, { kind = "protocol", sent = true, message = "response larger than max_response_bytes (" ..
        math.floor(self.max_response / (1024 * 1024)) .. " MiB)" }
    end
    if err == "timeout" then
      return nil, { kind = "timeout", sent = true, message = "the body from " .. host .. " stalled past " ..
        timeout_ms .. " ms" }
    end
    return nil, { kind = "network", sent = true, message = "reading the body from " .. host .. " failed: " ..
      tostring(err) }
  end
  if keep then
    sock:setkeepalive(self.keepalive_ms, self.pool_size)
  else
    sock:close()
  end
  return { status = status, headers = headers, body = body, http_version = version }
end

function Transport:request(req)
  M.check_phase(2)
  local scheme, host, port, target, host_header = split_url(req.url or "")
  if not scheme then
    return fail("validation", "not an absolute http(s) URL: " .. tostring(req.url), false)
  end
  local timeout_ms = math.max(1, math.floor((req.timeout or self.timeout) * 1000))
  local res, e, stale = self:exchange(req, scheme, host, port, target, host_header, timeout_ms)
  if stale then -- a pooled connection closed under us: once more on a new one
    res, e = self:exchange(req, scheme, host, port, target, host_header, timeout_ms)
  end
  if not res then
    if e == nil then e = { kind = "network", sent = false, message = "connection closed by " .. host } end
    return fail(e.kind, e.message, e.sent)
  end
  if req.sink and res.status >= 200 and res.status <= 299 then
    local f, why = io.open(req.sink, "wb")
    if not f then return fail("validation", "cannot write the download to " .. req.sink .. ": " .. why, true) end
    f:write(res.body)
    f:close()
    res.sink_bytes, res.body = #res.body, nil
  end
  return res
end

--- Run requests in light threads, `concurrency` (default 8) at a time.
function Transport:request_many(reqs, opts)
  M.check_phase(2)
  local limit = (opts and opts.concurrency) or 8
  local out, next_i = {}, 1
  local function worker()
    while next_i <= #reqs do
      local i = next_i
      next_i = next_i + 1
      local ok, res, err = pcall(self.request, self, reqs[i])
      if not ok then
        out[i] = { nil, errors.new { kind = "network", message = tostring(res), sent = false } }
      elseif res then
        out[i] = { res }
      else
        out[i] = { nil, err }
      end
    end
  end
  local threads = {}
  for t = 1, math.min(limit, #reqs) do threads[t] = ngx.thread.spawn(worker) end
  for _, th in ipairs(threads) do ngx.thread.wait(th) end
  return out
end

function Transport.close() end -- pooled connections belong to nginx

M.split_url = split_url
return M
