-- tools/module_graph.lua (issue 16): the require graph against the layering of
-- docs/ARCHITECTURE.md. First on a small made-up tree whose answer is known, then
-- on lua/, printing the figures (the goal, 0 upward edges and 0 cycles, is the
-- restructuring's; this spec checks that the figures are measured).
local sandbox = require "spec.helpers.sandbox"

local run, quote = sandbox.run, sandbox.quote
local root = sandbox.repo_root()

local function graph(dir)
  local out, code = run("lua5.4 " .. quote(root .. "/tools/module_graph.lua") .. " " .. quote(dir) .. " --list")
  assert.equal(0, code, out)
  return out
end

describe("#once module graph", function()
  it("counts modules, edges (dynamic ones too), upward edges and cycles of a known tree", function()
    local tmp = run("mktemp -d"):gsub("%s+$", "")
    finally(function() run("rm -rf " .. quote(tmp)) end)
    run("mkdir -p " .. quote(tmp .. "/ctct/resources"))
    local files = {
      ["ctct/errors.lua"] = 'local c = require "ctct.paginate"\nreturn {}',        -- upward
      ["ctct/paginate.lua"] = 'local e = require("ctct.errors")\n' ..                -- cycle with errors
        'local map = { "ctct.resources.lists" }\nfor _, m in ipairs(map) do require(m) end\nreturn {}',
      ["ctct/resources/lists.lua"] = '-- require "ctct.cli" (a comment, no edge)\nreturn {}',
      ["ctct/cli/init.lua"] = 'local c = require "ctct.paginate"\nreturn {}',
    }
    for name, text in pairs(files) do
      run("mkdir -p " .. quote((tmp .. "/" .. name):match("^(.*)/")))
      sandbox.write_file(tmp .. "/" .. name, text)
    end
    local out = graph(tmp)
    assert.matches("^modules: 4 lua modules, 4 require edges, 2 upward edges, 1 cycles\n", out)
    assert.matches("upward: ctct.errors %(foundations%) %-> ctct.paginate %(pipeline%)", out)
    assert.matches("upward: ctct.paginate %(pipeline%) %-> ctct.resources.lists %(resources%)", out)
    assert.matches("cycle: ctct.errors, ctct.paginate", out, 1, true)
  end)

  it("measures lua/", function()
    local out = graph(root .. "/lua")
    local line = out:match("^(modules: [^\n]+)")
    local m, e, u, c = line:match("^modules: (%d+) lua modules, (%d+) require edges, (%d+) upward edges, (%d+) cycles$")
    assert.is_truthy(m, out)
    assert.is_true(tonumber(m) >= 50 and tonumber(e) >= tonumber(m))
    assert.is_nil(out:find("unlayered:", 1, true), out)
    assert.is_truthy(u and c)
    print(line)
  end)
end)
