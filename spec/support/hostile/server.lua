-- luacheck: read globals ngx
-- spec/support/hostile/server.lua: the misbehaving answers of the hostile
-- server (spec/support/hostile/server.conf), one per /case/<name>.
--
-- Each writes raw bytes on the downstream socket (ngx.req.socket(true)): a
-- status line, heads and bodies no well-behaved server would send. "Endless"
-- means until the client hangs up, bounded here too (LIMIT_SECONDS,
-- LIMIT_BYTES) so that a client without the defences only hangs for a while,
-- and the server never buffers: a raw send waits until the kernel took the data.
-- Runs inside nginx (LuaJIT); see spec/support/hostile/cases.lua for what a
-- client must make of each case.
local M = {}

M.LIMIT_SECONDS = 20
M.LIMIT_BYTES = 320 * 1024 * 1024

local PIECE = string.rep("x", 64 * 1024)
local JSON_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"

local function elapsed(started)
  ngx.update_time()
  return ngx.now() - started
end

-- Send `piece` again and again until the client leaves or a limit is reached.
local function flood(sock, piece, started)
  local sent = 0
  while sent < M.LIMIT_BYTES and elapsed(started) < M.LIMIT_SECONDS do
    if not sock:send(piece) then return end
    sent = sent + #piece
  end
end

-- One byte of `text` (repeated) every `interval` seconds.
local function drip(sock, text, interval, started)
  local i = 0
  while elapsed(started) < M.LIMIT_SECONDS do
    i = i % #text + 1
    if not sock:send(text:sub(i, i)) then return end
    ngx.sleep(interval)
  end
end

local function chunk(data)
  return string.format("%x\r\n", #data) .. data .. "\r\n"
end

-- The cases: function(sock, started, args).
local CASES = {}

-- A Content-Length body, one byte every half second.
function CASES.drip_body(sock, started)
  sock:send(JSON_HEAD .. "Content-Length: 100000\r\n\r\n")
  drip(sock, " ", 0.5, started)
end

-- A status line, then the headers one byte every half second.
function CASES.drip_head(sock, started)
  sock:send("HTTP/1.1 200 OK\r\n")
  drip(sock, "X-Drip: slow\r\n", 0.5, started)
end

-- No length and no chunking: the body ends when the connection does (never).
function CASES.endless_body(sock, started)
  sock:send(JSON_HEAD .. "Connection: close\r\n\r\n")
  flood(sock, PIECE, started)
end

-- A Content-Length of a terabyte, then as much as the client reads.
function CASES.huge_length(sock, started)
  sock:send(JSON_HEAD .. "Content-Length: 1000000000000\r\n\r\n")
  flood(sock, PIECE, started)
end

-- "100 Continue", again and again, never a final answer.
function CASES.endless_continue(sock, started)
  flood(sock, string.rep("HTTP/1.1 100 Continue\r\n\r\n", 256), started)
end

-- 20,000 header fields of one name (repeats are joined: quadratic when done naively).
function CASES.many_headers(sock)
  sock:send(JSON_HEAD .. string.rep("X-Dup: 1\r\n", 20000) .. "Content-Length: 2\r\n\r\n{}")
end

-- n (query arg, default 998) repeated fields X-Dup: 1 .. n, then a small body
-- (with Content-Type and Content-Length: 1000 fields, the most allowed).
function CASES.repeated_headers(sock, _, args)
  local n = tonumber(args.n) or 998
  local lines = {}
  for i = 1, n do lines[i] = "X-Dup: " .. i .. "\r\n" end
  sock:send(JSON_HEAD .. table.concat(lines) .. "Content-Length: 11\r\n\r\n{\"ok\":true}")
end

-- One header line that never ends.
function CASES.endless_line(sock, started)
  sock:send("HTTP/1.1 200 OK\r\nX-Long: ")
  flood(sock, PIECE, started)
end

-- 300 header lines of 1 KiB: a head of 300 KiB, over the 256 KiB cap.
function CASES.big_head(sock)
  local lines = {}
  local value = string.rep("b", 1000)
  for i = 1, 300 do lines[i] = "X-Big-" .. i .. ": " .. value .. "\r\n" end
  sock:send(JSON_HEAD .. table.concat(lines) .. "Content-Length: 2\r\n\r\n{}")
end

-- Chunks of 64 KiB without end: over any body cap.
function CASES.over_cap(sock, started)
  sock:send(JSON_HEAD .. "Transfer-Encoding: chunked\r\n\r\n")
  flood(sock, chunk(PIECE), started)
end

-- A chunked body cut off in the middle of a chunk.
function CASES.truncated_chunked(sock)
  sock:send(JSON_HEAD .. "Transfer-Encoding: chunked\r\n\r\n" .. chunk("[1,2,3") .. "100\r\n,4,5")
end

-- Not HTTP at all.
function CASES.garbage_status(sock)
  sock:send("SSH-2.0-OpenSSH_9.2 definitely not HTTP\r\n\r\n")
end

-- A well-formed download: `size` bytes (query arg, default 1 MiB) of a known
-- pattern, chunked, with `status` (default 200).
function CASES.download(sock, _, args)
  local size, status = tonumber(args.size) or 1048576, tonumber(args.status) or 200
  sock:send("HTTP/1.1 " .. status .. " X\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n")
  local line = "email,first_name\r\n"
  local block = string.rep(line, math.ceil(16384 / #line)):sub(1, 16384)
  local left = size
  while left > 0 do
    local piece = left >= #block and block or block:sub(1, left)
    if not sock:send(chunk(piece)) then return end
    left = left - #piece
  end
  sock:send("0\r\n\r\n")
end

-- A download cut off half-way (after `size` bytes, default 64 KiB).
function CASES.download_truncated(sock, _, args)
  local size = tonumber(args.size) or 65536
  sock:send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: " .. (size * 2) .. "\r\n\r\n" ..
    string.rep("t", size))
end

-- A redirect to another case (not to be followed: it would carry the token).
function CASES.redirect(sock, _, args)
  sock:send("HTTP/1.1 302 Found\r\nLocation: " .. (args.to or "/case/garbage_status") ..
    "\r\nContent-Length: 0\r\n\r\n")
end

-- A gzip bomb: the bytes of the file `file` (made by the spec: gzip of a
-- large run of zeros) as a Content-Encoding: gzip body.
function CASES.gzip_bomb(sock, _, args)
  local f = assert(io.open(args.file, "rb"))
  local data = f:read("*a")
  f:close()
  sock:send(JSON_HEAD .. "Content-Encoding: gzip\r\nContent-Length: " .. #data .. "\r\n\r\n" .. data)
end

M.CASES = CASES

function M.handle()
  local name = ngx.var.uri:match("^/case/([%w_]+)$")
  local case = name and CASES[name]
  if not case then return ngx.exit(404) end
  local sock, err = ngx.req.socket(true)
  if not sock then
    ngx.log(ngx.ERR, "hostile server: no raw socket: ", err)
    return ngx.exit(500)
  end
  sock:settimeout(30000)
  ngx.update_time()
  case(sock, ngx.now(), ngx.req.get_uri_args())
end

return M
