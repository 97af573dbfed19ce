-- Test helper: real redis-server (and redis-sentinel) processes for the specs, on
-- 127.0.0.1 and a unix socket, each in a temp dir with AOF `appendfsync always`.
--
--   local redis = require "spec.helpers.redis"
--   local srv = redis.start{ password = nil, conf = { "maxmemory 10mb" }, replica_of = other }
--   srv.host, srv.port, srv.unix, srv.dir, srv.pid, srv.password
--   srv:options{ timeout = 1 }      --> a table for core.redis_connect (TCP; unix = true for the socket)
--   srv:connect{ ... }              --> core.redis_connect(srv:options{ ... })
--   srv:cli("INFO", "clients")      --> redis-cli's output, exit code (setup and inspection only)
--   srv:shutdown() / srv:kill()     --> TERM (AOF flushed) / KILL -9, keeping the data dir
--   srv:start()                     --> the same server again (port, dir, config): reloads the AOF
--   srv:stop()                      --> shutdown and remove the dir (idempotent)
--   local sen = redis.sentinel{ master = srv, name = "ctct", down_after_ms = 1000 }
--   sen:master_addr()               --> host, port the Sentinel names as master
--   redis.stop_all()                --> stops every server this helper started
--   redis.silent_listener{ backlog_full = true }  --> { port, stop }: a port that never answers
--   redis.run_workers(n, code, args) --> outputs, exit codes of n Lua processes run at once
--
-- Processes are stopped by their own pid, never by name; a pid is taken as ours
-- only while its working directory is our temp dir (redis chdirs to `dir`), which
-- also treats a zombie as gone. The code under test talks through core.redis_connect;
-- redis-cli here keeps the helper independent of it. Runs on Lua 5.4 and LuaJIT.
local sandbox = require "spec.helpers.sandbox"
local process = require "spec.helpers.process"

local run, quote = sandbox.run, sandbox.quote

local M = { started = {} }

local Server = {}
Server.__index = Server

-- A port the kernel just gave out (then released): no guessing, no seed to share.
function M.free_port()
  local out, code = run("python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); " ..
    "print(s.getsockname()[1])'")
  local port = tonumber(out:match("%d+"))
  assert(code == 0 and port, "no free port: " .. out)
  return port
end

local function mktemp(prefix)
  local dir = run("d=$(mktemp -d /tmp/" .. prefix .. ".XXXXXXXX) && cd \"$d\" && pwd -P"):gsub("%s+$", "")
  assert(dir:match("^/tmp/" .. prefix:gsub("%-", "%%-") .. "%."), "mktemp failed: " .. dir)
  return dir
end

function Server:is_ours()
  return '[ "$(readlink /proc/$p/cwd 2>/dev/null)" = ' .. quote(self.dir) .. " ]"
end

function Server:alive() return process.alive(self.pid, self:is_ours()) end

function Server:log()
  return sandbox.read_file(self.dir .. "/" .. self.kind .. ".log") or ""
end

local function cli_env(password)
  -- REDISCLI_AUTH keeps the password off the command line (and out of ps).
  return password and ("REDISCLI_AUTH=" .. quote(password) .. " ") or ""
end

--- redis-cli against this server; returns its output (trailing space removed) and exit code.
function Server:cli(...)
  local args = {}
  for i = 1, select("#", ...) do args[#args + 1] = quote(select(i, ...)) end
  local out, code = run(cli_env(self.password) .. "redis-cli --no-auth-warning -h 127.0.0.1 -p " .. self.port ..
    " " .. table.concat(args, " ") .. " 2>&1")
  return (out:gsub("%s+$", "")), code
end

function Server:write_config()
  local lines = {
    "bind 127.0.0.1",
    "port " .. self.port,
    "dir " .. self.dir,
    "daemonize no",
    "logfile " .. self.dir .. "/" .. self.kind .. ".log",
  }
  if self.kind == "redis" then
    for _, l in ipairs {
      "save \"\"", "appendonly yes", "appendfsync always",
      "unixsocket " .. self.unix, "unixsocketperm 700",
      "enable-debug-command local",
    } do lines[#lines + 1] = l end
    if self.password then lines[#lines + 1] = "requirepass " .. self.password end
    if self.replica_of then
      lines[#lines + 1] = "replicaof 127.0.0.1 " .. self.replica_of.port
      if self.replica_of.password then lines[#lines + 1] = "masterauth " .. self.replica_of.password end
    end
  else
    local m = self.master
    lines[#lines + 1] = ("sentinel monitor %s 127.0.0.1 %d %d"):format(self.name, m.port, self.quorum)
    lines[#lines + 1] = ("sentinel down-after-milliseconds %s %d"):format(self.name, self.down_after_ms)
    lines[#lines + 1] = ("sentinel failover-timeout %s %d"):format(self.name, self.failover_timeout_ms)
    lines[#lines + 1] = ("sentinel parallel-syncs %s 1"):format(self.name)
    if m.password then lines[#lines + 1] = ("sentinel auth-pass %s %s"):format(self.name, m.password) end
  end
  for _, l in ipairs(self.conf or {}) do lines[#lines + 1] = l end
  sandbox.write_file(self.conf_path, table.concat(lines, "\n") .. "\n")
end

--- Starts (or starts again) the process; waits until PING answers.
function Server:start()
  assert(not self:alive(), "already running")
  local binary = self.kind == "redis" and "redis-server" or "redis-sentinel"
  for attempt = 1, 5 do
    self:write_config()
    local out = run("cd " .. quote(self.dir) .. " && { " .. binary .. " " .. quote(self.conf_path) ..
      " </dev/null >>" .. quote(self.dir .. "/stdout.log") .. " 2>&1 & echo $!; }")
    self.pid = tonumber(out:match("%d+"))
    assert(self.pid, "could not start " .. binary .. ": " .. out)
    for _ = 1, 250 do
      local pong = self:cli("PING")
      if pong == "PONG" then return self end
      if not self:alive() then break end
      run("sleep 0.02")
    end
    local log = self:log() .. (sandbox.read_file(self.dir .. "/stdout.log") or "")
    process.stop(self.pid, self:is_ours(), 2)
    -- Another process took the port between free_port and the bind: try a new one
    -- (only on the first start: a restart must keep its address).
    if not (log:find("Address already in use", 1, true) and self.fresh) or attempt == 5 then
      error(binary .. " did not answer PING:\n" .. log, 2)
    end
    self.port = M.free_port()
  end
end

--- TERM (redis flushes the AOF and exits), KILL after `seconds`; keeps the dir.
function Server:shutdown(seconds)
  return process.stop(self.pid, self:is_ours(), seconds or 5)
end

--- A crash: KILL -9, keeping the dir.
function Server:kill()
  if self:alive() then run("kill -KILL " .. math.floor(self.pid)) end
  for _ = 1, 100 do
    if not self:alive() then return true end
    run("sleep 0.02")
  end
  return false
end

function Server:stop()
  if self.stopped then return end
  self.stopped = true
  M.started[self] = nil
  self:shutdown()
  if not os.getenv("CTCT_KEEP_REDIS") then run("rm -rf " .. quote(self.dir)) end
end

--- Options for core.redis_connect: TCP, or the unix socket with `unix = true`.
function Server:options(extra)
  local o = { host = "127.0.0.1", port = self.port, password = self.password }
  for k, v in pairs(extra or {}) do o[k] = v end
  if o.unix == true then o.unix, o.host, o.port = self.unix, nil, nil end
  return o
end

function Server:connect(extra)
  return require("ctct.core").redis_connect(self:options(extra))
end

local function new(kind, fields)
  local self = setmetatable(fields, Server)
  self.kind, self.fresh = kind, true
  self.dir = mktemp("ctct-" .. kind)
  self.conf_path = self.dir .. "/" .. kind .. ".conf"
  self.host = "127.0.0.1"
  if kind == "redis" then self.unix = self.dir .. "/redis.sock" end
  self.port = fields.port or M.free_port()
  M.started[self] = true
  local ok, err = pcall(self.start, self)
  if not ok then
    self:stop()
    error(err, 3)
  end
  self.fresh = false
  return self
end

--- start{ password, conf = { lines }, replica_of = server, port }
function M.start(opts)
  opts = opts or {}
  return new("redis", {
    password = opts.password, conf = opts.conf, replica_of = opts.replica_of, port = opts.port,
  })
end

--- sentinel{ master = server, name = "ctct", quorum = 1, down_after_ms = 1000, failover_timeout_ms = 3000 }
function M.sentinel(opts)
  assert(opts and opts.master, "sentinel{ master = server }")
  return new("sentinel", {
    master = opts.master, name = opts.name or "ctct", quorum = opts.quorum or 1,
    down_after_ms = opts.down_after_ms or 1000, failover_timeout_ms = opts.failover_timeout_ms or 3000,
    conf = opts.conf,
  })
end

--- Sentinel only: the master's address as this Sentinel sees it.
function Server:master_addr()
  local out = self:cli("SENTINEL", "get-master-addr-by-name", self.name)
  local host, port = out:match("^(%S+)%s+(%d+)")
  return host, tonumber(port)
end

--- Replica only: true once the link to the master is up (waits up to `seconds`).
function Server:wait_sync(seconds)
  for _ = 1, math.floor((seconds or 5) / 0.05) do
    if self:cli("INFO", "replication"):find("master_link_status:up", 1, true) then return true end
    run("sleep 0.05")
  end
  return false
end

function M.stop_all() process.stop_all(M.started) end

-- A TCP listener that never answers, for timeouts. backlog_full = true: its accept
-- queue is filled first, so the kernel drops new SYNs and a connect hangs (connect
-- timeout); otherwise connects succeed and no byte ever comes back (read timeout).
local LISTENER = [[
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
keep = []
if sys.argv[2] == "full":
    for i in range(4):
        c = socket.socket(); c.setblocking(False)
        try: c.connect(s.getsockname())
        except BlockingIOError: pass
        keep.append(c)
    time.sleep(0.2)
print(s.getsockname()[1], flush=True)
time.sleep(float(sys.argv[3]))
]]

--- silent_listener{ backlog_full = false, seconds = 60 } --> { port = n, stop = fn }
function M.silent_listener(opts)
  opts = opts or {}
  local dir = mktemp("ctct-silent")
  sandbox.write_file(dir .. "/listener.py", LISTENER)
  local out = run("python3 " .. quote(dir .. "/listener.py") .. " ctct-silent-listener " ..
    (opts.backlog_full and "full" or "open") .. " " .. (opts.seconds or 60) .. " </dev/null >" ..
    quote(dir .. "/port") .. " 2>&1 & echo $!")
  local pid = tonumber(out:match("%d+"))
  local is_ours = "tr '\\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q " .. quote(dir .. "/listener.py")
  local l = {}
  function l.stop()
    process.stop(pid, is_ours, 2)
    run("rm -rf " .. quote(dir))
  end
  for _ = 1, 250 do
    l.port = tonumber((sandbox.read_file(dir .. "/port") or ""):match("^(%d+)\n"))
    if l.port then return l end
    run("sleep 0.02")
  end
  local log = sandbox.read_file(dir .. "/port")
  l.stop()
  error("silent listener did not start: " .. tostring(log), 2)
end

--- The interpreter and C module path of the running runtime (for child processes).
function M.runtime()
  local root = sandbox.repo_root()
  if rawget(_G, "jit") then return "luajit", root .. "/build/jit/?.so" end
  return "lua5.4", root .. "/build/5.4/?.so"
end

--- run_workers(n, code, args) --> { stdout of worker 1, ..., n }, { exit codes }
-- Runs `code` (a Lua chunk) in n processes of the running runtime at once, with
-- ctct's paths set; in the chunk, `...` is the worker's number (1..n) and then args.
function M.run_workers(n, code, args)
  local lua, cpath = M.runtime()
  local root = sandbox.repo_root()
  local dir = mktemp("ctct-workers")
  local prelude = ("package.path = %q .. package.path; package.cpath = %q .. ';' .. package.cpath\n"):format(
    root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/?.lua;", cpath)
  sandbox.write_file(dir .. "/worker.lua", prelude .. "return (function(...)\n" .. code .. "\nend)(...)\n")
  local quoted = {}
  for _, a in ipairs(args or {}) do quoted[#quoted + 1] = quote(a) end
  local cmd = {}
  for i = 1, n do
    cmd[#cmd + 1] = ("{ %s %s %d %s >%s 2>&1; echo $? >%s; } &"):format(lua, quote(dir .. "/worker.lua"), i,
      table.concat(quoted, " "), quote(dir .. "/out." .. i), quote(dir .. "/rc." .. i))
  end
  cmd[#cmd + 1] = "wait"
  run(table.concat(cmd, "\n"))
  local outs, codes = {}, {}
  for i = 1, n do
    outs[i] = sandbox.read_file(dir .. "/out." .. i) or ""
    codes[i] = tonumber((sandbox.read_file(dir .. "/rc." .. i) or ""):match("%d+"))
  end
  run("rm -rf " .. quote(dir))
  return outs, codes
end

return M
