-- examples/quickstart.lua: ctct in one page. Reads the account summary, creates
-- a list and five contacts in it, then pages through them two at a time.
--
--   CTCT_ACCESS_TOKEN=... lua5.4 examples/quickstart.lua          (the real API)
--   make demo                                   (the same against a local sandbox)
--
-- CTCT_BASE_URL points it elsewhere (the sandbox); CTCT_CAFILE trusts a private CA.
local ctct = require "ctct"

local client = ctct.new {
  access_token = os.getenv("CTCT_ACCESS_TOKEN"),
  base_url = os.getenv("CTCT_BASE_URL"), -- nil: https://api.cc.email/v3
  cafile = os.getenv("CTCT_CAFILE"),
}

-- Network calls return `result` or `nil, err`; err is a ctct.Error with a readable tostring.
local function must(data, err)
  if data == nil then
    io.stderr:write("quickstart: ", tostring(err), "\n")
    os.exit(1)
  end
  return data
end

local summary = must(client:request("GET", "/account/summary"))
print(("Account %s: %s"):format(summary.encoded_account_id, summary.organization_name or "(no name)"))

local stamp = os.date("!%Y%m%d%H%M%S")
local list = must(client:request("POST", "/contact_lists", {
  body = { name = "Quickstart " .. stamp, description = "Made by examples/quickstart.lua" },
}))
print(("Created list %q (%s)"):format(list.name, list.list_id))

local people = {
  { "Ada", "Lovelace" }, { "Alan", "Turing" }, { "Grace", "Hopper" },
  { "Edsger", "Dijkstra" }, { "Barbara", "Liskov" },
}
for _, p in ipairs(people) do
  local email = ("%s.%s+%s@example.com"):format(p[1], p[2], stamp):lower()
  local contact = must(client:request("POST", "/contacts", {
    body = {
      email_address = { address = email, permission_to_send = "implicit" },
      first_name = p[1],
      last_name = p[2],
      create_source = "Account",
      list_memberships = { list.list_id },
    },
  }))
  print(("Created contact %s <%s>"):format(contact.contact_id, email))
end

-- Pages follow _links.next.href until the last one.
local count, pages = 0, 0
for page in client:pages("/contacts", { query = { lists = list.list_id, limit = 2 } }) do
  pages = pages + 1
  for _, c in ipairs(page.contacts) do
    count = count + 1
    print(("  page %d: %s %s <%s>"):format(pages, c.first_name, c.last_name, c.email_address.address))
  end
end
print(("Read %d contacts of list %q in %d pages"):format(count, list.name, pages))
client:close()
