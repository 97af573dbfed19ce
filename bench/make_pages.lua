-- Writes the benchmark's fixed responses into DIR: contacts pages shaped like
-- the API's GET /contacts (one contact, and 500 contacts).
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
-- 1.9 KB of JSON, so that 500 of them make the 946 KB page of the decode bench.
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
  c.taggings = { uuid(i + 4000000), uuid(i + 4000001) }
  c.notes = { { note_id = uuid(i + 5000000), created_at = stamp, content = "Met at the fall fair; asked for the newsletter." } }
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
write("contacts-full-500.json", page(500, "/v3/contacts?cursor=bGltaXQ9NTAwJm5leHQ9NTAx", 0, contact_full))

-- An endless collection for the memory benchmark: "contacts" (what GET /contacts
-- asks for under base URL .../static) links to contacts-b, which links to
-- contacts-a, which links back to contacts-b: 500 new-looking contacts a page.
write("contacts", page(500, "/static/contacts-b?cursor=b", 0))
write("contacts-a", page(500, "/static/contacts-b?cursor=b", 500))
write("contacts-b", page(500, "/static/contacts-a?cursor=a", 1000))
