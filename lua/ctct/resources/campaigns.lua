--- client.campaigns: email campaigns and their activities (the sendable part):
-- create, list, rename, delete, schedule, test-send, preview, send history,
-- A/B tests, resends to non-openers, and V2 to V3 id cross-references.
--
--   local campaign = assert(client.campaigns:create{
--     name = "November news", subject = "News", from_name = "Ada", from_email = "ada@example.com",
--     reply_to_email = "ada@example.com", html_content = "<html><body>[[trackingImage]]Hi</body></html>" })
--   local activity_id = client.campaigns.primary_activity_id(campaign)
--   client.campaigns:update_activity(activity_id, { contact_list_ids = { list_id }, ... })
--   client.campaigns:schedule(activity_id, "2026-12-01T10:00:00Z")   -- or "0": now
local base = require "ctct.resources.base"
local errors = require "ctct.errors"

local A = { "campaign_activity_id" }

--- The client.campaigns resource object (ctct.Client's `campaigns` field).
---@class ctct.resources.campaigns
---@field client ctct.Client
---@field NAME string the resource's name, "campaigns"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Campaigns = base.define {
  name = "campaigns",
  collection = { op = "retrieveEmailCampaignsUsingGET", items = "campaigns" },
  methods = {
    get = { op = "retrieveEmailCampaignUsingGET", args = { "campaign_id" } },
    delete = { op = "removeEmailCampaignUsingDELETE", args = { "campaign_id" } },
    activity = { op = "retrieveEmailCampaignActivityUsingGET", args = A },     -- {include = {...}}
    update_activity = { op = "updateEmailCampaignActivityUsingPUT", args = A, body = true },
    schedules = { op = "retrieveEmailSchedulesUsingGET", args = A },
    unschedule = { op = "unscheduleEmailCampaignActivityUsingDELETE", args = A },
    test_send = { op = "testSendCampaignActivityUsingPOST", args = A, body = true },
    preview = { op = "retrieveEmailCampaignActivityPreviewUsingGET", args = A },
    send_history = { op = "retrieveEmailSendHistoryUsingGET", args = A },
    create_ab_test = { op = "createEmailCampaignABTestUsingPOST", args = A, body = true },
    ab_test = { op = "retrieveEmailCampaignABTestUsingGET", args = A },
    delete_ab_test = { op = "deleteEmailCampaignABTestUsingDELETE", args = A },
    create_resend = { op = "createResendToNonOpenersUsingPOST", args = A, body = true },
    resends = { op = "retrieveResendToNonOpenersUsingGET", args = A },
    delete_resend = { op = "deleteResendToNonOpenersUsingDELETE",
                      args = { "campaign_activity_id", "resend_request_id" } },
    id_xrefs = { op = "retrieveXrefMappingsUsingGET" },                 -- {v2_email_campaign_ids = {...}}
  },
}

Campaigns.DOCS = {
  list = "One page of campaigns; opts: limit, before_date, after_date (ISO 8601).",
  each = "Every campaign (with the date filters), one at a time.",
  all = "All campaigns (opts.max, default 10,000).",
  get = "One campaign with its activities (roles primary_email, permalink, resend).",
  create = "Create a custom-code email (format_type 5; format_type = 4 makes an email-editor one): name, " ..
    "subject, from_name, from_email (must be a confirmed account address: checked first), reply_to_email, " ..
    "html_content; or a full EmailCampaign body.",
  rename = "Rename a campaign (PATCH).",
  delete = "Delete a campaign.",
  primary_activity_id = "The campaign_activity_id of a campaign's primary email (a function, not a method).",
  activity = "A campaign activity; opts.include = { \"html_content\", \"permalink_url\", ... }.",
  update_activity = "Replace a campaign activity (contact_list_ids, segment_ids, content, from/reply-to).",
  schedule = "Schedule an activity: schedule(id, \"2026-12-01T10:00:00Z\") or \"0\" to send now.",
  schedules = "An activity's schedule.",
  unschedule = "Unschedule an activity (back to draft).",
  test_send = "Send a test: { email_addresses = { ... } (up to 5), personal_message = ... }.",
  preview = "The activity's HTML preview.",
  send_history = "When and to how many the activity was sent.",
  create_ab_test = "Create an A/B subject line test.",
  ab_test = "The activity's A/B test.",
  delete_ab_test = "Delete the activity's A/B test.",
  create_resend = "Create a resend to non-openers: { delay_days = ... } etc.",
  resends = "The activity's resends to non-openers.",
  delete_resend = "Delete a resend to non-openers.",
  id_xrefs = "V2 campaign ids to V3: { v2_email_campaign_ids = { ... } }.",
}

--- The short form of campaigns:create: the campaign's name and its one activity's fields
--- (format_type defaults to 5, custom code; 4 makes an email-editor one).
---@class ctct.resources.campaigns.ShortSpec
---@field name string
---@field from_name string
---@field from_email string a confirmed sender address of the account
---@field reply_to_email string
---@field subject string
---@field html_content string
---@field preheader? string
---@field physical_address_in_footer? ctct.schema.EmailPhysicalAddress
---@field document_properties? table
---@field format_type? integer

local ACTIVITY_FIELDS = { "from_name", "from_email", "reply_to_email", "subject", "html_content", "preheader",
                          "physical_address_in_footer", "document_properties", "format_type" }

--- The campaign_activity_id of a campaign's primary email.
--- A function, not a method: client.campaigns.primary_activity_id(campaign).
---@param campaign ctct.schema.EmailCampaign a campaign as create or get return it
---@return string|nil campaign_activity_id nil when it has no primary_email activity
function Campaigns.primary_activity_id(campaign)
  for _, a in ipairs(type(campaign) == "table" and campaign.campaign_activities or {}) do
    if a.role == "primary_email" then return a.campaign_activity_id end
  end
  return nil
end

--- Create an email campaign (createEmailCampaignUsingPOST).
--- spec: the short form (name + activity fields) or a full EmailCampaign body
--- (with email_campaign_activities). opts.check_from_email = false skips the
--- confirmed-sender check (one GET /account/emails).
--- Raises if spec is not a table.
---@param spec ctct.resources.campaigns.ShortSpec|ctct.schema.EmailCampaignComplete
---@param opts? {check_from_email?: boolean}
---@return ctct.schema.EmailCampaign|nil campaign
---@return ctct.Response|ctct.Error response_or_err
function Campaigns:create(spec, opts)
  if type(spec) ~= "table" then error("ctct: bad argument 'campaign' to campaigns:create: expected a table", 2) end
  local body = spec
  if not spec.email_campaign_activities then
    local activity = { format_type = 5 }
    for _, k in ipairs(ACTIVITY_FIELDS) do if spec[k] ~= nil then activity[k] = spec[k] end end
    body = { name = spec.name, email_campaign_activities = { activity } }
  end
  local call_opts = {}
  for k, v in pairs(opts or {}) do call_opts[k] = v end
  local check = call_opts.check_from_email ~= false
  call_opts.check_from_email = nil
  if check then
    local confirmed, err = self.client.account:confirmed_emails()
    if not confirmed then return nil, err end
    for _, a in ipairs(body.email_campaign_activities or {}) do
      local from = a.from_email
      if type(from) ~= "string" or not confirmed[from:lower()] then
        return nil, errors.new { kind = "validation", param = "from_email", operation = "createEmailCampaignUsingPOST",
          message = "createEmailCampaignUsingPOST: from_email '" .. tostring(from) ..
            "' is not a confirmed sender address of this account (add and confirm it: account:add_email)" }
      end
    end
  end
  return base.invoke(self, "create", { op = "createEmailCampaignUsingPOST", body = true }, body,
    next(call_opts) and call_opts or nil)
end

--- Rename a campaign (PATCH, renameEmailCampaignUsingPATCH).
---@param campaign_id string
---@param name string the new name
---@return ctct.schema.EmailCampaign|nil campaign
---@return ctct.Response|ctct.Error response_or_err
function Campaigns:rename(campaign_id, name)
  return self.client:call("renameEmailCampaignUsingPATCH", { campaign_id = campaign_id, body = { name = name } })
end

--- Schedule a campaign activity (scheduleEmailCampaignActivityUsingPOST).
--- when: an ISO 8601 date-time, or "0" to send now.
---@param campaign_activity_id string
---@param when? string an ISO 8601 date-time, or "0" (the default): send now
---@return ctct.schema.EmailScheduleResponse|nil schedules
---@return ctct.Response|ctct.Error response_or_err
function Campaigns:schedule(campaign_activity_id, when)
  return self.client:call("scheduleEmailCampaignActivityUsingPOST",
    { campaign_activity_id = campaign_activity_id, body = { scheduled_date = when or "0" } })
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Campaigns.EXAMPLE = [==[
local from = assert(client.account:emails { confirm_status = "CONFIRMED" })[1].email_address
local campaign = assert(client.campaigns:create {
  name = "Autumn news", subject = "News", from_name = "Shop", from_email = from, reply_to_email = from,
  html_content = "<p>Hello</p>[[trackingImage]]",
})
local activity_id = client.campaigns.primary_activity_id(campaign)
local activity = assert(client.campaigns:activity(activity_id))
activity.contact_list_ids = { assert(client.lists:create { name = "Autumn audience" }).list_id }
assert(client.campaigns:update_activity(activity_id, activity))
assert(client.campaigns:schedule(activity_id, "2030-01-01T10:00:00.000Z"))
print(assert(client.campaigns:get(campaign.campaign_id)).current_status)   --> Scheduled
assert(client.campaigns:unschedule(activity_id))
]==]

return Campaigns
