-- bench/limiter_bench.lua: what the rate limiter costs per request: the local
-- bucket (ctct.ratelimit.bucket) against the fleet's shared one in Redis
-- (ctct.ratelimit.redis: one gcra_take script per take), over TCP and over a unix
-- socket, to a redis-server this benchmark starts (127.0.0.1, a free port) and stops
-- by its pid. Medians of 5 rounds of 5,000 takes, interleaved; printed as µs per
-- take and the ratio Redis / local.
--
--   lua5.4 bench/limiter_bench.lua
local core = require "ctct.core"
local util = require "util"

local dir = util.run("mktemp -d"):gsub("%s+$", "")
local port = tonumber(util.run("python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); " ..
  "print(s.getsockname()[1])'"):match("%d+"))
util.run(("redis-server --port %d --bind 127.0.0.1 --unixsocket %s/sock --save '' --appendonly no " ..
  "--daemonize yes --pidfile %s/pid --dir %s --logfile %s/log"):format(port, dir, dir, dir, dir))
local pid
for _ = 1, 50 do
  local f = io.open(dir .. "/pid")
  if f then pid = tonumber(f:read("*a"):match("%d+")) f:close() end
  if pid then break end
  core.sleep(0.05)
end
assert(pid, "bench: redis-server did not start")
local ok, err = pcall(function()
  local huge = 1e6 -- no waits: only the cost of deciding
  local bucket = require("ctct.ratelimit.bucket").new { per_second = huge, burst = 1e6, daily = 1e9 }
  local function shared(opts)
    return require("ctct.ratelimit.redis").new { redis = opts, api_key = "bench", per_second = huge, burst = 1000000,
                                                 daily = false }
  end
  local tcp, unix = shared { host = "127.0.0.1", port = port }, shared { unix = dir .. "/sock" }
  assert(tcp:take() and unix:take(), "bench: the Redis limiter does not answer")
  local N, ROUNDS = 5000, 5
  local function per_take(l)
    local t0 = core.monotonic()
    for _ = 1, N do l:take() end
    return (core.monotonic() - t0) / N * 1e6
  end
  local t = { bucket = {}, tcp = {}, unix = {} }
  for _ = 1, ROUNDS do
    t.bucket[#t.bucket + 1] = per_take(bucket)
    t.tcp[#t.tcp + 1] = per_take(tcp)
    t.unix[#t.unix + 1] = per_take(unix)
  end
  local b, r, u = util.median(t.bucket), util.median(t.tcp), util.median(t.unix)
  print(("bench: limiter take: local %.2f µs, Redis TCP %.1f µs, Redis unix socket %.1f µs: Redis/local = %.0f " ..
    "(TCP), %.0f (unix); a request costs one Redis round trip more"):format(b, r, u, r / b, u / b))
  assert(tcp.redis_errors == 0 and unix.redis_errors == 0, "bench: Redis errors during the run")
end)
os.execute("kill " .. pid)
for _ = 1, 50 do
  if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then break end
  core.sleep(0.05)
end
os.execute("rm -rf '" .. dir .. "'")
if not ok then error(err, 0) end
