-- Issue 17, hostile servers against the curl transport (ctct.core's libcurl
-- session, the default outside nginx): every case of spec/support/hostile/cases.lua
-- through the client pipeline with timeout 2 s, deadline 3 s and an 8 MiB body
-- cap. Each call must return within the deadline (plus slack) with the right
-- error kind and message, and this process's peak RSS must stay under the cap.
-- Prints "hostile servers (curl): N cases, H hung past the deadline, M over the
-- memory cap". Tagged once: the C is the same for both builds (the LuaJIT one
-- runs in spec/hostile_ngx_spec.lua's nginx).
local ctct = require "ctct"
local core = require "ctct.core"
local hostile = require "spec.support.hostile.cases"
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

describe("hostile servers (curl) #once", function()
  local srv
  local results = {}

  lazy_setup(function()
    srv = hostile.start()
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    print(hostile.summary("curl", results))
  end)

  local function run_case(case)
    local client = ctct.new(hostile.client_options(srv.url))
    assert.equal("curl", client.transport.name)
    local before = hostile.reset_peak("self")
    local started = core.monotonic()
    local data, err = client:request("GET", case.path)
    local r = { elapsed = core.monotonic() - started, growth = hostile.peak("self") - before }
    if data == nil then r.kind, r.message = err.kind, err.message end
    client.transport:close()
    results[#results + 1] = r
    return r
  end

  for _, case in ipairs(hostile.CASES) do
    it(case.name .. ": " .. case.kind .. " error within the deadline, memory bounded", function()
      local r = run_case(case)
      local problems = hostile.problems(case, r)
      assert.same({}, problems, case.name .. ": " .. table.concat(problems, "; "))
    end)
  end

  it("a head over 256 KiB and an endless header line each get their own protocol message, not retried", function()
    local t = require("ctct.transport.curl").new { timeout = 2 }
    local function get(path) return t:request { method = "GET", url = srv.url .. path } end
    local _, big = get("/case/big_head")
    assert.equal("protocol", big.kind)
    assert.equal("response head over 256 KiB", big.message)
    assert.is_true(big.sent)
    local _, line = get("/case/endless_line")
    assert.equal("protocol", line.kind)
    assert.equal("response header line over 100 KiB", line.message)
    assert.is_true(line.sent)
    local _, interim = get("/case/endless_continue")
    assert.equal("more than 10 interim (1xx) responses", interim.message)
    local _, garbage = get("/case/garbage_status")
    assert.equal("protocol", garbage.kind)
    assert.matches("^not an HTTP response %(bad status line", garbage.message)
    assert.is_true(garbage.sent)
    -- 1000 fields are fine, and repeats are joined in order.
    local res = assert(get("/case/repeated_headers"))
    assert.equal(200, res.status)
    assert.equal("1, 2, 3", res.headers["x-dup"]:sub(1, 7))
    t:close()
  end)

  it("hostile network: a redirect is not followed, a gzip bomb is capped after decoding", function()
    local client = ctct.new(hostile.client_options(srv.url, { retry = false }))
    local _, err = client:request("GET", "/case/redirect")
    assert.equal("http", err.kind)
    assert.equal(302, err.status)
    local dir = run("mktemp -d /tmp/ctct-bomb.XXXXXXXX"):gsub("%s+$", "")
    assert(dir:match("^/tmp/ctct%-bomb%."), "mktemp failed")
    finally(function() run("rm -rf " .. quote(dir)) end)
    run("chmod 755 " .. quote(dir) .. " && head -c 200000000 /dev/zero | gzip -9 > " .. quote(dir .. "/bomb.gz") ..
      " && chmod 644 " .. quote(dir .. "/bomb.gz"))
    local before = hostile.reset_peak("self")
    local data
    data, err = client:request("GET", "/case/gzip_bomb?file=" .. sandbox.urlencode(dir .. "/bomb.gz"))
    local growth = hostile.peak("self") - before
    assert.is_nil(data)
    assert.equal("protocol", err.kind)
    assert.matches("larger than max_response_bytes %(8 MiB%)", err.message)
    assert.is_true(growth < hostile.MEMORY_CAP, "RSS grew by " .. math.floor(growth / 1048576) .. " MiB")
    client.transport:close()
  end)

  it("downloads (sink) use the shared atomic download-to-file: planted symlinks are not followed", function()
    local dir = run("mktemp -d /tmp/ctct-curl-sink.XXXXXXXX"):gsub("%s+$", "")
    assert(dir:match("^/tmp/ctct%-curl%-sink%."), "mktemp failed")
    finally(function() run("rm -rf " .. quote(dir)) end)
    local t = require("ctct.transport.curl").new { timeout = 5, max_response_bytes = 1024 }
    local function download(path, sink) return t:request { method = "GET", url = srv.url .. path, sink = sink } end
    local victim = dir .. "/victim"
    sandbox.write_file(victim, "precious")
    -- At the destination: replaced by the download, the target untouched.
    run("ln -s " .. quote(victim) .. " " .. quote(dir .. "/a.csv"))
    local res = assert(download("/case/download?size=100000", dir .. "/a.csv"))
    assert.equal(100000, res.sink_bytes)
    assert.equal("precious", sandbox.read_file(victim))
    assert.equal("regular file", (run("stat -c %F " .. quote(dir .. "/a.csv")):gsub("%s+$", "")))
    assert.equal("600", (run("stat -c %a " .. quote(dir .. "/a.csv")):match("%d+")))
    -- At <sink>.part: refused before anything is sent.
    run("ln -s " .. quote(victim) .. " " .. quote(dir .. "/b.csv.part"))
    local ok, err = pcall(download, "/case/download?size=10", dir .. "/b.csv")
    assert.is_false(ok)
    assert.matches("request%.sink: .*b%.csv%.part already exists and is a symbolic link", tostring(err))
    assert.equal("precious", sandbox.read_file(victim))
    -- A leftover .part of ours (a download that died) is started again.
    sandbox.write_file(dir .. "/c.csv.part", "stale half")
    res = assert(download("/case/download?size=20", dir .. "/c.csv"))
    assert.equal(20, res.sink_bytes)
    assert.is_nil(sandbox.read_file(dir .. "/c.csv.part"))
    -- A cut-off body leaves neither the file nor its .part.
    local _, cut = download("/case/download_truncated", dir .. "/d.csv")
    assert.equal("network", cut.kind)
    assert.is_nil(sandbox.read_file(dir .. "/d.csv"))
    assert.is_nil(sandbox.read_file(dir .. "/d.csv.part"))
    t:close()
  end)
end)
