-- The JSON fuzz target's properties (fuzz/json_check.lua: round trip, ordered
-- mode, limits, error offsets) over every kept seed, among them the inputs that
-- once found a bug (fuzz/seeds/json/). The check is written for Lua 5.4's
-- integers, so it runs in the Lua 5.4 pass (#once); `make fuzz` explores further.
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"

describe("#once JSON fuzz seeds", function()
  it("every seed passes the fuzz target's checks", function()
    local root = sandbox.repo_root()
    local check = assert(loadfile(root .. "/fuzz/json_check.lua"))(core)
    local out = sandbox.run("ls " .. sandbox.quote(root .. "/fuzz/seeds/json"))
    local n, failures = 0, {}
    for name in out:gmatch("[^\n]+") do
      local text = assert(sandbox.read_file(root .. "/fuzz/seeds/json/" .. name))
      local ok, why = pcall(check, text)
      n = n + 1
      if not ok or why then failures[#failures + 1] = name .. ": " .. tostring(why) end
    end
    assert.is_true(n >= 40, "only " .. n .. " seeds")
    assert.are.same({}, failures)
  end)
end)
