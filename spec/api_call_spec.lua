-- client:call and the resource objects against a scripted transport: what is
-- checked before anything is sent, and what goes on the wire.
local ctct = require "ctct"
local cjson = require "cjson"
local fake = require "spec.helpers.fake_transport"
local OPS = require("ctct.api.operations").operations

local UUID = "3a8f5ee8-6c4b-11ee-b962-0242ac120002"

local function client(script)
  local t = fake.new(script)
  return ctct.new { access_token = "t", base_url = "https://api.example.test/v3", transport = t,
                    rate_limit = false, retry = false, sleep = t.sleep, clock = t.now }, t
end

local function ok_json(body)
  return { status = 200, body = cjson.encode(body or {}) }
end

-- The request line and decoded query of the only request sent.
local function sent(t, i)
  local r = assert(t.requests[i or 1], "no request was sent")
  local path, query = r.url:match("^https://api%.example%.test/v3([^?]*)%??(.*)$")
  return r, path, query
end

describe("client:call", function()
  it("knows all 128 operations of the spec", function()
    local n = 0
    for _ in pairs(OPS) do n = n + 1 end
    assert.are.equal(128, n)
  end)

  it("rejects an unknown operation id, suggesting close matches, and sends nothing", function()
    local c, t = client {}
    local data, err = c:call("getContact5", {})
    assert.is_nil(data)
    assert.are.equal("validation", err.kind)
    assert.are.equal("unknown_operation", err.error_key)
    assert.truthy(err.message:find("getContact", 1, true))
    local found = false
    for _, s in ipairs(err.suggestions) do if s == "getContact" then found = true end end
    assert.is_true(found)
    assert.are.equal(0, #t.requests)
  end)

  it("names a missing required parameter", function()
    local c, t = client {}
    local _, err = c:call("getContact", {})
    assert.are.equal("validation", err.kind)
    assert.are.equal("contact_id", err.param)
    assert.truthy(err.message:find("required", 1, true))
    assert.are.equal(0, #t.requests)
  end)

  it("names a parameter the operation does not take", function()
    local c, t = client {}
    local _, err = c:call("getTags", { limitt = 5 })
    assert.are.equal("limitt", err.param)
    assert.truthy(err.message:find("limit", 1, true))
    assert.are.equal(0, #t.requests)
  end)

  it("rejects an enum value outside the spec, listing the allowed ones", function()
    local c, t = client {}
    local _, err = c:call("getContacts", { status = { "active", "sleeping" } })
    assert.are.equal("status", err.param)
    assert.truthy(err.message:find("unsubscribed", 1, true))
    assert.truthy(err.message:find("'sleeping'", 1, true))
    assert.are.equal(0, #t.requests)
  end)

  it("rejects a limit outside the spec's range and accepts its bounds", function()
    local c, t = client { ok_json { contacts = {} }, ok_json { contacts = {} } }
    local _, err = c:call("getContacts", { limit = 501 })
    assert.are.equal("limit", err.param)
    assert.truthy(err.message:find("500", 1, true))
    _, err = c:call("getContacts", { limit = 0 })
    assert.are.equal("limit", err.param)
    _, err = c:call("getContacts", { limit = 2.5 })
    assert.are.equal("limit", err.param)
    assert.are.equal(0, #t.requests)
    assert(c:call("getContacts", { limit = 500 }))
    assert(c:call("getContacts", { limit = 1 }))
    assert.are.equal(2, #t.requests)
  end)

  it("rejects path values that would change the path", function()
    local c, t = client {}
    for _, bad in ipairs { "../account", "a/b", "..", ".", "x?y=1", "x#y", "%2e%2e", "a\\b", "a\nb", "" } do
      local _, err = c:call("getContact", { contact_id = bad })
      assert.are.equal("validation", err.kind, bad)
      assert.are.equal("contact_id", err.param, bad)
    end
    assert.are.equal(0, #t.requests)
  end)

  it("percent-encodes path values and keeps commas of id lists", function()
    local c, t = client { ok_json {}, ok_json {} }
    assert(c:call("getCustomField", { custom_field_id = UUID }))
    local _, path = sent(t)
    assert.are.equal("/contact_custom_fields/" .. UUID, path)
    assert(c:call("getEmailSummary", { campaign_ids = { UUID, UUID } }))
    _, path = sent(t, 2)
    assert.are.equal("/reports/stats/email_campaigns/" .. UUID .. "," .. UUID, path)
  end)

  it("checks each id of a comma-separated path list, and the list's size", function()
    local c, t = client { ok_json {} }
    local _, err = c:call("getEmailCampaignActivitySummary", { campaign_activity_ids = { UUID, "../x" } })
    assert.are.equal("campaign_activity_ids", err.param)
    assert.truthy(err.message:find("item 2", 1, true), err.message)
    local many = {}
    for i = 1, 11 do many[i] = UUID end
    _, err = c:call("getEmailCampaignActivitySummary", { campaign_activity_ids = many })
    assert.truthy(err.message:find("at most 10", 1, true), err.message)
    _, err = c:call("getEmailCampaignActivitySummary", { campaign_activity_ids = {} })
    assert.are.equal("campaign_activity_ids", err.param)
    assert.are.equal(0, #t.requests)
    assert(c:call("getEmailCampaignActivitySummary", { campaign_activity_ids = UUID }))
    local _, path = sent(t)
    assert.are.equal("/reports/stats/email_campaign_activities/" .. UUID, path)
  end)

  it("serialises csv arrays as a,b and multi arrays as repeated names", function()
    local c, t = client { ok_json { contacts = {} }, ok_json {} }
    assert(c:call("getContacts", { include = { "custom_fields", "list_memberships" }, status = "all" }))
    local _, _, query = sent(t)
    assert.truthy(query:find("include=custom_fields,list_memberships", 1, true), query)
    assert.truthy(query:find("status=all", 1, true), query)
    assert(c:call("getBounces", { campaign_activity_id = UUID, bounce_code = { "B", "D" } }))
    _, _, query = sent(t, 2)
    assert.truthy(query:find("bounce_code=B&bounce_code=D", 1, true), query)
  end)

  it("takes a comma-separated string for an array, as a command line gives it", function()
    local c, t = client { ok_json { contacts = {} } }
    assert(c:call("getContacts", { include = "taggings,notes" }))
    local _, _, query = sent(t)
    assert.truthy(query:find("include=taggings,notes", 1, true), query)
  end)

  it("rejects more list items than the spec allows", function()
    local c, t = client {}
    local ids = {}
    for i = 1, 600 do ids[i] = UUID end
    local _, err = c:call("getContacts", { lists = ids })
    assert.are.equal("lists", err.param)
    assert.truthy(err.message:find("at most", 1, true))
    assert.are.equal(0, #t.requests)
  end)

  it("sends the body as JSON and decodes the answer", function()
    local c, t = client { { status = 201, body = '{"tag_id":"' .. UUID .. '","name":"VIP"}' } }
    local tag = assert(c:call("postTag", { body = { name = "VIP" } }))
    assert.are.equal(UUID, tag.tag_id)
    local r, path = sent(t)
    assert.are.equal("POST", r.method)
    assert.are.equal("/contact_tags", path)
    assert.are.same({ name = "VIP" }, cjson.decode(r.body))
  end)

  it("sends multipart form data for the CSV file import", function()
    local c, t = client { { status = 201, body = '{"activity_id":"' .. UUID .. '","state":"initialized"}' } }
    assert(c:call("contactsCSVImport", { file = "email\na@b.example\n", list_ids = { UUID } }))
    local r = sent(t)
    local ctype = r.headers["Content-Type"]
    local boundary = ctype:match("^multipart/form%-data; boundary=(.+)$")
    assert.is_string(boundary)
    assert.truthy(r.body:find('name="file"; filename=', 1, true))
    assert.truthy(r.body:find("email\na@b.example\n", 1, true))
    assert.truthy(r.body:find('name="list_ids"\r\n\r\n' .. UUID, 1, true))
    assert.truthy(r.body:find("--" .. boundary .. "--", 1, true))
  end)

  it("asks for CSV and returns it raw for the export download", function()
    local c, t = client { { status = 200, headers = { ["content-type"] = "text/csv" }, body = "email\na@b.example\n" } }
    local body = assert(c:call("getContactsExport", { file_export_id = UUID }))
    assert.are.equal("email\na@b.example\n", body)
    assert.are.equal("text/csv", sent(t).headers.Accept)
  end)
end)

describe("resource objects", function()
  it("refuse a contact with neither email nor phone before sending", function()
    local c, t = client {}
    local _, err = c.contacts:create { first_name = "Nobody" }
    assert.are.equal("validation", err.kind)
    assert.are.equal("email_address", err.param)
    assert.are.equal(0, #t.requests)
  end)

  it("default create_source to Account and send the contact", function()
    local c, t = client { { status = 201, body = '{"contact_id":"' .. UUID .. '"}' } }
    assert(c.contacts:create { email_address = { address = "a@b.example" } })
    local body = cjson.decode(sent(t).body)
    assert.are.equal("Account", body.create_source)
  end)

  it("refuse a campaign whose from_email is not a confirmed sender address", function()
    local emails = { { email_address = "ok@b.example", confirm_status = "CONFIRMED" },
                     { email_address = "new@b.example", confirm_status = "UNCONFIRMED" } }
    local c, t = client { ok_json(emails) }
    local _, err = c.campaigns:create { name = "Launch", from_name = "Shop", from_email = "new@b.example",
      reply_to_email = "ok@b.example", subject = "Hi", html_content = "<p>Hi</p>[[trackingImage]]" }
    assert.are.equal("validation", err.kind)
    assert.are.equal("from_email", err.param)
    assert.are.equal(1, #t.requests) -- only the GET /account/emails
    local _, path = sent(t)
    assert.are.equal("/account/emails", path)
  end)

  it("report a malformed CSV row by its line number before sending", function()
    local c, t = client {}
    local _, err = c.activities:import_csv("email,first_name\na@b.example,A\nb@b.example\nc@b.example,C\n",
      { list_ids = { UUID } })
    assert.are.equal("validation", err.kind)
    assert.truthy(err.message:find("line 3", 1, true), err.message)
    assert.are.equal(3, err.details[1].line)
    _, err = c.activities:import_csv('email\n"unclosed@b.example\n', { list_ids = { UUID } })
    assert.truthy(err.message:find("line 2", 1, true), err.message)
    _, err = c.activities:import_csv("email\nnot-an-email\n", { list_ids = { UUID } })
    assert.truthy(err.message:find("line 2", 1, true), err.message)
    assert.are.equal(0, #t.requests)
  end)

  it("split a CSV import above 40,000 lines into chunks, each with the header", function()
    local answers = {}
    for i = 1, 3 do
      answers[i] = { status = 201, body = ('{"activity_id":"%s","state":"initialized"}'):format(UUID) }
    end
    local c, t = client(answers)
    local rows = { "email,first_name" }
    for i = 1, 85000 do rows[#rows + 1] = ("c%d@b.example,N%d"):format(i, i) end
    local group = assert(c.activities:import_csv(table.concat(rows, "\n") .. "\n", { list_ids = { UUID } }))
    assert.are.equal(3, #t.requests)
    local total = 0
    for i, r in ipairs(t.requests) do
      local file = r.body:match('name="file"; filename="[^"]*"\r\nContent%-Type: text/csv\r\n\r\n(.-)\r\n%-%-')
      assert.is_string(file, "request " .. i .. " has no file part")
      local lines = select(2, file:gsub("\n", ""))
      assert.is_true(lines <= 40000, "chunk " .. i .. " has " .. lines .. " lines")
      assert.are.equal("email,first_name\n", file:sub(1, 17))
      total = total + lines - 1
    end
    assert.are.equal(85000, total)
    assert.are.equal(3, #group.activities)
  end)

  it("split a JSON import above 4 MB", function()
    local answers = {}
    for i = 1, 4 do
      answers[i] = { status = 201, body = ('{"activity_id":"%s","state":"initialized"}'):format(UUID) }
    end
    local c, t = client(answers)
    local contacts = {}
    for i = 1, 30000 do
      -- Each field at the spec's 50-character limit: over 4 MB in all.
      local long = ("x"):rep(45) .. ("%05d"):format(i)
      contacts[i] = { email = ("c%d@b.example"):format(i), first_name = long, last_name = long,
                      job_title = long, company_name = long }
    end
    assert(c.activities:import_contacts(contacts, { list_ids = { UUID } }))
    assert.is_true(#t.requests >= 2)
    local n = 0
    for _, r in ipairs(t.requests) do
      assert.is_true(#r.body <= 4 * 1024 * 1024, "a request body is " .. #r.body .. " bytes")
      n = n + #cjson.decode(r.body).import_data
    end
    assert.are.equal(30000, n)
  end)

  it("follow next links on the client's host only", function()
    local c = client {
      ok_json { lists = { { list_id = "1" } },
                _links = { next = { href = "https://evil.example/v3/contact_lists?cursor=x" } } },
    }
    local ok, err = pcall(function()
      for _ in c.lists:each() do end
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("another host", 1, true), tostring(err))
  end)
end)
