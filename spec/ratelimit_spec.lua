local ratelimit = require "ctct.ratelimit"

local function fake_clock(start_time)
  local c = { mono = 0, wall = start_time or 1700000000 }
  c.clock = function() return c.mono end
  c.time = function() return c.wall + c.mono end
  c.advance = function(s) c.mono = c.mono + s end
  return c
end

describe("ctct.ratelimit", function()
  it("spaces requests at the configured rate (default 4/s, burst 1)", function()
    local c = fake_clock()
    local l = ratelimit.new { clock = c.clock, time = c.time }
    local waits = {}
    for i = 1, 5 do
      local w = l:take()
      waits[i] = w
      c.advance(w)
    end
    assert.same({ 0, 0.25, 0.25, 0.25, 0.25 }, waits)
  end)

  it("lets a burst through, then refills over time", function()
    local c = fake_clock()
    local l = ratelimit.new { per_second = 2, burst = 3, clock = c.clock, time = c.time }
    assert.equal(0, l:take()); assert.equal(0, l:take()); assert.equal(0, l:take())
    assert.equal(0.5, l:take())
    c.advance(10)
    assert.equal(0, l:take())
  end)

  it("queues concurrent callers fairly (each reservation waits longer)", function()
    local c = fake_clock()
    local l = ratelimit.new { per_second = 4, clock = c.clock, time = c.time }
    assert.same({ 0, 0.25, 0.5, 0.75 }, { l:take(), l:take(), l:take(), l:take() })
  end)

  it("counts a daily budget that resets at 00:00 UTC", function()
    local midnight = 1700006400 -- 2023-11-15T00:00:00Z
    local c = fake_clock(midnight - 100)
    local l = ratelimit.new { per_second = 1000, burst = 1000, daily = 2, clock = c.clock, time = c.time }
    assert.equal(0, l:take())
    assert.equal(0, l:take())
    local wait, reset_in = l:take()
    assert.is_nil(wait)
    assert.equal(100, reset_in)
    assert.equal(0, l:remaining_today())
    c.advance(100)
    assert.equal(2, l:remaining_today())
    assert.equal(0, l:take())
  end)

  it("stops for the day when the server says the quota is gone", function()
    local c = fake_clock()
    local l = ratelimit.new { clock = c.clock, time = c.time }
    l:exhaust_day()
    assert.is_nil((l:take()))
  end)

  it("rejects bad settings by name", function()
    assert.has_error(function() ratelimit.new { per_second = 0 } end, "rate_limit.per_second must be a positive number")
    assert.has_error(function() ratelimit.new { burst = 0.5 } end, "rate_limit.burst must be at least 1")
    assert.has_error(function() ratelimit.new { persecond = 1 } end,
      "rate_limit: unknown option 'persecond'; use 'per_second'")
  end)
end)
