-- ctct.lock alone: waiting (steps, backoff, timeout, a failing check), and
-- with_lock over a backend (taken, busy, failing; released however fn ends).
local lock = require "ctct.lock"

local function opts(extra)
  local o = { slept = {}, timeout = 1, step = 0.1, message = "gave up" }
  o.sleep = function(s) o.slept[#o.slept + 1] = s end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe("ctct.lock", function()
  it("wait_until returns ready's results as soon as it is ready", function()
    local n = 0
    local o = opts()
    local a, b = lock.wait_until(function() n = n + 1; if n == 3 then return "x", "y" end return false end, o)
    assert.equal("x", a)
    assert.equal("y", b)
    assert.same({ 0.1, 0.1 }, o.slept)
  end)

  it("backs off up to max_step, and times out with the given message", function()
    local o = opts { step = 0.1, max_step = 0.4, timeout = 1 }
    local ok, err = lock.wait_until(function() return false end, o)
    assert.is_nil(ok)
    assert.equal("timeout", err.kind)
    assert.equal("gave up", err.message)
    assert.same({ 0.1, 0.2, 0.4, 0.4 }, o.slept) -- 1.1 s waited when it gave up
  end)

  it("stops at once when ready fails", function()
    local o = opts()
    local ok, err = lock.wait_until(function() return nil, "broken" end, o)
    assert.is_nil(ok)
    assert.equal("broken", err)
    assert.same({}, o.slept)
  end)

  it("with_lock runs fn holding the lock and releases it, even when fn raises", function()
    local backend = lock.memory()
    local r = lock.with_lock(backend, "k", function()
      assert.is_false(backend:try("k")) -- held while fn runs
      return 42
    end, opts())
    assert.equal(42, r)
    assert.is_true(backend:try("k")) -- released
    backend:release("k")
    assert.has_error(function() lock.with_lock(backend, "k", function() error("boom", 0) end, opts()) end, "boom")
    assert.is_true(backend:try("k"))
  end)

  it("with_lock waits for a held lock, gives up after the timeout, and reports a failing backend", function()
    local backend = lock.memory()
    assert.is_true(backend:try("k"))
    local o = opts { timeout = 0.25 }
    local ok, err = lock.with_lock(backend, "k", function() return true end, o)
    assert.is_nil(ok)
    assert.equal("gave up", err.message)
    assert.same({ 0.1, 0.1, 0.1 }, o.slept)
    local failing = { try = function() return nil, "disk full" end, release = function() end }
    ok, err = lock.with_lock(failing, "k", function() return true end, opts())
    assert.is_nil(ok)
    assert.equal("disk full", err)
  end)
end)
