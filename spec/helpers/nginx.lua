-- Test helper: run examples/openresty/nginx.conf (a template) in a fresh prefix
-- with Debian's nginx + ngx_lua, loading the LuaJIT build of ctct.core.
--
--   local nginx = require "spec.helpers.nginx"
--   local srv = nginx.start{ vars = { BASE_URL = ..., ... }, workers = 1, locations = "..." }
--   srv.url, srv:log(), srv:stop()
--
-- CTCT_NGX_CPATH / CTCT_NGX_PRELOAD (set by spec/run-asan) swap in the sanitizer
-- build of ctct.core and preload the sanitizer runtimes into nginx.
--
-- Stopped by the master's pid (TERM, then KILL of that pid and its workers),
-- never by name. Runs on Lua 5.4 and LuaJIT.
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

local M = {}
local Server = {}
Server.__index = Server

local function port_in_use(p)
  local _, code = run("ss -ltnH 2>/dev/null | awk '{print $4}' | grep -Eq '[:.]" .. p .. "$'")
  return code == 0
end

function M.free_port()
  for _ = 1, 50 do
    local p = 20000 + math.random(0, 39999)
    if not port_in_use(p) then return p end
  end
  error("no free port found")
end

local function fill(template, vars)
  return (template:gsub("@([%u_]+)@", function(name)
    if name == "LOCATIONS" or name == "FIELD" then return nil end -- the markers
    local v = vars[name]
    if v == nil then error("nginx template: no value for @" .. name .. "@", 0) end
    return tostring(v)
  end))
end
M.fill = fill

--- start{ vars = {...}, workers = 1, locations = "extra location blocks", template = path }
function M.start(opts)
  local root = sandbox.repo_root()
  local template = assert(sandbox.read_file(opts.template or (root .. "/examples/openresty/nginx.conf")))
  local dir = run("mktemp -d /tmp/ctct-openresty.XXXXXXXX"):gsub("%s+$", "")
  assert(dir:match("^/tmp/ctct%-openresty%."), "mktemp failed")
  run("chmod 755 " .. quote(dir) .. " && mkdir -p " .. quote(dir .. "/conf") .. " " .. quote(dir .. "/logs") ..
    " " .. quote(dir .. "/temp"))
  local vars = {
    PREFIX = dir, WORKERS = opts.workers or 1, REPO = root,
    CPATH = os.getenv("CTCT_NGX_CPATH") or (root .. "/build/jit/?.so"),
    USER_LINE = run("id -u"):match("^0%s") and "user root;" or "",
    CA_FILE = "/etc/ssl/certs/ca-certificates.crt", PER_SECOND = 4, WEBHOOK_JWKS_URL = "",
  }
  for k, v in pairs(opts.vars or {}) do vars[k] = v end
  local srv = setmetatable({ dir = dir }, Server)
  local last
  -- spec/run-asan: ctct.core built with the sanitizers (CTCT_NGX_CPATH) and their
  -- runtimes preloaded into nginx alone (CTCT_NGX_PRELOAD), never into curl or ps.
  local preload = os.getenv("CTCT_NGX_PRELOAD")
  local launcher = preload and ("env LD_PRELOAD=" .. quote(preload) .. " ") or ""
  for _ = 1, 5 do
    vars.PORT = opts.port or M.free_port()
    vars.PUBLIC_URL = vars.PUBLIC_URL_OVERRIDE or ("http://127.0.0.1:" .. vars.PORT)
    local filled, conf = pcall(fill, template, vars)
    if not filled then
      run("rm -rf " .. quote(dir))
      error(conf, 2)
    end
    if opts.locations then
      conf = conf:gsub("\n([ \t]*)# @LOCATIONS@[^\n]*", function(indent)
        return "\n" .. indent .. opts.locations:gsub("\n", "\n" .. indent)
      end)
    end
    sandbox.write_file(dir .. "/conf/nginx.conf", conf)
    local out, code = run(launcher .. "nginx -p " .. quote(dir .. "/") .. " -c conf/nginx.conf -e " ..
      quote(dir .. "/logs/error.log") .. " 2>&1")
    last = out
    if code == 0 then
      srv.port, srv.url = vars.PORT, "http://127.0.0.1:" .. vars.PORT
      break
    end
    if not out:find("Address already in use", 1, true) then break end
  end
  if not srv.url then
    run("rm -rf " .. quote(dir))
    error("nginx did not start:\n" .. tostring(last), 2)
  end
  for _ = 1, 50 do
    local pid = sandbox.read_file(dir .. "/logs/nginx.pid")
    if pid and tonumber(pid:match("%d+")) then srv.pid = tonumber(pid:match("%d+")) break end
    run("sleep 0.1")
  end
  if not srv.pid then srv:stop() error("nginx wrote no pid file", 2) end
  -- Wait until a worker answers (404 for an unknown path).
  for _ = 1, 50 do
    local code = run("curl -s -o /dev/null -w '%{http_code}' --max-time 1 " .. quote(srv.url .. "/__ping"))
    if code:match("^404") then return srv end
    run("sleep 0.1")
  end
  local log = srv:log()
  srv:stop()
  error("nginx did not answer:\n" .. log, 2)
end

--- The error log so far.
function Server:log()
  return sandbox.read_file(self.dir .. "/logs/error.log") or ""
end

local function alive(pid)
  local _, code = run("kill -0 " .. pid .. " 2>/dev/null")
  return code == 0
end

--- Stop by pid (idempotent) and remove the prefix directory.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  local pid = self.pid
  if pid and alive(pid) then
    local workers = run("ps -o pid= --ppid " .. pid .. " 2>/dev/null")
    run("kill -TERM " .. pid)
    for _ = 1, 50 do
      if not alive(pid) then break end
      run("sleep 0.1")
    end
    if alive(pid) then run("kill -KILL " .. pid) end
    for w in workers:gmatch("%d+") do
      if alive(w) then run("kill -KILL " .. w) end
    end
  end
  if not os.getenv("CTCT_KEEP_NGINX") then run("rm -rf " .. quote(self.dir)) end
end

return M
