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

local function page(n, next_href, first)
  local contacts = {}
  for i = 1, n do contacts[i] = contact((first or 0) + i) end
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

-- An endless collection for the memory benchmark: "contacts" (what GET /contacts
-- asks for under base URL .../static) links to contacts-b, which links to
-- contacts-a, which links back to contacts-b: 500 new-looking contacts a page.
write("contacts", page(500, "/static/contacts-b?cursor=b", 0))
write("contacts-a", page(500, "/static/contacts-b?cursor=b", 500))
write("contacts-b", page(500, "/static/contacts-a?cursor=a", 1000))
