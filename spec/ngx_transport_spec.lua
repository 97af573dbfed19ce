-- Issue 17, the ngx transport (lua/ctct/transport/ngx.lua) against hostile
-- servers: one test per defect, each run in the worker of
-- spec/support/hostile/client.conf (Debian's nginx, the LuaJIT build) against
-- the hostile server of spec/support/hostile/ (server.lua has the cases).
--   * the call's deadline bounds every read (cosocket timeouts are per read);
--   * interim (1xx) responses are capped;
--   * bodies are capped as they are read (read-until-close included);
--   * the response head is capped (line, field count, total size) and repeated
--     fields are joined once;
--   * downloads (`sink`) go through the shared atomic download-to-file
--     (core.open_part: <sink>.part, O_NOFOLLOW|O_EXCL 0600, rename on 2xx).
local json = require "ctct.json"
local sandbox = require "spec.helpers.sandbox"
local nginx = require "spec.helpers.nginx"
local hostile = require "spec.support.hostile.cases"
local run, quote = sandbox.run, sandbox.quote

describe("ngx transport against hostile servers #once", function()
  local srv, app, worker, dir

  lazy_setup(function()
    srv = hostile.start()
    app = nginx.start { template = sandbox.repo_root() .. "/spec/support/hostile/client.conf", workers = 1 }
    worker = assert(tonumber(run("ps -o pid= --ppid " .. app.pid):match("%d+")), "no nginx worker")
    dir = run("mktemp -d /tmp/ctct-ngx-sink.XXXXXXXX"):gsub("%s+$", "")
    assert(dir:match("^/tmp/ctct%-ngx%-sink%."), "mktemp failed")
    run("chmod 755 " .. quote(dir))
  end)

  lazy_teardown(function()
    if app then app:stop() end
    if srv then srv:stop() end
    if dir then run("rm -rf " .. quote(dir)) end
  end)

  -- One call from the worker: path on the hostile server, query = extra /run
  -- arguments. Returns the worker's JSON answer plus `growth` (peak RSS).
  local function call(path, query)
    local before = hostile.reset_peak(worker)
    local out = run("curl -s --max-time 120 " .. quote(app.url .. "/run?base=" .. sandbox.urlencode(srv.url) ..
      "&path=" .. sandbox.urlencode(path) .. (query or "")))
    local r = json.decode(out)
    assert(type(r) == "table", "the worker did not answer: " .. out .. "\n" .. app:log():sub(-2000))
    r.growth = hostile.peak(worker) - before
    return r
  end

  local function read(path)
    local f = io.open(path, "rb")
    if not f then return nil end
    local s = f:read("*a")
    f:close()
    return s
  end

  local function file_type(path)
    return (run("stat -c %F " .. quote(path) .. " 2>/dev/null"):gsub("%s+$", ""))
  end

  it("deadline: a slow drip body or head ends the call at its deadline, not when the server stops", function()
    for _, path in ipairs { "/case/drip_body", "/case/drip_head" } do
      -- timeout=2, deadline=3 (retries included), the server drips for 20 s
      local r = call(path)
      assert.equal("timeout", r.kind, path .. ": " .. tostring(r.message))
      assert.is_true(r.elapsed <= hostile.DEADLINE + hostile.SLACK, path .. ": took " .. r.elapsed .. " s")
      assert.is_true(r.sent)
      -- one attempt of 1 s: the per-request timeout is the total, not per read
      r = call(path, "&retry=0&timeout=1")
      assert.equal("timeout", r.kind)
      assert.is_true(r.elapsed >= 0.9 and r.elapsed <= 1.5, path .. ": took " .. r.elapsed .. " s")
    end
  end)

  it("interim responses: an endless series of 100 Continue is cut after 10", function()
    local r = call("/case/endless_continue")
    assert.equal("protocol", r.kind)
    assert.matches("more than 10 interim %(1xx%) responses", r.message)
    assert.is_true(r.elapsed < 1, "took " .. r.elapsed .. " s")
  end)

  it("body without a length: the cap is counted as it is read (300 MB sent, worker memory bounded)", function()
    local r = call("/case/endless_body")
    assert.equal("protocol", r.kind)
    assert.matches("larger than max_response_bytes %(8 MiB%)", r.message)
    assert.is_true(r.elapsed < 2, "took " .. r.elapsed .. " s")
    assert.is_true(r.growth < hostile.MEMORY_CAP, "worker RSS grew by " .. math.floor(r.growth / 1048576) .. " MiB")
    -- chunked past the cap, and a Content-Length past it (refused before reading)
    for _, path in ipairs { "/case/over_cap", "/case/huge_length" } do
      r = call(path)
      assert.equal("protocol", r.kind, path)
      assert.matches("larger than max_response_bytes", r.message)
      assert.is_true(r.growth < hostile.MEMORY_CAP,
        path .. ": worker RSS grew by " .. math.floor(r.growth / 1048576) .. " MiB")
    end
  end)

  it("response head: a line over 100 KiB, over 1000 fields, over 256 KiB are refused as they are read", function()
    local r = call("/case/endless_line")
    assert.equal("protocol", r.kind)
    assert.matches("response header line over 100 KiB", r.message)
    assert.is_true(r.elapsed < 1, "took " .. r.elapsed .. " s")
    assert.is_true(r.growth < hostile.MEMORY_CAP, "worker RSS grew by " .. math.floor(r.growth / 1048576) .. " MiB")
    r = call("/case/many_headers")
    assert.equal("protocol", r.kind)
    assert.matches("response head has more than 1000 header fields", r.message)
    r = call("/case/big_head")
    assert.equal("protocol", r.kind)
    assert.matches("response head over 256 KiB", r.message)
  end)

  it("repeated headers: collected in a list and joined once (20,000 fields: no quadratic time)", function()
    local r = call("/case/many_headers", "&retry=0")
    assert.is_true(r.elapsed < 0.25, "20,000 header fields took " .. r.elapsed .. " s")
    r = call("/case/repeated_headers", "&retry=0")
    assert.equal(200, r.status, tostring(r.message))
    local want = {}
    for i = 1, 998 do want[i] = tostring(i) end
    assert.equal(table.concat(want, ", "), r.dup)
    assert.equal(11, r.body_len)
  end)

  it("redirects are answers, never followed (a redirect must not carry the token elsewhere)", function()
    local r = call("/case/redirect", "&retry=0")
    assert.equal("http", r.kind, tostring(r.message))
    assert.equal(302, r.status)
  end)

  it("downloads: <sink>.part (O_NOFOLLOW|O_EXCL, 0600), renamed on a 2xx, removed on failure", function()
    local victim = dir .. "/victim"
    sandbox.write_file(victim, "precious")
    -- A symlink planted at the destination is replaced, not written through.
    local dest = dir .. "/export.csv"
    run("ln -s " .. quote(victim) .. " " .. quote(dest))
    local r = call("/case/download?size=1048576", "&sink=" .. sandbox.urlencode(dest))
    assert.equal(200, r.status, tostring(r.message))
    assert.equal(1048576, r.bytes)
    assert.equal("precious", read(victim))
    assert.equal("regular file", file_type(dest))
    assert.equal(1048576, #read(dest))
    assert.equal("email,first_name", read(dest):sub(1, 16))
    assert.equal("600", (run("stat -c %a " .. quote(dest)):match("%d+")))
    assert.is_nil(read(dest .. ".part"))
    -- A symlink planted at <sink>.part is refused: nothing written through it.
    local other = dir .. "/other.csv"
    run("ln -s " .. quote(victim) .. " " .. quote(other .. ".part"))
    r = call("/case/download?size=1000", "&sink=" .. sandbox.urlencode(other))
    assert.equal("validation", r.kind)
    assert.matches("symbolic link", r.message)
    assert.equal("precious", read(victim))
    assert.is_nil(read(other))
    -- An error answer or a cut-off body leaves no file and no .part.
    local failed = dir .. "/failed.csv"
    r = call("/case/download?size=1000&status=500", "&retry=0&sink=" .. sandbox.urlencode(failed))
    assert.equal("http", r.kind)
    assert.equal(500, r.status)
    r = call("/case/download_truncated", "&retry=0&sink=" .. sandbox.urlencode(failed))
    assert.equal("network", r.kind, tostring(r.message))
    assert.is_nil(read(failed))
    assert.is_nil(read(failed .. ".part"))
  end)

  it("downloads are written in chunks as they arrive: 32 MiB past an 8 MiB cap, worker memory bounded", function()
    local dest = dir .. "/big.csv"
    local r = call("/case/download?size=33554432", "&deadline=30&timeout=30&sink=" .. sandbox.urlencode(dest))
    assert.equal(200, r.status, tostring(r.message))
    assert.equal(33554432, r.bytes)
    assert.equal(33554432, tonumber((run("stat -c %s " .. quote(dest)):match("%d+"))))
    assert.is_true(r.growth < 16 * 1048576, "worker RSS grew by " .. math.floor(r.growth / 1048576) .. " MiB")
  end)
end)
