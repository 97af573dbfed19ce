-- The sandbox's bulk activities (/activities/...) and the remaining contact operations
-- (counts, xrefs, sign_up_form, resubscribe, sms_engagement_history), driven with curl.
local sandbox = require "spec.helpers.sandbox"

local quote = sandbox.quote

describe("sandbox bulk activities #once", function()
  local sb
  local tmpfiles = {}

  local function tmpfile(data)
    local path = os.tmpname()
    sandbox.write_file(path, data)
    tmpfiles[#tmpfiles + 1] = path
    return path
  end

  setup(function()
    sb = sandbox.start{}
  end)

  teardown(function()
    if sb then sb:stop() end
    for _, path in ipairs(tmpfiles) do os.remove(path) end
  end)

  before_each(function()
    sb:reset()
    sb:config{ rate_limit_per_second = 0, daily_quota = 0 }
  end)

  local function post(path, body)
    return sb:api("POST", path, body)
  end

  local function ok(want, status, body)
    assert.are.equal(want, status, type(body) == "table" and require("cjson").encode(body) or tostring(body))
    return body
  end

  local function new_list(name)
    return ok(201, post("/contact_lists", { name = name })).list_id
  end

  local function new_tag(name)
    return ok(201, post("/contact_tags", { name = name })).tag_id
  end

  local function new_contact(email, list_ids, extra)
    local body = { email_address = { address = email }, create_source = "Account",
                   list_memberships = list_ids }
    for k, v in pairs(extra or {}) do body[k] = v end
    return ok(201, post("/contacts", body)).contact_id
  end

  local function get_contact(id)
    return ok(200, sb:api("GET", "/contacts/" .. id .. "?include=list_memberships,taggings,custom_fields"))
  end

  -- Polls until the activity is completed; returns it and the states seen.
  local function finish(activity_id, max)
    local seen = {}
    for _ = 1, max or 10 do
      local a = ok(200, sb:api("GET", "/activities/" .. activity_id))
      seen[#seen + 1] = ("%s:%d"):format(a.state, a.percent_done)
      if a.state == "completed" then return a, seen end
    end
    error("activity " .. activity_id .. " did not complete: " .. table.concat(seen, " "))
  end

  -- multipart/form-data import with curl -F.
  local function file_import(csv_text, list_ids, extra_fields)
    local path = tmpfile(csv_text)
    local extra = { "-F " .. quote("file=@" .. path .. ";filename=contacts.csv;type=text/csv"),
                    "-F " .. quote("list_ids=" .. table.concat(list_ids, ",")) }
    for _, f in ipairs(extra_fields or {}) do extra[#extra + 1] = "-F " .. quote(f) end
    return sb:api("POST", "/activities/contacts_file_import", nil, { extra = extra })
  end

  local function error_message(body)
    return type(body) == "table" and body[1] and body[1].error_message or tostring(body)
  end

  describe("progression", function()
    it("answers 201 initialized, then processing with percent_done rising, then completed", function()
      local list = new_list("L")
      local a = ok(201, post("/activities/contacts_json_import", {
        import_data = { { email = "a@example.com" }, { email = "b@example.com" }, { email = "c@example.com" } },
        list_ids = { list },
      }))
      assert.are.equal("initialized", a.state)
      assert.are.equal(0, a.percent_done)
      assert.are.same({}, a.activity_errors)
      assert.are.equal("/v3/activities/" .. a.activity_id, a._links.self.href)
      local _, seen = finish(a.activity_id)
      assert.are.same({ "processing:33", "processing:66", "completed:100" }, seen)
    end)

    it("takes as many polls as activity_polls says; 0 does the work in the POST", function()
      local list = new_list("L")
      sb:config{ activity_polls = 1 }
      local a = ok(201, post("/activities/contacts_json_import",
        { import_data = { { email = "a@example.com" } }, list_ids = { list } }))
      local _, seen = finish(a.activity_id)
      assert.are.same({ "completed:100" }, seen)

      sb:config{ activity_polls = 0 }
      a = ok(201, post("/activities/contacts_json_import",
        { import_data = { { email = "b@example.com" } }, list_ids = { list } }))
      assert.are.equal("initialized", a.state)   -- the answer, as the API's
      local body = ok(200, sb:api("GET", "/contacts?email=b@example.com"))
      assert.are.equal(1, #body.contacts)        -- but the work is done
      local status = sb:admin("POST", "/__sandbox/config", { activity_polls = -1 })
      assert.are.equal(400, status)
    end)

    it("lists activities with a state filter and limit paging", function()
      local list = new_list("L")
      local ids = {}
      for i = 1, 3 do
        ids[i] = ok(201, post("/activities/contacts_json_import",
          { import_data = { { email = "p" .. i .. "@example.com" } }, list_ids = { list } })).activity_id
      end
      finish(ids[2])
      local body = ok(200, sb:api("GET", "/activities?state=completed"))
      assert.are.equal(1, #body.activities)
      assert.are.equal(ids[2], body.activities[1].activity_id)
      body = ok(200, sb:api("GET", "/activities?limit=2"))
      assert.are.equal(2, #body.activities)
      assert.truthy(body._links.next.href:match("^/v3/activities%?cursor="))
      local status, err = sb:api("GET", "/activities?state=bogus")
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("state"))
      status = sb:api("GET", "/activities?limit=501")
      assert.are.equal(400, status)
      status = sb:api("GET", "/activities/00000000-0000-4000-8000-000000000000")
      assert.are.equal(404, status)
    end)
  end)

  describe("CSV file import", function()
    it("creates and updates contacts by email, adds them to the lists, reports bad rows by line", function()
      local list1, list2 = new_list("One"), new_list("Two")
      ok(201, post("/contact_custom_fields", { label = "Shoe size", type = "number" }))
      local existing = new_contact("old@example.com", { list1 }, { first_name = "Old" })
      local csv_text = table.concat({
        "email,first_name,last_name,phone,job_title,company_name,city,cf:Shoe_size",
        "new1@example.com,Ann,Lee,555-0100,Chef,Acme,Boston,42",
        "not-an-email,Bad,Row,,,,,",
        "OLD@example.com,Renamed,,,,,,",
        "",
        "\"new2@example.com\",\"Smith, Jr\",\"Quote \"\"Q\"\"\",,,,,",
        "new3@example.com,X,Y,,,,,not-a-number",
        ",NoEmail,,,,,,",
      }, "\n") .. "\n"
      local a = ok(201, file_import(csv_text, { list1, list2 }))
      assert.are.equal("initialized", a.state)
      assert.are.equal("contacts.csv", a.source_file_name)
      a = finish(a.activity_id)
      assert.are.same({
        "Line 3: invalid email address 'not-an-email'",
        "Line 7: value 'not-a-number' is not a number for custom field Shoe_size",
        "Line 8: has neither an email nor an sms_number",
      }, a.activity_errors)
      assert.are.equal(8, a.status.items_total_count)
      assert.are.equal(8, a.status.items_completed_count)
      assert.are.equal(6, a.status.person_count)
      assert.are.equal(2, a.status.correctable_count)   -- bad email, no email
      assert.are.equal(1, a.status.error_count)

      local c = ok(200, sb:api("GET", "/contacts?email=new1@example.com&include=list_memberships,phone_numbers,"
        .. "street_addresses,custom_fields")).contacts[1]
      assert.are.equal("Ann", c.first_name)
      assert.are.equal("Chef", c.job_title)
      assert.are.equal("implicit", c.email_address.permission_to_send)
      assert.are.equal("Account", c.email_address.opt_in_source)
      assert.are.same({ list1, list2 }, c.list_memberships)
      assert.are.equal("555-0100", c.phone_numbers[1].phone_number)
      assert.are.equal("Boston", c.street_addresses[1].city)
      assert.are.equal("42", c.custom_fields[1].value)

      local old = get_contact(existing)
      assert.are.equal("Renamed", old.first_name)
      assert.are.same({ list1, list2 }, old.list_memberships)

      local q = ok(200, sb:api("GET", "/contacts?email=new2@example.com")).contacts[1]
      assert.are.equal("Smith, Jr", q.first_name)
      assert.are.equal('Quote "Q"', q.last_name)
      assert.are.equal(0, #ok(200, sb:api("GET", "/contacts?email=new3@example.com")).contacts)

      local listed = ok(200, sb:api("GET", "/contact_lists/" .. list2 .. "?include_membership_count=all"))
      assert.are.equal(3, listed.membership_count)
    end)

    it("rejects a file over 40,000 lines (400) or 4 MB (413), and bad requests", function()
      local list = new_list("L")
      local rows = { "email" }
      for i = 1, 40000 do rows[#rows + 1] = "u" .. i .. "@example.com" end
      local status, err = file_import(table.concat(rows, "\n") .. "\n", { list })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("40,001 lines") or error_message(err):match("40001 lines"))

      local big = "email,first_name\n" .. string.rep("someone@example.com," .. string.rep("x", 40) .. "\n", 70000)
      status = file_import(big, { list })
      assert.are.equal(413, status)

      status, err = file_import("first_name\nAnn\n", { list })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("email or sms_number"))
      status, err = file_import("email,favourite_colour\na@example.com,red\n", { list })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("favourite_colour"))
      status, err = file_import("email,cf:nope\na@example.com,red\n", { list })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("nope"))
      status, err = file_import("email\na@example.com\n", { "00000000-0000-4000-8000-000000000000" })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("list_ids"))
      status, err = file_import("email\na@example.com\n", { list }, { "sms_permission_to_send=maybe" })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("sms_permission_to_send"))
      status = post("/activities/contacts_file_import", { list_ids = { list } })
      assert.are.equal(415, status)
    end)

    it("imports 50,000 contacts in two files (40,000 + 10,002 lines) #slow", function()
      local list = new_list("Big")
      local function chunk(from, to)
        local rows = { "email,first_name,last_name,company_name" }
        for i = from, to do
          rows[#rows + 1] = ("user%d@example.com,First%d,Last%d,Company %d"):format(i, i, i, i % 97)
        end
        return table.concat(rows, "\n") .. "\n"
      end
      local started = os.time()
      local clock = os.clock()
      local t0 = sandbox.run("date +%s%N")
      local a1 = ok(201, file_import(chunk(1, 39999), { list }))
      local a2 = ok(201, file_import(chunk(40000, 50000), { list }))
      local done1, seen1 = finish(a1.activity_id)
      local done2 = finish(a2.activity_id)
      local t1 = sandbox.run("date +%s%N")
      local elapsed = (tonumber(t1) - tonumber(t0)) / 1e9
      print(("\n50,000-contact import (2 files, %s polls for the first): %.2f s"):format(#seen1, elapsed))
      assert.are.equal(40000, done1.status.items_total_count)
      assert.are.equal(39999, done1.status.person_count)
      assert.are.equal(10002, done2.status.items_total_count)
      assert.are.equal(0, done1.status.error_count + done1.status.correctable_count)
      local counts = ok(200, sb:api("GET", "/contacts/counts"))
      assert.are.equal(50000, counts.total)
      local listed = ok(200, sb:api("GET", "/contact_lists/" .. list .. "?include_membership_count=all"))
      assert.are.equal(50000, listed.membership_count)
      assert.is_true(elapsed < 20, "took " .. elapsed .. " s")
      assert.is_true(os.time() - started < 30 and os.clock() - clock < 30)

      -- and export them all
      local e = ok(201, post("/activities/contact_exports", { fields = { "email_address", "first_name" } }))
      e = finish(e.activity_id)
      local status, text, headers = sb:api("GET", "/contact_exports/" .. e.activity_id)
      assert.are.equal(200, status)
      assert.truthy(headers["content-type"]:match("^text/csv"))
      local n = select(2, text:gsub("\n", ""))
      assert.are.equal(50001, n)
      assert.truthy(text:match("^email_address,first_name\r\nuser1@example.com,First1\r\n"))
      assert.truthy(text:match("user50000@example.com,First50000\r\n$"))
    end)
  end)

  describe("JSON import", function()
    it("imports import_data into the lists and reports bad items by index", function()
      local list = new_list("L")
      local a = ok(201, post("/activities/contacts_json_import", {
        import_data = {
          { email = "j1@example.com", first_name = "J", birthday_month = 5, birthday_day = 17,
            home_phone = "555-1", work_city = "Paris" },
          { email = "broken", first_name = "K" },
          { first_name = "Nobody" },
          { email = "j2@example.com", birthday_month = 13, birthday_day = 1 },
        },
        list_ids = { list },
      }))
      a = finish(a.activity_id)
      assert.are.same({
        "import_data[1]: invalid email address 'broken'",
        "import_data[2]: has neither an email nor an sms_number",
        "import_data[3]: invalid birthday (birthday_month '13', birthday_day '1')",
      }, a.activity_errors)
      assert.are.equal(4, a.status.items_total_count)
      assert.are.equal(3, a.status.correctable_count)
      local c = ok(200, sb:api("GET",
        "/contacts?email=j1@example.com&include=list_memberships,phone_numbers,street_addresses")).contacts[1]
      assert.are.equal(5, c.birthday_month)
      assert.are.same({ list }, c.list_memberships)
      assert.are.equal("home", c.phone_numbers[1].kind)
      assert.are.equal("work", c.street_addresses[1].kind)
      assert.are.equal("Paris", c.street_addresses[1].city)
    end)

    it("does not add previously unsubscribed contacts to lists", function()
      local list = new_list("L")
      local id = new_contact("gone@example.com", nil,
        { email_address = { address = "gone@example.com", permission_to_send = "unsubscribed" } })
      local a = finish(ok(201, post("/activities/contacts_json_import",
        { import_data = { { email = "gone@example.com", last_name = "Gone" } }, list_ids = { list } })).activity_id)
      assert.are.equal(1, a.status.cannot_add_to_list_count)
      local c = get_contact(id)
      assert.are.equal("Gone", c.last_name)
      assert.are.same({}, c.list_memberships)
    end)

    it("validates the body", function()
      local list = new_list("L")
      local status, err = post("/activities/contacts_json_import", { list_ids = { list } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("import_data"))
      status, err = post("/activities/contacts_json_import", { import_data = { { email = "a@example.com" } } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("list_ids"))
      local many = {}
      for i = 1, 51 do many[i] = list end
      status, err = post("/activities/contacts_json_import",
        { import_data = { { email = "a@example.com" } }, list_ids = many })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("list_ids accepts at most 50"))
      status, err = post("/activities/contacts_json_import",
        { import_data = { { email = "a@example.com" } }, list_ids = { list }, sms_permission_to_send = "x" })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("sms_permission_to_send"))
    end)
  end)

  describe("exports", function()
    it("exports contacts to CSV in creation order and serves it from _links.results", function()
      local list = new_list("Export list")
      ok(201, post("/contact_custom_fields", { label = "Color", type = "string" }))
      local c1 = new_contact("e1@example.com", { list }, { first_name = "Eve, the first" })
      local c2 = new_contact("e2@example.com", { list }, { first_name = 'Said "hi"' })
      new_contact("e3@example.com", nil)
      local a = ok(201, post("/activities/contact_exports", { list_ids = { list } }))
      assert.are.equal("initialized", a.state)
      assert.is_nil(a._links.results)
      local status = sb:api("GET", "/contact_exports/" .. a.activity_id)
      assert.are.equal(404, status)   -- not ready yet
      a = finish(a.activity_id)
      assert.are.equal(2, a.status.items_total_count)
      assert.are.equal("/v3/contact_exports/" .. a.activity_id, a._links.results.href)
      local text, headers
      status, text, headers = sb:api("GET", a._links.results.href:sub(4))
      assert.are.equal(200, status)
      assert.truthy(headers["content-type"]:match("^text/csv"))
      local lines = {}
      for line in text:gmatch("([^\n]*)\r\n") do lines[#lines + 1] = line end
      assert.are.equal(3, #lines)
      assert.truthy(lines[1]:match("^contact_id,email_address,first_name,"))
      assert.truthy(lines[1]:match(",cf:Color$"), lines[1])
      assert.are.equal(1, lines[2]:find(c1 .. ',e1@example.com,"Eve, the first",', 1, true))
      assert.truthy(lines[2]:find(",Export list,", 1, true))
      assert.are.equal(1, lines[3]:find(c2 .. ',e2@example.com,"Said ""hi""",', 1, true))
    end)

    it("exports chosen fields of chosen contacts, filtered by status", function()
      local c1 = new_contact("f1@example.com", nil, { first_name = "F1" })
      local c2 = new_contact("f2@example.com", nil,
        { email_address = { address = "f2@example.com", permission_to_send = "unsubscribed" } })
      local a = finish(ok(201, post("/activities/contact_exports",
        { contact_ids = { c2, c1 }, fields = { "email_address", "first_name" } })).activity_id)
      local _, text = sb:api("GET", "/contact_exports/" .. a.activity_id)
      assert.are.equal("email_address,first_name\r\nf1@example.com,F1\r\nf2@example.com,\r\n", text)
      a = finish(ok(201, post("/activities/contact_exports",
        { status = "unsubscribed", fields = { "email_address" } })).activity_id)
      _, text = sb:api("GET", "/contact_exports/" .. a.activity_id)
      assert.are.equal("email_address\r\nf2@example.com\r\n", text)
    end)

    it("validates the body", function()
      local list = new_list("L")
      local status, err = post("/activities/contact_exports", { fields = { "shoe_size" } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("fields%[0%]"))
      status, err = post("/activities/contact_exports", { fields = { "email_optin_date" } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("email_address"))
      status, err = post("/activities/contact_exports",
        { contact_ids = { "00000000-0000-4000-8000-000000000000" }, list_ids = { list } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("contact_ids and list_ids"))
      status, err = post("/activities/contact_exports", { status = "sleeping" })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("status"))
      status = sb:api("GET", "/contact_exports/00000000-0000-4000-8000-000000000000")
      assert.are.equal(404, status)
    end)
  end)

  describe("list memberships and tags", function()
    it("adds and removes list memberships for a source, with exclude", function()
      local from, to = new_list("From"), new_list("To")
      local a1 = new_contact("m1@example.com", { from })
      local a2 = new_contact("m2@example.com", { from })
      local a3 = new_contact("m3@example.com", nil)
      local act = ok(201, post("/activities/add_list_memberships",
        { source = { list_ids = { from } }, exclude = { contact_ids = { a2 } }, list_ids = { to } }))
      assert.are.same({ items_total_count = 1, items_completed_count = 0, list_count = 1 }, act.status)
      act = finish(act.activity_id)
      assert.are.same({ items_total_count = 1, items_completed_count = 1, list_count = 1 }, act.status)
      assert.are.same({ from, to }, get_contact(a1).list_memberships)
      assert.are.same({ from }, get_contact(a2).list_memberships)

      finish(ok(201, post("/activities/add_list_memberships",
        { source = { contact_ids = { a3 } }, list_ids = { to } })).activity_id)
      assert.are.same({ to }, get_contact(a3).list_memberships)

      finish(ok(201, post("/activities/remove_list_memberships",
        { source = { all_active_contacts = true }, list_ids = { to } })).activity_id)
      assert.are.same({ from }, get_contact(a1).list_memberships)
      assert.are.same({}, get_contact(a3).list_memberships)
      local listed = ok(200, sb:api("GET", "/contact_lists/" .. to .. "?include_membership_count=all"))
      assert.are.equal(0, listed.membership_count)
    end)

    it("validates sources and targets, naming the field", function()
      local list = new_list("L")
      local cases = {
        { {}, "source is required" },
        { { source = {}, list_ids = { list } }, "source must have one of source.contact_ids" },
        { { source = { all_active_contacts = true, list_ids = { list } }, list_ids = { list } },
          "mutually exclusive" },
        { { source = { all_active_contacts = true } }, "list_ids is required" },
        { { source = { all_active_contacts = true }, list_ids = sandbox.array() }, "list_ids must contain at least 1" },
        { { source = { contact_ids = { "nope" } }, list_ids = { list } }, "source.contact_ids%[0%] must be a uuid" },
        { { source = { bogus = true }, list_ids = { list } }, "source.bogus" },
        { { source = { contact_ids = { list } }, exclude = { contact_ids = sandbox.array() }, list_ids = { list } },
          "exclude only applies" },
        { { source = { all_active_contacts = true }, list_ids = { "00000000-0000-4000-8000-000000000000" } },
          "list_ids contains" },
      }
      for _, case in ipairs(cases) do
        local status, err = post("/activities/add_list_memberships", case[1])
        assert.are.equal(400, status, case[2])
        assert.truthy(error_message(err):match(case[2]), error_message(err) .. " ~ " .. case[2])
      end
      local too_many = {}
      for i = 1, 501 do too_many[i] = "00000000-0000-4000-8000-" .. ("%012d"):format(i) end
      local status, err = post("/activities/add_list_memberships",
        { source = { contact_ids = too_many }, list_ids = { list } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("source.contact_ids accepts at most 500"))
    end)

    it("adds and removes tags, and deletes tags (shown on no contact any more)", function()
      local list = new_list("L")
      local t1, t2 = new_tag("T1"), new_tag("T2")
      local c1 = new_contact("t1@example.com", { list })
      local c2 = new_contact("t2@example.com", nil)
      local a = finish(ok(201, post("/activities/contacts_taggings_add",
        { source = { list_ids = { list } }, tag_ids = { t1, t2 } })).activity_id)
      assert.are.same({ items_total_count = 1, items_completed_count = 1 }, a.status)
      assert.are.same({ t1, t2 }, get_contact(c1).taggings)
      assert.are.same({}, get_contact(c2).taggings)
      assert.are.equal(1, ok(200, sb:api("GET", "/contact_tags/" .. t1 .. "?include_count=true")).contacts_count)
      local body = ok(200, sb:api("GET", "/contacts?tags=" .. t2))
      assert.are.equal(1, #body.contacts)

      finish(ok(201, post("/activities/contacts_taggings_remove",
        { source = { contact_ids = { c1 } }, tag_ids = { t1 } })).activity_id)
      assert.are.same({ t2 }, get_contact(c1).taggings)

      local unknown = "00000000-0000-4000-8000-000000000000"
      a = finish(ok(201, post("/activities/contacts_tags_delete", { tag_ids = { t2, unknown } })).activity_id)
      assert.are.same({ "Tag " .. unknown .. " not found" }, a.activity_errors)
      assert.are.equal(404, (sb:api("GET", "/contact_tags/" .. t2)))
      assert.are.same({}, get_contact(c1).taggings)
      local status, err = post("/activities/contacts_taggings_add", { source = { list_ids = { list } } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("tag_ids is required"))
      status, err = post("/activities/contacts_tags_delete", { tag_ids = sandbox.array() })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("tag_ids must contain at least 1"))
    end)
  end)

  describe("deletes", function()
    it("deletes contacts by list or ids", function()
      local list = new_list("L")
      local c1 = new_contact("d1@example.com", { list })
      local c2 = new_contact("d2@example.com", nil)
      local keep = new_contact("d3@example.com", nil)
      local a = ok(201, post("/activities/contact_delete", { list_ids = { list } }))
      assert.are.equal(1, a.status.list_count)
      finish(a.activity_id)
      assert.truthy(get_contact(c1).deleted_at)
      a = finish(ok(201, post("/activities/contact_delete",
        { contact_ids = { c2, "00000000-0000-4000-8000-000000000000" } })).activity_id)
      assert.are.same({ "Contact 00000000-0000-4000-8000-000000000000 not found" }, a.activity_errors)
      assert.truthy(get_contact(c2).deleted_at)
      local body = ok(200, sb:api("GET", "/contacts"))
      assert.are.equal(1, #body.contacts)
      assert.are.equal(keep, body.contacts[1].contact_id)
      local status, err = post("/activities/contact_delete", { contact_ids = { c2 }, list_ids = { list } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("mutually exclusive"))
      status, err = post("/activities/contact_delete", {})
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("contact_ids or list_ids"))
    end)

    it("deletes lists and custom fields", function()
      local l1, l2 = new_list("A"), new_list("B")
      local field = ok(201, post("/contact_custom_fields", { label = "Gone", type = "string" })).custom_field_id
      local c = new_contact("x@example.com", { l1, l2 },
        { custom_fields = { { custom_field_id = field, value = "v" } } })
      local a = finish(ok(201, post("/activities/list_delete", { list_ids = { l1 } })).activity_id)
      assert.are.same({ list_count = 1 }, a.status)
      assert.are.equal(404, (sb:api("GET", "/contact_lists/" .. l1)))
      assert.are.same({ l2 }, get_contact(c).list_memberships)
      finish(ok(201, post("/activities/custom_fields_delete", { custom_field_ids = { field } })).activity_id)
      assert.are.equal(404, (sb:api("GET", "/contact_custom_fields/" .. field)))
      assert.are.same({}, get_contact(c).custom_fields)
      local many = {}
      for i = 1, 101 do many[i] = "00000000-0000-4000-8000-" .. ("%012d"):format(i) end
      local status, err = post("/activities/list_delete", { list_ids = many })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("list_ids accepts at most 100"))
      status, err = post("/activities/custom_fields_delete", { custom_field_ids = many })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("custom_field_ids accepts at most 100"))
    end)
  end)

  describe("contacts", function()
    it("counts contacts by consent state", function()
      new_contact("c1@example.com", nil,
        { email_address = { address = "c1@example.com", permission_to_send = "explicit" } })
      new_contact("c2@example.com", nil)
      new_contact("c3@example.com", nil,
        { email_address = { address = "c3@example.com", permission_to_send = "unsubscribed" } })
      local gone = new_contact("c4@example.com", nil)
      assert.are.equal(204, (sb:api("DELETE", "/contacts/" .. gone)))
      assert.are.same({ total = 3, explicit = 1, implicit = 1, pending = 0, unsubscribed = 1 },
        ok(200, sb:api("GET", "/contacts/counts")))
      assert.are.equal(2, ok(200, sb:api("GET", "/contacts/counts?include=new_subscriber")).new_subscriber)
      assert.are.equal(400, (sb:api("GET", "/contacts/counts?include=everything")))
    end)

    it("cross-references V2 sequence ids", function()
      local c1 = new_contact("x1@example.com", nil)
      local c2 = new_contact("x2@example.com", nil)
      local body = ok(200, sb:api("GET", "/contacts/contact_id_xrefs?sequence_ids=2,1,99"))
      assert.are.same({ { sequence_id = "1", contact_id = c1 }, { sequence_id = "2", contact_id = c2 } }, body.xrefs)
      assert.are.equal(400, (sb:api("GET", "/contacts/contact_id_xrefs")))
    end)

    it("creates (201) or updates (200) a contact with sign_up_form", function()
      local l1, l2 = new_list("A"), new_list("B")
      local body = ok(201, post("/contacts/sign_up_form",
        { email_address = "s@example.com", first_name = "S", list_memberships = { l1 } }))
      assert.are.equal("created", body.action)
      local id = body.contact_id
      local c = get_contact(id)
      assert.are.equal("explicit", c.email_address.permission_to_send)
      body = ok(200, post("/contacts/sign_up_form",
        { email_address = "S@example.com", last_name = "T", list_memberships = { l2 } }))
      assert.are.same({ contact_id = id, action = "updated" }, body)
      c = get_contact(id)
      assert.are.equal("S", c.first_name)
      assert.are.equal("T", c.last_name)
      assert.are.same({ l1, l2 }, c.list_memberships)
      local status, err = post("/contacts/sign_up_form", { email_address = "s@example.com" })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("list_memberships is required"))
      status, err = post("/contacts/sign_up_form", { list_memberships = { l1 } })
      assert.are.equal(400, status)
      assert.truthy(error_message(err):match("email_address or sms_channel"))
    end)

    it("resubscribes an unsubscribed contact once", function()
      local list = new_list("L")
      local id = new_contact("r@example.com", nil,
        { email_address = { address = "r@example.com", permission_to_send = "unsubscribed" } })
      local active = new_contact("a@example.com", nil)
      assert.are.equal(200, (sb:api("PUT", "/contacts/resubscribe/" .. id, { list_ids = { list } })))
      local c = get_contact(id)
      assert.are.equal("pending_confirmation", c.email_address.permission_to_send)
      assert.are.same({ list }, c.list_memberships)
      assert.are.equal(409, (sb:api("PUT", "/contacts/resubscribe/" .. id, { list_ids = { list } })))
      assert.are.equal(409, (sb:api("PUT", "/contacts/resubscribe/" .. active, { list_ids = { list } })))
      assert.are.equal(400, (sb:api("PUT", "/contacts/resubscribe/" .. active, {})))
      assert.are.equal(404, (sb:api("PUT", "/contacts/resubscribe/00000000-0000-4000-8000-000000000000",
        { list_ids = { list } })))
    end)

    it("answers the SMS engagement history", function()
      local sms = ok(201, post("/contacts", { create_source = "Account", sms_channel = {
        full_sms_address = "15551234567",
        sms_channel_consents = { { sms_consent_permission = "explicit", consent_type = "promotional_sms" } } } }))
      local body = ok(200, sb:api("GET", "/contacts/sms_engagement_history/" .. sms.contact_id))
      assert.are.equal(1, #body)
      assert.are.equal(sms.contact_id, body[1].contact_id)
      assert.are.equal("promotional_sms", body[1].history_details.consent_type)
      assert.are.equal("opt_in", body[1].history_details.consent_action_type)
      local plain = new_contact("p@example.com", nil)
      local _, raw = sb:api("GET", "/contacts/sms_engagement_history/" .. plain)
      assert.are.same({}, raw)
      assert.are.equal(404, (sb:api("GET", "/contacts/sms_engagement_history/00000000-0000-4000-8000-000000000000")))
    end)
  end)
end)
