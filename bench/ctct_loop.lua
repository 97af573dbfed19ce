-- One contender of the request benchmarks: N calls of client:request over one
-- kept-alive connection, after a warm-up; prints the mean nanoseconds per call
-- of the timed loop (no start-up, no connect). Runs under Lua 5.4 and LuaJIT.
--   ctct_loop.lua BASE_URL PATH N [LIMIT]    (LIMIT: query { limit = LIMIT })
local ctct = require "ctct"
local core = require "ctct.core"

local base, path, n, limit = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
assert(base and path and n, "usage: ctct_loop.lua BASE_URL PATH N [LIMIT]")
local WARM_UP = 3 -- the same for every contender with a JIT

-- The whole default pipeline (auth, limiter, retry policy, decode); only the
-- limiter's pacing is lifted (4 requests/s would measure the sleep).
local client = ctct.new {
  access_token = "bench-token", base_url = base,
  rate_limit = { per_second = 1e9, burst = 1e9, daily = false },
}

local function once()
  local data, err
  if limit then
    data, err = client:request("GET", path, { query = { limit = limit } })
  else
    data, err = client:request("GET", path)
  end
  if type(data) ~= "table" then error("ctct_loop: " .. tostring(err)) end
end

for _ = 1, WARM_UP do once() end
local t0 = core.monotonic()
for _ = 1, n do once() end
print(("%.0f"):format((core.monotonic() - t0) * 1e9 / n))
