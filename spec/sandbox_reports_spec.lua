-- Specs of the sandbox's reporting, events, automations and social emulation
-- (sandbox/lua/sandbox/resources/{reports,contact_reports,landing_page_reports,events,
-- automations,social}.lua), driven with curl through spec/helpers/sandbox.lua.
local sandbox = require "spec.helpers.sandbox"

local ACTIVITY_IDS = {
  "8892baf9-970a-4de6-8400-fa4ec461987c", "98edac88-f4bc-408c-9e64-acd890384231",
  "a2fdc285-f4bc-408c-9e64-f3f89038ec82", "31bb0c22-1c72-4841-9d2c-8bd41ed526bc",
  "05cf4d60-56ea-4023-bf49-b35e56a9c7b5", "123e4567-e89b-12d3-a456-426614174000",
  "71600990-908b-11e6-907f-00166bff2500", "aa9ff7b0-478d-11e6-8059-00163e3c8e19",
  "3377aefd-970a-4de6-8400-ab4ec491624c", "82ee2c37-c8f8-4974-9560-ef93ad51d58a",
}
local CONTACT_ID = "84afe95a-5866-11ec-8019-fa163e56c9b0"

local function is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

local function error_message(body)
  return type(body) == "table" and body[1] and body[1].error_message or tostring(body)
end

describe("sandbox reports, events, automations and social #once", function()
  local sb

  setup(function()
    sb = sandbox.start{}
    sb:config{ rate_limit_per_second = 0 }
  end)

  teardown(function()
    if sb then sb:stop() end
  end)

  local function get(path)
    local status, body = sb:api("GET", path)
    assert.are.equal(200, status, path .. ": " .. error_message(body))
    return body
  end

  -- Follows _links.next.href from path; returns every item of field and the page count.
  local function all_pages(path, field)
    local items, pages = {}, 0
    local status, body = sb:api("GET", path)
    while true do
      assert.are.equal(200, status, path .. ": " .. error_message(body))
      pages = pages + 1
      assert.is_true(pages < 200, "too many pages")
      for _, item in ipairs(body[field]) do items[#items + 1] = item end
      local href = body._links and body._links.next and body._links.next.href
      if not href then break end
      assert.matches("^/v3/", href)
      status, body = sb:curl{ method = "GET", path = href, token = sb.token }
    end
    return items, pages
  end

  local function expect_400(path, needle)
    local status, body = sb:api("GET", path)
    assert.are.equal(400, status, path)
    assert.truthy(error_message(body):find(needle, 1, true), error_message(body))
  end

  describe("email reports", function()
    local stats_by_id

    setup(function()
      local body = get("/reports/stats/email_campaign_activities/" .. table.concat(ACTIVITY_IDS, ","))
      stats_by_id = {}
      for _, r in ipairs(body.results) do stats_by_id[r.campaign_activity_id] = r.stats end
    end)

    -- The activity with the most sends (several pages at the default limit 500).
    local function big_activity()
      local best, most = nil, -1
      for _, id in ipairs(ACTIVITY_IDS) do
        if stats_by_id[id].em_sends > most then best, most = id, stats_by_id[id].em_sends end
      end
      return best, most
    end

    it("answers activity stats for each id, in order", function()
      local body = get("/reports/stats/email_campaign_activities/" .. table.concat(ACTIVITY_IDS, ","))
      assert.are.equal(#ACTIVITY_IDS, #body.results)
      for i, r in ipairs(body.results) do
        assert.are.equal(ACTIVITY_IDS[i], r.campaign_activity_id)
        assert.is_true(is_uuid(r.campaign_id))
        local s = r.stats
        assert.are.equal(s.em_opens_all, s.em_opens_all_computer + s.em_opens_all_mobile + s.em_opens_all_tablet
          + s.em_opens_all_other + s.em_opens_all_none)
        assert.are.equal(s.em_bounces, s.em_bounces_blocked + s.em_bounces_mailbox_full
          + s.em_bounces_nonexistent_address + s.em_bounces_other + s.em_bounces_suspended
          + s.em_bounces_undeliverable + s.em_bounces_vacation)
        assert.are.equal(s.em_sends - s.em_bounces - s.em_opens, s.em_not_opened)
      end
      local _, most = big_activity()
      assert.is_true(most > 500, "one of the sample activities has several pages of sends")
    end)

    it("is deterministic: the same request answers the same rows", function()
      local id = big_activity()
      local path = "/reports/email_reports/" .. id .. "/tracking/opens?limit=50"
      local a, b = get(path), get(path)
      assert.are.same(a, b)
      assert.are.equal(50, #a.tracking_activities)
    end)

    it("pages every tracking report: each row once, as many as the stats count", function()
      local id, sends = big_activity()
      local s = stats_by_id[id]
      local rows, pages = all_pages("/reports/email_reports/" .. id .. "/tracking/sends", "tracking_activities")
      assert.are.equal(sends, #rows)
      assert.are.equal(math.ceil(sends / 500), pages)
      local seen = {}
      for _, row in ipairs(rows) do
        assert.is_nil(seen[row.contact_id], "contact sent to twice")
        seen[row.contact_id] = true
        assert.are.equal("em_sends", row.tracking_activity_type)
        assert.are.equal(id, row.campaign_activity_id)
        assert.matches("@", row.email_address)
      end
      -- Every report adds up to its stat (opens with an odd page size).
      local expect = {
        opens = s.em_opens_all, unique_opens = s.em_opens, clicks = s.em_clicks_all,
        didnotopens = s.em_not_opened, forwards = s.em_forwards, optouts = s.em_optouts, bounces = s.em_bounces,
      }
      for kind, count in pairs(expect) do
        local got = all_pages("/reports/email_reports/" .. id .. "/tracking/" .. kind
          .. (kind == "opens" and "?limit=97" or "?limit=300"),
          "tracking_activities")
        assert.are.equal(count, #got, kind)
        if kind == "unique_opens" or kind == "didnotopens" or kind == "bounces" then
          local once = {}
          for _, row in ipairs(got) do
            assert.is_nil(once[row.contact_id], kind .. ": contact twice")
            once[row.contact_id] = true
          end
        end
      end
    end)

    it("checks limit (1-500, default 500) and the activity id", function()
      local id = big_activity()
      local base = "/reports/email_reports/" .. id .. "/tracking/sends"
      assert.are.equal(500, #get(base).tracking_activities)
      assert.are.equal(1, #get(base .. "?limit=1").tracking_activities)
      expect_400(base .. "?limit=0", "limit")
      expect_400(base .. "?limit=501", "limit")
      expect_400(base .. "?limit=ten", "limit")
      expect_400(base .. "?cursor=bm9wZQ", "cursor")
      expect_400("/reports/email_reports/not-a-uuid/tracking/sends", "campaign_activity_id")
      expect_400("/reports/email_reports/not-a-uuid/links", "campaign_activity_id")
    end)

    it("filters bounces by bounce_code (repeated) and keeps the filter in the next link", function()
      local id = big_activity()
      local s = stats_by_id[id]
      local path = "/reports/email_reports/" .. id .. "/tracking/bounces?bounce_code=B&bounce_code=Z&limit=3"
      local rows = all_pages(path, "tracking_activities")
      assert.are.equal(s.em_bounces_nonexistent_address + s.em_bounces_blocked, #rows)
      for _, row in ipairs(rows) do assert.truthy(row.bounce_code == "B" or row.bounce_code == "Z") end
      expect_400("/reports/email_reports/" .. id .. "/tracking/bounces?bounce_code=Q", "bounce_code")
      -- The last page of bounces still has _links (the schema requires it).
      local last = get("/reports/email_reports/" .. id .. "/tracking/bounces?bounce_code=S&limit=500")
      assert.is_table(last._links)
      assert.is_nil(last._links.next)
    end)

    it("reports links, and clicks per url_id add up to the link's unique clicks", function()
      local id = big_activity()
      local links = get("/reports/email_reports/" .. id .. "/links?no_clicks=true")
      assert.are.equal(id, links.campaign_activity_id)
      assert.is_true(#links.link_click_counts >= 1)
      local clicked, total = 0, 0
      for _, link in ipairs(links.link_click_counts) do
        local rows = all_pages("/reports/email_reports/" .. id .. "/tracking/clicks?limit=500&url_id=" .. link.url_id,
          "tracking_activities")
        local people = {}
        local distinct = 0
        for _, row in ipairs(rows) do
          assert.are.equal(link.url_id, row.url_id)
          if not people[row.contact_id] then distinct, people[row.contact_id] = distinct + 1, true end
        end
        assert.are.equal(link.unique_clicks, distinct)
        total = total + #rows
        if link.unique_clicks > 0 then clicked = clicked + 1 end
      end
      assert.are.equal(stats_by_id[id].em_clicks_all, total)
      local without = get("/reports/email_reports/" .. id .. "/links")
      assert.are.equal(clicked, #without.link_click_counts)
    end)

    it("answers campaign stats for comma-separated ids and rejects bad lists", function()
      local ids = { ACTIVITY_IDS[1], ACTIVITY_IDS[2], ACTIVITY_IDS[1] }
      local body = get("/reports/stats/email_campaigns/" .. table.concat(ids, ","))
      assert.are.equal(2, #body.results)
      assert.are.equal(ACTIVITY_IDS[2], body.results[2].campaign_id)
      for _, r in ipairs(body.results) do
        assert.is_number(r.stats.em_sends)
        assert.is_number(r.percents.open)
        assert.is_string(r.last_refresh_time)
      end
      expect_400("/reports/stats/email_campaigns/" .. ACTIVITY_IDS[1] .. ",nope", "campaign_ids")
      local many = {}
      for i = 1, 151 do many[i] = string.format("00000000-0000-4000-8000-%012d", i) end
      expect_400("/reports/stats/email_campaigns/" .. table.concat(many, ","), "campaign_ids")
      local eleven = {}
      for i, id in ipairs(ACTIVITY_IDS) do eleven[i] = id end
      eleven[11] = "00000000-0000-4000-8000-000000000011"
      expect_400("/reports/stats/email_campaign_activities/" .. table.concat(eleven, ","), "campaign_activity_ids")
    end)

    it("pages the email campaign summaries, consistent with the campaign stats", function()
      local rows = all_pages("/reports/summary_reports/email_campaign_summaries?limit=40",
        "bulk_email_campaign_summaries")
      assert.is_true(#rows >= 25)
      local seen = {}
      for _, r in ipairs(rows) do
        assert.is_nil(seen[r.campaign_id])
        seen[r.campaign_id] = true
      end
      local stats = get("/reports/stats/email_campaigns/" .. rows[1].campaign_id .. "," .. rows[#rows].campaign_id)
      assert.are.equal(rows[1].unique_counts.sends, stats.results[1].stats.em_sends)
      assert.are.equal(rows[#rows].unique_counts.opens, stats.results[2].stats.em_opens)
      assert.are.equal(#rows, #all_pages("/reports/summary_reports/email_campaign_summaries",
        "bulk_email_campaign_summaries"))
      expect_400("/reports/summary_reports/email_campaign_summaries?limit=501", "limit")
    end)

    it("filters and pages the SMS campaign summaries (start_at required, limit up to 50)", function()
      expect_400("/reports/summary_reports/sms_campaign_summaries", "start_at")
      expect_400("/reports/summary_reports/sms_campaign_summaries?start_at=yesterday", "start_at")
      expect_400("/reports/summary_reports/sms_campaign_summaries?start_at=2024-01-01T00:00:00Z&limit=51", "limit")
      local everything = all_pages("/reports/summary_reports/sms_campaign_summaries?start_at=2000-01-01T00:00:00Z",
        "bulk_sms_campaign_summaries")
      assert.is_true(#everything >= 20)
      local since = "2026-01-01T00:00:00Z"
      local rows = all_pages("/reports/summary_reports/sms_campaign_summaries?limit=7&start_at=" .. since,
        "bulk_sms_campaign_summaries")
      local expect = 0
      for _, r in ipairs(everything) do if r.last_sent_date >= since then expect = expect + 1 end end
      assert.are.equal(expect, #rows)
      for _, r in ipairs(rows) do
        assert.is_true(r.last_sent_date >= since)
        assert.are.equal("SMS", r.campaign_type)
      end
    end)
  end)

  describe("contact reports", function()
    local base = "/reports/contact_reports/" .. CONTACT_ID

    it("pages activity details (limit 1-100) newest first, with type filters", function()
      local rows = all_pages(base .. "/activity_details?limit=100", "tracking_activities")
      assert.is_true(#rows > 0)
      for i = 2, #rows do assert.is_true(rows[i - 1].created_time >= rows[i].created_time) end
      assert.are.same(rows, all_pages(base .. "/activity_details?limit=37", "tracking_activities"))
      local opens, clicks = 0, 0
      for _, r in ipairs(rows) do
        assert.are.equal(CONTACT_ID, r.contact_id)
        assert.is_string(r.campaign_activity_name)
        if r.tracking_activity_type == "em_opens" then opens = opens + 1 end
        if r.tracking_activity_type == "em_clicks" then clicks = clicks + 1 end
      end
      local filtered = all_pages(base .. "/activity_details?limit=5&tracking_activities_list=em_opens,em_clicks",
        "tracking_activities")
      assert.are.equal(opens + clicks, #filtered)
      local repeated = all_pages(base .. "/activity_details?limit=5&tracking_activity_type=em_opens"
        .. "&tracking_activity_type=em_clicks&include_campaign_activity_names=false", "tracking_activities")
      assert.are.equal(opens + clicks, #repeated)
      assert.is_nil(repeated[1].campaign_activity_name)
      expect_400(base .. "/activity_details?limit=101", "limit")
      expect_400(base .. "/activity_details?tracking_activities_list=em_nope", "tracking_activities_list")
      expect_400(base .. "/activity_details?tracking_activities_list=em_opens&tracking_activity_type=em_sends",
        "mutually exclusive")
    end)

    it("summarizes activities between start and end, consistent with the details and rates", function()
      local range = "?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z"
      local summary = get(base .. "/activity_summary" .. range)
      assert.are.equal(CONTACT_ID, summary.contact_id)
      local opens, opened, clicked = 0, 0, 0
      for _, a in ipairs(summary.campaign_activities) do
        opens = opens + a.em_opens
        if a.em_opens > 0 then opened = opened + 1 end
        if a.em_clicks > 0 then clicked = clicked + 1 end
      end
      local details = all_pages(base .. "/activity_details?tracking_activities_list=em_opens", "tracking_activities")
      assert.are.equal(opens, #details)
      local rates = get(base .. "/open_and_click_rates" .. range)
      local n = #summary.campaign_activities
      assert.are.equal(n, rates.included_activities_count)
      assert.is_true(math.abs(rates.average_open_rate - opened / n) < 1e-9)
      assert.is_true(math.abs(rates.average_click_rate - clicked / n) < 1e-9)
      local none = get(base .. "/activity_summary?start=1990-01-01T00:00:00Z&end=1990-02-01T00:00:00Z")
      assert.are.equal(0, #none.campaign_activities)
      expect_400(base .. "/activity_summary?end=2100-01-01T00:00:00Z", "start")
      expect_400(base .. "/open_and_click_rates?start=2000-01-01T00:00:00Z", "end")
      expect_400(base .. "/activity_summary?start=2020-01-01T00:00:00Z&end=2019-01-01T00:00:00Z", "end")
      local status = sb:api("GET", "/reports/contact_reports/nobody/activity_summary" .. range)
      assert.are.equal(404, status)
    end)
  end)

  describe("landing page reports", function()
    it("pages (limit 1-500, default 50), filters by contact and lists unique contacts once", function()
      local id = ACTIVITY_IDS[3]
      local base = "/reports/landing_pages/campaign_details/" .. id
      local uniq = all_pages(base .. "/p_unique_contact_opens?limit=500", "tracking_activities")
      local all_opens = all_pages(base .. "/p_contact_opens?limit=500", "tracking_activities")
      assert.is_true(#all_opens >= #uniq)
      local seen = {}
      for _, r in ipairs(uniq) do
        assert.is_nil(seen[r.contact_id])
        seen[r.contact_id] = true
      end
      for _, r in ipairs(all_opens) do assert.is_true(seen[r.contact_id]) end
      local paged = all_pages(base .. "/p_unique_contact_opens", "tracking_activities")
      assert.are.same(uniq, paged)
      local first = get(base .. "/p_unique_contact_opens")
      if #uniq > 50 then assert.are.equal(50, #first.tracking_activities) end
      local filtered = all_pages(base .. "/p_unique_contact_opens?limit=25&contacts_filter=MADD", "tracking_activities")
      local expect = 0
      for _, r in ipairs(uniq) do
        if (r.first_name .. r.last_name .. r.email_address):lower():find("madd", 1, true) then expect = expect + 1 end
      end
      assert.are.equal(expect, #filtered)
      for _, kind in ipairs({ "p_unique_contact_clicks", "p_unique_contact_adds", "p_unique_contact_updates",
                              "p_unique_contact_sms_optins" }) do
        local body = get(base .. "/" .. kind .. "?limit=1")
        assert.is_table(body._links)
        assert.is_table(body.tracking_activities)
      end
      expect_400(base .. "/p_contact_opens?limit=501", "limit")
      expect_400("/reports/landing_pages/campaign_details/xyz/p_contact_opens", "campaign_activity_id")
    end)
  end)

  describe("events", function()
    local function create(name)
      local status, event = sb:api("POST", "/events/default?name=" .. sandbox.urlencode(name), {})
      assert.are.equal(201, status, error_message(event))
      return event
    end

    it("creates DRAFT events, lists them, and keeps PATCHed fields", function()
      local event = create("Reunion")
      assert.is_true(is_uuid(event.event_id))
      assert.are.equal("DRAFT", event.status)
      assert.are.equal("Reunion", event.name)
      assert.is_string(event.default_track.track_id)
      local status = sb:api("POST", "/events/default?name=Reunion", {})
      assert.are.equal(400, status)
      expect_400("/events?event_status=NOPE", "event_status")

      status = sb:api("PATCH", "/events/" .. event.event_id,
        { description = "A night to remember", event_start = "2030-05-01T18:00:00Z",
          event_end = "2030-05-01T23:00:00Z", status = "ACTIVE" })
      assert.are.equal(204, status)
      local got = get("/events/" .. event.event_id)
      assert.are.equal("A night to remember", got.description)
      assert.are.equal("ACTIVE", got.status)
      assert.are.equal("2030-05-01T18:00:00Z", got.event_start)
      assert.is_nil(got.event_settings)
      assert.is_table(get("/events/" .. event.event_id .. "?include=true").event_settings)

      local bad_status, bad = sb:api("PATCH", "/events/" .. event.event_id, { name = string.rep("x", 101) })
      assert.are.equal(400, bad_status)
      assert.matches("name", error_message(bad))
      bad_status, bad = sb:api("PATCH", "/events/" .. event.event_id, { event_end = "2030-05-01T17:00:00Z" })
      assert.are.equal(400, bad_status)
      assert.matches("event_end", error_message(bad))

      local copy_status, copy = sb:api("POST", "/events/" .. event.event_id .. "/copy",
        { target_event_name = "Reunion (copy)" })
      assert.are.equal(200, copy_status)
      assert.are.equal("A night to remember", copy.description)
      assert.are.equal("DRAFT", copy.status)
      assert.are_not.equal(event.event_id, copy.event_id)
      assert.are.equal(400, (sb:api("POST", "/events/" .. event.event_id .. "/copy",
        { target_event_name = "Reunion" })))
      assert.are.equal(400, (sb:api("POST", "/events/" .. event.event_id .. "/copy", {})))

      assert.are.equal(204, (sb:api("PATCH", "/events/" .. copy.event_id, { status = "CANCELLED" })))
      assert.are.equal(400, (sb:api("PATCH", "/events/" .. copy.event_id, { description = "too late" })))

      local active = get("/events?event_status=ACTIVE")
      assert.are.equal(1, active.total_records)
      assert.are.equal(event.event_id, active.records[1].event_id)
      local found = get("/events?search_text=NIGHT%20TO")
      assert.are.equal(2, found.total_records)
      assert.are.equal(404, (sb:api("GET", "/events/00000000-0000-4000-8000-000000000000")))
    end)

    it("pages events with next/prev cursors and sorts them", function()
      for i = 1, 5 do create("Paging " .. i) end
      local page1 = get("/events?limit=2&search_text=Paging&sort_by=name&sort_order=DESC")
      assert.are.equal(5, page1.total_records)
      assert.are.same({ "Paging 5", "Paging 4" }, { page1.records[1].name, page1.records[2].name })
      local names = {}
      local body = page1
      while true do
        for _, r in ipairs(body.records) do names[#names + 1] = r.name end
        if not body.next_cursor then break end
        body = get("/events?limit=2&search_text=Paging&sort_by=name&sort_order=DESC&next="
          .. sandbox.urlencode(body.next_cursor))
      end
      assert.are.same({ "Paging 5", "Paging 4", "Paging 3", "Paging 2", "Paging 1" }, names)
      local back = get("/events?limit=2&search_text=Paging&sort_by=name&sort_order=DESC&prev="
        .. sandbox.urlencode(body.prev_cursor))
      assert.are.equal("Paging 3", back.records[1].name)
      expect_400("/events?limit=101", "limit")
      expect_400("/events?sort_by=colour", "sort_by")
    end)

    it("lists registrations, updates their status and payment, and checks tickets in", function()
      local event = create("Gala")
      local base = "/events/" .. event.event_id .. "/tracks/" .. event.default_track.track_id .. "/registrations"
      local list = get(base)
      assert.is_true(list.total_records >= 3)
      local regs = list.records
      local reg = regs[1]
      local paged, body = {}, get(base .. "?limit=2")
      while true do
        for _, r in ipairs(body.records) do paged[#paged + 1] = r.registration_id end
        if not body.next_cursor then break end
        body = get(base .. "?limit=2&next=" .. sandbox.urlencode(body.next_cursor))
      end
      assert.are.equal(list.total_records, #paged)
      assert.are.equal(400, (sb:api("GET", base .. "?limit=2&page_size=3")))
      expect_400(base .. "?registration_status=LOST", "registration_status")
      assert.are.equal(404, (sb:api("GET", "/events/" .. event.event_id .. "/tracks/nope/registrations")))

      -- Registration status: 200, persisted; unknown ids answer 207 naming them.
      local status, answer = sb:api("PUT", base, { registration_ids = { reg.registration_id },
                                                   registration_status = "REGISTERED" })
      assert.are.equal(200, status, error_message(answer))
      status, answer = sb:api("PUT", base, { registration_ids = { reg.registration_id, "ghost" },
                                             registration_status = "CANCELED" })
      assert.are.equal(207, status)
      assert.are.same({ "ghost" }, answer.failed_registration_ids)
      assert.are.equal("CANCELED", get(base .. "/" .. reg.registration_id).registration_status)
      local canceled = get(base .. "?registration_status=CANCELED")
      local listed = false
      for _, r in ipairs(canceled.records) do
        assert.are.equal("CANCELED", r.registration_status)
        if r.registration_id == reg.registration_id then listed = true end
      end
      assert.is_true(listed)
      status, answer = sb:api("PUT", base, { registration_ids = { reg.registration_id } })
      assert.are.equal(400, status)
      assert.matches("registration_status", error_message(answer))

      status = sb:api("PUT", base .. "/payment_status", { registration_ids = { reg.registration_id },
                                                          payment_status = "Refunded" })
      assert.are.equal(200, status)
      assert.are.equal("REFUNDED", get(base .. "/" .. reg.registration_id).order_summary.payment_status)
      status, answer = sb:api("PUT", base .. "/payment_status", { registration_ids = { reg.registration_id },
                                                                  payment_status = "Lost" })
      assert.are.equal(400, status)
      assert.matches("payment_status", error_message(answer))

      -- Check-in: tickets of a REGISTERED registration.
      assert.are.equal(200, (sb:api("PUT", base, { registration_ids = { reg.registration_id },
                                                   registration_status = "REGISTERED" })))
      local detail = get(base .. "/" .. reg.registration_id)
      assert.are.equal("NOT_CHECKED_IN", detail.checkin_status)
      local keys = {}
      for _, t in ipairs(detail.tickets) do keys[#keys + 1] = t.order_ticket_key end
      local ci = "/events/" .. event.event_id .. "/check_in/tickets"
      assert.are.equal(204, (sb:api("POST", ci, { order_ticket_keys = keys })))
      detail = get(base .. "/" .. reg.registration_id)
      assert.are.equal("CHECKED_IN", detail.checkin_status)
      assert.are.equal(#keys, detail.checkedIn_tickets)
      assert.are.equal(0, detail.eligible_checkin_tickets)
      assert.is_string(detail.tickets[1].checked_in_time)
      assert.are.equal(204, (sb:api("POST", "/events/" .. event.event_id .. "/undo_check_in/tickets",
        { order_ticket_keys = { keys[1] } })))
      detail = get(base .. "/" .. reg.registration_id)
      assert.are.equal(#keys - 1, detail.checkedIn_tickets)
      status, answer = sb:api("POST", ci, { order_ticket_keys = { "nokey" } })
      assert.are.equal(400, status)
      assert.matches("order_ticket_keys", error_message(answer))
      assert.are.equal(400, (sb:api("POST", ci, { order_ticket_keys = sandbox.array() })))
      assert.are.equal(404, (sb:api("GET", base .. "/nobody")))
    end)
  end)

  describe("automations", function()
    it("creates, reads, replaces and lists workflows", function()
      local status, flow = sb:api("POST", "/automations/workflows?workflowName=Welcome%20series",
        { type = "Action", action_name = "list_join",
          parameters = { { parameter_name = "list_ids", parameter_list_value = { ACTIVITY_IDS[1] } } } })
      assert.are.equal(201, status, error_message(flow))
      assert.is_true(is_uuid(flow.id))
      assert.are.equal("Welcome series", flow.name)
      assert.are.equal("list_join", flow.draft_definition.trigger.trigger_def.action_name)
      assert.are.same(flow, get("/automations/workflows/" .. flow.id))

      local bad, body = sb:api("POST", "/automations/workflows", { action_name = "list_join" })
      assert.are.equal(400, bad)
      assert.matches("type", error_message(body))
      bad, body = sb:api("POST", "/automations/workflows", { type = "Date" })
      assert.are.equal(400, bad)
      assert.matches("action_name", error_message(body))

      local put_status, updated = sb:api("PUT", "/automations/workflows/" .. flow.id,
        { automation_flow = { name = "Welcome v2", description = "New subscribers", status = "ACTIVE" } })
      assert.are.equal(200, put_status, error_message(updated))
      local again = get("/automations/workflows/" .. flow.id)
      assert.are.equal("Welcome v2", again.name)
      assert.are.equal("ACTIVE", again.status)
      assert.are.equal(400, (sb:api("PUT", "/automations/workflows/" .. flow.id, {})))

      local other_status = sb:api("POST", "/automations/workflows", { type = "segment_join", segment_id = "12" })
      assert.are.equal(201, other_status)
      local list_status, list = sb:api("GET", "/automations/workflows")
      assert.are.equal(209, list_status)
      assert.are.equal(2, #list.flow_summaries)
      local _, named = sb:api("GET", "/automations/workflows?name=Welcome%20v2&sort_direction=ASC")
      assert.are.equal(1, #named.flow_summaries)
      assert.are.equal(flow.id, named.flow_summaries[1].id)
      expect_400("/automations/workflows?sort_direction=SIDEWAYS", "sort_direction")
      assert.are.equal(404, (sb:api("GET", "/automations/workflows/00000000-0000-4000-8000-000000000000")))
      assert.are.equal(400, (sb:api("GET", "/automations/workflows/not-an-id")))
    end)
  end)

  describe("social", function()
    it("lists profiles (include=accessible), connections and hashtag groups", function()
      local plain = get("/social/profiles")
      assert.is_true(#plain >= 1)
      for _, p in ipairs(plain) do
        assert.is_nil(p.accessible)
        assert.is_true(p.connected)
        assert.is_string(p.network)
      end
      local with = get("/social/profiles?include=accessible")
      for i, p in ipairs(with) do
        assert.is_boolean(p.accessible)
        assert.are.equal(plain[i].profile_id, p.profile_id)
      end
      expect_400("/social/profiles?include=everything", "include")
      assert.are.equal(#plain, #get("/social/connections").connections)

      local groups = all_pages("/social/hashtags/groups?limit=2", "hashtag_groups")
      local first = get("/social/hashtags/groups")
      assert.are.equal(5, #first.hashtag_groups)
      assert.are.equal(#groups, first.page.total_elements)
      local last = get("/social/hashtags/groups?page=" .. (first.page.total_pages - 1))
      assert.is_nil(last._links.next)
      expect_400("/social/hashtags/groups?limit=6", "limit")
      expect_400("/social/hashtags/groups?page=-1", "page")
    end)

    it("validates and creates posts", function()
      local profiles = get("/social/profiles?include=accessible")
      local ok_profile, closed_profile
      for _, p in ipairs(profiles) do
        if p.accessible then ok_profile = ok_profile or p else closed_profile = closed_profile or p end
      end
      local status, post = sb:api("POST", "/social/posts", {
        name = "Spring sale", status = "SCHEDULED", scheduled_time = "2099-03-15T14:30:00Z",
        profile_posts = { { text = "Spring is here", images = { { url = "https://example.com/a.jpg" } },
                            profiles = { { profile_id = ok_profile.profile_id } } } },
      })
      assert.are.equal(201, status, error_message(post))
      assert.is_true(is_uuid(post.campaign_id))
      assert.are.equal("SCHEDULED", post.status)
      assert.are.equal("2099-03-15T14:30:00Z", post.scheduled_time)
      assert.is_string(post.profile_posts[1].post_content_id)
      assert.are.equal(ok_profile.network, post.profile_posts[1].profiles[1].network)

      local function rejected(body, needle)
        local s, b = sb:api("POST", "/social/posts", body)
        assert.are.equal(400, s)
        assert.truthy(error_message(b):find(needle, 1, true), error_message(b))
      end
      local none = sandbox.array()   -- an empty JSON array
      rejected({ profile_posts = { { profiles = none } } }, "status")
      rejected({ status = "SCHEDULED" }, "profile_posts")
      rejected({ status = "PUBLISHED", profile_posts = { { profiles = none } } }, "status")
      rejected({ status = "SCHEDULED", profile_posts = { { text = "x", profiles = none } } },
        "profile_posts[0].profiles")
      rejected({ status = "DRAFT", profile_posts = { { profiles = { { profile_id = "nope" } } } } },
        "profile_posts[0].profiles[0].profile_id")
      rejected({ status = "DRAFT", profile_posts = { { profiles = none, images = { { url = "ftp://x" } } } } },
        "profile_posts[0].images[0].url")
      if closed_profile then
        rejected({ status = "SCHEDULED", profile_posts = { { text = "x",
          profiles = { { profile_id = closed_profile.profile_id } } } } }, "not accessible")
      end
      local draft_status = sb:api("POST", "/social/posts",
        { status = "DRAFT", profile_posts = { { profiles = none } } })
      assert.are.equal(201, draft_status)
    end)
  end)
end)
