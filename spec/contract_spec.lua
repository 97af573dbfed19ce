-- Contract test: every one of the 128 V3 operations, called through the library
-- (client:call with realistic parameters, spec/support/contract/params.lua),
-- against Prism (@stoplight/prism-cli, `make deps-npm`) mocking the official spec
-- with --errors, so each request is validated against the spec and must be
-- accepted (2xx). Prism names why it refuses a request in its sl-violations
-- header; a failing operation reports it.
--
-- The spec has defects that are not the client's fault (../shared/spec/
-- KNOWN-DEFECTS.md): they are corrected in a copy written at test time
-- (spec/support/contract/patch.lua) and each correction is printed on its
-- own line ("spec correction: ..."). Every other non-2xx is a failure. At the
-- end the test prints "contract: N/128 operations accepted".
--
-- Tagged `once`: it checks the library's requests, not the runtime, so it runs in
-- the Lua 5.4 pass only.
local ctct = require "ctct"
local prism = require "spec.helpers.prism"
local patch = require "spec.support.contract.patch"
local fixtures = require "spec.support.contract.params"
local OPS = require("ctct.api.operations").operations

local TOTAL = 128

local IDS = {}
for id in pairs(OPS) do IDS[#IDS + 1] = id end
table.sort(IDS)

local function say(line)
  io.stdout:write(line, "\n")
  io.stdout:flush()
end

-- The curl transport, recording the last exchange so a failure can show what was
-- sent and Prism's sl-violations header (the client's errors do not keep headers).
local function recording_transport()
  local inner = require("ctct.transport.curl").new { timeout = 10, connect_timeout = 5 }
  local rec = {}
  rec.transport = setmetatable({
    request = function(_, req)
      local res, err = inner:request(req)
      rec.last = { req = req, res = res, err = err }
      return res, err
    end,
  }, { __index = inner })
  return rec
end

-- Why an operation was not accepted, with what Prism said.
local function failure(id, err, last)
  local lines = { id .. ": " .. tostring(err and err.message or err) }
  if last then
    lines[#lines + 1] = "sent: " .. last.req.method .. " " .. last.req.url
    local res = last.res
    if res then
      lines[#lines + 1] = "status: " .. tostring(res.status)
      local violations = res.headers["sl-violations"]
      if violations then lines[#lines + 1] = "sl-violations: " .. violations end
      if res.body and res.body:find("%S") then lines[#lines + 1] = "body: " .. res.body:sub(1, 600) end
    end
  else
    lines[#lines + 1] = "nothing was sent (the library refused the parameters)"
  end
  return table.concat(lines, "\n")
end

describe("contract #once", function()
  local server, client, rec, spec_path
  local called, accepted = {}, {}

  lazy_setup(function()
    assert(prism.available())
    local lines
    spec_path, lines = patch.write()
    say("")
    for _, line in ipairs(lines) do say("spec correction: " .. line) end
    server = prism.start { spec = spec_path }
    rec = recording_transport()
    -- Prism ignores the spec's basePath (/v3): the server root is the base URL.
    client = ctct.new { access_token = "contract-test-token", base_url = server.url, transport = rec.transport,
                        rate_limit = false, retry = false, timeout = 10 }
  end)

  lazy_teardown(function()
    if client then client:close() end
    if server then
      local pid = server.pid
      server:stop()
      assert.is_false(server:alive(), "prism " .. tostring(pid) .. " is still running")
    end
    if spec_path then os.remove(spec_path) end
  end)

  it("knows fixtures for exactly the operations of the spec", function()
    local missing, extra = {}, {}
    for _, id in ipairs(IDS) do
      if not fixtures.params[id] then missing[#missing + 1] = id end
    end
    for id in pairs(fixtures.params) do
      if not OPS[id] then extra[#extra + 1] = id end
    end
    table.sort(extra)
    assert.are.same({}, missing, "operations without parameters in params.lua")
    assert.are.same({}, extra, "params.lua names operations the spec does not have")
  end)

  it("gives several values to every multi-value parameter", function()
    local single = {}
    for _, id in ipairs(IDS) do
      for _, spec in ipairs(OPS[id].params) do
        local one_choice = spec.items and spec.items.enum and #spec.items.enum == 1
        local several = false
        for _, p in ipairs(fixtures.calls(id) or {}) do
          local v = p[spec.name]
          if type(v) == "table" and #v >= 2 then several = true end
        end
        if spec.type == "array" and not one_choice and not several then
          single[#single + 1] = id .. " " .. spec.name
        end
      end
    end
    assert.are.same({}, single, "multi-value parameters given fewer than two values")
  end)

  for _, id in ipairs(IDS) do
    it(id, function()
      called[id] = true
      local calls = assert(fixtures.calls(id), "no parameters for " .. id .. " in params.lua")
      local opts
      if OPS[id].security == "partner" then -- partner operations need the API key too
        opts = { headers = { ["x-api-key"] = "contract-test-api-key" } }
      end
      for _, params in ipairs(calls) do
        rec.last = nil
        local data, err = client:call(id, params, opts)
        -- A failure (not an error) that names the operation and Prism's reasons.
        if data == nil then assert.is_not_nil(data, failure(id, err, rec.last)) end
        local status = rec.last.res.status
        assert.is_true(status >= 200 and status <= 299, id .. ": status " .. status)
      end
      accepted[id] = true
    end)
  end

  it("called all 128 operations", function()
    local n_called, n_accepted, not_called = 0, 0, {}
    for _, id in ipairs(IDS) do
      if called[id] then n_called = n_called + 1 else not_called[#not_called + 1] = id end
      if accepted[id] then n_accepted = n_accepted + 1 end
    end
    say("")
    say(("contract: %d/%d operations accepted"):format(n_accepted, TOTAL))
    assert.are.equal(TOTAL, #IDS, "the operation table has " .. #IDS .. " operations")
    assert.are.same({}, not_called, "operations not called")
    assert.are.equal(TOTAL, n_called)
  end)
end)
