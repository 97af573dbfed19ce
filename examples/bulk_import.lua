-- examples/bulk_import.lua: a CSV import split into chunks and waited for, then an
-- export of the list downloaded to a file.
--
--   CTCT_ACCESS_TOKEN=... lua5.4 examples/bulk_import.lua [contacts.csv] [count]
-- Without a file it writes a CSV of `count` (default 1,000) generated contacts.
local ctct = require "ctct"

local client = ctct.new {
  access_token = os.getenv("CTCT_ACCESS_TOKEN"),
  base_url = os.getenv("CTCT_BASE_URL"),
  cafile = os.getenv("CTCT_CAFILE"),
}

local function must(data, err)
  if data == nil then
    io.stderr:write("bulk_import: ", tostring(err), "\n")
    if err and err.details then
      for i, row in ipairs(err.details) do
        if i > 5 then break end
        io.stderr:write("  ", tostring(row.message or row), "\n")
      end
    end
    os.exit(1)
  end
  return data
end

local stamp = os.date("!%Y%m%d%H%M%S")
local path = arg[1]
if not path then
  local count = tonumber(arg[2]) or 1000
  path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write("email,first_name,last_name\n")
  for i = 1, count do f:write(("bulk%d+%s@example.com,Bulk,Person %d\n"):format(i, stamp, i)) end
  f:close()
end

-- A malformed row is reported with its line number before anything is sent.
local _, err = client.activities:import_csv("email,first_name\nok@example.com,A\nbroken\"@example.com,B\n")
print("refused: " .. tostring(err))

local list = must(client.lists:create { name = "Imported " .. stamp })
-- Files above 40,000 lines or 4 MB become several import activities.
local job = must(client.activities:import_csv_file(path, { list_ids = { list.list_id } }))
print(("import started: %d activit%s"):format(#job.activities, #job.activities == 1 and "y" or "ies"))
must(job:wait { timeout = 600, on_progress = function(j)
  print(("  %s %d%%"):format(j.state, j.percent_done or 0))
end })
for _, e in ipairs(job.errors or {}) do print("  row problem: " .. tostring(e.message)) end

local export = must(client.activities:export {
  list_ids = { list.list_id }, fields = { "email_address", "first_name" },
})
must(export:wait { timeout = 600 })
local out = os.tmpname()
local bytes = must(export:download(out))
local lines = 0
for _ in io.lines(out) do lines = lines + 1 end
print(("export: %d bytes, %d lines in %s"):format(bytes, lines, out))
os.remove(out)
if not arg[1] then os.remove(path) end
