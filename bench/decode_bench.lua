-- The decode benchmark: ctct.core.json_decode against lua-cjson's decode on the
-- same text (the 946 KB contacts page), in one process, interleaved.
--   lua5.4 bench/decode_bench.lua FILE LUAJIT_COMMAND   prints the report line
--   luajit bench/decode_bench.lua FILE                  prints the raw figures
--
-- GC accounting, two ways, both printed:
--  * "collected": a full collect outside the timed region before each timed
--    decode, so each decode pays for the collection work it triggers itself and
--    none left over by the other decoder; single decodes, alternating ctct/cjson.
--  * "steady state": no forced collect; blocks of back-to-back decodes keeping
--    the last result alive, as a loop over pages does, so each decoder also
--    pays the GC for its own earlier results (blocks alternate; the first decode
--    of a block, which would collect the other decoder's garbage, is untimed).
-- Ratios are of medians (ctct time / cjson time: lower is faster).
local core = require "ctct.core"
local cjson = require("cjson").new()
local util = require "util"

local file, luajit_cmd = assert(arg[1], "usage: decode_bench.lua FILE [LUAJIT_COMMAND]"), arg[2]
local SINGLES = tonumber(os.getenv("BENCH_DECODE_N")) or 41
local BLOCKS, PER_BLOCK = tonumber(os.getenv("BENCH_DECODE_BLOCKS")) or 11, 8

local text = util.read_file(file)
local ours, theirs = core.json_decode, cjson.decode
local clock = core.monotonic

do -- the same document both ways, or the race means nothing
  local a, b = ours(text), theirs(text)
  assert(#a.contacts == #b.contacts and a.contacts[#a.contacts].contact_id == b.contacts[#b.contacts].contact_id)
end

local function collected(decode)
  collectgarbage("collect")
  local t0 = clock()
  local v = decode(text)
  local t = clock() - t0
  assert(v.contacts)
  return t
end

local alive = {} -- the block's last result stays alive, as in a loop over pages
local function steady(decode)
  alive[1] = decode(text)
  local t0 = clock()
  for _ = 1, PER_BLOCK do alive[1] = decode(text) end
  local t = (clock() - t0) / PER_BLOCK
  assert(alive[1].contacts)
  return t
end

local function race(measure, rounds)
  local a, b = {}, {}
  for i = 1, rounds do
    if i % 2 == 1 then
      a[i] = measure(ours); b[i] = measure(theirs)
    else
      b[i] = measure(theirs); a[i] = measure(ours)
    end
  end
  return util.median(a), util.median(b)
end

local ca, cb = race(collected, SINGLES)
local sa, sb = race(steady, BLOCKS)
alive[1] = nil
local figures = ("%.6f %.6f %.6f %.6f"):format(ca, cb, sa, sb)

if not luajit_cmd then
  print(figures)
  return
end

local jit = {}
for x in util.run(("%s bench/decode_bench.lua '%s'"):format(luajit_cmd, file)):gmatch("%S+") do
  jit[#jit + 1] = tonumber(x)
end
assert(#jit == 4, "the LuaJIT run printed no figures")
local kb = #text / 1024
print(("bench decode: %d KB page %.2fx lua-cjson (Lua 5.4), %.2fx (LuaJIT)   [Lua 5.4 target <= 0.45: %s]")
  :format(math.floor(kb + 0.5), ca / cb, jit[1] / jit[2], ca / cb <= 0.45 and "met" or "MISSED"))
print(("       steady state (no forced collect): %.2fx (Lua 5.4), %.2fx (LuaJIT)"):format(sa / sb, jit[3] / jit[4]))
print(("       ms per decode, collected: ctct %.2f, cjson %.2f (Lua 5.4); ctct %.2f, cjson %.2f (LuaJIT); " ..
  "median of %d, and %d blocks of %d in steady state")
  :format(ca * 1e3, cb * 1e3, jit[1] * 1e3, jit[2] * 1e3, SINGLES, BLOCKS, PER_BLOCK))
