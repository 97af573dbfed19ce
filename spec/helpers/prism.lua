-- Test helper: Prism (the npm package @stoplight/prism-cli, installed by `make
-- deps-npm` into .deps/node) serving a Swagger/OpenAPI file: a mock server for the
-- contract test (spec/contract_spec.lua), or a validating proxy in front of a
-- sandbox (spec/helpers/sandbox.lua with CTCT_PRISM_PROXY=1).
--
--   local prism = require "spec.helpers.prism"
--   local ok, why = prism.available()          -- node and prism installed?
--   local server = prism.start{ spec = "/tmp/corrected.json" }
--   server.url   -- http://127.0.0.1:PORT, the server root: Prism ignores basePath,
--                -- so paths have no /v3
--   server.pid, server:alive(), server:log()
--   server:stop()                              -- also prism.stop_all()
--
--   local proxy = prism.proxy{ spec = v3_path, upstream = sb.url, errors = false }
--   proxy.url    -- forwards every request to upstream, validating both sides
--   prism.exchanges(proxy:log())  --> what it forwarded and the violations it logged
--
-- Prism runs as `prism mock <spec> --errors -h 127.0.0.1 -p 0` or `prism proxy
-- [--errors] <spec> <upstream> -h 127.0.0.1 -p 0`: the kernel picks a
-- free port, which Prism names in its "listening" line. The process is not a child
-- of this one (a shell that exits starts it in the background): stop() ends it by
-- its own pid, and a watchdog shell ends it within 0.5 s once the Lua process that
-- started it is gone (TERM, then KILL after 5 s, and removes its log directory), so
-- a crashed test run leaves no node process behind. Prism 5 is one node process
-- (no children), so its pid is all there is to stop. Runs on
-- Lua 5.4 and LuaJIT/5.1.
--
-- The proxy, measured with Prism 5.14.2: Prism ignores basePath here too, so the
-- spec it reads must have its paths under /v3 (spec/support/contract/patch.lua,
-- write{ base_path = true }). With --errors a request that breaks the spec is not
-- forwarded: Prism answers 422 itself and its log says only "Request terminated with
-- error" (the reasons are in the 422 body). Without --errors every request is
-- forwarded and the upstream's answer returned as it is, plus an `sl-violations`
-- header; each violation, of the request or of the response, is also logged after
-- the upstream's answer, as `[VALIDATOR] ✖ error Violation: request.body <message>`
-- (`response.body ...`, `request.query ...`; a path the spec lacks is a warning:
-- `Violation: request Selected route not found`).
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
local function is_ours(mode)
  return [[tr '\000' ' ' </proc/$p/cmdline 2>/dev/null | grep -qF 'prism ]] .. mode .. [[ ']]
end
local IS_MOCK = is_ours("mock")

local function launch(what, command, opts, is_ours_test)
  local port = math.floor(tonumber(opts.port or 0))
  local tries = math.floor((opts.timeout or 30) / 0.05)
  local out = run(table.concat({
    'd=$(mktemp -d "${TMPDIR:-/tmp}/ctct-prism.XXXXXX") || exit 1',
    'echo "PRISM_DIR=$d"',
    -- $PPID of the shell io.popen runs is this Lua process.
    'parent=$PPID',
    command .. " -h 127.0.0.1 -p " .. port .. ' </dev/null >"$d/log" 2>&1 &',
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
    '( while ' .. is_ours_test .. '; do',
    '    if ! kill -0 $parent 2>/dev/null; then',
    '      kill -TERM $p 2>/dev/null',
    '      i=0; while ' .. is_ours_test .. ' && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
    '      if ' .. is_ours_test .. '; then kill -KILL $p 2>/dev/null; fi',
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
    is_ours = is_ours_test,
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
    error("prism " .. what .. " did not start on " .. opts.spec .. ":\n" .. log, 3)
  end
  server.url = url
  server.port = tonumber(url:match(":(%d+)$"))
  return server
end

local function check(what, opts)
  local ok, why = prism.available()
  if not ok then error("prism." .. what .. ": " .. why, 3) end
  if type(opts.spec) ~= "string" or not read_file(opts.spec) then
    error("prism." .. what .. ": spec must name a readable file, got " .. tostring(opts.spec), 3)
  end
end

-- Starts Prism on opts.spec (a .json or .yaml file); raises with its log if it
-- does not answer within opts.timeout seconds (default 30). opts.port: a fixed
-- port instead of a free one; opts.errors = false leaves out --errors.
function prism.start(opts)
  opts = opts or {}
  check("start", opts)
  return launch("mock", quote(prism.paths().bin) .. " mock " .. quote(opts.spec)
    .. (opts.errors == false and "" or " --errors"), opts, IS_MOCK)
end

-- Starts a validating proxy: Prism on opts.spec forwarding to opts.upstream (a
-- URL); the other options as for prism.start. With --errors (the default) a request
-- that breaks the spec gets Prism's 422 instead of the upstream's answer; errors =
-- false forwards everything and only logs (and reports in sl-violations).
function prism.proxy(opts)
  opts = opts or {}
  check("proxy", opts)
  if type(opts.upstream) ~= "string" or not opts.upstream:match("^https?://") then
    error("prism.proxy: upstream must be an http(s) URL, got " .. tostring(opts.upstream), 2)
  end
  return launch("proxy", quote(prism.paths().bin) .. " proxy" .. (opts.errors == false and "" or " --errors")
    .. " " .. quote(opts.spec) .. " " .. quote(opts.upstream), opts, is_ours("proxy"))
end

-- What a proxy's log says, oldest first: a list of { method = "GET", target =
-- "/v3/contacts?limit=2" (path and query, as forwarded), status = 200 (the
-- upstream's; nil when Prism answered itself), refused = true (--errors: Prism
-- answered 422 instead of forwarding), violations = { { side = "request" |
-- "response", where = "body" (or "query", "header", "" ...), severity = "error" |
-- "warning", message = "..." } } }. Prism logs a request's violations right after
-- its upstream answer; they are given to the last request that got one, which is
-- exact as long as requests do not overlap (the specs send one at a time).
function prism.exchanges(log)
  local list, last = {}, nil
  local pending = {}    -- method path -> received, not yet forwarded (FIFO)
  for line in log:gmatch("[^\n]+") do
    local method, path = line:match("%[HTTP SERVER%] (%a+) (%S+) .-Request received")
    local fwd_method, target = line:match('> Forwarding "(%a+)" request to https?://[^/]+(%S-)%.%.%.$')
    local status = line:match("The upstream call to %S+ has returned (%d+)")
    local severity, side, where, message = line:match("%[VALIDATOR%] %S+%s+(%a+)%s+Violation: (%a+)%.?(%S*) (.*)$")
    if method then
      local x = { method = method:upper(), target = path, violations = {} }
      list[#list + 1] = x
      pending[#pending + 1] = x
    elseif fwd_method then
      for i, x in ipairs(pending) do
        if x.method == fwd_method:upper() and target:sub(1, #x.target) == x.target then
          x.target = target
          x.forwarded = true
          table.remove(pending, i)
          break
        end
      end
    elseif status then
      local path_only = line:match("The upstream call to (%S+) has returned")
      for i = #list, 1, -1 do
        local x = list[i]
        if x.forwarded and not x.status and x.target:match("^[^?]*") == path_only then
          x.status = tonumber(status)
          last = x
          break
        end
      end
    elseif severity and last then
      last.violations[#last.violations + 1] = { side = side, where = where, severity = severity, message = message }
    elseif line:find("Request terminated with error", 1, true) then
      local m, p = line:match("%[HTTP SERVER%] (%a+) (%S+) ")
      for i, x in ipairs(pending) do
        if m and x.method == m:upper() and x.target == p then
          x.refused = true
          x.violations[1] = { side = "request", where = "", severity = "error",
                              message = line:match("Request terminated with error: (.*)$") }
          table.remove(pending, i)
          break
        end
      end
    end
  end
  return list
end

-- True while the Prism process exists.
function Server:alive() return process.alive(self.pid, self.is_ours) end

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
  local stopped = process.stop(self.pid, self.is_ours, 5)
  if self.dir and self.dir:match("/ctct%-prism%.[%w]+$") then run("rm -rf " .. quote(self.dir)) end
  assert(stopped, "prism " .. tostring(self.pid) .. " did not stop")
end

-- Stops every server this helper started and has not stopped yet.
function prism.stop_all() process.stop_all(started) end

return prism
