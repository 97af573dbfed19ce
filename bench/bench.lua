-- The request benchmarks: the same GETs to the same static nginx through
-- ctct's client:request and through its peers, each contender a process that
-- times its own loop over one kept-alive connection (no start-up, no connect)
-- and prints the mean per request. Rounds run every contender once, the order
-- rotating each round so drift on a shared machine hits all alike. A ratio
-- (ctct time / peer time: lower is faster) is the median of the rounds' own
-- ratios, each of two runs seconds apart; the times printed are medians.
--   lua5.4 bench/bench.lua STATIC_BASE_URL BIN_DIR LUAJIT_ENV PAGE_FILE
-- BIN_DIR holds libcurl_loop (cjson in Lua 5.4) and libcurl_loop_jit (in LuaJIT);
-- LUAJIT_ENV is the environment prefix that runs luajit on build/jit; PAGE_FILE
-- is the page GET /contacts?limit=500 is answered with (its size is printed).
local util = require "util"

local base, bin, jit_env, page_file = assert(arg[1]), assert(arg[2]), assert(arg[3]), assert(arg[4])
local page_kb = math.floor(#util.read_file(page_file) / 1024 + 0.5)
local SMALL_ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 15
local PAGE_ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 9
local SMALL_N = tonumber(os.getenv("BENCH_SMALL_N")) or 1000
local PAGE_N = tonumber(os.getenv("BENCH_PAGE_N")) or 20
local NODE = os.getenv("BENCH_NODE") or "node"

-- Returns the median time of each contender, and ratio(a, b).
local function race(contenders, rounds)
  local times = {}
  for _, c in ipairs(contenders) do times[c.name] = {} end
  for round = 1, rounds do
    for k = 0, #contenders - 1 do
      local c = contenders[(round + k - 1) % #contenders + 1]
      local out = util.run(c.cmd .. " 2>&1")
      local ns = tonumber(out)
      if not ns then error("bench: " .. c.name .. " printed: " .. out, 0) end
      table.insert(times[c.name], ns)
    end
  end
  local m = {}
  for name, xs in pairs(times) do m[name] = util.median(xs) end
  local function ratio(a, b)
    local r = {}
    for i = 1, rounds do r[i] = times[a][i] / times[b][i] end
    return util.median(r)
  end
  return m, ratio
end

local function sdk_version()
  local f = io.open(".deps/node-bench/node_modules/ctct-api-client/package.json")
  if not f then return nil end
  local v = f:read("*a"):match('"version"%s*:%s*"([^"]+)"')
  f:close()
  return v
end

-- The C loop sends what ctct sends (token, Accept, User-Agent, Accept-Encoding);
-- bare: without the last two, libcurl with the fewest options.
local function curl(url, n, decode, jit, bare)
  return ("%s/libcurl_loop%s '%s' %d%s%s"):format(bin, jit and "_jit" or "", url, n, decode and " decode" or "",
    bare and " bare" or "")
end

local function ctct(b, path, n, limit, jit)
  return ("%slua%s bench/ctct_loop.lua '%s' '%s' %d %s"):format(jit and jit_env .. " " or "",
    jit and "jit" or "5.4", b, path, n, limit or "")
end

local function us(x) return ("%.1f"):format(x / 1000) end

-- A 1-contact GET: the pipeline's own per-request cost shows here.
do
  local url = base .. "/contacts-1.json"
  local m, ratio = race({
    { name = "ctct", cmd = ctct(base, "/contacts-1.json", SMALL_N) },
    { name = "curl+cjson", cmd = curl(url, SMALL_N, true) },
    { name = "curl+cjson bare", cmd = curl(url, SMALL_N, true, false, true) },
    { name = "curl bare", cmd = curl(url, SMALL_N, false, false, true) },
    { name = "ctct jit", cmd = ctct(base, "/contacts-1.json", SMALL_N, nil, true) },
    { name = "curl+cjson jit", cmd = curl(url, SMALL_N, true, true) },
  }, SMALL_ROUNDS)
  print(("bench: small GET (1 contact) ctct/(libcurl+cjson) = %s (Lua 5.4); %.2f (LuaJIT)")
    :format(util.vs_target(ratio("ctct", "curl+cjson"), 1.10), ratio("ctct jit", "curl+cjson jit")))
  print(("       the loop without ctct's User-Agent and Accept-Encoding: ctct/(libcurl+cjson) = %.2f, " ..
    "ctct/libcurl alone = %.2f"):format(ratio("ctct", "curl+cjson bare"), ratio("ctct", "curl bare")))
  print(("       us/request: ctct %s, libcurl+cjson %s (bare %s), libcurl alone %s (Lua 5.4); " ..
    "ctct %s, libcurl+cjson %s (LuaJIT); %d rounds of %d")
    :format(us(m.ctct), us(m["curl+cjson"]), us(m["curl+cjson bare"]), us(m["curl bare"]), us(m["ctct jit"]),
      us(m["curl+cjson jit"]), SMALL_ROUNDS, SMALL_N))
end

-- GET /contacts?limit=500 answered by the 946 KB page (every include): mostly decode.
do
  local page_base = base .. "/full"
  local url = page_base .. "/contacts?limit=500"
  local version = sdk_version()
  local contenders = {
    { name = "ctct", cmd = ctct(page_base, "/contacts", PAGE_N, 500) },
    { name = "ctct jit", cmd = ctct(page_base, "/contacts", PAGE_N, 500, true) },
    { name = "curl+cjson", cmd = curl(url, PAGE_N, true) },
    { name = "curl+cjson jit", cmd = curl(url, PAGE_N, true, true) },
    { name = "fetch", cmd = ("%s bench/node_peer.js fetch '%s' /contacts %d 500"):format(NODE, page_base, PAGE_N) },
  }
  if version then
    contenders[#contenders + 1] = { name = "sdk",
      cmd = ("%s bench/node_peer.js sdk '%s' /contacts %d 500"):format(NODE, page_base, PAGE_N) }
  end
  local m, ratio = race(contenders, PAGE_ROUNDS)
  print(("bench: GET /contacts?limit=500 (%d KB page) ctct/(libcurl+cjson) = %s (Lua 5.4), %s (LuaJIT)")
    :format(page_kb, util.vs_target(ratio("ctct", "curl+cjson"), 0.55),
      util.vs_target(ratio("ctct jit", "curl+cjson jit"), 0.45)))
  local peers = ("       ctct/(node fetch+JSON.parse) = %s (Lua 5.4), %.2f (LuaJIT)")
    :format(util.vs_target(ratio("ctct", "fetch"), 1), ratio("ctct jit", "fetch"))
  if version then
    peers = peers .. ("; ctct/(ctct-api-client %s, the official Node SDK) = %s (Lua 5.4), %.2f (LuaJIT)")
      :format(version, util.vs_target(ratio("ctct", "sdk"), 1), ratio("ctct jit", "sdk"))
  else
    peers = peers .. "; ctct-api-client not installed (make bench-npm): no SDK column"
  end
  print(peers)
  print(("       LuaJIT ctct against the Lua 5.4 libcurl+cjson loop = %.2f; us/request: ctct %s, %s (LuaJIT), " ..
    "libcurl+cjson %s, %s (LuaJIT), node fetch %s%s; %d rounds of %d")
    :format(ratio("ctct jit", "curl+cjson"), us(m.ctct), us(m["ctct jit"]), us(m["curl+cjson"]),
      us(m["curl+cjson jit"]), us(m.fetch), version and (", SDK " .. us(m.sdk)) or "", PAGE_ROUNDS, PAGE_N))
end
