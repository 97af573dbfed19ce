-- The resource objects against the sandbox: the main flows of the API guide,
-- end to end through the library (contacts with lists and tags, pagination,
-- campaigns, bulk import and export).
local ctct = require "ctct"
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"

describe("resource objects against the sandbox", function()
  local sb, client, dir
  lazy_setup(function()
    sb = sandbox.start()
    client = ctct.new { access_token = sb.token, base_url = sb.base_url, rate_limit = false,
                        sleep = function(s) core.sleep(math.min(s, 0.2)) end }
    dir = assert(io.popen("mktemp -d")):read("*l")
  end)
  lazy_teardown(function()
    if client then client:close() end
    if sb then sb:stop() end
    if dir then sandbox.run("rm -rf " .. sandbox.quote(dir)) end
  end)
  before_each(function() sb:reset(); sb:config { rate_limit_per_second = 0 } end)

  it("runs a contact's life with lists and tags", function()
    local vip = assert(client.lists:create { name = "VIP" })
    local news = assert(client.lists:create { name = "Newsletter" })
    local tag = assert(client.tags:create { name = "Early bird" })
    local ada = assert(client.contacts:create {
      email_address = { address = "ada@example.com", permission_to_send = "implicit" },
      first_name = "Ada", list_memberships = { vip.list_id }, taggings = { tag.tag_id },
    })
    local other = assert(client.contacts:create { email_address = { address = "bob@example.com" },
                                                  list_memberships = { news.list_id } })

    local got = assert(client.contacts:get(ada.contact_id, { include = { "list_memberships", "taggings" } }))
    assert.are.same({ vip.list_id }, got.list_memberships)
    assert.are.same({ tag.tag_id }, got.taggings)
    assert.are.equal("Account", got.create_source)

    -- Update: join a second list, keep the rest.
    got.list_memberships = { vip.list_id, news.list_id }
    got.first_name = "Augusta Ada"
    assert(client.contacts:update(ada.contact_id, got))
    local again = assert(client.contacts:get(ada.contact_id, { include = { "list_memberships" } }))
    assert.are.equal("Augusta Ada", again.first_name)
    table.sort(again.list_memberships)
    local want = { vip.list_id, news.list_id }
    table.sort(want)
    assert.are.same(want, again.list_memberships)

    -- Filters: by list, by tag.
    local in_news = {}
    for c in client.contacts:each { lists = { news.list_id } } do in_news[#in_news + 1] = c.contact_id end
    table.sort(in_news)
    local expect = { ada.contact_id, other.contact_id }
    table.sort(expect)
    assert.are.same(expect, in_news)
    local tagged = {}
    for c in client.contacts:each { tags = { tag.tag_id } } do tagged[#tagged + 1] = c.contact_id end
    assert.are.same({ ada.contact_id }, tagged)

    -- Renames keep the other fields.
    assert(client.lists:rename(vip.list_id, "VIP customers"))
    assert.are.equal("VIP customers", assert(client.lists:get(vip.list_id)).name)
    assert(client.tags:rename(tag.tag_id, "Early birds"))
    assert.are.equal("Early birds", assert(client.tags:get(tag.tag_id)).name)

    -- Deleting a tag is an activity; afterwards the contact has no taggings.
    local act = assert(client.tags:delete(tag.tag_id))
    assert(act:wait { timeout = 30, interval = 0.05 })
    assert.are.equal("completed", act.state)
    got = assert(client.contacts:get(ada.contact_id, { include = { "taggings" } }))
    assert.are.same({}, got.taggings or {})

    -- A deleted contact is still readable, marked deleted, and out of the collection.
    assert(client.contacts:delete(ada.contact_id))
    local gone = assert(client.contacts:get(ada.contact_id))
    assert.is_string(gone.deleted_at)
    for c in client.contacts:each() do assert.are_not.equal(ada.contact_id, c.contact_id) end
  end)

  it("pages through 2,500 contacts: count and order exact, no duplicates", function()
    local created = {}
    for i = 1, 2500 do
      local c = assert(client.contacts:create { email_address = { address = ("p%04d@example.com"):format(i) } })
      created[i] = c.contact_id
    end
    local before = select(2, sb:admin("GET", "/__sandbox/stats"))
    local seen, order = {}, {}
    for c in client.contacts:each { limit = 500 } do
      assert.is_nil(seen[c.contact_id], "duplicate " .. c.contact_id)
      seen[c.contact_id] = true
      order[#order + 1] = c.contact_id
    end
    assert.are.equal(2500, #order)
    -- The sandbox lists contacts in creation order (the real API's default order).
    assert.are.same(created, order)
    local after = select(2, sb:admin("GET", "/__sandbox/stats"))
    assert.are.equal(5, after.requests - before.requests) -- 5 pages of 500 (admin calls are not counted)

    local some, more = client.contacts:all { max = 1200, limit = 500 }
    assert.are.equal(1200, #some)
    assert.is_true(more)
    local every, rest = client.contacts:all { max = 5000, limit = 500 }
    assert.are.equal(2500, #every)
    assert.is_false(rest)
  end)

  it("takes a campaign from draft to scheduled and back", function()
    local summary = assert(client.account:summary())
    local from = summary.contact_email
    local list = assert(client.lists:create { name = "Audience" })

    local _, err = client.campaigns:create { name = "Bad", from_email = "nobody@example.com", from_name = "X",
      reply_to_email = from, subject = "S", html_content = "<p>x</p>[[trackingImage]]" }
    assert.are.equal("from_email", err.param)

    local campaign = assert(client.campaigns:create { name = "Spring", from_email = from, from_name = "Shop",
      reply_to_email = from, subject = "Spring sale", html_content = "<p>Sale</p>[[trackingImage]]" })
    assert.are.equal("Draft", campaign.current_status)
    local activity_id = client.campaigns.primary_activity_id(campaign)
    assert.is_string(activity_id)

    local activity = assert(client.campaigns:activity(activity_id))
    activity.contact_list_ids = { list.list_id }
    assert(client.campaigns:update_activity(activity_id, activity))

    local when = os.date("!%Y-%m-%dT%H:%M:%S.000Z", os.time() + 86400)
    assert(client.campaigns:schedule(activity_id, when))
    assert.are.equal("Scheduled", assert(client.campaigns:get(campaign.campaign_id)).current_status)
    local schedules = assert(client.campaigns:schedules(activity_id))
    assert.are.equal(1, #schedules)

    assert(client.campaigns:unschedule(activity_id))
    assert.are.equal("Draft", assert(client.campaigns:get(campaign.campaign_id)).current_status)

    assert(client.campaigns:rename(campaign.campaign_id, "Spring (renamed)"))
    assert.are.equal("Spring (renamed)", assert(client.campaigns:get(campaign.campaign_id)).name)
  end)

  it("creates an email-editor campaign (format_type 4) and updates it keeping its document_id", function()
    local from = assert(client.account:summary()).contact_email
    local campaign = assert(client.campaigns:create { name = "Editor", format_type = 4, from_email = from,
      from_name = "Shop", reply_to_email = from, subject = "Editor email",
      html_content = "<p>Hi</p>[[trackingImage]]" })
    local activity_id = client.campaigns.primary_activity_id(campaign)
    local activity = assert(client.campaigns:activity(activity_id))
    assert.are.equal(4, activity.format_type)
    assert.is_string(activity.document_id)
    assert.are.equal(activity.document_id, campaign.campaign_activities[1].document_id)
    activity.subject = "Editor email (2)"
    local updated = assert(client.campaigns:update_activity(activity_id, activity))
    assert.are.equal("Editor email (2)", updated.subject)
    assert.are.equal(activity.document_id, updated.document_id)
  end)

  it("imports 50,000 contacts from CSV in chunks, waits, and downloads an export", function()
    local list = assert(client.lists:create { name = "Imported" })
    local path = dir .. "/people.csv"
    local f = assert(io.open(path, "wb"))
    f:write("email,first_name,last_name\n")
    for i = 1, 50000 do f:write(("bulk%05d@example.com,Bulk,Person %d\n"):format(i, i)) end
    f:close()

    local job = assert(client.activities:import_csv_file(path, { list_ids = { list.list_id } }))
    assert.are.equal(2, #job.activities) -- 40,000 lines per request at most
    local progress = 0
    assert(job:wait { timeout = 300, interval = 0.05, max_interval = 0.5,
                      on_progress = function() progress = progress + 1 end })
    assert.are.equal("completed", job.state)
    assert.is_true(progress >= 2)
    assert.are.same({}, job.errors)

    local n = 0
    for _ in client.contacts:each { lists = { list.list_id }, limit = 500 } do n = n + 1 end
    assert.are.equal(50000, n)

    local export = assert(client.activities:export { list_ids = { list.list_id } })
    assert(export:wait { timeout = 300, interval = 0.05, max_interval = 0.5 })
    local out = dir .. "/export.csv"
    local bytes = assert(export:download(out))
    local lines, first = 0, nil
    for line in io.lines(out) do
      lines = lines + 1
      if lines == 2 then first = line end
    end
    assert.are.equal(50001, lines)
    assert.truthy(first:find("bulk00001@example.com", 1, true), first)
    local fh = assert(io.open(out, "rb"))
    assert.are.equal(bytes, fh:seek("end"))
    fh:close()
    assert.is_nil(io.open(out .. ".part", "rb"))
  end)

  it("surfaces the per-row errors the server reports, with their line numbers", function()
    local list = assert(client.lists:create { name = "Rows" })
    -- Well-formed for the client's checks; the server refuses month 13.
    local csv = "email,birthday_month,birthday_day\nok@example.com,5,17\nbad@example.com,13,1\n"
    local job = assert(client.activities:import_csv(csv, { list_ids = { list.list_id } }))
    assert(job:wait { timeout = 30, interval = 0.05 })
    assert.are.equal("completed", job.state)
    assert.are.equal(1, #job.errors)
    assert.truthy(job.errors[1].message:find("Line 3", 1, true), job.errors[1].message)
    local n = 0
    for _ in client.contacts:each { lists = { list.list_id } } do n = n + 1 end
    assert.are.equal(1, n)
  end)

  -- The examples in docs/API.md are the objects' EXAMPLE strings: each one runs,
  -- with `client` (or `partner`) in scope, and prints something.
  local function run_example(module, label, globals)
    local printed = {}
    globals.print = function(...) printed[#printed + 1] = { ... } end
    local env = setmetatable(globals, { __index = _G })
    local source = require(module).EXAMPLE
    local chunk
    if setfenv then -- LuaJIT
      chunk = assert(loadstring(source, "=" .. label .. ".EXAMPLE"))
      setfenv(chunk, env)
    else
      chunk = assert(load(source, "=" .. label .. ".EXAMPLE", "t", env))
    end
    chunk()
    assert.is_true(#printed > 0)
  end

  for _, name in ipairs { "account", "contacts", "lists", "tags", "custom_fields", "segments", "campaigns",
                          "activities", "reports", "events", "automations", "social" } do
    it("runs the docs example of client." .. name, function()
      run_example("ctct.resources." .. name, name, { client = client })
    end)
  end

  for _, name in ipairs { "accounts", "webhooks" } do
    it("runs the docs example of partner." .. name, function()
      local partner = ctct.partner.new { client_id = sb.partner.client_id, secret = sb.partner.client_secret,
        api_key = sb.partner.api_key, token_url = sb.partner.token_url, base_url = sb.base_url, rate_limit = false }
      run_example("ctct.partner." .. name, "partner." .. name, { partner = partner })
      partner:close()
    end)
  end
end)
