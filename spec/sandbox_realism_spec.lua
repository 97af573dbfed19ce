-- The sandbox behaves like the real API where its users have seen it behave
-- (/work/shared/reference/ctct-v3-protocol.md, "Real-API behaviours reported by its
-- users"; sandbox/README.md, "Realism"). One describe per behaviour: each fails if
-- the sandbox stops doing it. Driven with curl through spec/helpers/sandbox.lua.
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"

local quote, run = sandbox.quote, sandbox.run

local OWNER = "owner@default.example.com"   -- the default account's confirmed address
-- Report ids whose generated rows fill several pages (spec/sandbox_reports_spec.lua).
local ACTIVITY_ID = "8892baf9-970a-4de6-8400-fa4ec461987c"
local CONTACT_ID = "84afe95a-5866-11ec-8019-fa163e56c9b0"
local CRITERIA = '{"version":"1.0.0","criteria":{"type":"and","group":[{"source":"tracking",'
  .. '"field":"not_opened","op":"contains-any","const_value":"last-n-campaigns","param":"5"}]}}'

local function text(body)
  return type(body) == "string" and body or cjson.encode(body)
end

-- One curl process for every URL in turn (a quick burst); returns the status codes.
-- args: extra curl arguments applied to every URL.
local function burst(urls, args)
  local parts = { "curl -s -w '%{http_code}\\n'" }
  for _, a in ipairs(args or {}) do parts[#parts + 1] = a end
  for _, url in ipairs(urls) do parts[#parts + 1] = "-o /dev/null " .. quote(url) end
  local out = run(table.concat(parts, " "))
  local codes = {}
  for code in out:gmatch("(%d+)\n") do codes[#codes + 1] = tonumber(code) end
  return codes
end

local function count(codes, want)
  local n = 0
  for _, code in ipairs(codes) do if code == want then n = n + 1 end end
  return n
end

local function rep(value, n)
  local t = {}
  for i = 1, n do t[i] = value end
  return t
end

describe("sandbox realism #once", function()
  local sb

  lazy_setup(function()
    sb = sandbox.start{}
  end)

  lazy_teardown(function()
    if sb then sb:stop() end
  end)

  -- Every limit off but the one a spec turns back on.
  before_each(function()
    sb:reset()
    sb:config{ rate_limit_per_second = 0, token_rate_limit_per_second = 0 }
  end)

  local function ok(want, status, body)
    assert.are.equal(want, status, text(body))
    return body
  end

  local function new_contact(email, token)
    return ok(201, sb:api("POST", "/contacts", { email_address = { address = email }, create_source = "Account" },
      { token = token }))
  end

  describe("401", function()
    it("answers {error_key: unauthorized} with WWW-Authenticate and x-amzn-ErrorType", function()
      local cases = {
        { "GET", "/v3/contacts", nil },                       -- no token
        { "GET", "/v3/contacts", "no-such-token" },           -- unknown token
        { "GET", "/v3/partner/accounts", "no-such-token" },   -- a partner route
      }
      for _, case in ipairs(cases) do
        local status, body, headers = sb:curl{ method = case[1], path = case[2], token = case[3] }
        assert.are.equal(401, status, case[2])
        assert.are.same({ error_key = "unauthorized", error_message = "Unauthorized" }, body)
        assert.are.equal('Bearer realm="api.cc.email"', headers["www-authenticate"])
        assert.are.equal("UnauthorizedException", headers["x-amzn-errortype"])
      end
    end)
  end)

  describe("429 shapes", function()
    it("throttled (per second): a single {error_key, error_message} object, no Retry-After", function()
      sb:config{ rate_limit_per_second = 1 }
      -- 4 requests within at most two one-second windows: at most 2 pass.
      local codes = burst(rep(sb.base_url .. "/contacts", 4),
        { "-H " .. quote("Authorization: Bearer " .. sb.token) })
      assert.is_true(count(codes, 429) >= 2, table.concat(codes, " "))
      local status, body, headers
      for _ = 1, 5 do
        status, body, headers = sb:api("GET", "/contacts")
        if status == 429 then break end
      end
      assert.are.equal(429, status)
      assert.are.same({ error_key = "throttled", error_message = "Too Many Requests" }, body)
      assert.is_nil(headers["retry-after"])
    end)

    it("quota_exceeded (daily quota): the same single-object shape, no Retry-After", function()
      sb:config{ daily_quota = 2 }
      ok(200, sb:api("GET", "/contacts"))
      ok(200, sb:api("GET", "/contacts"))
      local status, body, headers = sb:api("GET", "/contacts")
      assert.are.equal(429, status)
      assert.is_nil(body[1], "an object, not an array")
      assert.are.equal("quota_exceeded", body.error_key)
      assert.is_string(body.error_message)
      assert.is_nil(headers["retry-after"])
    end)

    it("defaults to the real limits: 4/s and 10,000/day", function()
      sb:reset()
      local _, cfg = sb:admin("GET", "/__sandbox/config")
      assert.are.equal(4, cfg.rate_limit_per_second)
      assert.are.equal(10000, cfg.daily_quota)
    end)
  end)

  describe("re-creating a contact", function()
    it("answers 409 contacts.api.conflict for an address the account ever held, deleted included", function()
      local c = new_contact("held@example.com")
      local status, body = sb:api("POST", "/contacts",
        { email_address = { address = "held@example.com" }, create_source = "Account" })
      assert.are.equal(409, status)
      assert.are.equal("contacts.api.conflict", body[1].error_key)

      ok(204, sb:api("DELETE", "/contacts/" .. c.contact_id))
      for _, address in ipairs{ "held@example.com", "HELD@Example.com" } do
        status, body = sb:api("POST", "/contacts", { email_address = { address = address }, create_source = "Contact" })
        assert.are.equal(409, status, address)
        assert.are.equal("contacts.api.conflict", body[1].error_key)
      end
      -- Another account never held it.
      sb:add_token("other-token", "other")
      new_contact("held@example.com", "other-token")
    end)

    it("sign_up_form (create-or-update) brings the deleted contact back instead", function()
      local list = ok(201, sb:api("POST", "/contact_lists", { name = "Signups" }))
      local c = new_contact("back@example.com")
      ok(204, sb:api("DELETE", "/contacts/" .. c.contact_id))
      local status, body = sb:api("POST", "/contacts/sign_up_form",
        { email_address = "back@example.com", list_memberships = { list.list_id } })
      assert.are.equal(200, status, text(body))
      assert.are.same({ contact_id = c.contact_id, action = "updated" }, body)
      local got = ok(200, sb:api("GET", "/contacts/" .. c.contact_id .. "?include=list_memberships"))
      assert.is_nil(got.deleted_at)
      assert.are.same({ list.list_id }, got.list_memberships)
      assert.are.equal("explicit", got.email_address.permission_to_send)
      local listed = ok(200, sb:api("GET", "/contacts?email=back@example.com"))
      assert.are.equal(1, #listed.contacts)
      local counted = ok(200, sb:api("GET", "/contact_lists/" .. list.list_id .. "?include_membership_count=all"))
      assert.are.equal(1, counted.membership_count)
      -- Live again: POST /contacts still conflicts, a second sign-up updates.
      assert.are.equal(409, (sb:api("POST", "/contacts",
        { email_address = { address = "back@example.com" }, create_source = "Account" })))
      status, body = sb:api("POST", "/contacts/sign_up_form",
        { email_address = "back@example.com", list_memberships = { list.list_id } })
      assert.are.equal(200, status)
      assert.are.equal("updated", body.action)
    end)
  end)

  describe("pagination", function()
    -- Every paginated collection, with what it needs to have several pages.
    local function fill()
      for i = 1, 3 do
        new_contact("page" .. i .. "@example.com")
        ok(201, sb:api("POST", "/contact_lists", { name = "List " .. i }))
        ok(201, sb:api("POST", "/contact_tags", { name = "Tag " .. i }))
        ok(201, sb:api("POST", "/contact_custom_fields", { label = "Field " .. i, type = "string" }))
        ok(201, sb:api("POST", "/segments", { name = "Segment " .. i, segment_criteria = CRITERIA }))
        ok(200, sb:api("POST", "/emails", { name = "Campaign " .. i, email_campaign_activities = { {
          format_type = 5, from_name = "Shop", from_email = OWNER, reply_to_email = OWNER, subject = "Hi",
          html_content = "<html><body>[[trackingImage]]</body></html>" } } }))
        ok(201, sb:api("POST", "/events/default?name=Event%20" .. i, {}))
        ok(201, sb:api("POST", "/activities/contact_exports", {}))
      end
    end

    local COLLECTIONS = {
      { "/contacts?limit=1", "contacts" },
      { "/contact_lists?limit=1", "lists" },
      { "/contact_tags?limit=1", "tags" },
      { "/contact_custom_fields?limit=1", "custom_fields" },
      { "/segments?limit=1", "segments" },
      { "/emails?limit=1", "campaigns" },
      { "/activities?limit=1", "activities" },
      { "/events?limit=1", "records" },
      { "/reports/email_reports/" .. ACTIVITY_ID .. "/tracking/sends?limit=500", "tracking_activities" },
      { "/reports/summary_reports/email_campaign_summaries?limit=20", "bulk_email_campaign_summaries" },
      { "/reports/summary_reports/sms_campaign_summaries?limit=10&start_at=2000-01-01T00:00:00Z",
        "bulk_sms_campaign_summaries" },
      { "/reports/contact_reports/" .. CONTACT_ID .. "/activity_details?limit=20", "tracking_activities" },
      { "/reports/landing_pages/campaign_details/" .. ACTIVITY_ID .. "/p_contact_opens?limit=100",
        "tracking_activities" },
      { "/social/hashtags/groups?limit=2", "hashtag_groups" },
    }

    it("gives _links.next.href relative, starting with /v3, and none on the last page", function()
      fill()
      for _, c in ipairs(COLLECTIONS) do
        local path, field = c[1], c[2]
        local status, body = sb:api("GET", path)
        local pages = 0
        while true do
          assert.are.equal(200, status, path .. ": " .. text(body))
          assert.is_table(body[field], path)
          pages = pages + 1
          assert.is_true(pages <= 50, path .. ": too many pages")
          local href = body._links and body._links.next and body._links.next.href
          if not href then break end
          assert.matches("^/v3/", href, path)
          assert.is_nil(href:find("://", 1, true), href)
          status, body = sb:curl{ path = href, token = sb.token }
        end
        assert.is_true(pages >= 2, path .. " has one page only")
        assert.is_nil(body._links and body._links.next, path)
      end
    end)

    it("does so for the partner accounts too", function()
      for i = 1, 11 do
        ok(201, sb:partner_api("POST", "/partner/accounts", { contact_email = "o@client.example",
          country_code = "US", state_code = "MA", login_name = "client-" .. i .. "-x", password = "s3cret-password" }))
      end
      local status, page = sb:partner_api("GET", "/partner/accounts?limit=10")
      assert.are.equal(200, status)
      local href = page._links.next.href
      assert.matches("^/v3/partner/accounts%?", href)
      status, page = sb:partner_api("GET", href)
      assert.are.equal(200, status)
      assert.are.equal(1, #page.site_owner_list)
      assert.is_nil(page._links and page._links.next)
    end)
  end)

  describe("accepted asynchronous work", function()
    it("DELETE /contact_lists/{id}: 202, status processing, the activity's Location", function()
      local list = ok(201, sb:api("POST", "/contact_lists", { name = "Doomed" }))
      local status, body, headers = sb:api("DELETE", "/contact_lists/" .. list.list_id)
      assert.are.equal(202, status)
      assert.are.equal("processing", body.status)
      assert.are.equal("initialized", body.state)
      assert.are.equal("/v3/activities/" .. body.activity_id, body._links.self.href)
      assert.are.equal(body._links.self.href, headers.location)
    end)

    it("DELETE /contact_tags/{id}: 202 with the spec's ActivityGeneric (status is its counts)", function()
      local tag = ok(201, sb:api("POST", "/contact_tags", { name = "Doomed" }))
      local status, body = sb:api("DELETE", "/contact_tags/" .. tag.tag_id)
      assert.are.equal(202, status)
      assert.are.equal("initialized", body.state)
      assert.is_table(body.status)
      assert.are.equal(0, body.status.items_total_count)
    end)

    it("bulk activity POSTs stay 201 with the activity, as the spec says", function()
      local status, body = sb:api("POST", "/activities/contact_exports", {})
      assert.are.equal(201, status)
      assert.are.equal("initialized", body.state)
    end)
  end)

  describe("queued activities", function()
    it("answers 429 past activity_queue_limit unfinished activities (default 1,000)", function()
      local _, cfg = sb:admin("GET", "/__sandbox/config")
      assert.are.equal(1000, cfg.activity_queue_limit)
      sb:config{ activity_queue_limit = 3, activity_polls = 1 }
      local ids = {}
      for i = 1, 3 do ids[i] = ok(201, sb:api("POST", "/activities/contact_exports", {})).activity_id end
      local status, body = sb:api("POST", "/activities/contact_exports", {})
      assert.are.equal(429, status)
      assert.are.equal("activities.api.queue.full", body[1].error_key)
      -- Per account.
      sb:add_token("other-token", "other")
      ok(201, sb:api("POST", "/activities/contact_exports", {}, { token = "other-token" }))
      -- One finished frees a place.
      assert.are.equal("completed", ok(200, sb:api("GET", "/activities/" .. ids[1])).state)
      ok(201, sb:api("POST", "/activities/contact_exports", {}))
      assert.are.equal(429, (sb:api("POST", "/activities/contact_exports", {})))
      -- Off: no limit.
      sb:config{ activity_queue_limit = 0 }
      ok(201, sb:api("POST", "/activities/contact_exports", {}))
    end)

    it("does not count activities done within their POST (activity_polls 0)", function()
      sb:config{ activity_queue_limit = 1, activity_polls = 0 }
      for _ = 1, 3 do ok(201, sb:api("POST", "/activities/contact_exports", {})) end
    end)
  end)

  describe("token endpoint limit", function()
    local function token_burst(n)
      local o = sb.oauth
      return burst(rep(o.token_url, n), { "-u " .. quote(o.client_id .. ":" .. o.client_secret),
        "-d grant_type=client_credentials" })
    end

    it("allows about one request per second per client: over it 429 with an OAuth error", function()
      sb:reset()   -- the real default: 1 per second
      local _, cfg = sb:admin("GET", "/__sandbox/config")
      assert.are.equal(1, cfg.token_rate_limit_per_second)
      sb:config{ rate_limit_per_second = 0 }
      -- 4 requests within at most two one-second windows: at most 2 pass.
      local codes = token_burst(4)
      assert.is_true(count(codes, 429) >= 2, table.concat(codes, " "))
      local status, body, headers
      for _ = 1, 4 do
        status, body, headers = sb:oauth_token{ grant_type = "client_credentials" }
        if status == 429 then break end
      end
      assert.are.equal(429, status)
      assert.are.equal("too_many_requests", body.error)
      assert.is_string(body.error_description)
      assert.is_nil(headers["retry-after"])
      -- Another client has its own budget.
      local other = sb:oauth_token({ grant_type = "client_credentials" }, "public")
      assert.are.equal(400, other)
      -- A second later the client may ask again.
      run("sleep 1.1")
      status, body = sb:oauth_token{ grant_type = "client_credentials" }
      assert.are.equal(400, status)
      assert.are.equal("unsupported_grant_type", body.error)
      assert.is_true(sb:oauth_stats().throttled >= 3)
    end)

    it("is off with token_rate_limit_per_second = 0", function()
      assert.are.same({ 400, 400, 400, 400 }, token_burst(4))
    end)
  end)

  describe("refresh-token rotation", function()
    it("answers invalid_grant to a rotated refresh token reused", function()
      local _, q = sb:authorize{}
      local status, first = sb:oauth_token{ grant_type = "authorization_code", code = q.code,
                                            redirect_uri = sb.oauth.redirect_uri }
      assert.are.equal(200, status, text(first))
      local second
      status, second = sb:oauth_token{ grant_type = "refresh_token", refresh_token = first.refresh_token }
      assert.are.equal(200, status, text(second))
      assert.are_not.equal(first.refresh_token, second.refresh_token)
      status, first = sb:oauth_token{ grant_type = "refresh_token", refresh_token = first.refresh_token }
      assert.are.equal(400, status)
      assert.are.equal("invalid_grant", first.error)
      -- No grace window: the family is gone, the new one included.
      assert.are.equal("invalid_grant",
        select(2, sb:oauth_token{ grant_type = "refresh_token", refresh_token = second.refresh_token }).error)
    end)
  end)
end)
