-- The memory benchmark: client.contacts:each over 100,000 contacts (endless
-- static pages of 500, see make_pages.lua), reading the process's peak resident
-- set size (VmHWM) after 10,000 and after 100,000 contacts. Iterating holds one
-- page at a time, so the peak must not grow with the number of contacts.
--   lua5.4 bench/each_rss.lua STATIC_BASE_URL
local ctct = require "ctct"

local base_url = assert(arg[1], "usage: each_rss.lua STATIC_BASE_URL")

local function peak_kib()
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmHWM:%s*(%d+) kB"))
end

local client = ctct.new { access_token = "bench", base_url = base_url, rate_limit = false }
local n, at_10k, seen_ids = 0, nil, 0
local started = os.clock()
for contact in client.contacts:each { limit = 500 } do
  n = n + 1
  if contact.contact_id then seen_ids = seen_ids + 1 end
  if n == 10000 then at_10k = peak_kib() end
  if n == 100000 then break end
end
local at_100k = peak_kib()
assert(n == 100000 and seen_ids == n, "iterated " .. n .. " contacts")
print(("bench: each peak RSS 100k/10k contacts = %.2f"):format(at_100k / at_10k))
print(("       peak RSS %d KiB at 10,000, %d KiB at 100,000 contacts (%.1f s CPU, 200 pages)")
  :format(at_10k, at_100k, os.clock() - started))
