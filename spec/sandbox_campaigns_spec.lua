-- Specs of the sandbox's segments, email campaigns and campaign activities
-- (sandbox/lua/sandbox/resources/{segments,emails,email_activities}.lua and
-- sandbox/lua/sandbox/campaigns.lua), driven with curl through spec/helpers/sandbox.lua.
local sandbox = require "spec.helpers.sandbox"

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"
local OWNER = "owner@default.example.com"   -- the default account's confirmed address

local function is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

local sb

-- Asserts an APIErrorSchema answer with this status whose message names `field`.
local function assert_error(want, field, status, body)
  assert.are.equal(want, status, type(body) == "table" and require("cjson").encode(body) or tostring(body))
  assert.is_table(body)
  assert.is_string(body[1].error_key)
  if field then
    assert.truthy(body[1].error_message:find(field, 1, true),
      "expected '" .. field .. "' in: " .. body[1].error_message)
  end
end

local counter = 0
local function unique(prefix)
  counter = counter + 1
  return prefix .. " " .. counter
end

local CRITERIA = '{"version":"1.0.0","criteria":{"type":"and","group":[{"source":"tracking",'
  .. '"field":"not_opened","op":"contains-any","const_value":"last-n-campaigns","param":"5"}]}}'

-- A segment id as a path segment (cjson may decode it as a float on Lua 5.4).
local function sid(segment) return string.format("%d", segment.segment_id) end

local function new_segment(name)
  local status, body = sb:api("POST", "/segments", { name = name or unique("Segment"), segment_criteria = CRITERIA })
  assert.are.equal(201, status)
  return body
end

local function activity_input(overrides)
  local a = {
    format_type = 5, from_name = "Shop", from_email = OWNER, reply_to_email = OWNER,
    subject = "Hello", preheader = "Read me",
    html_content = "<html><body><p>Hi [[FIRSTNAME]]</p>[[trackingImage]]</body></html>",
  }
  for k, v in pairs(overrides or {}) do
    if v == false then a[k] = nil else a[k] = v end
  end
  return a
end

local function new_campaign(name, overrides)
  local status, body = sb:api("POST", "/emails", {
    name = name or unique("Campaign"), email_campaign_activities = { activity_input(overrides) } })
  assert.are.equal(200, status, require("cjson").encode(body))
  return body
end

local function role_id(campaign, role)
  for _, a in ipairs(campaign.campaign_activities) do
    if a.role == role then return a.campaign_activity_id end
  end
end

local function new_list()
  local status, list = sb:api("POST", "/contact_lists", { name = unique("List") })
  assert.are.equal(201, status)
  return list.list_id
end

-- A draft campaign whose primary activity targets a new list; returns campaign, activity id, list id.
local function ready_campaign()
  local campaign = new_campaign()
  local id = role_id(campaign, "primary_email")
  local list_id = new_list()
  local _, activity = sb:api("GET", "/emails/activities/" .. id)
  activity.contact_list_ids = { list_id }
  local status = sb:api("PUT", "/emails/activities/" .. id, activity)
  assert.are.equal(200, status)
  return campaign, id, list_id
end

local function status_of(campaign_id)
  local _, body = sb:api("GET", "/emails/" .. campaign_id)
  return body.current_status
end

-- Follows _links.next from path; returns every page.
local function all_pages(path)
  local pages = {}
  while path do
    local status, body = sb:api("GET", path)
    assert.are.equal(200, status)
    pages[#pages + 1] = body
    path = body._links and body._links.next and body._links.next.href:gsub("^/v3", "")
  end
  return pages
end

-- A fresh account state, without the per-second rate limit (these specs are chatty).
local function fresh()
  sb:reset()
  sb:config { rate_limit_per_second = 0 }
end

setup(function()
  sb = sandbox.start {}
  fresh()
end)
teardown(function() if sb then sb:stop() end end)

describe("sandbox segments #once", function()
  it("creates a segment with an integer id and shows its criteria", function()
    local s = new_segment("Openers")
    assert.are.equal("number", type(s.segment_id))
    assert.are.equal(math.floor(s.segment_id), s.segment_id)
    assert.are.equal("Openers", s.name)
    assert.are.equal(CRITERIA, s.segment_criteria)
    assert.matches(ISO, s.created_at)
    assert.are.equal(s.created_at, s.edited_at)
    local status, got = sb:api("GET", "/segments/" .. sid(s))
    assert.are.equal(200, status)
    assert.are.same(s, got)
    local _, second = sb:api("POST", "/segments", { name = "Second", segment_criteria = CRITERIA })
    assert.are.equal(s.segment_id + 1, second.segment_id)
  end)

  it("validates the body, naming the field", function()
    assert_error(400, "name", sb:api("POST", "/segments", { segment_criteria = CRITERIA }))
    assert_error(400, "name", sb:api("POST", "/segments", { name = "  ", segment_criteria = CRITERIA }))
    assert_error(400, "segment_criteria", sb:api("POST", "/segments", { name = unique("S") }))
    assert_error(400, "segment_criteria",
      sb:api("POST", "/segments", { name = unique("S"), segment_criteria = "{nope" }))
    assert_error(400, "segment_criteria", sb:api("POST", "/segments", { name = unique("S"), segment_criteria = "[1]" }))
    assert_error(400, "segment_criteria", sb:api("POST", "/segments",
      { name = unique("S"), segment_criteria = { version = "1.0.0" } }))
    assert_error(400, "segment_criteria", sb:api("POST", "/segments",
      { name = unique("S"), segment_criteria = '{"criteria":{"type":"or","group":[]}}' }))
    assert_error(400, "segment_criteria", sb:api("POST", "/segments",
      { name = unique("S"), segment_criteria = '"' .. string.rep("x", 20001) .. '"' }))
    local status = sb:api("POST", "/segments", '{"name": "x"}', { content_type = "text/plain" })
    assert.are.equal(415, status)
  end)

  it("keeps names unique (409, case-insensitive) without using up ids", function()
    local s = new_segment("Unique name")
    assert_error(409, "UNIQUE NAME", sb:api("POST", "/segments", { name = "UNIQUE NAME", segment_criteria = CRITERIA }))
    local after = new_segment()
    assert.are.equal(s.segment_id + 1, after.segment_id)
  end)

  it("updates with PUT (both fields required) and renames with PATCH", function()
    local s = new_segment()
    local other = new_segment()
    local id = "/segments/" .. sid(s)
    assert_error(400, "segment_criteria", sb:api("PUT", id, { name = "x" }))
    assert_error(400, "name", sb:api("PUT", id, { segment_criteria = CRITERIA }))
    assert_error(409, nil, sb:api("PUT", id, { name = other.name, segment_criteria = CRITERIA }))
    local new_criteria = '{"version":"1.0.0","criteria":{"type":"and","group":[]}}'
    local status, body = sb:api("PUT", id, { name = "Renamed by PUT", segment_criteria = new_criteria })
    assert.are.equal(200, status)
    assert.are.equal("Renamed by PUT", body.name)
    assert.are.equal(new_criteria, body.segment_criteria)
    status, body = sb:api("PATCH", id .. "/name", { name = "Renamed by PATCH" })
    assert.are.equal(200, status)
    assert.are.equal("Renamed by PATCH", body.name)
    assert.are.equal(new_criteria, body.segment_criteria)
    assert_error(409, nil, sb:api("PATCH", id .. "/name", { name = other.name }))
    assert_error(400, "name", sb:api("PATCH", id .. "/name", {}))
    -- The old names are free again.
    new_segment("Renamed by PUT")
    assert_error(404, nil, sb:api("PUT", "/segments/999999", { name = "x", segment_criteria = CRITERIA }))
    assert_error(404, nil, sb:api("PATCH", "/segments/999999/name", { name = "x" }))
    assert_error(400, "segment_id", sb:api("GET", "/segments/abc"))
  end)

  it("deletes: 204, gone from the list, still readable by id, name reusable", function()
    local s = new_segment("Doomed")
    local id = "/segments/" .. sid(s)
    assert.are.equal(204, (sb:api("DELETE", id)))
    local status, body = sb:api("GET", id)
    assert.are.equal(200, status)
    assert.are.equal("Doomed", body.name)
    for _, listed in ipairs(select(2, sb:api("GET", "/segments")).segments) do
      assert.are_not.equal(s.segment_id, listed.segment_id)
    end
    assert_error(404, nil, sb:api("DELETE", id))
    assert_error(404, nil, sb:api("PUT", id, { name = "x", segment_criteria = CRITERIA }))
    assert_error(404, nil, sb:api("PATCH", id .. "/name", { name = "x" }))
    assert.are_not.equal(s.segment_id, new_segment("Doomed").segment_id)
  end)

  it("lists by date (last edited first, then newest) or name, with exact limit and cursor paging", function()
    fresh()
    for _, name in ipairs({ "delta", "Alpha", "charlie", "bravo", "echo" }) do new_segment(name) end

    local pages = all_pages("/segments?sort_by=name&limit=2")
    assert.are.equal(3, #pages)
    local names = {}
    for i, page in ipairs(pages) do
      assert.are.equal(i < 3 and 2 or 1, #page.segments)
      for _, s in ipairs(page.segments) do
        names[#names + 1] = s.name
        assert.is_nil(s.segment_criteria)
      end
      if i < 3 then assert.matches("sort_by=name", page._links.next.href) end
    end
    assert.is_nil(pages[3]._links)
    assert.are.same({ "Alpha", "bravo", "charlie", "delta", "echo" }, names)

    -- edited_at has one-second precision: equal ones list the newer segment first.
    local _, by_date = sb:api("GET", "/segments")
    assert.are.equal(5, #by_date.segments)
    for i = 2, 5 do
      local a, b = by_date.segments[i - 1], by_date.segments[i]
      assert.is_true(a.edited_at > b.edited_at or (a.edited_at == b.edited_at and a.segment_id > b.segment_id))
    end
    assert.is_nil(by_date._links)

    local status, exact = sb:api("GET", "/segments?limit=5")
    assert.are.equal(200, status)
    assert.are.equal(5, #exact.segments)
    assert.is_nil(exact._links)

    assert_error(400, "sort_by", sb:api("GET", "/segments?sort_by=size"))
    assert_error(400, "limit", sb:api("GET", "/segments?limit=0"))
    assert_error(400, "cursor", sb:api("GET", "/segments?cursor=bogus"))
  end)
end)

describe("sandbox email campaigns #once", function()
  it("creates a Draft custom-code campaign with primary_email and permalink activities", function()
    local c = new_campaign("November news")
    assert.is_true(is_uuid(c.campaign_id))
    assert.are.equal("November news", c.name)
    assert.are.equal("Draft", c.current_status)
    assert.are.equal("NEWSLETTER", c.type)
    assert.are.equal(10, c.type_code)
    assert.matches(ISO, c.created_at)
    assert.matches(ISO, c.updated_at)
    assert.are.equal(2, #c.campaign_activities)
    assert.is_true(is_uuid(role_id(c, "primary_email")))
    assert.is_true(is_uuid(role_id(c, "permalink")))
    local status, got = sb:api("GET", "/emails/" .. c.campaign_id)
    assert.are.equal(200, status)
    assert.are.same(c, got)
    assert_error(404, nil, sb:api("GET", "/emails/" .. "00000000-0000-4000-8000-000000000000"))
    for _, ref in ipairs(c.campaign_activities) do assert.is_nil(ref.document_id) end
  end)

  it("creates an email-editor campaign (format_type 4, spec 3.0.178) with a document_id", function()
    local c = new_campaign(nil, { format_type = 4 })
    local primary = role_id(c, "primary_email")
    local refs = {}
    for _, ref in ipairs(c.campaign_activities) do refs[ref.role] = ref end
    assert.is_true(is_uuid(refs.primary_email.document_id))
    assert.is_nil(refs.permalink.document_id)
    local status, a = sb:api("GET", "/emails/activities/" .. primary)
    assert.are.equal(200, status)
    assert.are.equal(4, a.format_type)
    assert.are.equal(refs.primary_email.document_id, a.document_id)
    assert.is_nil(a.template_id) -- gone from EmailCampaignActivity in 3.0.178
    local _, custom = sb:api("GET", "/emails/activities/" .. role_id(new_campaign(), "primary_email"))
    assert.are.equal(5, custom.format_type)
    assert.is_nil(custom.document_id)
  end)

  it("rejects a from_email that is not a confirmed account email", function()
    local status, added = sb:api("POST", "/account/emails", { email_address = "new@example.com" })
    assert.are.equal(201, status)
    assert.are.equal("UNCONFIRMED", added.confirm_status)
    local body = { name = unique("C"),
                   email_campaign_activities = { activity_input { from_email = "new@example.com" } } }
    assert_error(400, "from_email", sb:api("POST", "/emails", body))
    body.email_campaign_activities[1].from_email = "stranger@example.com"
    assert_error(400, "from_email", sb:api("POST", "/emails", body))
    body.email_campaign_activities[1].from_email = OWNER:upper()
    assert.are.equal(200, (sb:api("POST", "/emails", body)))
  end)

  it("validates the body, naming the field", function()
    local function post(name, overrides, extra)
      local body = { name = name, email_campaign_activities = { activity_input(overrides) } }
      for k, v in pairs(extra or {}) do body[k] = v end
      return sb:api("POST", "/emails", body)
    end
    assert_error(400, "name", post(nil))
    assert_error(400, "name", post(string.rep("n", 81)))
    assert_error(400, "email_campaign_activities", sb:api("POST", "/emails", { name = unique("C") }))
    assert_error(400, "email_campaign_activities", post(unique("C"), nil,
      { email_campaign_activities = { activity_input(), activity_input() } }))
    assert_error(400, "format_type", post(unique("C"), { format_type = false }))
    assert_error(400, "format_type", post(unique("C"), { format_type = 1 }))
    assert_error(400, "use 4 (email editor) or 5 (custom code)", post(unique("C"), { format_type = 3 }))
    assert_error(400, "format_type", post(unique("C"), { format_type = 9 }))
    for _, field in ipairs({ "from_name", "reply_to_email", "subject", "html_content" }) do
      assert_error(400, field, post(unique("C"), { [field] = false }))
    end
    assert_error(400, "reply_to_email", post(unique("C"), { reply_to_email = "not-an-address" }))
    assert_error(400, "from_name", post(unique("C"), { from_name = string.rep("f", 101) }))
    assert_error(400, "physical_address_in_footer.organization_name", post(unique("C"),
      { physical_address_in_footer = { address_line1 = "1 Main St", country_code = "CA" } }))
    assert_error(400, "physical_address_in_footer.state_code", post(unique("C"),
      { physical_address_in_footer = { address_line1 = "1 Main St", country_code = "US", organization_name = "O" } }))
    -- [[trackingImage]] is advice (reporting needs it), not a rule.
    assert.are.equal(200, (post(unique("C"), { html_content = "<p>No tracking</p>" })))
    assert.are.equal(415, (sb:api("POST", "/emails", "{}", { content_type = "text/plain" })))
    assert_error(400, nil, sb:api("POST", "/emails", "{not json"))
  end)

  it("keeps campaign names unique (409) and renames with PATCH", function()
    local a = new_campaign("Name A")
    new_campaign("Name B")
    assert_error(409, "name a", sb:api("POST", "/emails",
      { name = "name a", email_campaign_activities = { activity_input() } }))
    assert_error(409, nil, sb:api("PATCH", "/emails/" .. a.campaign_id, { name = "Name B" }))
    assert_error(400, "name", sb:api("PATCH", "/emails/" .. a.campaign_id, { name = string.rep("x", 81) }))
    local status, body = sb:api("PATCH", "/emails/" .. a.campaign_id, { name = "Name C" })
    assert.are.equal(200, status)
    assert.are.equal("Name C", body.name)
    assert.are.equal(2, #body.campaign_activities)
    assert.are.equal("Name C", select(2, sb:api("GET", "/emails/" .. a.campaign_id)).name)
    new_campaign("Name A")   -- the old name is free
  end)

  it("deletes: 204, Removed, activities gone, no rename, name reusable", function()
    local c = new_campaign("Short lived")
    local primary = role_id(c, "primary_email")
    assert.are.equal(204, (sb:api("DELETE", "/emails/" .. c.campaign_id)))
    local status, body = sb:api("GET", "/emails/" .. c.campaign_id)
    assert.are.equal(200, status)
    assert.are.equal("Removed", body.current_status)
    assert_error(404, nil, sb:api("GET", "/emails/activities/" .. primary))
    assert_error(400, "Removed", sb:api("PATCH", "/emails/" .. c.campaign_id, { name = "Back" }))
    assert_error(404, nil, sb:api("DELETE", "/emails/" .. c.campaign_id))
    new_campaign("Short lived")
  end)

  it("lists every campaign (Removed too) with exact limit and cursor paging and date filters", function()
    fresh()
    local ids = {}
    for i = 1, 5 do ids[i] = new_campaign("Paged " .. i).campaign_id end
    assert.are.equal(204, (sb:api("DELETE", "/emails/" .. ids[3])))
    local pages = all_pages("/emails?limit=2&after_date=2000-01-01T00:00:00Z")
    assert.are.equal(3, #pages)
    local seen = {}
    for i, page in ipairs(pages) do
      assert.are.equal(i < 3 and 2 or 1, #page.campaigns)
      for _, c in ipairs(page.campaigns) do
        seen[#seen + 1] = c.campaign_id
        assert.is_nil(c.campaign_activities)
      end
      if i < 3 then assert.matches("after_date=2000%-01%-01T00", pages[i]._links.next.href) end
    end
    assert.are.same(ids, seen)
    assert.are.equal("Removed", pages[2].campaigns[1].current_status)

    local _, exact = sb:api("GET", "/emails?limit=5")
    assert.are.equal(5, #exact.campaigns)
    assert.is_nil(exact._links)
    local _, none = sb:api("GET", "/emails?after_date=2999-01-01T00:00:00Z")
    assert.are.same({}, none.campaigns)
    local _, before = sb:api("GET", "/emails?before_date=2999-01-01")
    assert.are.equal(5, #before.campaigns)
    local _, old = sb:api("GET", "/emails?before_date=2000-01-01T00:00:00Z")
    assert.are.equal(0, #old.campaigns)

    assert_error(400, "limit", sb:api("GET", "/emails?limit=501"))
    assert_error(400, "limit", sb:api("GET", "/emails?limit=0"))
    assert_error(400, "before_date", sb:api("GET", "/emails?before_date=yesterday"))
    assert_error(400, "cursor", sb:api("GET", "/emails?cursor=%%%"))
  end)

  it("maps V2 campaign ids to V3 ids (deterministic, unknown ones left out)", function()
    fresh()
    local a, b = new_campaign(), new_campaign()
    local status, body = sb:api("GET", "/emails/campaign_id_xrefs?v2_email_campaign_ids=1100000000002,42,1100000000001")
    assert.are.equal(200, status)
    assert.are.same({
      { v2_email_campaign_id = "1100000000002", campaign_id = b.campaign_id,
        campaign_activity_id = role_id(b, "primary_email") },
      { v2_email_campaign_id = "1100000000001", campaign_id = a.campaign_id,
        campaign_activity_id = role_id(a, "primary_email") },
    }, body.xrefs)
    assert_error(400, "v2_email_campaign_ids", sb:api("GET", "/emails/campaign_id_xrefs"))
    assert_error(400, "v2_email_campaign_ids", sb:api("GET", "/emails/campaign_id_xrefs?v2_email_campaign_ids=x1"))
    local many = {}
    for i = 1, 51 do many[i] = tostring(i) end
    assert_error(400, "v2_email_campaign_ids",
      sb:api("GET", "/emails/campaign_id_xrefs?v2_email_campaign_ids=" .. table.concat(many, ",")))
  end)

  it("keeps accounts apart", function()
    local c = new_campaign()
    sb:add_token("campaigns-other", "other")
    assert.are.equal(404, (sb:api("GET", "/emails/" .. c.campaign_id, nil, { token = "campaigns-other" })))
    local _, list = sb:api("GET", "/emails", nil, { token = "campaigns-other" })
    assert.are.same({}, list.campaigns)
  end)
end)

describe("sandbox email campaign activities #once", function()
  it("gets an activity, with include= for the subresources", function()
    local c = new_campaign(nil, { physical_address_in_footer = false })
    local id = role_id(c, "primary_email")
    local status, a = sb:api("GET", "/emails/activities/" .. id)
    assert.are.equal(200, status)
    assert.are.equal(id, a.campaign_activity_id)
    assert.are.equal(c.campaign_id, a.campaign_id)
    assert.are.equal("primary_email", a.role)
    assert.are.equal("DRAFT", a.current_status)
    assert.are.equal(5, a.format_type)
    assert.are.equal(OWNER, a.from_email)
    assert.are.equal("Hello", a.subject)
    assert.are.equal("Read me", a.preheader)
    assert.are.same({}, a.contact_list_ids)
    assert.are.same({}, a.segment_ids)
    assert.is_nil(a.html_content)
    assert.is_nil(a.permalink_url)
    local _, full = sb:api("GET", "/emails/activities/" .. id .. "?include=html_content,permalink_url,"
      .. "physical_address_in_footer,document_properties")
    assert.matches("%[%[trackingImage%]%]", full.html_content)
    assert.matches("^https://", full.permalink_url)
    -- Without its own footer address the account's is used.
    assert.are.equal("1601 Trapelo Road", full.physical_address_in_footer.address_line1)
    assert.are.equal("Sandbox default", full.physical_address_in_footer.organization_name)
    assert_error(400, "include", sb:api("GET", "/emails/activities/" .. id .. "?include=html_content,body"))
    local _, permalink = sb:api("GET", "/emails/activities/" .. role_id(c, "permalink"))
    assert.are.equal("permalink", permalink.role)
    assert_error(404, nil, sb:api("GET", "/emails/activities/00000000-0000-4000-8000-000000000000"))
  end)

  it("updates a DRAFT primary activity with PUT (GET answer sent back works)", function()
    local c = new_campaign()
    local id = role_id(c, "primary_email")
    local path = "/emails/activities/" .. id
    local list_id = new_list()
    local _, a = sb:api("GET", path)
    a.contact_list_ids = { list_id }
    a.subject = "New subject"
    a.preheader = nil
    local status, put = sb:api("PUT", path, a)
    assert.are.equal(200, status)
    assert.are.same({ list_id }, put.contact_list_ids)
    assert.are.equal("New subject", put.subject)
    -- html_content is a subresource: kept when omitted.
    assert.matches("trackingImage", put.html_content)
    local _, again = sb:api("GET", path)
    assert.are.same({ list_id }, again.contact_list_ids)
    assert.is_nil(again.preheader)   -- a PUT replaces plain properties
    local updated = select(2, sb:api("GET", "/emails/" .. c.campaign_id)).updated_at
    assert.matches(ISO, updated)

    local function put_with(changes)
      local body = { from_email = OWNER, from_name = "F", reply_to_email = OWNER, subject = "S" }
      for k, v in pairs(changes) do
        if v == false then body[k] = nil else body[k] = v end
      end
      return sb:api("PUT", path, body)
    end
    assert_error(400, "from_email", put_with { from_email = "stranger@example.com" })
    assert_error(400, "subject", put_with { subject = false })
    assert_error(400, "from_name", put_with { from_name = false })
    assert_error(400, "contact_list_ids[0]", put_with { contact_list_ids = { "00000000-0000-4000-8000-000000000000" } })
    local segment = new_segment()
    assert_error(400, "segment_ids", put_with { contact_list_ids = { list_id }, segment_ids = { segment.segment_id } })
    assert_error(400, "segment_ids", put_with { segment_ids = { 999999 } })
    assert.are.equal(200, (put_with { segment_ids = { segment.segment_id } }))
    assert_error(400, "primary_email", sb:api("PUT", "/emails/activities/" .. role_id(c, "permalink"),
      { from_email = OWNER, from_name = "F", reply_to_email = OWNER, subject = "S" }))
  end)

  it("schedules (Scheduled), refuses changes while scheduled, and unschedules (Draft)", function()
    local bare = new_campaign()
    assert_error(400, "contact_list_ids", sb:api("POST", "/emails/activities/" .. role_id(bare, "primary_email")
      .. "/schedules", { scheduled_date = "2030-01-01T10:00:00.000Z" }))

    local _, orphan, gone = ready_campaign()
    assert.are.equal(202, (sb:api("DELETE", "/contact_lists/" .. gone)))
    assert_error(400, "contact_list_ids", sb:api("POST", "/emails/activities/" .. orphan .. "/schedules",
      { scheduled_date = "0" }))

    local c, id = ready_campaign()
    local path = "/emails/activities/" .. id
    assert_error(400, "scheduled_date", sb:api("POST", path .. "/schedules", {}))
    assert_error(400, "scheduled_date", sb:api("POST", path .. "/schedules", { scheduled_date = "soon" }))
    assert_error(400, "scheduled_date", sb:api("POST", path .. "/schedules", { scheduled_date = "2001-01-01" }))
    assert.are.same({}, select(2, sb:api("GET", path .. "/schedules")))

    local status, body = sb:api("POST", path .. "/schedules", { scheduled_date = "2030-01-01T10:00:00.000Z" })
    assert.are.equal(201, status)
    assert.are.same({ { scheduled_date = "2030-01-01T10:00:00Z" } }, body)
    assert.are.equal("Scheduled", status_of(c.campaign_id))
    assert.are.equal("SCHEDULED", select(2, sb:api("GET", path)).current_status)
    assert.are.same({ { scheduled_date = "2030-01-01T10:00:00Z" } }, select(2, sb:api("GET", path .. "/schedules")))

    assert_error(400, "SCHEDULED", sb:api("POST", path .. "/schedules", { scheduled_date = "2031-01-01" }))
    assert_error(400, "SCHEDULED", sb:api("PUT", path,
      { from_email = OWNER, from_name = "F", reply_to_email = OWNER, subject = "S" }))
    assert_error(400, "Scheduled", sb:api("DELETE", "/emails/" .. c.campaign_id))

    assert.are.equal(204, (sb:api("DELETE", path .. "/schedules")))
    assert.are.equal("Draft", status_of(c.campaign_id))
    assert.are.same({}, select(2, sb:api("GET", path .. "/schedules")))
    assert_error(400, "SCHEDULED", sb:api("DELETE", path .. "/schedules"))
    assert.are.same({}, select(2, sb:api("GET", path .. "/send_history")))
  end)

  it("sends at once with scheduled_date \"0\" (Done, send history), and again from Done", function()
    local c, id, list_id = ready_campaign()
    local status, contact = sb:api("POST", "/contacts", { email_address = { address = "reader@example.com",
      permission_to_send = "explicit" }, create_source = "Account", list_memberships = { list_id } })
    assert.are.equal(201, status, require("cjson").encode(contact))
    local path = "/emails/activities/" .. id
    local body
    status, body = sb:api("POST", path .. "/schedules", { scheduled_date = "0" })
    assert.are.equal(201, status)
    assert.are.same({}, body)
    assert.are.equal("Done", status_of(c.campaign_id))
    local _, history = sb:api("GET", path .. "/send_history")
    assert.are.equal(1, #history)
    assert.are.equal(1, history[1].send_id)
    assert.are.same({ list_id }, history[1].contact_list_ids)
    assert.are.same({}, history[1].segment_ids)
    assert.are.equal(1, history[1].count)
    assert.are.equal("COMPLETED", history[1].send_status)
    assert.are.equal(0, history[1].reason_code)
    assert.matches(ISO, history[1].run_date)
    -- A DONE activity can be updated and scheduled again; unscheduling returns to DONE.
    local _, a = sb:api("GET", path)
    assert.are.equal(200, (sb:api("PUT", path, a)))
    assert.are.equal(201, (sb:api("POST", path .. "/schedules", { scheduled_date = "2030-01-01" })))
    assert.are.equal(204, (sb:api("DELETE", path .. "/schedules")))
    assert.are.equal("Done", status_of(c.campaign_id))
    assert.are.equal(201, (sb:api("POST", path .. "/schedules", { scheduled_date = "0" })))
    _, history = sb:api("GET", path .. "/send_history")
    assert.are.equal(2, #history)
    assert.are.equal(2, history[2].send_id)
  end)

  it("sends to a segment, and refuses a deleted one", function()
    local c = new_campaign()
    local id = role_id(c, "primary_email")
    local path = "/emails/activities/" .. id
    local segment = new_segment()
    local _, a = sb:api("GET", path)
    a.segment_ids = { segment.segment_id }
    assert.are.equal(200, (sb:api("PUT", path, a)))
    assert.are.equal(204, (sb:api("DELETE", "/segments/" .. sid(segment))))
    assert_error(400, "segment_ids", sb:api("POST", path .. "/schedules", { scheduled_date = "0" }))
    local live = new_segment()
    a.segment_ids = { live.segment_id }
    assert.are.equal(200, (sb:api("PUT", path, a)))
    assert.are.equal(201, (sb:api("POST", path .. "/schedules", { scheduled_date = "0" })))
    local _, history = sb:api("GET", path .. "/send_history")
    assert.are.same({ live.segment_id }, history[1].segment_ids)
  end)

  it("sends a scheduled activity once its date has passed", function()
    local c, id = ready_campaign()
    local due = os.time() + 2
    local when = os.date("!%Y-%m-%dT%H:%M:%SZ", due)
    assert.are.equal(201, (sb:api("POST", "/emails/activities/" .. id .. "/schedules", { scheduled_date = when })))
    assert.are.equal("Scheduled", status_of(c.campaign_id))
    while os.time() < due do os.execute("sleep 0.1") end
    assert.are.equal("Done", status_of(c.campaign_id))
    local _, history = sb:api("GET", "/emails/activities/" .. id .. "/send_history")
    assert.are.equal(1, #history)
    assert.are.equal(when, history[1].run_date)
  end)

  it("test-sends to 1 to 5 addresses (204)", function()
    local c = new_campaign()
    local path = "/emails/activities/" .. role_id(c, "primary_email") .. "/tests"
    local status, body = sb:api("POST", path, { email_addresses = { "a@example.com" }, personal_message = "Look" })
    assert.are.equal(204, status)
    assert.are.equal("", body)
    assert_error(400, "email_addresses", sb:api("POST", path, {}))
    assert_error(400, "email_addresses", sb:api("POST", path, { email_addresses = sandbox.array() }))
    assert_error(400, "email_addresses", sb:api("POST", path,
      { email_addresses = { "a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io" } }))
    assert_error(400, "email_addresses[1]", sb:api("POST", path, { email_addresses = { "a@x.io", "nope" } }))
  end)

  it("previews with the owner's details filled in", function()
    local c = new_campaign()
    local id = role_id(c, "primary_email")
    local status, p = sb:api("GET", "/emails/activities/" .. id .. "/previews")
    assert.are.equal(200, status)
    assert.are.equal(id, p.campaign_activity_id)
    assert.are.equal("<html><body><p>Hi Sandbox</p></body></html>", p.preview_html_content)
    assert.are.equal("Hi Sandbox", p.preview_text_content)
    assert.are.equal(OWNER, p.from_email)
    assert.are.equal("Hello", p.subject)
  end)

  it("creates, reads and deletes an A/B test on a DRAFT primary activity", function()
    local c = new_campaign()
    local path = "/emails/activities/" .. role_id(c, "primary_email") .. "/abtest"
    assert_error(404, nil, sb:api("GET", path))
    local input = { alternative_subject = "Other", test_size = 20, winner_wait_duration = 24 }
    assert_error(400, "test_size",
      sb:api("POST", path, { alternative_subject = "x", test_size = 4, winner_wait_duration = 6 }))
    assert_error(400, "winner_wait_duration",
      sb:api("POST", path, { alternative_subject = "x", test_size = 10, winner_wait_duration = 7 }))
    assert_error(400, "alternative_subject", sb:api("POST", path, { test_size = 10, winner_wait_duration = 6 }))
    local status, body = sb:api("POST", path, input)
    assert.are.equal(201, status)
    assert.are.same(input, body)
    assert.are.same(input, select(2, sb:api("GET", path)))
    local _, campaign = sb:api("GET", "/emails/" .. c.campaign_id)
    assert.are.equal(57, campaign.type_code)
    assert_error(409, nil, sb:api("POST", path, input))
    assert.are.equal(204, (sb:api("DELETE", path)))
    _, campaign = sb:api("GET", "/emails/" .. c.campaign_id)
    assert.are.equal(10, campaign.type_code)
    assert.are.equal("NEWSLETTER", campaign.type)
    assert_error(404, nil, sb:api("DELETE", path))
    assert_error(400, "primary_email", sb:api("GET", "/emails/activities/" .. role_id(c, "permalink") .. "/abtest"))

    local _, id = ready_campaign()
    local sent = "/emails/activities/" .. id
    assert.are.equal(201, (sb:api("POST", sent .. "/schedules", { scheduled_date = "0" })))
    assert_error(409, "DRAFT", sb:api("POST", sent .. "/abtest", input))
  end)

  it("creates, reads and deletes one resend to non-openers per campaign", function()
    local c = new_campaign()
    local path = "/emails/activities/" .. role_id(c, "primary_email") .. "/non_opener_resends"
    assert.are.same({}, select(2, sb:api("GET", path)))
    assert_error(400, "resend_subject", sb:api("POST", path, { delay_days = 3 }))
    assert_error(400, "delay_days", sb:api("POST", path, { resend_subject = "Again", delay_days = 11 }))
    assert_error(400, "delay_minutes", sb:api("POST", path, { resend_subject = "Again", delay_minutes = 100 }))
    assert_error(400, "delay", sb:api("POST", path, { resend_subject = "Again" }))
    local status, body = sb:api("POST", path, { resend_subject = "Again", delay_days = 3 })
    assert.are.equal(201, status)
    assert.are.same({ resend_subject = "Again", delay_days = 3, delay_minutes = 4320, resend_request_id = "DRAFT" },
      body)
    assert_error(409, nil, sb:api("POST", path, { resend_subject = "Twice", delay_minutes = 800 }))
    local _, list = sb:api("GET", path)
    assert.are.equal(1, #list)
    assert.are.equal("DRAFT", list[1].resend_status)
    assert_error(404, nil, sb:api("DELETE", path .. "/12345"))
    assert.are.equal(204, (sb:api("DELETE", path .. "/DRAFT")))
    assert.are.same({}, select(2, sb:api("GET", path)))
    status, body = sb:api("POST", path, { resend_subject = "Later", delay_minutes = 800 })
    assert.are.equal(201, status)
    assert.are.equal(800, body.delay_minutes)
    assert.is_nil(body.delay_days)

    -- Once scheduled, the resend has its own id.
    local _, id = ready_campaign()
    local sched = "/emails/activities/" .. id
    assert.are.equal(201, (sb:api("POST", sched .. "/schedules", { scheduled_date = "2030-01-01" })))
    status, body = sb:api("POST", sched .. "/non_opener_resends", { resend_subject = "Again", delay_days = 1 })
    assert.are.equal(201, status)
    assert.is_true(is_uuid(body.resend_request_id))
    assert.are.equal("SCHEDULED", select(2, sb:api("GET", sched .. "/non_opener_resends"))[1].resend_status)
    assert.are.equal(204, (sb:api("DELETE", sched .. "/non_opener_resends/" .. body.resend_request_id)))
  end)
end)
