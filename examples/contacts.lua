-- examples/contacts.lua: contacts with lists and tags through the resource objects.
-- Creates a list and a tag, adds contacts (one via the sign-up form call), finds
-- them with filters, updates one, and removes what it made.
--
--   CTCT_ACCESS_TOKEN=... lua5.4 examples/contacts.lua     (the real API)
--   make demo                                 (this and the others against a sandbox)
local ctct = require "ctct"

local client = ctct.new {
  access_token = os.getenv("CTCT_ACCESS_TOKEN"),
  base_url = os.getenv("CTCT_BASE_URL"), -- nil: https://api.cc.email/v3
  cafile = os.getenv("CTCT_CAFILE"),
}

local function must(data, err)
  if data == nil then
    io.stderr:write("contacts: ", tostring(err), "\n")
    os.exit(1)
  end
  return data
end

local stamp = os.date("!%Y%m%d%H%M%S")
local list = must(client.lists:create { name = "Customers " .. stamp })
local tag = must(client.tags:create { name = "VIP " .. stamp })
print(("list %s, tag %s"):format(list.list_id, tag.tag_id))

-- A contact needs an email address or an SMS number; the library checks before sending.
local _, err = client.contacts:create { first_name = "Nobody" }
print("refused before sending: " .. tostring(err))

local ids = {}
for i, name in ipairs { "Ada", "Grace", "Barbara" } do
  local c = must(client.contacts:create {
    email_address = { address = ("%s+%s@example.com"):format(name:lower(), stamp), permission_to_send = "implicit" },
    first_name = name, list_memberships = { list.list_id }, taggings = i == 1 and { tag.tag_id } or nil,
  })
  ids[#ids + 1] = c.contact_id
end

-- create_or_update: what a sign-up form does (matches by email address).
local signed = must(client.contacts:create_or_update {
  email_address = ("ada+%s@example.com"):format(stamp), job_title = "Analyst", list_memberships = { list.list_id },
})
print(("sign-up form: %s (%s)"):format(signed.contact_id, signed.action))

-- Iterate with filters; include asks for the sub-resources.
for c in client.contacts:each { lists = { list.list_id }, include = { "list_memberships", "taggings" }, limit = 2 } do
  print(("  %s <%s> lists=%d tags=%d"):format(c.first_name, c.email_address.address,
    #(c.list_memberships or {}), #(c.taggings or {})))
end
for c in client.contacts:each { tags = { tag.tag_id } } do print("  tagged VIP: " .. c.first_name) end

local grace = must(client.contacts:get(ids[2], { include = { "list_memberships" } }))
grace.last_name = "Hopper"
must(client.contacts:update(ids[2], grace))
print("updated: " .. must(client.contacts:get(ids[2])).last_name)

local counts = must(client.contacts:counts())
print(("contact counts: %d in total, %d explicit, %d implicit"):format(counts.total or 0, counts.explicit or 0,
  counts.implicit or 0))

for _, id in ipairs(ids) do must(client.contacts:delete(id)) end
must(must(client.tags:delete(tag.tag_id)):wait { timeout = 60 })
must(must(client.lists:delete(list.list_id)):wait { timeout = 60 })
print("cleaned up")
