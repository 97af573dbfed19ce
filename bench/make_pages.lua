-- Writes the benchmark's fixed responses into DIR: contacts pages shaped like
-- the API's GET /contacts (one contact; 500 contacts; 500 contacts with every
-- include), a long chain of pages for the memory benchmark, and big.json, the
-- 64 MB body of the decode memory benchmark.
--   lua5.4 bench/make_pages.lua DIR
local cjson = require "cjson"
local dir = assert(arg[1], "usage: make_pages.lua DIR")

local function uuid(n)
  return string.format("%08x-%04x-4%03x-a%03x-%012x", n * 2654435761 % 0x100000000, n % 0x10000,
    n % 0x1000, (n * 7) % 0x1000, n * 1000003)
end

local function contact(i)
  local stamp = "2026-11-24T10:00:00Z"
  return {
    contact_id = uuid(i),
    email_address = {
      address = ("person%d@example.com"):format(i), permission_to_send = "implicit",
      created_at = stamp, updated_at = stamp, opt_in_source = "Account", opt_in_date = stamp,
      confirm_status = "off",
    },
    first_name = "First" .. i, last_name = "Last" .. i, job_title = "Engineer",
    company_name = "Example Co", create_source = "Account",
    created_at = stamp, updated_at = stamp,
    list_memberships = { uuid(i + 1000000) },
  }
end

-- A contact as GET /contacts?include=... returns it with every include: about
-- 1.9 KiB of JSON, so that 500 of them make the 946 KiB page of the decode bench
-- (the page size the issue's figures are for; bench/run checks it).
local function contact_full(i)
  local c = contact(i)
  local stamp = "2026-11-24T10:00:00Z"
  c.birthday_month, c.birthday_day, c.anniversary = i % 12 + 1, i % 28 + 1, "2006-11-15"
  c.sms_channel = { full_sms_address = "+1555" .. (1000000 + i), sms_channel_consents = {
    { sms_consent_permission = "explicit", consent_type = "promotional_sms", opt_in_date = stamp } } }
  c.custom_fields = {}
  for k = 1, 4 do
    c.custom_fields[k] = { custom_field_id = uuid(i * 10 + k), value = "value " .. k .. " of " .. i }
  end
  c.phone_numbers = { { phone_number_id = uuid(i + 2000000), phone_number = "+1-555-0100", kind = "home",
                        created_at = stamp, updated_at = stamp, update_source = "Account", create_source = "Account" } }
  c.street_addresses = { { street_address_id = uuid(i + 3000000), kind = "home", street = i .. " Main Street",
                           city = "Springfield", state = "MA", postal_code = "01101", country = "United States",
                           created_at = stamp, updated_at = stamp } }
  c.list_memberships = { uuid(i + 1000000), uuid(i + 1000001), uuid(i + 1000002) }
  c.taggings = { uuid(i + 4000000) }
  c.notes = { { note_id = uuid(i + 5000000), created_at = stamp, content = "Met at the town fall fair." } }
  return c
end

local function page(n, next_href, first, make)
  local contacts = {}
  for i = 1, n do contacts[i] = (make or contact)((first or 0) + i) end
  return cjson.encode { contacts = contacts, _links = { next = { href = next_href } } }
end

local function write(name, text)
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(text)
  f:close()
end

for name, n in pairs { ["contacts-1.json"] = 1, ["contacts-500.json"] = 500 } do
  write(name, page(n, "/v3/contacts?cursor=bGltaXQ9NTAwJm5leHQ9NTAx"))
end
local full = page(500, "/v3/contacts?cursor=bGltaXQ9NTAwJm5leHQ9NTAx", 0, contact_full)
write("contacts-full-500.json", full)
write("full/contacts", full) -- GET /contacts?limit=500 under base URL .../static/full

-- big.json: a 64 MB body (just under; decode's default limit is 64 MiB) of
-- full contacts, for the decode memory benchmark. Encoded contact by contact,
-- so making it does not hold 33,000 contacts as tables.
do
  local LIMIT, pieces, size = 64000000, {}, 40
  local i = 0
  while true do
    local text = cjson.encode(contact_full(i + 1))
    if size + #text + 1 > LIMIT then break end
    i = i + 1
    pieces[i], size = text, size + #text + 1
  end
  write("big.json", '{"contacts":[' .. table.concat(pieces, ",") .. '],"_links":{}}')
end

-- A long collection for the memory benchmark: "contacts" (what GET /contacts
-- asks for under base URL .../static) is page 1 of 201 files, each linking to
-- the next by a new path (the pager refuses links that go round in a cycle).
-- Pages alternate between two sets of 500 contacts: the text is made twice and
-- only the link differs.
local PAGES = 201
local texts = { page(500, "@NEXT@", 500), page(500, "@NEXT@", 1000) }
for n = 1, PAGES do
  local next_href = n < PAGES and ("/static/contacts-%d?cursor=%d"):format(n + 1, n + 1) or nil
  local text = texts[n % 2 + 1]
  if next_href then
    text = text:gsub("@NEXT@", next_href)
  else
    text = text:gsub(',?"_links":{"next":{"href":"@NEXT@"}},?', "")
  end
  write(n == 1 and "contacts" or ("contacts-%d"):format(n), text)
end
