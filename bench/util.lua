-- Helpers shared by the benchmarks (Lua 5.4 and LuaJIT alike).
local M = {}

function M.median(xs)
  local s = {}
  for i = 1, #xs do s[i] = xs[i] end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end

function M.read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

-- Fields of /proc/self/status in KiB: VmHWM (peak resident set), VmRSS.
function M.status_kib(field)
  return tonumber(M.read_file("/proc/self/status"):match(field .. ":%s*(%d+) kB"))
end

-- Reset VmHWM to the current RSS (Linux >= 4.0), so a peak measured after it
-- belongs to what ran after it. Returns false where the kernel refuses.
function M.reset_peak()
  local f = io.open("/proc/self/clear_refs", "w")
  if not f then return false end
  local ok = f:write("5")
  return f:close() and ok and true or false
end

-- Run a command and return its standard output; raise when it fails.
function M.run(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  local ok = p:close()
  if not ok then error("bench: command failed: " .. cmd .. "\n" .. out, 0) end
  return out
end

-- "0.45 (target <= 0.55: met)" -- targets are the issue's, printed next to the
-- measured value so a run that misses one says so.
function M.vs_target(value, target, fmt)
  return (fmt or "%.2f"):format(value) ..
    (" (target <= %.2f: %s)"):format(target, value <= target and "met" or "MISSED")
end

return M
