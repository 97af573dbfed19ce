-- Test helper: a Prism mock server (the npm package @stoplight/prism-cli, installed
-- by `make deps-npm` into .deps/node) serving a Swagger/OpenAPI file, for the contract
-- test (spec/contract_spec.lua).
--
--   local prism = require "spec.helpers.prism"
--   local ok, why = prism.available()          -- node and prism installed?
--   local server = prism.start{ spec = "/tmp/corrected.json" }
--   server.url   -- http://127.0.0.1:PORT, the server root: Prism ignores basePath,
--                -- so paths have no /v3
--   server.pid, server:alive(), server:log()
--   server:stop()                              -- also prism.stop_all()
--
-- Prism runs as `prism mock <spec> --errors -h 127.0.0.1 -p 0`: the kernel picks a
-- free port, which Prism names in its "listening" line. The process is not a child
-- of this one (a shell that exits starts it in the background): stop() ends it by
-- its own pid, and a watchdog shell ends it within 0.5 s once the Lua process that
-- started it is gone (TERM, then KILL after 5 s, and removes its log directory), so
-- a crashed test run leaves no node process behind. Prism 5 is one node process
-- (no children), so its pid is all there is to stop. Runs on
-- Lua 5.4 and LuaJIT/5.1.
local sandbox = require "spec.helpers.sandbox"
local process = require "spec.helpers.process"

local run, quote, read_file = sandbox.run, sandbox.quote, sandbox.read_file

local prism = {}

prism.VERSION = "5.14.2" -- the version tools/npm/package.json pins

local Server = {}
Server.__index = Server

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

function prism.paths()
  local root = sandbox.repo_root()
  local deps = root .. "/.deps/node/node_modules"
  return {
    root = root,
    bin = deps .. "/.bin/prism",
    package = deps .. "/@stoplight/prism-cli/package.json",
  }
end

-- Installed prism-cli version, or nil.
function prism.installed_version()
  local pkg = read_file(prism.paths().package)
  return pkg and pkg:match('"version"%s*:%s*"([^"]+)"') or nil
end

local available_cache

-- true, or false and why Prism cannot run here (checked once per process).
function prism.available()
  if available_cache then return available_cache[1], available_cache[2] end
  local ok, why = true, nil
  local out, code = run("node -p process.versions.node 2>/dev/null")
  local major = tonumber(trim(out):match("^(%d+)%."))
  if code ~= 0 or not major then
    ok, why = false, "node is not on PATH"
  elseif major < 18 then
    ok, why = false, "node " .. trim(out) .. " is too old for Prism 5 (needs >= 18)"
  elseif not prism.installed_version() or not read_file(prism.paths().bin) then
    ok, why = false, "npm package @stoplight/prism-cli is not installed in .deps/node (make deps-npm)"
  end
  available_cache = { ok, why }
  return ok, why
end

local started = {}

-- Shell test: is pid $p still our Prism? A zombie (exited, not yet reaped) has an
-- empty cmdline and does not count; the check also guards against pid reuse.
local IS_OURS = [[tr '\000' ' ' </proc/$p/cmdline 2>/dev/null | grep -qF 'prism mock ']]

-- Starts Prism on opts.spec (a .json or .yaml file); raises with its log if it
-- does not answer within opts.timeout seconds (default 30). opts.port: a fixed
-- port instead of a free one; opts.errors = false leaves out --errors.
function prism.start(opts)
  opts = opts or {}
  local ok, why = prism.available()
  if not ok then error("prism.start: " .. why, 2) end
  if type(opts.spec) ~= "string" or not read_file(opts.spec) then
    error("prism.start: spec must name a readable file, got " .. tostring(opts.spec), 2)
  end
  local port = math.floor(tonumber(opts.port or 0))
  local tries = math.floor((opts.timeout or 30) / 0.05)
  local out = run(table.concat({
    'd=$(mktemp -d "${TMPDIR:-/tmp}/ctct-prism.XXXXXX") || exit 1',
    'echo "PRISM_DIR=$d"',
    -- $PPID of the shell io.popen runs is this Lua process.
    'parent=$PPID',
    quote(prism.paths().bin) .. " mock " .. quote(opts.spec) .. (opts.errors == false and "" or " --errors")
      .. " -h 127.0.0.1 -p " .. port .. ' </dev/null >"$d/log" 2>&1 &',
    'p=$!',
    'echo "PRISM_PID=$p"',
    'i=0',
    'while [ $i -lt ' .. tries .. ' ]; do',
    '  grep -q "Prism is listening on" "$d/log" && break',
    '  kill -0 $p 2>/dev/null || break',
    '  sleep 0.05; i=$((i+1))',
    'done',
    -- The watchdog: ends Prism once the Lua process is gone, and itself with Prism.
    -- Started once node runs (before, the cmdline check could not recognise it).
    '( while ' .. IS_OURS .. '; do',
    '    if ! kill -0 $parent 2>/dev/null; then',
    '      kill -TERM $p 2>/dev/null',
    '      i=0; while ' .. IS_OURS .. ' && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
    '      if ' .. IS_OURS .. '; then kill -KILL $p 2>/dev/null; fi',
    '      break',
    '    fi',
    '    sleep 0.5',
    '  done',
    '  kill -0 $parent 2>/dev/null || rm -rf "$d" ) </dev/null >/dev/null 2>&1 &',
  }, "\n"))
  local server = setmetatable({
    dir = out:match("PRISM_DIR=([^\n]+)"),
    pid = tonumber(out:match("PRISM_PID=(%d+)")),
    spec = opts.spec,
  }, Server)
  started[server] = true
  local log = server:log()
  local url = log:match("Prism is listening on (http://127%.0%.0%.1:%d+)")
  if url and not url:match(":0$") then
    -- The listening line comes just before the server accepts; wait for an answer.
    local answered
    for _ = 1, 100 do
      local status = run("curl -s -o /dev/null --max-time 2 -w '%{http_code}' " .. quote(url .. "/"))
      if tonumber(status) and tonumber(status) > 0 then answered = true break end
      run("sleep 0.05")
    end
    if not answered then url = nil end
  end
  if not url or not server.pid then
    server:stop()
    error("prism did not start on " .. opts.spec .. ":\n" .. log, 2)
  end
  server.url = url
  server.port = tonumber(url:match(":(%d+)$"))
  return server
end

-- True while the Prism process exists.
function Server:alive() return process.alive(self.pid, IS_OURS) end

-- Prism's output so far (routes, requests, errors).
function Server:log()
  return self.dir and read_file(self.dir .. "/log") or ""
end

-- Stops Prism by its own pid (TERM, then KILL after 5 s) and removes its directory.
-- Idempotent; raises if the process is still there afterwards.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  started[self] = nil
  local stopped = process.stop(self.pid, IS_OURS, 5)
  if self.dir and self.dir:match("/ctct%-prism%.[%w]+$") then run("rm -rf " .. quote(self.dir)) end
  assert(stopped, "prism " .. tostring(self.pid) .. " did not stop")
end

-- Stops every server this helper started and has not stopped yet.
function prism.stop_all() process.stop_all(started) end

return prism
