-- Email campaigns and their activities, shared by resources/emails.lua,
-- resources/email_activities.lua (and whoever reports on them).
--   a:<account>:campaign:<seq>            campaign record (EmailCampaign + internals)
--   a:<account>:campaign@name:<lowered>   -> campaign_id (not for Removed campaigns)
--   a:<account>:campaign_activity:<seq>   activity record (EmailCampaignActivity + internals)
-- A campaign keeps `activities` ({ {campaign_activity_id, role}, ... }) and mirrors the
-- status of its primary_email activity (DRAFT -> Draft, ...). Its V2 id is
-- V2_BASE + seq (deterministic). A scheduled activity is sent lazily: the first read
-- after its scheduled_date turns it DONE and appends to its send_history.
local collection = require "sandbox.collection"
local store = require "sandbox.store"
local util = require "sandbox.util"

local d = store.d

local campaigns = collection.new("campaign", "campaign_id")
local activities = collection.new("campaign_activity", "campaign_activity_id")

local _M = { campaigns = campaigns, activities = activities }

_M.V2_BASE = 1100000000000

-- Activity status -> campaign status.
_M.CAMPAIGN_STATUS = {
  DRAFT = "Draft", SCHEDULED = "Scheduled", EXECUTING = "Executing", DONE = "Done",
  ERROR = "Error", REMOVED = "Removed",
}

function _M.name_key(name) return name:lower() end

function _M.v2_id(campaign) return string.format("%d", _M.V2_BASE + campaign.seq) end

-- The campaign_activity_id of the activity with this role, or nil.
function _M.activity_id(campaign, role)
  for _, ref in ipairs(campaign.activities or {}) do
    if ref.role == role then return ref.campaign_activity_id end
  end
  return nil
end

-- Contacts an activity goes to: active members of its (still existing) lists. Segments
-- are not evaluated (they count 0).
local function recipients(account, activity)
  local n = 0
  for _, list_id in ipairs(activity.contact_list_ids or {}) do
    n = n + (d.get(store.key(account, "list", list_id, "members", "active")) or 0)
  end
  return n
end

-- Sets the activity's status (and the campaign's, for the primary email) and saves both.
function _M.set_status(account, activity, status)
  local now = util.now_iso()
  activity.current_status, activity.updated_at = status, now
  activities:update(account, activity)
  if activity.role == "primary_email" then
    local campaign = campaigns:get(account, activity.campaign_id)
    if campaign then
      campaign.current_status = _M.CAMPAIGN_STATUS[status]
      campaign.scheduled_epoch = status == "SCHEDULED" and activity.scheduled_epoch or nil
      campaign.updated_at = now
      campaigns:update(account, campaign)
    end
  end
  return activity
end

-- Sends the activity now: a COMPLETED send_history entry, status DONE.
function _M.send(account, activity, run_epoch)
  local history = activity.send_history or {}
  history[#history + 1] = {
    send_id = #history + 1,
    contact_list_ids = activity.contact_list_ids or {},
    segment_ids = activity.segment_ids or {},
    count = recipients(account, activity),
    run_date = util.iso(run_epoch or ngx.now()),
    send_status = "COMPLETED",
    reason_code = 0,
  }
  activity.send_history = history
  activity.scheduled_date, activity.scheduled_epoch, activity.prior_status = nil, nil, nil
  return _M.set_status(account, activity, "DONE")
end

-- A scheduled activity whose time has come is sent (at its scheduled time).
local function settle(account, activity)
  if activity.current_status == "SCHEDULED" and activity.scheduled_epoch
      and activity.scheduled_epoch <= ngx.now() then
    _M.send(account, activity, activity.scheduled_epoch)
  end
  return activity
end

function _M.get_activity(account, id)
  local activity = activities:get(account, id)
  return activity and settle(account, activity)
end

function _M.get_campaign(account, id)
  local campaign = campaigns:get(account, id)
  if campaign and campaign.scheduled_epoch and campaign.scheduled_epoch <= ngx.now() then
    _M.get_activity(account, _M.activity_id(campaign, "primary_email"))
    campaign = campaigns:get(account, id)
  end
  return campaign
end

-- A campaign read from a page (settles it when its schedule is due).
function _M.fresh(account, campaign)
  if campaign.scheduled_epoch and campaign.scheduled_epoch <= ngx.now() then
    return _M.get_campaign(account, campaign.campaign_id)
  end
  return campaign
end

-- Creates a campaign with its primary_email (fields) and permalink activities; an
-- email-editor primary_email (format_type 4) gets a document_id.
-- The caller has claimed nothing yet; returns the campaign, or nil when the name is taken.
function _M.create(account, name, fields)
  local campaign_id = util.uuid()
  if not campaigns:claim(account, "name", _M.name_key(name), campaign_id) then return nil end
  local now = util.now_iso()
  local primary = util.copy(fields)
  primary.campaign_id, primary.role, primary.current_status = campaign_id, "primary_email", "DRAFT"
  primary.contact_list_ids, primary.segment_ids, primary.send_history = {}, {}, {}
  primary.created_at, primary.updated_at = now, now
  if fields.format_type == 4 then primary.document_id = util.uuid() end
  primary = activities:insert(account, primary)
  local permalink = activities:insert(account, {
    campaign_id = campaign_id, role = "permalink", current_status = "DRAFT", format_type = fields.format_type,
    created_at = now, updated_at = now,
  })
  return campaigns:insert(account, {
    campaign_id = campaign_id, name = name, current_status = "Draft", type = "NEWSLETTER", type_code = 10,
    created_at = now, updated_at = now,
    activities = {
      { campaign_activity_id = primary.campaign_activity_id, role = "primary_email",
        document_id = primary.document_id },
      { campaign_activity_id = permalink.campaign_activity_id, role = "permalink" },
    },
  })
end

return _M
