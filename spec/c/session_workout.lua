-- Exercises every path of ctct.core's HTTP session, for valgrind and ASan runs
-- (spec/build_spec.lua, spec/run-asan): success, gzip, bodies, curl multi,
-- timeouts, refused and dropped connections, sinks, bad input raising half-way, close,
-- and a session left for the garbage collector at exit.
--   lua5.4 spec/c/session_workout.lua BASE_URL TOKEN ADMIN_URL
local core = require "ctct.core"
local base, token, admin = arg[1], arg[2], arg[3]
local auth = { Authorization = "Bearer " .. token }

local s = core.session { timeout = 5 }
for _ = 1, 20 do
  assert(assert(s:request { method = "GET", url = base .. "/account/summary", headers = auth }).status == 200)
end
local res = assert(s:request { method = "POST", url = base .. "/contact_lists",
  headers = { Authorization = auth.Authorization, ["Content-Type"] = "application/json" },
  body = '{"name":"valgrind"}' })
assert(res.status == 201, res.status)

local reqs = {}
for i = 1, 12 do reqs[i] = { method = "GET", url = base .. "/account/summary", headers = auth } end
reqs[13] = { method = "GET", url = "http://127.0.0.1:1/refused" }
reqs[14] = { method = "DELETE", url = base .. "/nope", headers = auth }
local results = s:request_many(reqs, { concurrency = 4 })
assert(#results == 14 and results[13].error and results[14].status == 404)

-- bad input raises after a transfer was allocated: the GC must free it
for _, bad in ipairs {
  { method = "GET", url = base, headers = { X = "a\nb" } },
  { method = "GET", url = base, headers = { [1] = "x" } },
  { method = "GET", url = "nope" },
} do assert(not pcall(s.request, s, bad)) end
assert(not pcall(s.request_many, s, { reqs[1], { method = "GET" } }))

-- typed failures: refused, timeout (the admin sets a latency fault), dropped
local _, e = s:request { method = "GET", url = "http://127.0.0.1:1/" }
assert(e.kind == "network")
local a = core.session()
assert(a:request { method = "POST", url = admin .. "/__sandbox/faults",
  body = '{"faults":[{"latency_ms":1500},{"drop":true}]}', headers = { ["Content-Type"] = "application/json" } })
_, e = s:request { method = "GET", url = base .. "/account/summary", headers = auth, timeout = 0.2 }
assert(e.kind == "timeout", e.kind)
-- a fresh session: on a reused connection libcurl itself resends once
_, e = core.session():request { method = "GET", url = base .. "/account/summary", headers = auth }
assert(e and e.kind == "network")
_, e = core.session { max_response_bytes = 10 }:request { method = "GET", url = base .. "/account/summary",
  headers = auth }
assert(e.kind == "protocol")

-- sinks: a 2xx streamed to a file, an error kept in memory, an unwritable sink
-- raising after the transfer was allocated, a sink abandoned by a failed request
local dir = os.getenv("TMPDIR") or "/tmp"
local sink = dir .. "/ctct-workout-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e9))
res = assert(s:request { method = "GET", url = base .. "/account/summary", headers = auth, sink = sink })
assert(res.status == 200 and res.sink_bytes > 0)
res = assert(s:request { method = "DELETE", url = base .. "/nope", headers = auth, sink = sink .. "-404" })
assert(res.status == 404 and #res.body > 0 and not io.open(sink .. "-404"))
assert(not pcall(s.request, s, { method = "GET", url = base, sink = dir .. "/no/such/dir/x" }))
_, e = s:request { method = "GET", url = "http://127.0.0.1:1/", sink = sink .. "-refused" }
assert(e.kind == "network" and not io.open(sink .. "-refused.part"))
os.remove(sink)

s:close()
a = nil -- luacheck: ignore (left to the collector, like `unclosed` below)
local unclosed = core.session()
assert(unclosed:request { method = "GET", url = base .. "/account/summary", headers = auth })
collectgarbage()
collectgarbage()
print("session workout: ok")
