-- ctct.activity alone: a bulk activity over a hand-made client (scripted
-- getActivity answers, a clock the test moves, sleeps recorded), so wait{}
-- runs at once and the intervals it slept can be checked.
local activity = require "ctct.activity"
local errors = require "ctct.errors"
local Client = require("ctct.client").Client

-- A client whose call("getActivity") answers the scripted states in turn (a
-- table with `err` answers nil, err), whose sleep adds to its clock, and whose
-- request records its arguments and answers `c.answer(method, path, opts)`.
local function fake_client(script, start)
  local c = { now = start or 0, slept = {}, calls = {}, requests = {},
              origin = "https://api.cc.email", base_path = "/v3" }
  c.clock = function() return c.now end
  c.sleep = function(s) c.slept[#c.slept + 1] = s; c.now = c.now + s end
  c.link_path = Client.link_path
  function c:call(op_id, params)
    self.calls[#self.calls + 1] = { op_id = op_id, params = params }
    local nxt = table.remove(script or {}, 1)
    if nxt == nil then error("fake client: no scripted answer left", 0) end
    if nxt.err then return nil, nxt.err end
    return nxt
  end
  function c:request(method, path, opts)
    self.requests[#self.requests + 1] = { method = method, path = path, opts = opts }
    return self.answer(method, path, opts)
  end
  return c
end

local function processing(pct) return { activity_id = "a1", state = "processing", percent_done = pct } end

describe("ctct.activity", function()
  it("new takes the fields of the activity JSON", function()
    local c = fake_client()
    local data = { activity_id = "a1", state = "initialized", percent_done = 0,
                   status = { items_total_count = 3 }, _links = {} }
    local act = activity.new(c, data)
    assert.equal(c, act.client)
    assert.equal(data, act.data)
    assert.equal("a1", act.id)
    assert.equal("initialized", act.state)
    assert.equal(0, act.percent_done)
    assert.same({}, act.errors) -- no activity_errors: an empty list
    assert.same({ items_total_count = 3 }, act.status_counts)
    assert.equal(activity.Activity, getmetatable(act))
    assert.equal("ctct.Activity(a1, initialized, 0%)", tostring(act))
    assert.equal("ctct.Activity(a2, nil, nil%)", tostring(activity.new(c, { activity_id = "a2" })))
    local errs = { { message = "row 1" } }
    assert.equal(errs, activity.new(c, { activity_id = "a3", state = "failed", activity_errors = errs }).errors)
  end)

  it("done is true exactly for the final states", function()
    assert.same({ completed = true, failed = true, cancelled = true, timed_out = true }, activity.FINAL)
    local c = fake_client()
    for _, s in ipairs { "completed", "failed", "cancelled", "timed_out" } do
      assert.is_true(activity.new(c, { activity_id = "a", state = s }):done(), s)
    end
    for _, s in ipairs { "initialized", "processing", "COMPLETED", "done" } do
      assert.is_false(activity.new(c, { activity_id = "a", state = s }):done(), s)
    end
    assert.is_false(activity.new(c, { activity_id = "a" }):done())
  end)

  it("status GETs the activity by its id and takes the new state, keeping the id", function()
    local c = fake_client { { state = "processing", percent_done = 40, activity_errors = { "bad row 2" },
                              status = { items_completed_count = 2 } } }
    local act = activity.new(c, { activity_id = "a1", state = "initialized", percent_done = 0 })
    assert.equal(act, act:status())
    assert.same({ { op_id = "getActivity", params = { activity_id = "a1" } } }, c.calls)
    assert.equal("a1", act.id) -- the answer had no activity_id
    assert.equal("processing", act.state)
    assert.equal(40, act.percent_done)
    assert.same({ "bad row 2" }, act.errors)
    assert.same({ items_completed_count = 2 }, act.status_counts)
    assert.equal("processing", act.data.state)
  end)

  it("status returns the client's error and keeps the last state", function()
    local e = errors.new { kind = "network", message = "connection reset" }
    local c = fake_client { { err = e } }
    local act = activity.new(c, processing(10))
    local ok, err = act:status()
    assert.is_nil(ok)
    assert.equal(e, err)
    assert.equal("processing", act.state)
    assert.equal(10, act.percent_done)
  end)

  it("wait polls with a growing interval until completed, calling on_progress after each poll", function()
    local c = fake_client({ processing(10), processing(60),
                            { activity_id = "a1", state = "completed", percent_done = 100 } }, 1000)
    local act = activity.new(c, { activity_id = "a1", state = "initialized", percent_done = 0 })
    local seen = {}
    local r, err = act:wait { on_progress = function(a)
      assert.equal(act, a)
      seen[#seen + 1] = a.state .. " " .. a.percent_done
    end }
    assert.is_nil(err)
    assert.equal(act, r)
    assert.same({ 0.5, 0.75, 1.125 }, c.slept)
    assert.same({ "processing 10", "processing 60", "completed 100" }, seen)
    assert.equal(3, #c.calls)
    assert.equal("completed", act.state)
  end)

  it("wait grows the interval by half up to max_interval (10 s by default)", function()
    local script = {}
    for i = 1, 10 do script[i] = processing(i) end
    script[11] = { state = "completed", percent_done = 100 }
    local c = fake_client(script)
    local first = activity.new(c, processing(0))
    assert.equal(first, first:wait())
    assert.equal(11, #c.calls)
    assert.same({ 0.5, 0.75, 1.125, 1.6875, 2.53125, 3.796875, 5.6953125, 8.54296875, 10, 10, 10 }, c.slept)

    script = { processing(1), processing(2), processing(3), processing(4), { state = "completed" } }
    c = fake_client(script)
    local act = activity.new(c, processing(0))
    assert.equal(act, act:wait { interval = 1, max_interval = 3 })
    assert.same({ 1, 1.5, 2.25, 3, 3 }, c.slept)

    -- the cap holds from the first wait
    c = fake_client { processing(1), { state = "completed" } }
    act = activity.new(c, processing(0))
    assert.equal(act, act:wait { interval = 5, max_interval = 2 })
    assert.same({ 2, 2 }, c.slept)
  end)

  it("wait on an activity that has already ended neither sleeps nor polls", function()
    local c = fake_client()
    local act = activity.new(c, { activity_id = "a1", state = "completed", percent_done = 100 })
    assert.equal(act, act:wait())
    local failed = activity.new(c, { activity_id = "a2", state = "failed", activity_errors = { "nope" } })
    local ok, err = failed:wait()
    assert.is_nil(ok)
    assert.equal("activity_failed", err.error_key)
    assert.same({}, c.slept)
    assert.same({}, c.calls)
  end)

  it("wait gives up with a timeout error when the next wait would pass the deadline", function()
    local c = fake_client({ processing(10), processing(20), processing(30) }, 500)
    local act = activity.new(c, processing(0))
    local polls = 0
    local ok, err = act:wait { timeout = 3, interval = 1, on_progress = function() polls = polls + 1 end }
    assert.is_nil(ok)
    assert.is_true(errors.is(err))
    assert.equal("timeout", err.kind)
    assert.equal("activity a1 still processing when the wait ended", err.message)
    assert.same({ 1, 1.5 }, c.slept) -- 2.5 s waited; 2.25 more would pass 3
    assert.equal(2, #c.calls)
    assert.equal(2, polls)
    assert.equal(20, act.percent_done)
  end)

  it("wait may sleep right up to the deadline, not past it", function()
    local c = fake_client { { activity_id = "a1", state = "completed" } }
    local act = activity.new(c, processing(0))
    assert.equal(act, act:wait { timeout = 1, interval = 1 })
    assert.same({ 1 }, c.slept)

    c = fake_client { { activity_id = "a1", state = "completed" } }
    act = activity.new(c, processing(0))
    local ok, err = act:wait { timeout = 0.9, interval = 1 }
    assert.is_nil(ok)
    assert.equal("timeout", err.kind)
    assert.same({}, c.slept)
    assert.same({}, c.calls)
  end)

  it("wait returns an http error naming the final state and the first per-row error", function()
    local row_errors = { { message = "row 2: invalid email" }, { message = "row 5: invalid email" } }
    local c = fake_client { processing(50), { activity_id = "a1", state = "failed", activity_errors = row_errors } }
    local act = activity.new(c, processing(0))
    local ok, err = act:wait()
    assert.is_nil(ok)
    assert.equal("http", err.kind)
    assert.equal("activity_failed", err.error_key)
    assert.equal("activity a1 ended failed: row 2: invalid email", err.message)
    assert.equal(row_errors, err.details)
    assert.equal(row_errors, act.errors)
    assert.same({ 0.5, 0.75 }, c.slept)

    c = fake_client { { activity_id = "a1", state = "cancelled" } }
    ok, err = activity.new(c, processing(0)):wait()
    assert.is_nil(ok)
    assert.equal("activity_cancelled", err.error_key)
    assert.equal("activity a1 ended cancelled", err.message)
    assert.same({}, err.details)

    c = fake_client { { activity_id = "a1", state = "timed_out", activity_errors = { "took too long" } } }
    ok, err = activity.new(c, processing(0)):wait()
    assert.is_nil(ok)
    assert.equal("activity_timed_out", err.error_key)
    assert.equal("activity a1 ended timed_out: took too long", err.message)
  end)

  it("wait stops at the first failing poll and returns its error", function()
    local e = errors.new { kind = "http", status = 503, message = "unavailable" }
    local c = fake_client { processing(10), { err = e }, processing(90) }
    local act = activity.new(c, processing(0))
    local progress = {}
    local ok, err = act:wait { on_progress = function(a) progress[#progress + 1] = a.percent_done end }
    assert.is_nil(ok)
    assert.equal(e, err)
    assert.same({ 10 }, progress) -- not called for the failing poll
    assert.same({ 0.5, 0.75 }, c.slept)
    assert.equal(2, #c.calls)
    assert.equal("processing", act.state)
  end)

  it("results_href is the results link, once there is one", function()
    local c = fake_client()
    assert.is_nil(activity.new(c, processing(0)):results_href())
    assert.is_nil(activity.new(c, { activity_id = "a1", state = "completed", _links = { self = { href = "/x" } } })
      :results_href())
    local act = activity.new(c, { activity_id = "a1", state = "completed",
                                  _links = { results = { href = "/v3/contact_exports/a1/results" } } })
    assert.equal("/v3/contact_exports/a1/results", act:results_href())
    act.data = nil
    assert.is_nil(act:results_href())
  end)

  it("download refuses an activity without results, sending nothing", function()
    local c = fake_client()
    local bytes, err = activity.new(c, processing(30)):download("/tmp/never-written.csv")
    assert.is_nil(bytes)
    assert.equal("validation", err.kind)
    assert.equal("activity a1 has no results to download (state processing)", err.message)
    assert.same({}, c.requests)
  end)

  it("download refuses a results link the client would not follow", function()
    local c = fake_client()
    local function done_with(href)
      return activity.new(c, { activity_id = "a1", state = "completed", _links = { results = { href = href } } })
    end
    local bytes, err = done_with("https://evil.example/v3/contact_exports/a1/results"):download("/tmp/x.csv")
    assert.is_nil(bytes)
    assert.equal("protocol", err.kind)
    assert.equal("results link: link points to another host", err.message)
    bytes, err = done_with("/v2/contact_exports/a1/results"):download("/tmp/x.csv")
    assert.is_nil(bytes)
    assert.equal("results link: link is outside the API base path /v3", err.message)
    assert.same({}, c.requests)
  end)

  it("download streams the CSV into the file through the client and returns the bytes written", function()
    local path = os.tmpname()
    local csv = "email,first_name\na@x.example,A\n"
    local c = fake_client()
    c.answer = function(_, _, opts)
      local f = assert(io.open(opts.sink, "wb"))
      f:write(csv)
      f:close()
      return true, { status = 200, headers = {}, bytes = #csv }
    end
    local act = activity.new(c, { activity_id = "a1", state = "completed",
      _links = { results = { href = "https://api.cc.email/v3/contact_exports/a1/results" } } })
    local bytes, err = act:download(path)
    assert.is_nil(err)
    assert.equal(#csv, bytes)
    assert.same({ { method = "GET", path = "/contact_exports/a1/results",
                    opts = { headers = { Accept = "text/csv" }, sink = path } } }, c.requests)
    local f = assert(io.open(path, "rb"))
    local got = f:read("*a")
    f:close()
    os.remove(path)
    assert.equal(csv, got)
  end)

  it("download returns the client's error as it is", function()
    local e = errors.new { kind = "http", status = 404, message = "no such export" }
    local c = fake_client()
    c.answer = function() return nil, e end
    local act = activity.new(c, { activity_id = "a1", state = "completed",
      _links = { results = { href = "/v3/contact_exports/a1/results" } } })
    local bytes, err = act:download("/tmp/y.csv")
    assert.is_nil(bytes)
    assert.equal(e, err)
    assert.equal("/contact_exports/a1/results", c.requests[1].path)
  end)
end)
