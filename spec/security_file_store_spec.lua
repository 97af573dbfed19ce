-- Issue 17: the file token store must refuse a directory other users can write
-- to (or that someone else owns), as ssh's StrictModes does, naming the
-- directory and the fix; and the temp files a writer killed mid-save leaves
-- (tokens.json.tmp.<pid>.<random>) are removed on the next open.
local filestore = require "ctct.store.file"
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

local function sh(cmd)
  local out, code = run(cmd)
  assert(code == 0, cmd .. ": " .. out)
  return (out:gsub("%s+$", ""))
end

local function refused(path)
  local ok, err = pcall(filestore.new, { path = path })
  assert.is_false(ok, "the store opened " .. path)
  return err
end

local function temps(dir)
  local out = sh("ls -A " .. quote(dir))
  local list = {}
  for name in out:gmatch("[^\n]+") do
    if name:find("%.tmp%.") then list[#list + 1] = name end
  end
  table.sort(list)
  return list
end

describe("security: the file token store", function()
  local dir
  before_each(function() dir = sh("mktemp -d") end)
  after_each(function() run("chmod -R u+rwx " .. quote(dir) .. "; rm -rf " .. quote(dir)) end)

  describe("refuses a directory others can write to, like ssh's StrictModes", function()
    it("world-writable", function()
      sh("mkdir -m 0700 " .. quote(dir .. "/ctct") .. " && chmod 0777 " .. quote(dir .. "/ctct"))
      local err = refused(dir .. "/ctct/tokens.json")
      assert.truthy(err:find(dir .. "/ctct", 1, true), err)
      assert.truthy(err:find("chmod go-w " .. dir .. "/ctct", 1, true), err)
      assert.matches("writable by others", err)
    end)

    it("group-writable", function()
      sh("mkdir -m 0770 " .. quote(dir .. "/ctct") .. " && chmod 0770 " .. quote(dir .. "/ctct"))
      local err = refused(dir .. "/ctct/tokens.json")
      assert.truthy(err:find("chmod go-w " .. dir .. "/ctct", 1, true), err)
      assert.matches("writable by its group", err)
    end)

    it("owned by another user", function()
      if sh("id -u") ~= "0" then
        pending("needs root to give a directory to another user")
        return
      end
      sh("mkdir -m 0700 " .. quote(dir .. "/ctct") .. " && chown 65534 " .. quote(dir .. "/ctct"))
      local err = refused(dir .. "/ctct/tokens.json")
      assert.truthy(err:find(dir .. "/ctct", 1, true), err)
      assert.matches("owned by uid 65534", err)
    end)

    it("a world-writable parent without the sticky bit, but not /tmp-like sticky ones", function()
      sh("mkdir -m 0777 " .. quote(dir .. "/open") .. " && chmod 0777 " .. quote(dir .. "/open"))
      local err = refused(dir .. "/open/ctct/tokens.json")
      assert.truthy(err:find("chmod go-w " .. dir .. "/open", 1, true), err)
      sh("mkdir " .. quote(dir .. "/sticky") .. " && chmod 1777 " .. quote(dir .. "/sticky"))
      assert(filestore.new { path = dir .. "/sticky/ctct/tokens.json" })
      assert.equal("700", sh("stat -c %a " .. quote(dir .. "/sticky/ctct")))
    end)

    it("core.mkdirs reports the same, and accepts a private directory", function()
      sh("mkdir -m 0757 " .. quote(dir .. "/w"))
      local ok, err = core.mkdirs(dir .. "/w", tonumber("700", 8))
      assert.is_nil(ok)
      assert.truthy(err:find("chmod go-w", 1, true), err)
      assert.is_true(core.mkdirs(dir .. "/private/a/b", tonumber("700", 8)))
      assert.is_true(core.mkdirs(dir .. "/private/a/b", tonumber("700", 8)))
    end)
  end)

  describe("removes stale temp files on the next open", function()
    it("those of a process that is gone, or older than a minute; never others", function()
      local path = dir .. "/tokens.json"
      assert(filestore.new { path = path }:set("a", { access_token = "x" }))
      local gone = sh("sh -c 'echo $$'")                     -- a pid that has exited
      local alive = sh("sleep 30 >/dev/null 2>&1 & echo $!") -- one that is still running
      finally(function() run("p=" .. alive .. "; grep -q sleep /proc/$p/cmdline 2>/dev/null && kill $p") end)
      local hex = "0123456789abcdef"
      local names = {
        dead = "tokens.json.tmp." .. gone .. "." .. hex,
        writing = "tokens.json.tmp." .. alive .. "." .. hex,
        old = "tokens.json.tmp." .. alive .. ".fedcba9876543210",
        notes = "tokens.json.tmp.notes",
        other = "other.json.tmp." .. gone .. "." .. hex,
      }
      for _, name in pairs(names) do sandbox.write_file(dir .. "/" .. name, "{") end
      sh("touch -d '2 minutes ago' " .. quote(dir .. "/" .. names.old))
      assert(filestore.new { path = path })
      assert.same({ names.other, names.writing, names.notes }, temps(dir))
      assert.equal("x", filestore.new { path = path }:get("a").access_token)
    end)

    it("after writers killed with -9 mid-save #once", function()
      local path = dir .. "/tokens.json"
      for round = 1, 6 do
        local pid = sh("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' " ..
          "lua5.4 spec/support/token_writer.lua " .. quote(path) .. " >/dev/null 2>&1 & echo $!")
        run("sleep 0." .. (2 + round) .. "; kill -9 " .. pid .. "; while [ -e /proc/" .. pid .. " ] && " ..
          "! grep -q ') Z ' /proc/" .. pid .. "/stat 2>/dev/null; do sleep 0.01; done")
      end
      assert(filestore.new { path = path })
      assert.same({}, temps(dir))
    end)
  end)
end)
