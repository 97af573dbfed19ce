--- client.reports: email campaign statistics and tracking, contact activity,
-- landing pages and SMS. Paginated reports are iterators:
--
--   for row in client.reports:opens(campaign_activity_id) do print(row.email_address) end
--   local stats = client.reports:campaign_stats({ campaign_id_1, campaign_id_2 })
local base = require "ctct.resources.base"

local A = { "campaign_activity_id" }
local T = "tracking_activities"

--- The client.reports resource object (ctct.Client's `reports` field).
---@class ctct.resources.reports
---@field client ctct.Client
---@field NAME string the resource's name, "reports"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Reports = base.define {
  name = "reports",
  methods = {
    campaign_stats = { op = "getEmailSummary", args = { "campaign_ids" } },
    activity_stats = { op = "getEmailCampaignActivitySummary", args = { "campaign_activity_ids" } },
    links = { op = "getCampaignActivityLinkStats", args = A },               -- {bounce_code = ...}
    contact_activity_summary = { op = "getContactTrackingCount", args = { "contact_id" } },
    contact_open_click_rates = { op = "getContactOpenClickRate", args = { "contact_id" } },
  },
  iterators = {
    campaign_summaries = { op = "getAllBulkEmailCampaignSummaries", items = "bulk_email_campaign_summaries" },
    sms_summaries = { op = "getAllBulkSmsCampaignSummaries", items = "bulk_sms_campaign_summaries" },
    sends = { op = "getSends", args = A, items = T },
    opens = { op = "getOpens", args = A, items = T },
    unique_opens = { op = "getUniqueOpens", args = A, items = T },
    clicks = { op = "getClicks", args = A, items = T },
    did_not_opens = { op = "getDidNotOpens", args = A, items = T },
    forwards = { op = "getForwards", args = A, items = T },
    optouts = { op = "getOptouts", args = A, items = T },
    bounces = { op = "getBounces", args = A, items = T },
    contact_activity = { op = "getContactTracking", args = { "contact_id" }, items = T },
    landing_page_opens = { op = "getContactOpens", args = A, items = T },
    landing_page_unique_opens = { op = "getUniqueContactOpens", args = A, items = T },
    landing_page_unique_clicks = { op = "getUniqueContactClicks", args = A, items = T },
    landing_page_unique_adds = { op = "getContactAdds", args = A, items = T },
    landing_page_unique_updates = { op = "getUniqueContactUpdates", args = A, items = T },
    landing_page_unique_sms_optins = { op = "getUniqueContactSMSOptIns", args = A, items = T },
  },
}

Reports.DOCS = {
  campaign_stats = "Stats of campaigns: campaign_stats({ campaign_id, ... }) (up to the API's limit).",
  activity_stats = "Stats of campaign activities: activity_stats({ campaign_activity_id, ... }).",
  links = "Click counts per link of a campaign activity.",
  contact_activity_summary = "A contact's campaign activity counts; opts: start, end.",
  contact_open_click_rates = "A contact's average open and click rates; opts: start, end.",
  campaign_summaries = "Iterator: summaries of every sent campaign (bulk_email_campaign_summaries).",
  sms_summaries = "Iterator: SMS campaign summaries.",
  sends = "Iterator: contacts the activity was sent to (tracking_activities).",
  opens = "Iterator: opens.",
  unique_opens = "Iterator: unique opens.",
  clicks = "Iterator: clicks; opts.url_id filters one link.",
  did_not_opens = "Iterator: contacts who did not open.",
  forwards = "Iterator: forwards.",
  optouts = "Iterator: opt-outs.",
  bounces = "Iterator: bounces; opts.bounce_code = { \"B\", \"D\", ... }.",
  contact_activity = "Iterator: a contact's tracking activities; opts.tracking_activities_list = { ... }.",
  landing_page_opens = "Iterator: landing page opens of a campaign activity.",
  landing_page_unique_opens = "Iterator: unique landing page opens.",
  landing_page_unique_clicks = "Iterator: unique landing page clicks.",
  landing_page_unique_adds = "Iterator: contacts added through the landing page.",
  landing_page_unique_updates = "Iterator: contacts updated through the landing page.",
  landing_page_unique_sms_optins = "Iterator: SMS opt-ins through the landing page.",
}

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Reports.EXAMPLE = [==[
local activity_id = "0c1a5c60-89b1-4a4e-8c36-1a0bf1e5b0a1"   -- a campaign activity's id
local opens = 0
for _ in client.reports:opens(activity_id, { limit = 500 }) do opens = opens + 1 end
local stats = assert(client.reports:activity_stats { activity_id })
print(opens, "opens;", #(stats.results or {}), "stats rows")
for s in client.reports:campaign_summaries() do print(s.campaign_id) end
]==]

return Reports
