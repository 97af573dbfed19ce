-- Issue 17, hostile servers against the ngx transport (cosockets, inside
-- nginx with the LuaJIT build): every case of spec/support/hostile/cases.lua,
-- called from the one worker of spec/support/hostile/client.conf through the
-- client pipeline with timeout 2 s, deadline 3 s and an 8 MiB body cap. Each
-- call must return within the deadline (plus slack) with the right error kind
-- and message, and the worker's peak RSS (/proc/<pid>/status VmHWM, reset
-- before each case) must grow by less than the cap. Prints "hostile servers
-- (ngx): N cases, H hung past the deadline, M over the memory cap".
local json = require "ctct.json"
local sandbox = require "spec.helpers.sandbox"
local nginx = require "spec.helpers.nginx"
local hostile = require "spec.support.hostile.cases"
local run, quote = sandbox.run, sandbox.quote

describe("hostile servers (ngx) #once", function()
  local srv, app, worker
  local results = {}

  lazy_setup(function()
    srv = hostile.start()
    app = nginx.start { template = sandbox.repo_root() .. "/spec/support/hostile/client.conf", workers = 1 }
    worker = assert(tonumber(run("ps -o pid= --ppid " .. app.pid):match("%d+")), "no nginx worker")
    -- Under spec/run-asan the worker must really run the sanitizer build.
    local want = os.getenv("CTCT_NGX_CPATH")
    if want then
      run("curl -s -o /dev/null " .. quote(app.url .. "/run?base=" .. sandbox.urlencode(srv.url) .. "&path=/ok"))
      local maps = sandbox.read_file("/proc/" .. worker .. "/maps") or ""
      assert(maps:find(want:gsub("%?%.so$", "ctct/core.so"), 1, true) and maps:find("libasan", 1, true),
        "the nginx worker does not run the sanitizer build")
    end
  end)

  lazy_teardown(function()
    if app then app:stop() end
    if srv then srv:stop() end
    print(hostile.summary("ngx", results))
  end)

  local function run_case(case)
    local before = hostile.reset_peak(worker)
    local out = run("curl -s --max-time 120 " .. quote(app.url .. "/run?base=" .. sandbox.urlencode(srv.url) ..
      "&path=" .. sandbox.urlencode(case.path)))
    local r = json.decode(out)
    assert(type(r) == "table", "the worker did not answer: " .. out .. "\n" .. app:log():sub(-2000))
    r.growth = hostile.peak(worker) - before
    results[#results + 1] = r
    return r
  end

  for _, case in ipairs(hostile.CASES) do
    it(case.name .. ": " .. case.kind .. " error within the deadline, worker memory bounded", function()
      local r = run_case(case)
      local problems = hostile.problems(case, r)
      assert.same({}, problems, case.name .. ": " .. table.concat(problems, "; "))
    end)
  end
end)
