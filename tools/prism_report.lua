-- tools/prism_report.lua: totals the files the sandboxes wrote with a Prism proxy in
-- front (spec/helpers/sandbox.lua, CTCT_PRISM_PROXY=1 and CTCT_PRISM_REPORT_DIR),
-- every count computed from the files:
--
--   lua5.4 tools/prism_report.lua DIR [--details]
--
--   prism proxy: N requests, V request violations, W response violations
--   not proxied: <kind>: N requests          (one line per kind, if any)
--
-- --details then lists each distinct violation (side, operation, message) with how
-- often it was seen and one request that drew it. Exits 1 when DIR holds no report
-- file (nothing was proxied: the line would say nothing), 0 otherwise.
local dir = arg[1]
local details = arg[2] == "--details"
if not dir or dir == "" then
  io.stderr:write("usage: tools/prism_report.lua DIR [--details]\n")
  os.exit(2)
end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local p = assert(io.popen("ls " .. quote(dir) .. " 2>/dev/null"))
local files = {}
for name in p:lines() do
  if name:match("%.prism$") then files[#files + 1] = dir .. "/" .. name end
end
p:close()
table.sort(files)
if #files == 0 then
  io.stderr:write("tools/prism_report.lua: no *.prism report in " .. dir .. "\n")
  os.exit(1)
end

local function split(line)
  local out = {}
  for f in (line .. "\t"):gmatch("([^\t]*)\t") do out[#out + 1] = f end
  return out
end

local requests, violations = 0, { request = 0, response = 0 }
local kinds, kind_order = {}, {}
local distinct, distinct_order = {}, {}
for _, path in ipairs(files) do
  for line in io.lines(path) do
    local f = split(line)
    if f[1] == "proxied" then
      requests = requests + 1
    elseif f[1] == "violation" then
      local side = f[2] == "response" and "response" or "request"
      violations[side] = violations[side] + 1
      local key = table.concat({ side, f[3], f[7], f[8], f[9] }, "\t")
      if not distinct[key] then
        distinct[key] = { n = 0, side = side, op = f[3], severity = f[7], where = f[8], message = f[9],
                          example = f[4] .. " " .. f[5] .. " -> " .. f[6] }
        distinct_order[#distinct_order + 1] = key
      end
      distinct[key].n = distinct[key].n + 1
    elseif f[1] == "direct" then
      if not kinds[f[2]] then kinds[f[2]] = 0; kind_order[#kind_order + 1] = f[2] end
      kinds[f[2]] = kinds[f[2]] + 1
    end
  end
end

print(("prism proxy: %d requests, %d request violations, %d response violations")
  :format(requests, violations.request, violations.response))
table.sort(kind_order)
for _, kind in ipairs(kind_order) do
  print(("not proxied: %s: %d requests"):format(kind, kinds[kind]))
end
if details then
  table.sort(distinct_order, function(a, b)
    local x, y = distinct[a], distinct[b]
    if x.side ~= y.side then return x.side < y.side end
    if x.op ~= y.op then return x.op < y.op end
    return x.message < y.message
  end)
  for _, key in ipairs(distinct_order) do
    local d = distinct[key]
    print(("%s violation x%d %s (%s, %s %s): %s   e.g. %s"):format(d.side, d.n, d.op, d.severity, d.side,
      d.where, d.message, d.example))
  end
end
