-- Read-modify-write against the sandbox: what the library read is what it sends
-- back. A contact fetched with every include, and a campaign activity, are sent
-- back unchanged but one field; the body the sandbox received (its request log
-- keeps the raw bytes) must have an array wherever the spec's schema says array,
-- empty ones included. Checked on the raw text, not through a decoder.
local ctct = require "ctct"
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"
local schemas = require("ctct.api.schemas").definitions

-- The raw JSON body of the last logged request to `method path`.
local function last_body(sb, method, path)
  local log = sb:requests()
  for i = #log, 1, -1 do
    local r = log[i]
    if r.method == method and r.uri:match("^[^?]*") == "/v3" .. path then return r.body, r end
  end
  error("no " .. method .. " " .. path .. " in the sandbox's request log")
end

-- Every top-level property of `definition` that `value` has and the schema calls an
-- array must appear in `text` as an array; returns how many were checked.
local function assert_arrays(text, value, definition)
  local n = 0
  for name, prop in pairs(schemas[definition].properties) do
    if prop.type == "array" and value[name] ~= nil then
      assert.is_truthy(text:find('"' .. name .. '":[', 1, true),
        definition .. "." .. name .. " was not sent as an array: " .. text:sub(1, 300))
      n = n + 1
    end
  end
  return n
end

describe("read-modify-write against the sandbox", function()
  local sb, client
  lazy_setup(function()
    sb = sandbox.start()
    client = ctct.new { access_token = sb.token, base_url = sb.base_url, rate_limit = false,
                        sleep = function(s) core.sleep(math.min(s, 0.2)) end }
  end)
  lazy_teardown(function()
    if client then client:close() end
    if sb then sb:stop() end
  end)
  before_each(function() sb:reset(); sb:config { rate_limit_per_second = 0 } end)

  it("sends a contact back with every array it read, empty ones as []", function()
    local created = assert(client.contacts:create { email_address = { address = "ada@example.com" },
                                                    first_name = "Ada" })
    local include = { "custom_fields", "list_memberships", "phone_numbers", "street_addresses", "taggings", "notes" }
    local c = assert(client.contacts:get(created.contact_id, { include = include }))
    for _, name in ipairs(include) do
      assert.is_true(ctct.json.is_array(c[name]), name .. " did not decode as an array")
    end
    c.job_title = "Analyst"
    local updated, err = client.contacts:update(created.contact_id, c)
    assert.is_truthy(updated, tostring(err))
    local text = last_body(sb, "PUT", "/contacts/" .. created.contact_id)
    assert.is_string(text, "the sandbox did not log the request body")
    local checked = assert_arrays(text, c, "ContactPutRequest")
    assert.is_true(checked >= #include, "only " .. checked .. " arrays checked")
    for _, name in ipairs(include) do
      assert.is_truthy(text:find('"' .. name .. '":[]', 1, true), name .. " not sent as []")
    end
    assert.is_truthy(text:find('"job_title":"Analyst"', 1, true))
  end)

  it("sends a decoded integer back as an integer, in a body and in a query", function()
    local created = assert(client.contacts:create { email_address = { address = "bob@example.com" },
                                                    birthday_month = 11, birthday_day = 15 })
    local c = assert(client.contacts:get(created.contact_id))
    c.first_name = "Bob"
    assert(client.contacts:update(created.contact_id, c))
    local text = last_body(sb, "PUT", "/contacts/" .. created.contact_id)
    assert.is_truthy(text:find('"birthday_month":11[,}]'), text)
    local month = assert(client:request("GET", "/contacts/" .. created.contact_id)).birthday_month
    assert(client:request("GET", "/contacts", { query = { limit = month } })) -- decoded 11 goes out as 11
    local _, entry = last_body(sb, "GET", "/contacts")
    assert.is_truthy(entry.uri:find("limit=11", 1, true), entry.uri)
    assert.is_falsy(entry.uri:find("11.0", 1, true), entry.uri)
  end)

  it("sends a campaign activity back with its arrays", function()
    local emails = assert(client:request("GET", "/account/emails"))
    local campaign = assert(client.campaigns:create {
      name = "RMW " .. os.time(), email_campaign_activities = { {
        format_type = 5, from_name = "Ada", from_email = emails[1].email_address,
        reply_to_email = emails[1].email_address, subject = "Hello", html_content = "<p>[[trackingImage]]</p>",
      } },
    })
    local activity_id
    for _, a in ipairs(campaign.campaign_activities) do
      if a.role == "primary_email" then activity_id = a.campaign_activity_id end
    end
    local activity = assert(client:request("GET", "/emails/activities/" .. activity_id))
    activity.subject = "Hello again"
    local ok, err = client:request("PUT", "/emails/activities/" .. activity_id, { body = activity })
    assert.is_truthy(ok, tostring(err))
    local text = last_body(sb, "PUT", "/emails/activities/" .. activity_id)
    assert_arrays(text, activity, "EmailCampaignActivity")
    for name, v in pairs(activity) do
      if ctct.json.is_array(v) and #v == 0 then
        assert.is_truthy(text:find('"' .. name .. '":[]', 1, true), name .. " not sent as []")
      end
    end
  end)
end)
