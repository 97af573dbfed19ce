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
-- The bounds are the curl transport's: the request's `timeout` is the total
-- for connect, TLS, sending and every read (not per read, as a cosocket's
-- own timeout is); bodies are capped by max_response_bytes as they are read;
-- heads by M.LIMITS (256 KiB, 1000 fields, 100 KiB a line, 10 interim 1xx
-- answers). A `sink` download goes through core.open_part (src/download.c).
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

-- Bounds on what a server may send, those of the curl transport (src/http.c;
-- the line limit is libcurl's CURL_MAX_HTTP_HEADER). Bodies are capped by
-- max_response_bytes (64 MiB by default) except downloads to a `sink` file.
local LIMITS = {
  head = 256 * 1024,      -- one response head: status line and fields
  line = 100 * 1024,      -- one line of it
  fields = 1000,          -- header fields in one head
  interim = 10,           -- 1xx answers before the final one
  chunk_line = 4096,      -- a chunk-size line (extensions included)
}
M.LIMITS = LIMITS

local READ_SIZE = 64 * 1024   -- at most this much per receiveany
local SEND_PIECE = 64 * 1024

local now = core.monotonic

-- Milliseconds left before `deadline` (monotonic seconds).
local function left_ms(deadline)
  return math.floor((deadline - now()) * 1000)
end

local function snippet(s)
  s = s:sub(1, 60):gsub("[%c\128-\255]", "?")
  return s
end

-- A buffered reader over a cosocket. A cosocket's timeout is per read (a
-- server sending one byte a second never trips it), so every wait here is
-- given what is left of the request's time instead, and receiveany returns
-- as soon as anything arrived: no call outlives its deadline. Nothing is
-- read beyond what the caller can still accept.
-- Failures are nil, what[, message] with what = "timeout", "closed" (the
-- peer closed), "protocol" (message says why), "too large", "sink", or the
-- socket's own error text.
local Reader = {}
Reader.__index = Reader

local function new_reader(sock, deadline)
  return setmetatable({ sock = sock, deadline = deadline, buf = "", pos = 1, got = 0 }, Reader)
end

-- Read what has arrived (at most READ_SIZE) into the emptied buffer.
function Reader:fill()
  local left = left_ms(self.deadline)
  if left < 1 then return nil, "timeout" end
  self.sock:settimeout(left)
  local data, err = self.sock:receiveany(READ_SIZE)
  if not data then return nil, err end
  self.buf, self.pos, self.got = data, 1, self.got + #data
  return true
end

-- One line without its CR LF, of at most `max` bytes (else nil, "too long").
-- The pieces of a long line are kept in a list and joined once.
function Reader:line(max)
  local parts, n = nil, 0
  while true do
    local buf, pos = self.buf, self.pos
    local lf = buf:find("\n", pos, true)
    if lf then
      local piece = buf:sub(pos, lf - 1)
      self.pos = lf + 1
      if n + #piece > max then return nil, "too long" end
      if parts then
        parts[#parts + 1] = piece
        piece = table.concat(parts)
      end
      if piece:byte(-1) == 13 then piece = piece:sub(1, -2) end
      return piece
    end
    if pos <= #buf then
      n = n + #buf - pos + 1
      if n > max then return nil, "too long" end
      parts = parts or {}
      parts[#parts + 1] = pos == 1 and buf or buf:sub(pos)
    end
    self.buf, self.pos = "", 1
    local ok, err = self:fill()
    if not ok then return nil, err end
  end
end

-- Hand the next n bytes to sink(piece) as they arrive.
function Reader:read(n, sink)
  while n > 0 do
    if self.pos > #self.buf then
      local ok, err = self:fill()
      if not ok then return nil, err end
    end
    local buf, pos = self.buf, self.pos
    local avail = #buf - pos + 1
    local piece
    if avail <= n then
      piece = pos == 1 and buf or buf:sub(pos)
      self.buf, self.pos = "", 1
      n = n - avail
    else
      piece = buf:sub(pos, pos + n - 1)
      self.pos = pos + n
      n = 0
    end
    local ok, what, message = sink(piece)
    if not ok then return nil, what, message end
  end
  return true
end

-- Hand everything up to the peer's close to sink(piece).
function Reader:read_all(sink)
  while true do
    if self.pos <= #self.buf then
      local ok, what, message = sink(self.pos == 1 and self.buf or self.buf:sub(self.pos))
      if not ok then return nil, what, message end
    end
    self.buf, self.pos = "", 1
    local ok, err = self:fill()
    if not ok then
      if err == "closed" then return true end
      return nil, err
    end
  end
end

function Reader:drained()
  return self.pos > #self.buf
end

-- s from index i without leading and trailing blanks (no pattern: linear).
local function trim_from(s, i)
  local j = #s
  local b = s:byte(i)
  while b == 32 or b == 9 do
    i = i + 1
    b = s:byte(i)
  end
  b = s:byte(j)
  while j >= i and (b == 32 or b == 9) do
    j = j - 1
    b = s:byte(j)
  end
  return s:sub(i, j)
end

-- "Name: value" -> lower-case name, value; nil for lines that are not a field
-- (no colon, obsolete line folding), which are skipped as libcurl does.
local function split_field(h)
  local colon = h:find(":", 1, true)
  local first = h:byte(1)
  if not colon or colon == 1 or first == 32 or first == 9 then return nil end
  local name = h:sub(1, colon - 1)
  if name:find("[ \t]") then
    name = name:match("^([^ \t]+)[ \t]*$")
    if not name then return nil end
  end
  return name:lower(), trim_from(h, colon + 1)
end

local HEAD_OVER = "response head over " .. math.floor(LIMITS.head / 1024) .. " KiB"
local LINE_OVER = "response header line over " .. math.floor(LIMITS.line / 1024) .. " KiB"

-- Header fields up to the empty line, within `budget` bytes of head. Repeated
-- fields are collected in lists and joined with ", " once at the end.
-- Returns headers, budget left | nil, what, message.
local function read_fields(r, budget)
  local headers, lists, fields = {}, nil, 0
  while true do
    local limit = budget < LIMITS.line and budget or LIMITS.line
    local h, err = r:line(limit)
    if not h then
      if err == "too long" then return nil, "protocol", budget < LIMITS.line and HEAD_OVER or LINE_OVER end
      return nil, err
    end
    budget = budget - #h - 2
    if h == "" then break end
    fields = fields + 1
    if fields > LIMITS.fields then
      return nil, "protocol", "response head has more than " .. LIMITS.fields .. " header fields"
    end
    local name, value = split_field(h)
    if name then
      local prev = headers[name]
      if prev == nil then
        headers[name] = value
      else
        lists = lists or {}
        local list = lists[name]
        if not list then
          list = { prev }
          lists[name] = list
        end
        list[#list + 1] = value
      end
    end
  end
  if lists then
    for name, list in pairs(lists) do headers[name] = table.concat(list, ", ") end
  end
  return headers, budget
end

-- The final answer's status line and fields, skipping at most LIMITS.interim
-- 1xx answers. Returns status, headers, version | nil, what, message.
local function read_head(r)
  local interim = 0
  while true do
    local line, err = r:line(LIMITS.line)
    if not line then
      if err == "too long" then return nil, "protocol", LINE_OVER end
      return nil, err
    end
    local version, status = line:match("^HTTP/(%d%.?%d?) (%d%d%d)")
    if not status then
      return nil, "protocol", "not an HTTP response (bad status line: " .. snippet(line) .. ")"
    end
    status = tonumber(status)
    local headers, what, message = read_fields(r, LIMITS.head - #line - 2)
    if not headers then return nil, what, message end
    -- 101 is not expected (no upgrade is asked for): treated as final.
    if status >= 200 or status == 101 then return status, headers, version end
    interim = interim + 1
    if interim > LIMITS.interim then
      return nil, "protocol", "more than " .. LIMITS.interim .. " interim (1xx) responses"
    end
  end
end

-- A chunked body into sink. Returns true | nil, what, message.
local function read_chunked(r, sink)
  while true do
    local line, err = r:line(LIMITS.chunk_line)
    if not line then
      if err == "too long" then return nil, "protocol", "chunk size line over " .. LIMITS.chunk_line .. " bytes" end
      return nil, err
    end
    local hex = line:match("^[ \t]*(%x+)")
    if not hex or #hex > 13 then return nil, "protocol", "bad chunk size line: " .. snippet(line) end
    local size = tonumber(hex, 16)
    if size == 0 then -- trailer fields, bounded like a head, then the end
      local trailers, what, message = read_fields(r, LIMITS.head)
      if not trailers then return nil, what, message end
      return true
    end
    local ok, what, message = r:read(size, sink)
    if not ok then return nil, what, message end
    line, err = r:line(1)
    if not line then
      if err == "too long" then return nil, "protocol", "bad chunk terminator" end
      return nil, err
    end
    if line ~= "" then return nil, "protocol", "bad chunk terminator" end
  end
end

-- The Content-Length value: a number, or nil when it is not one (repeats of
-- one value, joined by read_fields, are allowed).
local function content_length(v)
  if not v:find("^%d+$") then
    local first
    for part in v:gmatch("[^,]+") do
      part = trim_from(part, 1)
      if not part:find("^%d+$") or (first and part ~= first) then return nil end
      first = part
    end
    v = first
    if not v then return nil end
  end
  return tonumber(v)
end

-- The body of an answer into sink, as its framing says. Returns true,
-- reusable (the connection may be pooled) | nil, what, message.
local function read_body(r, headers, sink, limit)
  local te = headers["transfer-encoding"]
  if te and te:lower():find("chunked", 1, true) then
    local ok, what, message = read_chunked(r, sink)
    if not ok then return nil, what, message end
    return true, true
  end
  local cl = headers["content-length"]
  if cl and not te then
    local n = content_length(cl)
    if not n then return nil, "protocol", "bad Content-Length: " .. snippet(cl) end
    if limit and n > limit then return nil, "too large" end
    local ok, what, message = r:read(n, sink)
    if not ok then return nil, what, message end
    return true, true
  end
  local ok, what, message = r:read_all(sink) -- no length: up to the close
  if not ok then return nil, what, message end
  return true, false
end

-- Sinks: an in-memory body capped at `limit` bytes (counted as it arrives).
local function memory_sink(limit)
  local parts, total = {}, 0
  return function(piece)
    total = total + #piece
    if total > limit then return nil, "too large" end
    parts[#parts + 1] = piece
    return true
  end, function()
    return table.concat(parts)
  end
end

-- ... and a download through the shared atomic download-to-file (ctct.core,
-- src/download.c: "<path>.part" O_EXCL|O_NOFOLLOW 0600, renamed on success).
-- Writing from a worker blocks it as ngx_lua's io.* does; pieces are written
-- as they arrive, so memory stays flat.
local function file_sink(part)
  return function(piece)
    local ok, err = part:write(piece)
    if not ok then return nil, "sink", err end
    return true
  end
end

-- One exchange on one connection, within `deadline` (monotonic seconds).
-- Returns res | nil, err-fields, stale (a reused connection the server had
-- closed before sending anything).
function Transport:exchange(req, scheme, host, port, target, host_header, deadline, timeout_ms)
  local where = host .. ":" .. port
  local left = left_ms(deadline)
  if left < 1 then
    return nil, { kind = "timeout", sent = false, message = "no time left to connect to " .. where }
  end
  local sock = ngx.socket.tcp()
  local connect_ms = math.min(left, math.floor(self.connect_timeout * 1000))
  sock:settimeouts(connect_ms, left, left)
  local pool = scheme .. "://" .. host .. ":" .. port .. (self.verify and "" or "#insecure")
  local ok, err = sock:connect(host, port, { pool = pool })
  if not ok then
    sock:close()
    if err == "timeout" then
      return nil, { kind = "timeout", sent = false,
                    message = "connecting to " .. where .. " timed out after " .. connect_ms .. " ms" }
    end
    return nil, { kind = "network", sent = false, message = "cannot connect to " .. where .. ": " .. err }
  end
  local reused = (sock:getreusedtimes() or 0) > 0
  if scheme == "https" and not reused then
    left = left_ms(deadline)
    if left < 1 then
      sock:close()
      return nil, { kind = "timeout", sent = false, message = "TLS handshake with " .. host .. " timed out" }
    end
    sock:settimeouts(math.min(connect_ms, left), left, left)
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

  -- The request, in pieces, each send given what is left of the time.
  local data = build_head(self, req, target, host_header)
  local i = 1
  while i <= #data do
    left = left_ms(deadline)
    if left < 1 then
      sock:close()
      return nil, { kind = "timeout", sent = true, message = "sending to " .. where .. " did not finish within " ..
        timeout_ms .. " ms" }
    end
    sock:settimeout(left)
    local piece = (i == 1 and #data <= SEND_PIECE) and data or data:sub(i, i + SEND_PIECE - 1)
    local bytes
    bytes, err = sock:send(piece)
    if not bytes then
      sock:close()
      if reused and i == 1 then return nil, nil, true end
      return nil, { kind = err == "timeout" and "timeout" or "network", sent = i > 1 or err == "timeout",
                    message = "sending to " .. where .. " failed: " .. err }
    end
    i = i + #piece
  end

  local r = new_reader(sock, deadline)
  local function failed(what, message)
    sock:close()
    if what == "timeout" then
      return nil, { kind = "timeout", sent = true,
                    message = "the answer from " .. where .. " did not complete within " .. timeout_ms .. " ms" }
    elseif what == "protocol" then
      return nil, { kind = "protocol", sent = true, message = message .. " (from " .. where .. ")" }
    elseif what == "too large" then
      return nil, { kind = "protocol", sent = true, message = "response larger than max_response_bytes (" ..
        math.floor(self.max_response / (1024 * 1024)) .. " MiB)" }
    elseif what == "sink" then
      return nil, { kind = "validation", sent = true, message = "cannot write the download: " .. tostring(message) }
    elseif what == "closed" then
      return nil, { kind = "network", sent = true, message = "connection closed by " .. where ..
        " after " .. r.got .. " bytes of the answer" }
    end
    return nil, { kind = "network", sent = true, message = "reading the answer of " .. where .. " failed: " ..
      tostring(what) }
  end

  local status, headers, version = read_head(r)
  if not status then
    if reused and r.got == 0 and headers == "closed" then
      sock:close()
      return nil, nil, true
    end
    return failed(headers, version)
  end

  local body, part = "", nil
  local keep = version ~= "1.0" and not (headers["connection"] or ""):lower():find("close", 1, true)
  local no_body = req.method == "HEAD" or status == 204 or status == 304 or status < 200
  if not no_body then
    local sink, collected, limit
    if req.sink and status >= 200 and status <= 299 then
      local why
      part, why = core.open_part(req.sink)
      if not part then
        sock:close()
        return nil, { kind = "validation", sent = true, message = "cannot write the download: " .. why }
      end
      sink = file_sink(part)
    else
      limit = self.max_response
      sink, collected = memory_sink(limit)
    end
    local done, reusable, message = read_body(r, headers, sink, limit)
    if not done then
      if part then part:abort() end
      return failed(reusable, message)
    end
    keep = keep and reusable
    if collected then body = collected() end
  end
  if keep and r:drained() then
    sock:setkeepalive(self.keepalive_ms, self.pool_size)
  else
    sock:close()
  end
  local res = { status = status, headers = headers, body = body, http_version = version }
  if part then
    local bytes, why = part:commit()
    if not bytes then
      return nil, { kind = "validation", sent = true, message = "cannot write the download: " .. why }
    end
    res.sink_bytes = bytes
  end
  return res
end

function Transport:request(req)
  M.check_phase(2)
  local scheme, host, port, target, host_header = split_url(req.url or "")
  if not scheme then
    return fail("validation", "not an absolute http(s) URL: " .. tostring(req.url), false)
  end
  -- The request's total time (the pipeline passes min(timeout, what is left
  -- of the call's deadline)): connect, TLS, send and every read share it.
  local timeout_ms = math.max(1, math.floor((req.timeout or self.timeout) * 1000))
  local deadline = now() + timeout_ms / 1000
  local res, e, stale = self:exchange(req, scheme, host, port, target, host_header, deadline, timeout_ms)
  if stale then -- a pooled connection closed under us: once more on a new one
    res, e = self:exchange(req, scheme, host, port, target, host_header, deadline, timeout_ms)
  end
  if not res then
    if e == nil then e = { kind = "network", sent = false, message = "connection closed by " .. host } end
    return fail(e.kind, e.message, e.sent)
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
