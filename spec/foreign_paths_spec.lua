-- Our scripts set their own module paths (tools/lua-env.sh): each one runs in a
-- shell holding what a Lua user's shell often holds — `luarocks path`, a LUA_PATH
-- and LUA_CPATH full of foreign modules (a Lua 5.4 cjson.so where LuaJIT would
-- look, a ctct.lua that raises), the _5_4 variants, LUA_INIT — and must not care.
local sandbox = require "spec.helpers.sandbox"

local run, quote = sandbox.run, sandbox.quote

local repo = sandbox.repo_root()
local foreign -- a directory of modules that must never be loaded

-- The hostile environment, as shell assignments before a command.
local function hostile(cmd)
  local rocks = "eval \"$(luarocks --lua-version 5.4 path 2>/dev/null)\"; "
  local f = quote(foreign)
  return table.concat({
    rocks,
    "export LUA_PATH=" .. quote(foreign .. "/?.lua;" .. "/nonexistent/?.lua") .. "\"${LUA_PATH:+;$LUA_PATH}\";",
    "export LUA_CPATH=" .. quote(foreign .. "/?.so") .. "\"${LUA_CPATH:+;$LUA_CPATH}\";",
    "export LUA_PATH_5_4=" .. f .. "'/?.lua'\";${LUA_PATH_5_4:-}\";",
    "export LUA_CPATH_5_4=" .. f .. "'/?.so';",
    "export LUA_INIT='error(\"LUA_INIT ran\")' LUA_INIT_5_4='error(\"LUA_INIT_5_4 ran\")';",
    "cd " .. quote(repo) .. " && " .. cmd .. " 2>&1",
  }, " ")
end

describe("#once our scripts under a foreign Lua environment", function()
  setup(function()
    local out, code = run("mktemp -d")
    assert.equal(0, code)
    foreign = out:gsub("%s+$", "")
    for _, name in ipairs({ "ctct", "cjson", "busted", "luassert", "say" }) do
      sandbox.write_file(foreign .. "/" .. name .. ".lua", "error('foreign " .. name .. ".lua was loaded')\n")
    end
    -- The trap of the issue: Lua 5.4's cjson.so and ctct.core where LuaJIT looks.
    local _, c1 = run("cp /usr/lib/x86_64-linux-gnu/lua/5.4/cjson.so " .. quote(foreign) .. "/cjson.so")
    local _, c2 = run("mkdir -p " .. quote(foreign .. "/ctct") .. " && cp " .. quote(repo .. "/build/5.4/ctct/core.so")
      .. " " .. quote(foreign .. "/ctct/core.so"))
    assert.equal(0, c1)
    assert.equal(0, c2)
  end)

  teardown(function()
    if foreign then run("rm -rf " .. quote(foreign)) end
  end)

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

  it("make demo's script runs every example to the end", function()
    local out, code = run(hostile("examples/run-demo"))
    assert.equal(0, code, out)
    assert.matches("demo: done", out, 1, true)
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
