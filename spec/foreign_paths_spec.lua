-- Our scripts set their own module paths (tools/lua-env.sh): each one runs in a
-- shell holding what a Lua user's shell often holds — `luarocks path`, a LUA_PATH
-- and LUA_CPATH full of foreign modules (a Lua 5.4 cjson.so where LuaJIT would
-- look, a ctct.lua that raises), the _5_4 variants, LUA_INIT — and must not care.
-- (make demo in that environment is part of spec/install_spec.lua's install line.)
local foreign_env = require "spec.helpers.foreign_env"
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

describe("#once our scripts under a foreign Lua environment", function()
  local env
  local function hostile(cmd) return env:wrap(cmd) end
  setup(function() env = foreign_env.new() end)
  teardown(function() if env then env:remove() end end)

  it("the environment really is hostile: plain lua5.4 and luajit fail in it", function()
    local out54, code54 = run(hostile("lua5.4 -e 'print(1)'"))
    assert.are_not.equal(0, code54)
    assert.matches("LUA_INIT_5_4 ran", out54)
    -- LuaJIT reads LUA_INIT too; without it, LUA_CPATH hands it Lua 5.4's build.
    local outjit, codejit = run(hostile("env -u LUA_INIT luajit -e 'require \"ctct.core\"'"))
    assert.are_not.equal(0, codejit)
    assert.matches("undefined symbol", outjit)
  end)

  it("tools/lua-env.sh gives each runtime this checkout's modules and Debian's", function()
    local probe = [[require "ctct"; local core = require "ctct.core"; local cjson = require "cjson";
      require "busted.core"; assert(package.searchpath("ctct.core", package.cpath):find(os.getenv("REPO"), 1, true));
      print(core.json_encode({ 1 }), cjson.encode({ a = 1 }))]]
    for _, lua in ipairs({ "lua5.4", "luajit" }) do
      local out, code = run(hostile(". tools/lua-env.sh && ctct_lua_env \"$PWD\" && REPO=\"$PWD\" "
        .. lua .. " -e " .. quote(probe)))
      assert.equal(0, code, lua .. ": " .. out)
      assert.matches('%[1%]%s+{"a":1}', out, 1, false)
    end
  end)

  it("sandbox/start serves the API and sandbox/stop stops it", function()
    local out, code = run(hostile([[eval "$(sandbox/start)" && trap 'sandbox/stop "$SANDBOX_DIR"' EXIT &&
      curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SANDBOX_TOKEN" \
        "$SANDBOX_URL/v3/contact_lists"]]))
    assert.equal(0, code, out)
    assert.matches("200$", out)
  end)

  it("spec/run runs a spec on both runtimes and counts it", function()
    local out, code = run(hostile("spec/run spec/url_spec.lua"))
    assert.equal(0, code, out)
    local passed, failed = out:match("\n(%d+) passed, (%d+) failed\n?$")
    assert.is_truthy(passed, out)
    assert.is_true(tonumber(passed) > 0)
    assert.equal("0", failed)
  end)

  it("bench/run runs a benchmark", function()
    local out, code = run(hostile("bench/run jwt"))
    assert.equal(0, code, out)
    assert.matches("bench: jwt verify", out, 1, true)
  end)

  it("a demo whose sandbox cannot start ends with one clear line", function()
    local out, code = run(hostile("NGINX=/nonexistent/nginx examples/run-demo"))
    assert.are_not.equal(0, code)
    assert.matches("demo: the sandbox did not start", out, 1, true)
    assert.not_matches("unbound variable", out, 1, true)
  end)
end)
