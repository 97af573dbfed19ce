-- Token stores: the memory and file stores behind one interface; the file
-- store's permissions, atomic replacement, cross-process locking, and survival
-- of processes killed while writing.
local memory = require "ctct.store.memory"
local filestore = require "ctct.store.file"
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"
local run, quote = sandbox.run, sandbox.quote

local function tmpdir()
  return (run("mktemp -d"):gsub("%s+$", ""))
end

local function mode_of(path)
  return (run("stat -c %a " .. quote(path)):gsub("%s+$", ""))
end

for _, kind in ipairs { "memory", "file" } do
  describe(kind .. " token store", function()
    local dir, store
    before_each(function()
      dir = tmpdir()
      store = kind == "memory" and memory.new() or filestore.new { path = dir .. "/ctct/tokens.json" }
    end)
    after_each(function() run("rm -rf " .. quote(dir)) end)

    it("keeps one token per account", function()
      assert.is_nil(store:get("a"))
      assert(store:set("a", { access_token = "at-a", refresh_token = "rt-a", expires_at = 100 }))
      assert(store:set("b", { access_token = "at-b" }))
      assert.same({ access_token = "at-a", refresh_token = "rt-a", expires_at = 100 }, store:get("a"))
      assert.equal("at-b", store:get("b").access_token)
      assert(store:delete("a"))
      assert.is_nil(store:get("a"))
      assert.equal("at-b", store:get("b").access_token)
    end)

    it("runs a function under the lock and returns its results or raises its error", function()
      local a, b = store:lock("a", function() return 1, 2 end)
      assert.same({ 1, 2 }, { a, b })
      assert.has_error(function() store:lock("a", function() error("inside") end) end)
      assert.equal(3, store:lock("a", function() return 3 end)) -- released after the error
    end)

    it("returns copies, so callers cannot change what is stored", function()
      store:set("a", { access_token = "x" })
      local t = store:get("a")
      t.access_token = "changed"
      assert.equal("x", store:get("a").access_token)
    end)
  end)
end

describe("file token store", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() run("rm -rf " .. quote(dir)) end)

  it("writes the file 0600 in a 0700 directory, leaving no temp files", function()
    local store = filestore.new { path = dir .. "/cfg/ctct/tokens.json" }
    for i = 1, 5 do assert(store:set("a", { access_token = "t" .. i })) end
    assert.equal("600", mode_of(dir .. "/cfg/ctct/tokens.json"))
    assert.equal("700", mode_of(dir .. "/cfg/ctct"))
    assert.equal("tokens.json\ntokens.json.lock\n", run("ls " .. quote(dir .. "/cfg/ctct")))
    local doc = cjson.decode(sandbox.read_file(dir .. "/cfg/ctct/tokens.json"))
    assert.equal(1, doc.version)
    assert.equal("t5", doc.accounts.a.access_token)
  end)

  it("defaults to $XDG_CONFIG_HOME/ctct/tokens.json", function()
    local out = run("XDG_CONFIG_HOME=" .. quote(dir) .. " lua5.4 -e \"package.path='lua/?.lua;lua/?/init.lua;'.." ..
      "package.path; package.cpath='build/5.4/?.so;'..package.cpath; " ..
      "io.write(require('ctct.store.file').default_path())\"")
    assert.equal(dir .. "/ctct/tokens.json", out)
  end)

  it("refuses a file that is not a token file", function()
    sandbox.write_file(dir .. "/tokens.json", "[1,2,3]")
    local store = filestore.new { path = dir .. "/tokens.json" }
    local tok, err = store:get("a")
    assert.is_nil(tok)
    assert.matches("not a ctct token file", err.message)
  end)

  it("loses no update when 8 processes write at once #once", function()
    local path = dir .. "/tokens.json"
    local cmds = {}
    for i = 1, 8 do
      cmds[#cmds + 1] = "lua5.4 -e \"package.path='lua/?.lua;lua/?/init.lua;'..package.path; " ..
        "package.cpath='build/5.4/?.so;'..package.cpath; local s = require('ctct.store.file').new{ path = '" ..
        path .. "' }; for j = 1, 20 do assert(s:set('p" .. i .. "-' .. j, { access_token = 'x' })) end\" &"
    end
    local _, code = run(table.concat(cmds, "\n") .. "\nwait")
    assert.equal(0, code)
    local doc = cjson.decode(sandbox.read_file(path))
    local n = 0
    for _ in pairs(doc.accounts) do n = n + 1 end
    assert.equal(160, n)
  end)

  it("always holds the old or the new file when a writer is killed mid-write #once", function()
    local path = dir .. "/tokens.json"
    local parsed, rounds = 0, 30
    for round = 1, rounds do
      local pid = run("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' " ..
        "lua5.4 spec/support/token_writer.lua " .. quote(path) .. " >/dev/null 2>&1 & echo $!"):match("%d+")
      -- let it get going, then kill it at a different moment each round
      -- (a killed process is a zombie until init reaps it, which can be slow here)
      run("sleep 0." .. string.format("%02d", 3 + (round * 37) % 25) .. "; kill -9 " .. pid ..
        "; while [ -e /proc/" .. pid .. " ] && ! grep -q ') Z ' /proc/" .. pid .. "/stat 2>/dev/null; " ..
        "do sleep 0.01; done")
      local text = sandbox.read_file(path)
      if text then
        local ok, doc = pcall(cjson.decode, text)
        assert.is_true(ok, "round " .. round .. ": torn token file")
        assert.is_table(doc.accounts)
        parsed = parsed + 1
      end
    end
    assert.is_true(parsed >= rounds - 2, "the writer barely ever wrote")
    -- killed writers leave temp files at most, never a broken tokens.json
    assert.equal(0, tonumber((run("ls " .. quote(dir) .. " | grep -c '^tokens.json$'"):gsub("%s", ""))) - 1)
  end)
end)
