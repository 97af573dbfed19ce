-- Specs of the sandbox itself (sandbox/), driven with the curl CLI through
-- spec/helpers/sandbox.lua; the ctct library is not involved.
--
-- The sandbox behaves the same whichever Lua runs busted, so its specs are tagged
-- #once (spec/run runs those on Lua 5.4 only); the "spec helper" block is not, so the
-- helper itself is exercised on LuaJIT too.
local sandbox = require "spec.helpers.sandbox"

local run, quote = sandbox.run, sandbox.quote

local function is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"

-- Several requests on one curl command line (curl reuses one connection for them).
-- Returns the list of HTTP status codes.
local function curl_many(sb, paths, token)
  local parts = { "curl -s -o /dev/null -w '%{http_code}\\n'" }
  if token then parts[#parts + 1] = "-H " .. quote("Authorization: Bearer " .. token) end
  if sb.cafile then parts[#parts + 1] = "--cacert " .. quote(sb.cafile) end
  for _, p in ipairs(paths) do parts[#parts + 1] = quote(sb.url .. p) end
  local out = run(table.concat(parts, " "))
  local codes = {}
  for code in out:gmatch("(%d+)\n") do codes[#codes + 1] = tonumber(code) end
  return codes
end

local function new_contact(sb, email, extra)
  local body = { email_address = { address = email }, create_source = "Account" }
  for k, v in pairs(extra or {}) do body[k] = v end
  local status, contact = sb:api("POST", "/contacts", body)
  assert.are.equal(201, status)
  return contact
end

describe("spec helper", function()
  it("starts, drives and stops a sandbox (stop is idempotent)", function()
    local sb = sandbox.start{ token = "helper-token" }
    assert.is_true(sb:alive())
    assert.are.equal(sb.url .. "/v3", sb.base_url)
    assert.are.equal("helper-token", sb.token)
    assert.matches("^/", sb.root)
    assert.are.equal(sandbox.repo_root(), sb.root)
    assert.are.equal(200, (sb:admin("GET", "/__sandbox/health")))
    sb:config{ rate_limit_per_second = 0 }
    local status, contact = sb:api("POST", "/contacts",
      { create_source = "Account", email_address = { address = "helper@example.com" } })
    assert.are.equal(201, status)
    local _, got = sb:api("GET", "/contacts/" .. contact.contact_id)
    assert.are.equal("helper@example.com", got.email_address.address)
    assert.are.equal(2, sb:stats().requests)
    assert.are.equal(2, #sb:requests())
    sb:add_token("helper-2", "acct2")
    sb:faults{ { status = 503 } }
    assert.are.equal(503, (sb:api("GET", "/contacts", nil, { token = "helper-2" })))
    sb:clear_faults()
    sb:reset()
    sb:stop()
    assert.is_false(sb:alive())
    sb:stop()
  end)

  it("raises with start's error output when the sandbox cannot start", function()
    local ok, err = pcall(sandbox.start, { token = "no spaces allowed" })
    assert.is_false(ok)
    assert.matches("bad %-%-token", err)
  end)
end)

describe("sandbox scripts #once", function()
  local root = sandbox.repo_root()

  it("start prints its variables and stop leaves no process and no directory", function()
    local registry = os.tmpname()
    local out, code = run("CTCT_SANDBOX_REGISTRY=" .. quote(registry) .. " "
      .. quote(root .. "/sandbox/start") .. " --workers 2 --token tok-123 2>/dev/null")
    assert.are.equal(0, code)
    local vars = {}
    for k, v in out:gmatch("(SANDBOX_[%u_]+)=([^\n]*)") do vars[k] = v end
    assert.are.same({ "SANDBOX_DIR", "SANDBOX_PID", "SANDBOX_TOKEN", "SANDBOX_URL" }, (function()
      local names = {}
      for k in pairs(vars) do names[#names + 1] = k end
      table.sort(names)
      return names
    end)())
    assert.matches("^http://127%.0%.0%.1:%d+$", vars.SANDBOX_URL)
    assert.are.equal("tok-123", vars.SANDBOX_TOKEN)
    local f = assert(io.open(registry))
    assert.are.equal(vars.SANDBOX_DIR, (f:read("*l")))
    f:close()
    os.remove(registry)

    -- Two workers: the master and both children exist, and they share one state.
    local children = run("ps -o pid= --ppid " .. vars.SANDBOX_PID)
    local n = 0
    for _ in children:gmatch("%d+") do n = n + 1 end
    assert.are.equal(2, n)

    local _, stop_code = run(quote(root .. "/sandbox/stop") .. " " .. quote(vars.SANDBOX_DIR))
    assert.are.equal(0, stop_code)
    local _, alive = run("kill -0 " .. vars.SANDBOX_PID .. " 2>/dev/null")
    assert.are_not.equal(0, alive)
    local _, dir_exists = run("test -e " .. quote(vars.SANDBOX_DIR))
    assert.are_not.equal(0, dir_exists)
    local _, again = run(quote(root .. "/sandbox/stop") .. " " .. quote(vars.SANDBOX_DIR))
    assert.are.equal(0, again)
  end)

  it("fails cleanly when the port is taken, leaving nothing behind", function()
    local sb = sandbox.start{}
    local port = sb.url:match(":(%d+)$")
    local tmp = run("mktemp -d"):gsub("%s+$", "")
    local out, code = run("TMPDIR=" .. quote(tmp) .. " " .. quote(root .. "/sandbox/start")
      .. " --port " .. port .. " 2>&1")
    sb:stop()
    assert.are_not.equal(0, code)
    assert.matches("Address already in use", out)
    assert.is_nil(out:match("SANDBOX_URL="))
    local leftover = run("ls -A " .. quote(tmp))
    assert.are.equal("", leftover)
    run("rmdir " .. quote(tmp))
  end)

  it("rejects unknown options", function()
    local _, code = run(quote(root .. "/sandbox/start") .. " --bogus 2>/dev/null")
    assert.are_not.equal(0, code)
  end)
end)

describe("sandbox #once", function()
  local sb

  lazy_setup(function()
    sb = sandbox.start{}
  end)

  lazy_teardown(function()
    if sb then sb:stop() end
  end)

  before_each(function()
    sb:reset()
    -- Most specs make quick bursts of calls; the rate limiter has its own specs.
    sb:config{ rate_limit_per_second = 0 }
  end)

  describe("admin", function()
    it("answers health", function()
      local status, body = sb:admin("GET", "/__sandbox/health")
      assert.are.equal(200, status)
      assert.are.same({ status = "ok" }, body)
    end)

    it("sets and reports config, and reset restores the defaults", function()
      local status, cfg = sb:admin("POST", "/__sandbox/config", { latency_ms = 5, daily_quota = 7 })
      assert.are.equal(200, status)
      -- json_capture: sandbox/start's --json-capture (the helper's, under CTCT_JSON_CAPTURE_DIR).
      local capture = sb.json_capture or ""
      assert.are.same({ rate_limit_per_second = 0, daily_quota = 7, latency_ms = 5, activity_polls = 3,
                        token_rate_limit_per_second = 1, activity_queue_limit = 1000,
                        partner_token_ttl = 3600, json_capture = capture, rate_limit_scope = "token" }, cfg)
      local _, got = sb:admin("GET", "/__sandbox/config")
      assert.are.same(cfg, got)
      sb:reset()
      _, got = sb:admin("GET", "/__sandbox/config")
      assert.are.same({ rate_limit_per_second = 4, daily_quota = 10000, latency_ms = 0, activity_polls = 3,
                        token_rate_limit_per_second = 1, activity_queue_limit = 1000,
                        partner_token_ttl = 3600, json_capture = capture, rate_limit_scope = "token" }, got)
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/config", { latency_ms = -1 })))
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/config", { nonsense = 1 })))
    end)

    it("reset clears data but keeps the default token", function()
      new_contact(sb, "keep@example.com")
      sb:reset()
      local status, body = sb:api("GET", "/contacts")
      assert.are.equal(200, status)
      assert.are.same({}, body.contacts)
    end)

    it("registers and revokes tokens; each account sees only its own data", function()
      new_contact(sb, "mine@example.com")
      sb:add_token("second-token", "acct2")
      local status, body = sb:api("GET", "/contacts", nil, { token = "second-token" })
      assert.are.equal(200, status)
      assert.are.same({}, body.contacts)
      local _, summary1 = sb:api("GET", "/account/summary")
      local _, summary2 = sb:api("GET", "/account/summary", nil, { token = "second-token" })
      assert.are_not.equal(summary1.encoded_account_id, summary2.encoded_account_id)

      assert.are.equal(204, (sb:admin("DELETE", "/__sandbox/tokens/second-token")))
      assert.are.equal(401, (sb:api("GET", "/contacts", nil, { token = "second-token" })))
      assert.are.equal(404, (sb:admin("DELETE", "/__sandbox/tokens/second-token")))
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/tokens", { account = "x" })))
    end)

    it("answers 404 for an unknown admin path", function()
      assert.are.equal(404, (sb:admin("GET", "/__sandbox/nope")))
    end)
  end)

  describe("auth and routing", function()
    it("answers 401 with an AuthorizationErrorSchema body without a valid token", function()
      for _, token in ipairs({ false, "not-a-registered-token" }) do
        local status, body = sb:api("GET", "/contacts", nil, { token = token })
        assert.are.equal(401, status)
        assert.are.same({ error_key = "unauthorized", error_message = "Unauthorized" }, body)
      end
      local status = sb:api("GET", "/contacts", nil,
        { token = false, headers = { "Authorization: Basic Zm9vOmJhcg==" } })
      assert.are.equal(401, status)
    end)

    it("answers 404 for an unknown path and 405 for a wrong method", function()
      local status, body = sb:api("GET", "/no_such_thing")
      assert.are.equal(404, status)
      assert.is_string(body[1].error_key)
      local headers
      status, body, headers = sb:api("PATCH", "/contacts")
      assert.are.equal(405, status)
      assert.is_string(body[1].error_message)
      assert.matches("GET", headers.allow)
      assert.matches("POST", headers.allow)
    end)

    it("answers JSON with Content-Type application/json", function()
      local _, _, headers = sb:api("GET", "/contacts")
      assert.matches("^application/json", headers["content-type"])
    end)
  end)

  describe("account summary", function()
    it("returns a Customer and updates the fields given", function()
      local status, customer = sb:api("GET", "/account/summary")
      assert.are.equal(200, status)
      for _, field in ipairs({ "encoded_account_id", "first_name", "last_name", "contact_email",
                               "contact_phone", "country_code", "state_code", "organization_name",
                               "website", "time_zone_id" }) do
        assert.is_string(customer[field], field)
      end
      assert.is_nil(customer.physical_address)
      local _, with_address = sb:api("GET", "/account/summary?extra_fields=physical_address")
      assert.is_string(with_address.physical_address.address_line1)

      local updated
      status, updated = sb:api("PUT", "/account/summary",
        { first_name = "Lola", website = "http://x.example" })
      assert.are.equal(200, status)
      assert.are.equal("Lola", updated.first_name)
      assert.are.equal("http://x.example", updated.website)
      assert.are.equal(customer.last_name, updated.last_name)
      assert.are.equal(customer.encoded_account_id, updated.encoded_account_id)
      local _, again = sb:api("GET", "/account/summary")
      assert.are.equal("Lola", again.first_name)

      assert.are.equal(400, (sb:api("PUT", "/account/summary", { first_name = 42 })))
      assert.are.equal(400, (sb:api("GET", "/account/summary?extra_fields=bogus")))
    end)
  end)

  describe("contacts", function()
    it("creates a contact (201 ContactResource) and gets it back", function()
      local _, list = sb:api("POST", "/contact_lists", { name = "Newsletter" })
      local status, c = sb:api("POST", "/contacts", {
        email_address = { address = "dlang@example.com", permission_to_send = "explicit" },
        first_name = "Debora", last_name = "Lang", job_title = "Musician", company_name = "Acme Corp.",
        create_source = "Account", list_memberships = { list.list_id },
        phone_numbers = { { phone_number = "+1-555-555-5555", kind = "home" } },
      })
      assert.are.equal(201, status)
      assert.is_true(is_uuid(c.contact_id))
      assert.are.equal("dlang@example.com", c.email_address.address)
      assert.are.equal("explicit", c.email_address.permission_to_send)
      assert.are.equal("Debora", c.first_name)
      assert.are.equal("Account", c.create_source)
      assert.matches(ISO, c.created_at)
      assert.matches(ISO, c.updated_at)
      assert.are.same({ list.list_id }, c.list_memberships)
      assert.are.same({}, c.taggings)
      assert.are.equal("+1-555-555-5555", c.phone_numbers[1].phone_number)
      assert.is_true(is_uuid(c.phone_numbers[1].phone_number_id))

      local got
      status, got = sb:api("GET", "/contacts/" .. c.contact_id)
      assert.are.equal(200, status)
      assert.are.equal(c.contact_id, got.contact_id)
      assert.is_nil(got.list_memberships)   -- sub-resources only on request
      _, got = sb:api("GET", "/contacts/" .. c.contact_id .. "?include=list_memberships,taggings")
      assert.are.same({ list.list_id }, got.list_memberships)
      assert.are.same({}, got.taggings)
    end)

    it("writes empty arrays as []", function()
      local c = new_contact(sb, "arrays@example.com")
      local _, raw = sb:curl{ path = "/v3/contacts/" .. c.contact_id .. "?include=taggings",
                              token = sb.token, extra = { "--raw" } }
      assert.are.same({}, raw.taggings)
      local out = run("curl -s -H " .. quote("Authorization: Bearer " .. sb.token) .. " "
        .. quote(sb.url .. "/v3/contacts/" .. c.contact_id .. "?include=taggings"))
      assert.matches('"taggings":%[%]', out)
    end)

    it("validates the body: create_source, email, JSON, content type, lists", function()
      local status, body = sb:api("POST", "/contacts", { email_address = { address = "x@example.com" } })
      assert.are.equal(400, status)
      assert.matches("create_source", body[1].error_message)
      assert.is_string(body[1].error_key)

      status = sb:api("POST", "/contacts", { create_source = "Account", first_name = "No email" })
      assert.are.equal(400, status)
      status = sb:api("POST", "/contacts",
        { create_source = "Account", email_address = { address = "nope" } })
      assert.are.equal(400, status)
      status = sb:api("POST", "/contacts",
        { create_source = "Robot", email_address = { address = "a@example.com" } })
      assert.are.equal(400, status)
      status = sb:api("POST", "/contacts", "{not json")
      assert.are.equal(400, status)
      status = sb:api("POST", "/contacts", '{"create_source":"Account"}', { content_type = "text/plain" })
      assert.are.equal(415, status)
      status, body = sb:api("POST", "/contacts", { create_source = "Account",
        email_address = { address = "l@example.com" },
        list_memberships = { "6d7f1d0a-0000-4000-8000-000000000000" } })
      assert.are.equal(400, status)
      assert.matches("list_memberships", body[1].error_message)
    end)

    it("creates an SMS-only contact", function()
      local status, c = sb:api("POST", "/contacts", { create_source = "Contact",
        sms_channel = { full_sms_address = "17815551212",
          sms_channel_consents = {
            { sms_consent_permission = "explicit", consent_type = "promotional_sms" } } } })
      assert.are.equal(201, status)
      assert.is_nil(c.email_address)
      assert.are.equal("17815551212", c.sms_channel.sms_address)
    end)

    it("answers 409 for a duplicate email (case-insensitive)", function()
      new_contact(sb, "dup@example.com")
      local status, body = sb:api("POST", "/contacts",
        { email_address = { address = "DUP@example.com" }, create_source = "Contact" })
      assert.are.equal(409, status)
      assert.is_string(body[1].error_key)
      assert.is_string(body[1].error_message)
    end)

    it("updates a contact with PUT (update_source required)", function()
      local c = new_contact(sb, "put@example.com", { first_name = "Old", job_title = "Keeper" })
      local status = sb:api("PUT", "/contacts/" .. c.contact_id,
        { email_address = { address = "put@example.com" } })
      assert.are.equal(400, status)
      local updated
      status, updated = sb:api("PUT", "/contacts/" .. c.contact_id, {
        email_address = { address = "put2@example.com" }, first_name = "New", update_source = "Contact" })
      assert.are.equal(200, status)
      assert.are.equal("New", updated.first_name)
      assert.is_nil(updated.job_title)   -- a PUT replaces the contact
      assert.are.equal("put2@example.com", updated.email_address.address)
      assert.are.equal("Contact", updated.update_source)
      assert.are.equal("Account", updated.create_source)
      assert.are.equal(c.created_at, updated.created_at)
      -- The old address is free again, the new one taken.
      new_contact(sb, "put@example.com")
      assert.are.equal(409, (sb:api("POST", "/contacts",
        { email_address = { address = "put2@example.com" }, create_source = "Account" })))
    end)

    it("deletes a contact (204); it is then excluded by default and shown as deleted", function()
      local c = new_contact(sb, "gone@example.com")
      local keep = new_contact(sb, "stay@example.com")
      local status, body = sb:api("DELETE", "/contacts/" .. c.contact_id)
      assert.are.equal(204, status)
      assert.are.equal("", body)
      local _, list = sb:api("GET", "/contacts")
      assert.are.equal(1, #list.contacts)
      assert.are.equal(keep.contact_id, list.contacts[1].contact_id)
      _, list = sb:api("GET", "/contacts?status=deleted")
      assert.are.equal(1, #list.contacts)
      assert.are.equal(c.contact_id, list.contacts[1].contact_id)
      assert.matches("^%d%d%d%d%-%d%d%-%d%d$", list.contacts[1].deleted_at)
      _, list = sb:api("GET", "/contacts?status=all&include_count=true")
      assert.are.equal(2, list.contacts_count)
      local got
      status, got = sb:api("GET", "/contacts/" .. c.contact_id)
      assert.are.equal(200, status)
      assert.is_string(got.deleted_at)
      assert.are.equal(404, (sb:api("DELETE", "/contacts/" .. c.contact_id)))
    end)

    it("answers 404 with an error body for unknown ids", function()
      for _, method in ipairs({ "GET", "DELETE" }) do
        local status, body = sb:api(method, "/contacts/00000000-0000-4000-8000-000000000000")
        assert.are.equal(404, status)
        assert.is_string(body[1].error_key)
      end
      local status = sb:api("PUT", "/contacts/00000000-0000-4000-8000-000000000000",
        { email_address = { address = "a@example.com" }, update_source = "Account" })
      assert.are.equal(404, status)
    end)

    it("filters by email, lists and status", function()
      local _, list = sb:api("POST", "/contact_lists", { name = "Filter" })
      local a = new_contact(sb, "a@example.com", { list_memberships = { list.list_id } })
      new_contact(sb, "b@example.com")
      local u = new_contact(sb, "u@example.com")
      sb:api("PUT", "/contacts/" .. u.contact_id, { update_source = "Contact",
        email_address = { address = "u@example.com", permission_to_send = "unsubscribed" } })

      local _, got = sb:api("GET", "/contacts?email=A@example.com")
      assert.are.equal(1, #got.contacts)
      assert.are.equal(a.contact_id, got.contacts[1].contact_id)
      _, got = sb:api("GET", "/contacts?lists=" .. list.list_id .. "&include_count=true")
      assert.are.equal(1, #got.contacts)
      assert.are.equal(1, got.contacts_count)
      _, got = sb:api("GET", "/contacts?status=unsubscribed")
      assert.are.equal(1, #got.contacts)
      assert.are.equal(u.contact_id, got.contacts[1].contact_id)
      _, got = sb:api("GET", "/contacts?status=active&include_count=true")
      assert.are.equal(2, got.contacts_count)
      assert.are.equal(400, (sb:api("GET", "/contacts?status=bogus")))
      assert.are.equal(400, (sb:api("GET", "/contacts?include=bogus")))
    end)

    it("pages 120 contacts by 50 exactly, following _links.next.href", function()
      local created = {}
      for i = 1, 120 do
        created[i] = new_contact(sb, string.format("page%03d@example.com", i)).contact_id
      end
      local seen, order, sizes = {}, {}, {}
      local path = "/v3/contacts?limit=50&include=list_memberships"
      local pages = 0
      while path do
        pages = pages + 1
        assert.is_true(pages <= 3, "too many pages")
        local status, page = sb:curl{ path = path, token = sb.token }
        assert.are.equal(200, status)
        sizes[#sizes + 1] = #page.contacts
        for _, c in ipairs(page.contacts) do
          assert.is_nil(seen[c.contact_id], "duplicate " .. c.contact_id)
          seen[c.contact_id] = true
          order[#order + 1] = c.contact_id
          assert.is_table(c.list_memberships)   -- the filter survives the next link
        end
        local next_link = page._links and page._links.next
        if next_link then
          assert.matches("^/v3/contacts%?cursor=", next_link.href)
          assert.matches("include=list_memberships", next_link.href)
        end
        path = next_link and next_link.href
      end
      assert.are.same({ 50, 50, 20 }, sizes)
      assert.are.same(created, order)
    end)

    it("ends on the last full page without an empty next page", function()
      for i = 1, 4 do new_contact(sb, "even" .. i .. "@example.com") end
      local _, page1 = sb:api("GET", "/contacts?limit=2")
      local _, page2 = sb:curl{ path = page1._links.next.href, token = sb.token }
      assert.are.equal(2, #page2.contacts)
      assert.is_nil(page2._links)
    end)

    it("rejects a limit out of range and an invalid cursor with 400", function()
      for _, limit in ipairs({ "0", "501", "abc", "2.5" }) do
        local status, body = sb:api("GET", "/contacts?limit=" .. limit)
        assert.are.equal(400, status, limit)
        assert.matches("limit", body[1].error_message)
      end
      assert.are.equal(200, (sb:api("GET", "/contacts?limit=500")))
      assert.are.equal(400, (sb:api("GET", "/contacts?cursor=not-a-cursor")))
    end)
  end)

  describe("contact lists", function()
    it("creates, reads, updates and lists lists", function()
      local status, list = sb:api("POST", "/contact_lists",
        { name = "Multiple purchases", description = "Repeat customers", favorite = true })
      assert.are.equal(201, status)
      assert.is_true(is_uuid(list.list_id))
      assert.are.equal("Multiple purchases", list.name)
      assert.are.equal("Repeat customers", list.description)
      assert.is_true(list.favorite)
      assert.matches(ISO, list.created_at)
      assert.matches(ISO, list.updated_at)

      assert.are.equal(409, (sb:api("POST", "/contact_lists", { name = "multiple PURCHASES" })))
      assert.are.equal(400, (sb:api("POST", "/contact_lists", { favorite = true })))

      local got
      status, got = sb:api("GET", "/contact_lists/" .. list.list_id)
      assert.are.equal(200, status)
      assert.are.same(list, got)

      local updated
      status, updated = sb:api("PUT", "/contact_lists/" .. list.list_id,
        { name = "Renamed", favorite = false })
      assert.are.equal(200, status)
      assert.are.equal("Renamed", updated.name)
      assert.is_false(updated.favorite)

      new_contact(sb, "m1@example.com", { list_memberships = { list.list_id } })
      local all
      status, all = sb:api("GET", "/contact_lists?include_count=true&include_membership_count=all")
      assert.are.equal(200, status)
      assert.are.equal(1, all.lists_count)
      assert.are.equal(1, all.lists[1].membership_count)
      assert.are.equal(400, (sb:api("GET", "/contact_lists?limit=1001")))
      assert.are.equal(400, (sb:api("GET", "/contact_lists?include_membership_count=some")))
      assert.are.equal(404, (sb:api("GET", "/contact_lists/00000000-0000-4000-8000-000000000000")))
    end)

    it("pages lists with the same cursor mechanism", function()
      for i = 1, 5 do sb:api("POST", "/contact_lists", { name = "L" .. i }) end
      local names, path = {}, "/v3/contact_lists?limit=2"
      while path do
        local _, page = sb:curl{ path = path, token = sb.token }
        for _, l in ipairs(page.lists) do names[#names + 1] = l.name end
        path = page._links and page._links.next.href
      end
      assert.are.same({ "L1", "L2", "L3", "L4", "L5" }, names)
    end)

    it("deletes a list with 202 and an activity, removing its memberships", function()
      local _, list = sb:api("POST", "/contact_lists", { name = "Doomed" })
      local c = new_contact(sb, "member@example.com", { list_memberships = { list.list_id } })
      local status, activity = sb:api("DELETE", "/contact_lists/" .. list.list_id)
      assert.are.equal(202, status)
      assert.is_true(is_uuid(activity.activity_id))
      assert.are.equal("initialized", activity.state)
      assert.are.same({}, activity.activity_errors)
      assert.are.equal("/v3/activities/" .. activity.activity_id, activity._links.self.href)
      local _, done = sb:api("GET", "/activities/" .. activity.activity_id)
      assert.are.equal("completed", done.state)

      assert.are.equal(404, (sb:api("GET", "/contact_lists/" .. list.list_id)))
      local _, got = sb:api("GET", "/contacts/" .. c.contact_id .. "?include=list_memberships")
      assert.are.same({}, got.list_memberships)
      local _, lists = sb:api("GET", "/contact_lists")
      assert.are.same({}, lists.lists)
      -- The name is free again.
      assert.are.equal(201, (sb:api("POST", "/contact_lists", { name = "Doomed" })))
    end)
  end)

  describe("faults", function()
    it("answers an injected status with Retry-After, once by default", function()
      sb:faults{ { status = 503, retry_after = 7 } }
      local status, body, headers = sb:api("GET", "/contacts")
      assert.are.equal(503, status)
      assert.are.equal("7", headers["retry-after"])
      assert.is_string(body[1].error_key)
      assert.is_string(body[1].error_message)
      status, body, headers = sb:api("GET", "/contacts")
      assert.is_table(body.contacts)
      assert.are.equal(200, status)
      assert.is_nil(headers["retry-after"])
    end)

    it("answers an injected 429 with a throttled body, or the rule's error_key and body", function()
      sb:faults{ { status = 429 }, { status = 429, error_key = "quota_exceeded" },
                 { status = 500, body = "oops", content_type = "text/plain" } }
      local status, body = sb:api("GET", "/contacts")
      assert.are.equal(429, status)
      assert.are.equal("throttled", body[1].error_key)
      status, body = sb:api("GET", "/contacts")
      assert.are.equal(429, status)
      assert.are.equal("quota_exceeded", body[1].error_key)
      local headers
      status, body, headers = sb:api("GET", "/contacts")
      assert.are.equal(500, status)
      assert.are.equal("oops", body)
      assert.matches("^text/plain", headers["content-type"])
    end)

    it("drops the connection without a response", function()
      sb:faults{ { drop = true } }
      local status, _, _, code = sb:api("POST", "/contacts", { create_source = "Account",
        email_address = { address = "dropped@example.com" } })
      assert.is_nil(status)
      assert.are.equal(52, code)   -- curl: empty reply from server
      local _, list = sb:api("GET", "/contacts")
      assert.are.same({}, list.contacts)   -- the request was not handled
      local log = sb:requests()
      assert.are.equal(444, log[1].status)
    end)

    it("answers a malformed HTML 200", function()
      sb:faults{ { malformed = true } }
      local status, body, headers = sb:api("GET", "/contacts")
      assert.are.equal(200, status)
      assert.matches("^text/html", headers["content-type"])
      assert.matches("<html>", body)
    end)

    it("delays with latency_ms and then answers normally", function()
      sb:faults{ { latency_ms = 500 } }
      local cmd = "curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "
        .. quote("Authorization: Bearer " .. sb.token) .. " " .. quote(sb.url .. "/v3/contacts")
      local code, seconds = run(cmd):match("^(%d+) ([%d.]+)")
      assert.are.equal("200", code)
      assert.is_true(tonumber(seconds) >= 0.45, seconds)
      code, seconds = run(cmd):match("^(%d+) ([%d.]+)")
      assert.are.equal("200", code)
      assert.is_true(tonumber(seconds) < 0.45, seconds)
    end)

    it("applies a rule only to matching requests, `times` times", function()
      sb:faults{ { match = "POST /v3/contacts", status = 500, times = 2 } }
      assert.are.equal(200, (sb:api("GET", "/contacts")))
      assert.are.equal(200, (sb:admin("GET", "/__sandbox/health")))   -- admin never faulted
      local _, listed = sb:admin("GET", "/__sandbox/faults")
      assert.are.equal(2, listed.faults[1].times_left)
      local body = { create_source = "Account", email_address = { address = "t@example.com" } }
      assert.are.equal(500, (sb:api("POST", "/contacts", body)))
      assert.are.equal(500, (sb:api("POST", "/contacts", body)))
      assert.are.equal(201, (sb:api("POST", "/contacts", body)))
      _, listed = sb:admin("GET", "/__sandbox/faults")
      assert.are.equal(0, listed.faults[1].times_left)
    end)

    it("uses the first matching rule with times left; * matches any method", function()
      sb:faults{ { match = "* /v3/contact_lists", status = 502 }, { status = 504, times = 5 } }
      assert.are.equal(504, (sb:api("GET", "/contacts")))
      assert.are.equal(502, (sb:api("GET", "/contact_lists")))
      assert.are.equal(504, (sb:api("GET", "/contact_lists")))
      sb:clear_faults()
      assert.are.equal(200, (sb:api("GET", "/contacts")))
    end)

    it("rejects an invalid rule", function()
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/faults", { faults = { { status = "x" } } })))
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/faults", { faults = { { match = "nonsense" } } })))
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/faults", { nope = true })))
    end)
  end)

  describe("stats and request log", function()
    it("counts requests, routes and distinct connections", function()
      local codes = curl_many(sb, { "/v3/contacts", "/v3/contacts", "/v3/account/summary" }, sb.token)
      assert.are.same({ 200, 200, 200 }, codes)
      local stats = sb:stats()
      assert.are.equal(3, stats.requests)
      assert.are.equal(1, stats.connections)
      assert.are.same({ ["GET /v3/contacts"] = 2, ["GET /v3/account/summary"] = 1 }, stats.by_route)

      sb:api("GET", "/contacts")
      sb:api("GET", "/contacts/00000000-0000-4000-8000-000000000000")
      stats = sb:stats()
      assert.are.equal(5, stats.requests)
      assert.are.equal(3, stats.connections)
      assert.are.equal(1, stats.by_route["GET /v3/contacts/{contact_id}"])
      assert.are.equal(0, stats.throttled)
      assert.are.equal(0, stats.quota_exceeded)
    end)

    it("keeps one connection for 100 sequential calls from one client", function()
      local paths = {}
      for i = 1, 100 do paths[i] = "/v3/contacts" end
      curl_many(sb, paths, sb.token)
      local stats = sb:stats()
      assert.are.equal(100, stats.requests)
      assert.are.equal(1, stats.connections)
    end)

    it("logs requests without token values", function()
      sb:api("POST", "/contacts",
        { create_source = "Account", email_address = { address = "log@example.com" } },
        { headers = { "User-Agent: spec-agent/1" } })
      sb:api("GET", "/contacts", nil, { token = false })
      sb:api("GET", "/contacts", nil, { token = false, headers = { "Authorization: Basic eDp5" } })
      local log = sb:requests()
      assert.are.equal(3, #log)
      local first = log[1]
      assert.are.equal("POST", first.method)
      assert.are.equal("/v3/contacts", first.uri)
      assert.are.equal("1.1", first.http_version)
      assert.are.equal("spec-agent/1", first.user_agent)
      assert.are.equal("application/json", first.content_type)
      assert.are.equal("Bearer", first.authorization)
      assert.is_true(first.body_bytes > 0)
      assert.are.equal(201, first.status)
      assert.is_number(first.connection)
      assert.are.equal("none", log[2].authorization)
      assert.are.equal(401, log[2].status)
      assert.are.equal("other", log[3].authorization)
      local _, raw = sb:curl{ path = "/__sandbox/requests", extra = { "--raw" } }
      assert.is_nil(require("cjson").encode(raw):find(sb.token, 1, true))
    end)

    it("keeps only the last 200 requests, oldest first", function()
      local paths = {}
      for i = 1, 205 do paths[i] = "/v3/contacts?n=" .. i end
      curl_many(sb, paths, sb.token)
      local log = sb:requests()
      assert.are.equal(200, #log)
      assert.are.equal("/v3/contacts?n=6", log[1].uri)
      assert.are.equal("/v3/contacts?n=205", log[200].uri)
    end)
  end)

  describe("rate limits", function()
    it("throttles a burst over the per-second limit with 429 and no Retry-After", function()
      sb:config{ rate_limit_per_second = 4 }
      -- 12 requests within at most two one-second windows: at most 8 pass.
      local paths = {}
      for i = 1, 12 do paths[i] = "/v3/contacts" end
      local codes = curl_many(sb, paths, sb.token)
      local ok, throttled = 0, 0
      for _, code in ipairs(codes) do
        if code == 200 then ok = ok + 1 elseif code == 429 then throttled = throttled + 1 end
      end
      assert.are.equal(12, ok + throttled)
      assert.is_true(throttled >= 4, "throttled " .. throttled)
      assert.is_true(ok >= 4)
      assert.are.equal(throttled, sb:stats().throttled)

      local status, body, headers
      for _ = 1, 6 do
        status, body, headers = sb:api("GET", "/contacts")
        if status == 429 then break end
      end
      assert.are.equal(429, status)
      -- A single object, as the API answers (not an APIErrorSchema array).
      assert.are.same({ error_key = "throttled", error_message = "Too Many Requests" }, body)
      assert.is_nil(headers["retry-after"])
    end)

    it("counts each token separately", function()
      sb:config{ rate_limit_per_second = 1 }
      sb:add_token("other-token", "default")
      local codes = curl_many(sb, { "/v3/contacts" }, sb.token)
      local other = curl_many(sb, { "/v3/contacts" }, "other-token")
      assert.are.same({ 200 }, other)
      assert.are.same({ 200 }, codes)
    end)

    it("enforces the daily quota with quota_exceeded", function()
      sb:config{ daily_quota = 3 }
      for _ = 1, 3 do assert.are.equal(200, (sb:api("GET", "/contacts"))) end
      local status, body, headers = sb:api("GET", "/contacts")
      assert.are.equal(429, status)
      assert.are.equal("quota_exceeded", body.error_key)
      assert.is_nil(headers["retry-after"])
      assert.are.equal(1, sb:stats().quota_exceeded)
      sb:config{ daily_quota = 0 }
      assert.are.equal(200, (sb:api("GET", "/contacts")))
    end)
  end)

  describe("gzip", function()
    it("compresses JSON for a client that accepts gzip", function()
      for i = 1, 3 do new_contact(sb, "gz" .. i .. "@example.com") end
      local status, raw, headers = sb:api("GET", "/contacts", nil,
        { headers = { "Accept-Encoding: gzip" } })
      assert.are.equal(200, status)
      assert.are.equal("gzip", headers["content-encoding"])
      assert.are.equal("\31\139", raw:sub(1, 2))   -- gzip magic
      local _, decoded, compressed = sb:api("GET", "/contacts", nil, { extra = { "--compressed" } })
      assert.are.equal("gzip", compressed["content-encoding"])
      assert.are.equal(3, #decoded.contacts)
      local _, _, identity = sb:api("GET", "/contacts")
      assert.is_nil(identity["content-encoding"])
    end)
  end)
end)

describe("sandbox over TLS #once", function()
  local sb

  lazy_setup(function()
    sb = sandbox.start{ tls = true }
  end)

  lazy_teardown(function()
    if sb then sb:stop() end
  end)

  it("serves HTTPS with a certificate only its CA file verifies, over HTTP/2", function()
    assert.matches("^https://127%.0%.0%.1:%d+$", sb.url)
    assert.is_string(sb.cafile)
    local url = quote(sb.url .. "/__sandbox/health")
    local _, untrusted = run("curl -s -o /dev/null " .. url)
    assert.are.equal(60, untrusted)   -- curl: peer certificate cannot be authenticated
    local out, code = run("curl -s --http2 --cacert " .. quote(sb.cafile)
      .. " -o /dev/null -w '%{http_code} %{http_version}' " .. url)
    assert.are.equal(0, code)
    assert.are.equal("200 2", out)
    local localhost = sb.url:gsub("127%.0%.0%.1", "localhost")
    out = run("curl -s --cacert " .. quote(sb.cafile) .. " -o /dev/null -w '%{http_code}' "
      .. quote(localhost .. "/__sandbox/health"))
    assert.are.equal("200", out)
  end)

  it("serves the API over TLS and logs HTTP/2", function()
    local status, body = sb:api("GET", "/contacts", nil, { extra = { "--http2" } })
    assert.are.equal(200, status)
    assert.are.same({}, body.contacts)
    local log = sb:requests()
    assert.are.equal("2.0", log[#log].http_version)
  end)
end)
