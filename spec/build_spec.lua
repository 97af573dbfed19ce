-- Runtime-independent checks, run once (tag "once", skipped in the LuaJIT pass):
-- the rockspec really builds and installs, the C embedding host works, the C
-- session is valgrind-clean, and the quick start runs against the sandbox.
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

local function lua_files(dir)
  local out = run("cd " .. quote(dir) .. " && find lua -name '*.lua' | sort")
  local files = {}
  for f in out:gmatch("[^\n]+") do files[#files + 1] = f end
  return files
end

-- A rockspec is Lua assigning globals: run it in its own environment (5.4 only:
-- these specs are tagged once).
local function load_rockspec(path)
  local env = {}
  assert(loadfile(path, "t", env))()
  return env
end

describe("packaging and embedding #once", function()
  local root = sandbox.repo_root()
  local sb
  lazy_setup(function()
    sb = sandbox.start()
    sb:config { rate_limit_per_second = 0 }
  end)
  lazy_teardown(function() if sb then sb:stop() end end)

  it("lists every Lua module in the rockspec", function()
    local spec = load_rockspec(root .. "/ctct-0.1.0-1.rockspec")
    local listed = {}
    for _, file in pairs(spec.build.modules) do
      if type(file) == "string" then listed[file] = true end
    end
    for _, file in ipairs(lua_files(root)) do
      assert.is_true(listed[file] == true, file .. " is missing from ctct-0.1.0-1.rockspec")
    end
  end)

  it("builds and installs with luarocks make, and loads in a fresh lua5.4", function()
    local tmp = run("mktemp -d"):gsub("%s+$", "")
    finally(function() run("rm -rf " .. quote(tmp)) end)
    -- Build from a copy: luarocks make builds in the source tree.
    -- What the rockspec builds from and installs (copy_directories: docs, man, types).
    local _, code = run("cp -r " .. quote(root .. "/src") .. " " .. quote(root .. "/lua") .. " " ..
      quote(root .. "/bin") .. " " .. quote(root .. "/docs") .. " " .. quote(root .. "/man") .. " " ..
      quote(root .. "/types") .. " " ..
      quote(root .. "/ctct-0.1.0-1.rockspec") .. " " .. quote(tmp))
    assert.equal(0, code)
    local out
    out, code = run("cd " .. quote(tmp) .. " && HOME=" .. quote(tmp) ..
      " luarocks --lua-version 5.4 make --deps-mode=none --tree=" .. quote(tmp .. "/tree") ..
      " ctct-0.1.0-1.rockspec 2>&1")
    assert.equal(0, code, out)
    local paths = run("HOME=" .. quote(tmp) .. " luarocks --lua-version 5.4 path --tree=" .. quote(tmp .. "/tree"))
    out, code = run("cd / && " .. paths:gsub("\n", "; ") ..
      " lua5.4 -e \"local c = require('ctct'); local core = require('ctct.core');" ..
      " io.write(c.VERSION, ' ', package.searchpath('ctct.core', package.cpath))\" 2>&1")
    assert.equal(0, code, out)
    assert.equal(require("ctct.core").VERSION .. " " .. tmp .. "/tree/lib/lua/5.4/ctct/core.so", out)
  end)

  it("runs inside a C host that links ctct.core statically", function()
    -- No ctct/core.so on the host's cpath (spec/run points LUA_CPATH_5_4 at one).
    local out, code = run("cd " .. quote(root) .. " && env -u LUA_CPATH_5_4 -u LUA_CPATH CTCT_LUA_DIR=lua " ..
      "build/embed-host examples/embed/check.lua " ..
      quote(sb.base_url) .. " " .. quote(sb.token) .. " 2>&1")
    assert.equal(0, code, out)
    assert.matches("^embedded ctct %d+%.%d+%.%d+: account %w+", out)
    assert.is_nil(out:find("ctct/core.so", 1, true))
  end)

  it("is clean under valgrind (no invalid access, nothing lost)", function()
    local out, code = run("cd " .. quote(root) .. " && valgrind -q --leak-check=full " ..
      "--errors-for-leak-kinds=definite,indirect --error-exitcode=99 " ..
      "lua5.4 -e \"package.cpath='build/5.4/?.so;'..package.cpath\" spec/c/session_workout.lua " ..
      quote(sb.base_url) .. " " .. quote(sb.token) .. " " .. quote(sb.url) .. " 2>&1")
    assert.equal(0, code, out)
    assert.matches("session workout: ok", out)
    out, code = run("cd " .. quote(root) .. " && valgrind -q --leak-check=full " ..
      "--errors-for-leak-kinds=definite,indirect --error-exitcode=99 " ..
      "lua5.4 -e \"package.cpath='build/5.4/?.so;'..package.cpath\" spec/c/crypto_workout.lua 2>&1")
    assert.equal(0, code, out)
    assert.matches("crypto workout: ok", out)
    out, code = run("cd " .. quote(root) .. " && valgrind -q --leak-check=full " ..
      "--errors-for-leak-kinds=definite,indirect --error-exitcode=99 " ..
      "lua5.4 -e \"package.cpath='build/5.4/?.so;'..package.cpath\" spec/c/oauth_workout.lua 2>&1")
    assert.equal(0, code, out)
    assert.matches("oauth workout: ok", out)
  end)

  it("runs the tokens example against the sandbox's issuer and key sets", function()
    local body = '{"event_type":"account.cancel"}'
    local sig = sb:webhook_signature(body)
    local out, code = run("cd " .. quote(root) .. " && LUA_PATH='lua/?.lua;lua/?/init.lua;;' " ..
      "LUA_CPATH='build/5.4/?.so;;' CTCT_ACCESS_TOKEN=" .. quote(sb:jwt()) ..
      " CTCT_ISSUER=" .. quote(sb.issuer) .. " CTCT_JWKS_URL=" .. quote(sb.jwks_url) ..
      " CTCT_WEBHOOK_JWKS_URL=" .. quote(sb.webhook_jwks_url) ..
      " CTCT_WEBHOOK_BODY=" .. quote(body) .. " CTCT_WEBHOOK_SIG=" .. quote(sig) ..
      " lua5.4 examples/tokens.lua 2>&1")
    assert.equal(0, code, out)
    assert.matches("token: scopes account_read contact_data offline_access; expires in 3%d%d%d s", out)
    assert.matches("verified: signed by key sandbox%-at%-1", out)
    assert.matches("webhook: authentic", out)
  end)

  it("runs the quick start against the sandbox", function()
    local out, code = run("cd " .. quote(root) .. " && LUA_PATH='lua/?.lua;lua/?/init.lua;;' " ..
      "LUA_CPATH='build/5.4/?.so;;' CTCT_BASE_URL=" .. quote(sb.base_url) ..
      " CTCT_ACCESS_TOKEN=" .. quote(sb.token) .. " lua5.4 examples/quickstart.lua 2>&1")
    assert.equal(0, code, out)
    assert.matches("Read 5 contacts of list \"Quickstart %d+\" in 3 pages", out)
  end)
end)
