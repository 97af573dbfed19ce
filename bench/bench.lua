-- The request benchmark: ctct's client:request against a plain libcurl loop over
-- one kept-alive connection, the same requests to the same static nginx,
-- interleaved round by round; the ratio of the medians is printed.
--   lua5.4 bench/bench.lua STATIC_BASE_URL LOOP_BINARY
local core = require "ctct.core"
local ctct = require "ctct"

local base, loop = assert(arg[1]), assert(arg[2])
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 7

local function median(xs)
  table.sort(xs)
  local n = #xs
  return n % 2 == 1 and xs[(n + 1) / 2] or (xs[n / 2] + xs[n / 2 + 1]) / 2
end

-- Baseline: the C loop measures its own timed loop (no process start-up, no connect).
local function baseline_ns(path, n, decode)
  local p = assert(io.popen(("%s '%s%s' %d%s"):format(loop, base, path, n, decode and " decode" or "")))
  local out = p:read("*a")
  p:close()
  return assert(tonumber(out), "libcurl loop failed: " .. out)
end

-- Rate limiting off: this measures the pipeline, not the 4 requests/s pacing.
local client = ctct.new { access_token = "bench-token", base_url = base, rate_limit = false, retry = false }

local function ctct_ns(path, n)
  assert(client:request("GET", path)) -- warm-up: connect
  local t0 = core.monotonic()
  for _ = 1, n do
    local data = client:request("GET", path)
    if not data then error("request failed") end
  end
  return (core.monotonic() - t0) * 1e9 / n
end

local function compare(label, path, n, decode)
  local ours, theirs = {}, {}
  for round = 1, ROUNDS do
    -- alternate who goes first, so drift on a shared machine hits both alike
    if round % 2 == 1 then
      theirs[round] = baseline_ns(path, n, decode); ours[round] = ctct_ns(path, n)
    else
      ours[round] = ctct_ns(path, n); theirs[round] = baseline_ns(path, n, decode)
    end
  end
  local a, b = median(ours), median(theirs)
  print(("bench: %s ctct/%s = %.2f"):format(label, decode and "(libcurl+cjson)" or "libcurl", a / b))
  print(("       ctct %.1f us/request, baseline %.1f us/request (median of %d rounds of %d)")
    :format(a / 1000, b / 1000, ROUNDS, n))
end

compare("small GET", "/contacts-1.json", tonumber(os.getenv("BENCH_SMALL_N")) or 2000, false)
compare("500-contact page", "/contacts-500.json", tonumber(os.getenv("BENCH_PAGE_N")) or 100, true)
