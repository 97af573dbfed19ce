-- The decode memory benchmark: peak resident set size of decoding a 64 MB body
-- (big.json from make_pages.lua), ctct.core.json_decode against lua-cjson, each
-- decode in a fresh process. The file is read and the peak reset (clear_refs)
-- before the decode, so the peak is the text plus what the decode needs, not
-- the transient of reading the file.
--   lua5.4 bench/decode_rss.lua FILE LUAJIT_COMMAND   prints the report lines
--   lua5.4 bench/decode_rss.lua FILE ctct|cjson       one decode: "peak_kib rss_before_kib"
local util = require "util"

local file, mode = assert(arg[1], "usage: decode_rss.lua FILE LUAJIT_COMMAND | FILE ctct|cjson"), arg[2]

if mode == "ctct" or mode == "cjson" then
  local decode = mode == "ctct" and require("ctct.core").json_decode or require("cjson").new().decode
  local text = util.read_file(file)
  collectgarbage("collect")
  local before = util.status_kib("VmRSS")
  local reset = util.reset_peak()
  local value = assert(decode(text))
  assert(#value.contacts > 0)
  print(("%d %d %s"):format(util.status_kib("VmHWM"), before, reset and "reset" or "whole-process"))
  io.stdout:flush()
  os.exit(0) -- skip freeing a million objects at exit: it is not what is measured

end

local RUNS = tonumber(os.getenv("BENCH_RSS_RUNS")) or 3
local function measure(interp, which)
  local peaks, befores, how = {}, {}, nil
  for i = 1, RUNS do
    local out = util.run(("%s bench/decode_rss.lua '%s' %s"):format(interp, file, which))
    local p, b, h = out:match("^(%d+) (%d+) (%S+)")
    assert(p, "decode_rss: " .. out)
    peaks[i], befores[i], how = tonumber(p), tonumber(b), h
  end
  return util.median(peaks), util.median(befores), how
end

local size_mb = #util.read_file(file) / 1e6
local results = {}
for _, runtime in ipairs { { "Lua 5.4", "lua5.4" }, { "LuaJIT", mode } } do
  local ours, ours0, how = measure(runtime[2], "ctct")
  local theirs, theirs0 = measure(runtime[2], "cjson")
  results[#results + 1] = { name = runtime[1], ours = ours, theirs = theirs, ours0 = ours0, theirs0 = theirs0,
                            how = how }
end
local r54, rjit = results[1], results[2]
local function mib(kib) return math.floor(kib / 1024 + 0.5) end
print(("bench: decode peak RSS, %.0f MB body, ctct/cjson = %s (Lua 5.4), %.2f (LuaJIT)")
  :format(size_mb, util.vs_target(r54.ours / r54.theirs, 3), rjit.ours / rjit.theirs))
for _, r in ipairs(results) do
  print(("       %s: peak %d MiB ctct, %d MiB cjson; growth over the RSS before decoding (%d, %d MiB): " ..
    "%d MiB ctct, %d MiB cjson (median of %d fresh processes each; peak %s)")
    :format(r.name, mib(r.ours), mib(r.theirs), mib(r.ours0), mib(r.theirs0), mib(r.ours - r.ours0),
      mib(r.theirs - r.theirs0), RUNS, r.how == "reset" and "reset after reading the file" or "of the whole process"))
end
