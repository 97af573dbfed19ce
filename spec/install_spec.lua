-- Installs the way Lua, OpenResty and Debian users do, each really done here:
-- the release's source rock (make rock) installed offline into fresh trees from
-- another directory, for Lua 5.4 and for LuaJIT, and `luarocks test`; the Debian
-- package (make deb) installed with dpkg -i into a throwaway root and loaded from
-- lua5.4, luajit and nginx with no path settings; make demo in a shell full of
-- foreign Lua paths. Prints
--   install: rock offline ok, deb ok (lua5.4, luajit, nginx), demo with foreign paths ok
-- with "failed" for a part whose test failed. The README's install commands are
-- the ones run (read from its "## Install" block).
local sandbox = require "spec.helpers.sandbox"
local foreign_env = require "spec.helpers.foreign_env"
local nginx = require "spec.helpers.nginx"
local core = require "ctct.core"
local run, quote = sandbox.run, sandbox.quote

local root = sandbox.repo_root()
local version = core.VERSION
local rockspec = "ctct-" .. version .. "-1.rockspec"
local rock = "ctct-" .. version .. "-1.src.rock"
local deb = "lua-ctct_" .. version .. "-1_amd64.deb"
local dist = root .. "/build/dist"

local function tmpdir()
  local out, code = run("mktemp -d")
  assert(code == 0, "mktemp failed")
  return (out:gsub("%s+$", ""))
end

-- The shell commands of README.md's "## Install" code block.
local function readme_install_commands()
  local text = assert(sandbox.read_file(root .. "/README.md"))
  local section = assert(text:match("\n## Install\n(.-)\n## "), "README.md has no Install section")
  local block = assert(section:match("```sh\n(.-)```"), "README.md's Install section has no sh block")
  local cmds = {}
  for line in block:gmatch("[^\n]+") do
    if not line:match("^%s*#") then cmds[#cmds + 1] = line end
  end
  return cmds
end

local function find(cmds, pattern)
  for _, c in ipairs(cmds) do if c:find(pattern) then return c end end
  error("README.md's Install block has no command matching " .. pattern)
end

-- A luarocks whose only tree is TREE (HOME and the config in DIR): README's
-- commands run as written and install there, not into the system.
local function luarocks_env(dir)
  sandbox.write_file(dir .. "/config.lua",
    "rocks_trees = { { name = \"test\", root = " .. string.format("%q", dir .. "/tree") .. " } }\n")
  return "HOME=" .. quote(dir) .. " LUAROCKS_CONFIG=" .. quote(dir .. "/config.lua") .. " "
end

-- Loads ctct in a clean process of LUA (lua5.4 or luajit) from / with only the
-- tree's paths; returns "VERSION CORE_PATH".
-- No module path of this test run (spec/run sets them to the checkout): luarocks
-- path would keep them, ahead of the tree's.
local CLEAN = "env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT -u LUA_INIT_5_4 "

local function load_from_tree(dir, lua_version, lua)
  local paths = run("cd / && " .. CLEAN .. luarocks_env(dir) .. "luarocks --lua-version " .. lua_version .. " path")
  local probe = "local c = require 'ctct'; require 'ctct.core'; " ..
    "io.write(c.VERSION, ' ', package.searchpath('ctct.core', package.cpath))"
  local out, code = run("cd / && " .. CLEAN .. "bash -c " ..
    quote(paths:gsub("\n", "; ") .. " " .. lua .. " -e " .. quote(probe)) .. " 2>&1")
  assert.equal(0, code, out)
  return out
end

describe("installs #once", function()
  local passed = {}

  lazy_teardown(function()
    local function state(part)
      if passed[part .. "_skipped"] then return "not checked" end
      return passed[part] and "ok" or "failed"
    end
    print(string.format("install: rock offline %s, deb %s (lua5.4, luajit, nginx), demo with foreign paths %s",
      state("rock"), state("deb"), state("demo")))
  end)

  it("writes the version once: ctct.VERSION, the rockspec, debian/changelog agree", function()
    local spec_env = {}
    assert(loadfile(root .. "/" .. rockspec, "t", spec_env))()
    assert.equal(version .. "-1", spec_env.version)
    local rockspecs = run("cd " .. quote(root) .. " && ls *.rockspec")
    assert.equal(rockspec .. "\n", rockspecs)
    local changelog = run("dpkg-parsechangelog -l " .. quote(root .. "/debian/changelog") .. " -S Version")
    assert.equal(version .. "-1\n", changelog)
    assert.equal(version, require("ctct").VERSION)
    -- A source URL luarocks can fetch once published (not a file:// or a checkout).
    assert.matches("^https://", spec_env.source.url)
    assert.is_string(spec_env.description.homepage)
    assert.is_string(spec_env.description.issues_url)
  end)

  it("the man pages are what help2man makes of the CLI today", function()
    local dir = tmpdir()
    finally(function() run("rm -rf " .. quote(dir)) end)
    local out, code = run("cd " .. quote(root) .. " && CTCT_REPO=" .. quote(root) ..
      " SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l debian/changelog -S Timestamp) lua5.4 tools/gen_man.lua " ..
      quote(dir) .. " 2>&1")
    assert.equal(0, code, out)
    out, code = run("diff -r " .. quote(root .. "/man") .. " " .. quote(dir) .. " 2>&1")
    assert.equal(0, code, "man/ is stale, run make man:\n" .. out)
    assert.matches("ctct%-contacts%.1", run("ls " .. quote(dir)))
  end)

  it("the source rock installs offline into fresh trees (Lua 5.4, LuaJIT) and luarocks test passes", function()
    local out, code = run("cd " .. quote(root) .. " && make -s rock 2>&1")
    assert.equal(0, code, out)
    -- The release rockspec, not the file:// copy luarocks packed from.
    local packed = run("unzip -p " .. quote(dist .. "/" .. rock) .. " " .. rockspec)
    assert.matches('url = "https://', packed, 1, true)
    local cmds = readme_install_commands()
    for _, v in ipairs { { "5.4", "lua5.4" }, { "5.1", "luajit" } } do
      local dir = tmpdir()
      finally(function() run("rm -rf " .. quote(dir)) end)
      local cmd = find(cmds, "%-%-lua%-version " .. v[1]:gsub("%.", "%%.") .. " install %-%-deps%-mode=none")
      out, code = run("cp " .. quote(dist .. "/" .. rock) .. " " .. quote(dir) .. " && cd " .. quote(dir) ..
        " && " .. luarocks_env(dir) .. cmd .. " 2>&1")
      assert.equal(0, code, out)
      local want = version .. " " .. dir .. "/tree/lib/lua/" .. v[1] .. "/ctct/core.so"
      assert.equal(want, load_from_tree(dir, v[1], v[2]))
      -- The command (a Lua 5.4 tool: luarocks' 5.1 interpreter is PUC Lua 5.1 here,
      -- which ctct does not support), and what the rock keeps beside it.
      if v[1] == "5.4" then
        out, code = run("cd / && " .. CLEAN .. quote(dir .. "/tree/bin/ctct") .. " --version 2>&1")
        assert.equal(0, code, out)
        assert.equal("ctct " .. version .. "\n", out)
      end
      local kept = dir .. "/tree/lib/luarocks/rocks-" .. v[1] .. "/ctct/" .. version .. "-1/"
      for _, f in ipairs { "man/ctct.1", "types/config.json", "types/library/ctct.lua", "docs/API.md" } do
        assert.is_truthy(sandbox.read_file(kept .. f), f .. " is not in the installed rock")
      end
    end
    -- From a checkout: README's `luarocks make`, then `luarocks test` (the unit specs,
    -- offline), in a copy of the release tree.
    local dir = tmpdir()
    finally(function() run("rm -rf " .. quote(dir)) end)
    out, code = run("tar -xzf " .. quote(dist .. "/ctct-" .. version .. ".tar.gz") .. " -C " .. quote(dir))
    assert.equal(0, code, out)
    local src = dir .. "/ctct-" .. version
    out, code = run("cd " .. quote(src) .. " && " .. luarocks_env(dir) ..
      find(cmds, "make %-%-deps%-mode=none") .. " 2>&1")
    assert.equal(0, code, out)
    assert.equal(version .. " " .. dir .. "/tree/lib/lua/5.4/ctct/core.so", load_from_tree(dir, "5.4", "lua5.4"))
    for _, lv in ipairs { "5.4", "5.1" } do
      out, code = run("cd " .. quote(src) .. " && " .. luarocks_env(dir) .. "luarocks --lua-version " .. lv ..
        " test 2>&1")
      assert.equal(0, code, out)
      local ok, failed = out:match("(%d+) successes / (%d+) failures")
      assert.is_truthy(ok, out)
      assert.is_true(tonumber(ok) > 100)
      assert.equal("0", failed)
    end
    passed.rock = true
  end)

  it("the Debian package is lintian clean and loads with no path settings in lua5.4, luajit and nginx", function()
    local out, code = run("cd " .. quote(root) .. " && make -s deb 2>&1")
    assert.equal(0, code, out)
    assert.equal(version .. "-1\n", run("dpkg-deb -f " .. quote(dist .. "/" .. deb) .. " Version"))
    assert.matches("lua%-argparse", run("dpkg-deb -f " .. quote(dist .. "/" .. deb) .. " Depends"))
    -- lintian: no error; the one warning is explained (a first upload to Debian
    -- would close its ITP bug; this package is not in Debian's archive).
    local report = assert(sandbox.read_file(dist .. "/" .. deb .. ".lintian"))
    for line in report:gmatch("[^\n]+") do
      if line:match("^[EW]: ") then
        assert.matches("^W: lua%-ctct: initial%-upload%-closes%-no%-bugs", line)
      end
    end
    -- The throwaway root needs mount namespaces and overlayfs (root in a container
    -- that allows them, as here and on CI).
    local probe_out, probe = run("unshare --mount --propagation private sh -c " ..
      quote("mount -t tmpfs tmpfs /mnt") .. " 2>&1")
    if probe ~= 0 then
      passed.deb_skipped = true
      pending("no mount namespace for a throwaway root on this machine: " .. probe_out)
      return
    end
    -- The control: this machine itself has no ctct where Debian looks.
    local _, bare = run("env -i PATH=/usr/bin:/bin lua5.4 -e 'require \"ctct\"' 2>/dev/null")
    assert.are_not.equal(0, bare)
    local work = tmpdir()
    finally(function() run("rmdir " .. quote(work) .. " 2>/dev/null || rm -rf " .. quote(work)) end)
    out, code = run("unshare --mount --propagation private " .. quote(root .. "/spec/support/deb_root_check.sh") ..
      " " .. quote(dist .. "/" .. deb) .. " " .. quote(work) .. " " .. nginx.free_port() .. " 2>&1")
    assert.equal(0, code, out)
    local lib = "/usr/lib/x86_64%-linux%-gnu/lua/"
    local v = version:gsub("%.", "%%.")
    assert.matches("dpkg install ok installed " .. v .. "%-1", out)
    assert.matches("lua5%.4 " .. v .. " " .. lib .. "5%.4/ctct/core%.so", out)
    assert.matches("luajit " .. v .. " " .. lib .. "5%.1/ctct/core%.so", out)
    assert.matches("ctct ctct " .. v, out)
    assert.matches("man /usr/share/man/man1/ctct%.1%.gz /usr/share/man/man1/ctct%-contacts%.1%.gz", out)
    assert.matches("luals /usr/share/ctct/types/config%.json /usr/share/ctct/types/library/ctct%.lua", out)
    assert.matches("nginx " .. v .. " " .. lib .. "5%.1/ctct/core%.so", out)
    -- Nothing of it stayed on this machine.
    local _, installed = run("dpkg-query -W lua-ctct >/dev/null 2>&1")
    assert.are_not.equal(0, installed)
    passed.deb = true
  end)

  it("make demo's script runs every example to the end in a shell of foreign Lua paths", function()
    local env = foreign_env.new()
    finally(function() env:remove() end)
    local out, code = run(env:wrap("examples/run-demo"))
    assert.equal(0, code, out)
    assert.matches("demo: done", out, 1, true)
    passed.demo = true
  end)
end)
