-- examples/campaigns.lua: a custom-code email campaign from draft to schedule.
-- Creates a campaign from the account's confirmed address, points it at a list,
-- sends a test, schedules it, reads the schedule, unschedules and deletes it.
--
--   CTCT_ACCESS_TOKEN=... lua5.4 examples/campaigns.lua
local ctct = require "ctct"

local client = ctct.new {
  access_token = os.getenv("CTCT_ACCESS_TOKEN"),
  base_url = os.getenv("CTCT_BASE_URL"),
  cafile = os.getenv("CTCT_CAFILE"),
}

local function must(data, err)
  if data == nil then
    io.stderr:write("campaigns: ", tostring(err), "\n")
    os.exit(1)
  end
  return data
end

-- The from address must be one the account has confirmed: take the first one.
local confirmed = must(client.account:emails { confirm_status = "CONFIRMED" })
local from = assert(confirmed[1], "the account has no confirmed email address").email_address
local stamp = os.date("!%Y%m%d%H%M%S")

-- An unconfirmed from address is refused before the campaign is sent to the API.
local _, err = client.campaigns:create { name = "Nope " .. stamp, from_email = "stranger@example.com",
  from_name = "Shop", reply_to_email = from, subject = "Hi", html_content = "<p>Hi</p>" }
print("refused: " .. tostring(err))

local campaign = must(client.campaigns:create {
  name = "Winter sale " .. stamp,
  subject = "Winter sale starts now",
  from_name = "Example Shop",
  from_email = from,
  reply_to_email = from,
  html_content = "<html><body><p>Hello [[FIRSTNAME]], the sale is on.</p>[[trackingImage]]</body></html>",
})
local activity_id = client.campaigns.primary_activity_id(campaign)
print(("campaign %s (%s), primary activity %s"):format(campaign.campaign_id, campaign.current_status, activity_id))

local list = must(client.lists:create { name = "Sale audience " .. stamp })
local activity = must(client.campaigns:activity(activity_id))
activity.contact_list_ids = { list.list_id }
must(client.campaigns:update_activity(activity_id, activity))

must(client.campaigns:test_send(activity_id, { email_addresses = { from }, personal_message = "Preview" }))
local preview = must(client.campaigns:preview(activity_id))
print(("preview: %d bytes of HTML"):format(#(preview.preview_html_content or "")))

local when = os.date("!%Y-%m-%dT%H:%M:%S.000Z", os.time() + 7 * 86400)
must(client.campaigns:schedule(activity_id, when))
print("status after schedule: " .. must(client.campaigns:get(campaign.campaign_id)).current_status)
for _, s in ipairs(must(client.campaigns:schedules(activity_id))) do print("  scheduled for " .. s.scheduled_date) end

must(client.campaigns:unschedule(activity_id))
print("status after unschedule: " .. must(client.campaigns:get(campaign.campaign_id)).current_status)

must(client.campaigns:rename(campaign.campaign_id, "Winter sale (cancelled) " .. stamp))
must(client.campaigns:delete(campaign.campaign_id))
must(must(client.lists:delete(list.list_id)):wait { timeout = 60 })
print("deleted")
