-- Issue 17: the one atomic download-to-file (src/download.c, core.open_part),
-- which the curl transport's `sink` and the ngx transport's downloads share:
-- "<path>.part" created O_EXCL|O_NOFOLLOW mode 0600, renamed over <path> on
-- commit, removed on abort (and by the garbage collector).
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

describe("core.open_part (atomic download-to-file)", function()
  local dir

  before_each(function()
    dir = run("mktemp -d /tmp/ctct-part.XXXXXXXX"):gsub("%s+$", "")
    assert(dir:match("^/tmp/ctct%-part%."), "mktemp failed")
  end)

  after_each(function()
    run("rm -rf " .. quote(dir))
  end)

  local function stat(fmt, path)
    return (run("stat -c " .. fmt .. " " .. quote(path) .. " 2>/dev/null"):gsub("%s+$", ""))
  end

  it("writes to <path>.part (0600) and renames it into place on commit", function()
    local path = dir .. "/export.csv"
    sandbox.write_file(path, "old")
    local part = assert(core.open_part(path))
    assert.equal(path .. ".part", part:name())
    assert.equal("600", stat("%a", path .. ".part"))
    assert(part:write("a,b\r\n"))
    assert(part:write(("x"):rep(100000)))
    assert.equal(100005, part:bytes())
    assert.equal("old", sandbox.read_file(path)) -- untouched until the commit
    assert.equal(100005, part:commit())
    assert.equal(100005, #sandbox.read_file(path))
    assert.is_nil(sandbox.read_file(path .. ".part"))
    assert.equal("600", stat("%a", path))
    assert.has_error(function() part:write("more") end, "ctct.core: this download is already committed or aborted")
  end)

  it("removes the .part on abort and when collected, leaving the old file", function()
    local path = dir .. "/x"
    sandbox.write_file(path, "old")
    local part = assert(core.open_part(path))
    part:write("half")
    part:abort()
    part:abort() -- idempotent
    assert.is_nil(sandbox.read_file(path .. ".part"))
    assert.equal("old", sandbox.read_file(path))
    part = assert(core.open_part(path))
    part:write("half")
    part = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    assert.is_nil(sandbox.read_file(path .. ".part"))
  end)

  it("never writes through a planted symlink; replaces a symlink at the destination", function()
    local victim = dir .. "/victim"
    sandbox.write_file(victim, "precious")
    run("ln -s " .. quote(victim) .. " " .. quote(dir .. "/a.part"))
    local part, err = core.open_part(dir .. "/a")
    assert.is_nil(part)
    assert.matches("a%.part already exists and is a symbolic link: refusing to write through it", err)
    assert.equal("precious", sandbox.read_file(victim))
    -- a dangling one too (O_CREAT would otherwise create its target)
    run("ln -s " .. quote(dir .. "/nowhere") .. " " .. quote(dir .. "/b.part"))
    assert.is_nil(core.open_part(dir .. "/b"))
    assert.is_nil(sandbox.read_file(dir .. "/nowhere"))
    -- a directory in the way
    run("mkdir " .. quote(dir .. "/c.part"))
    local _, why = core.open_part(dir .. "/c")
    assert.matches("not a regular file", why)
    -- at the destination itself, the rename replaces the link
    run("ln -s " .. quote(victim) .. " " .. quote(dir .. "/d"))
    part = assert(core.open_part(dir .. "/d"))
    part:write("new")
    assert(part:commit())
    assert.equal("precious", sandbox.read_file(victim))
    assert.equal("regular file", stat("%F", dir .. "/d"))
    assert.equal("new", sandbox.read_file(dir .. "/d"))
  end)

  it("starts again over a leftover .part of its own; reports what it cannot do", function()
    sandbox.write_file(dir .. "/e.part", "a download that died half-way")
    local part = assert(core.open_part(dir .. "/e"))
    part:write("fresh")
    assert.equal(5, part:commit())
    assert.equal("fresh", sandbox.read_file(dir .. "/e"))
    local none, err = core.open_part(dir .. "/no/such/dir/f")
    assert.is_nil(none)
    assert.matches("cannot create .*f%.part: No such file or directory", err)
    assert.is_nil(core.open_part(""))
  end)
end)
