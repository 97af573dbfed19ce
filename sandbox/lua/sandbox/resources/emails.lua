-- /emails: email campaigns (definitions EmailCampaignComplete, EmailCampaignActivityInput,
-- EmailCampaign, EmailCampaigns, PagedEmailCampaignResponse, EmailCampaignName,
-- CrossReferenceResponse). Storage and status rules are in sandbox/campaigns.lua.
-- Creating a campaign makes its primary_email and permalink activities; custom code
-- emails (format_type 5) and, since spec 3.0.178, email-editor emails (format_type 4)
-- can be created, from a CONFIRMED account email. A format_type 4 primary_email gets
-- a document_id (its email-editor document), shown on the activity and in the
-- campaign's campaign_activities (ActivityReference.document_id).
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"
local store = require "sandbox.campaigns"
local account_emails = require "sandbox.resources.account_emails"

local campaigns = store.campaigns

local _M = {}

local v = check.new("emails.api.validation.error")
_M.checker = v
local NOT_FOUND = "emails.api.not.found"
local CONFLICT = "emails.api.conflict"

local LIMIT_DEFAULT, LIMIT_MAX = 50, 500
local NAME_MAX = 80

local PHYSICAL_ADDRESS_FIELDS = {
  "address_line1", "address_line2", "address_line3", "address_optional", "city", "country_code",
  "organization_name", "postal_code", "state_code", "state_non_us_name",
}

-- EmailPhysicalAddress (address_line1, country_code, organization_name required;
-- state_code too for US). `where` prefixes the field names in messages.
function _M.check_address(body, where)
  local a = v:object(body, "physical_address_in_footer", { label = where .. "physical_address_in_footer" })
  if a == nil then return nil end
  local out = {}
  for _, name in ipairs(PHYSICAL_ADDRESS_FIELDS) do
    local required = name == "address_line1" or name == "country_code" or name == "organization_name"
    out[name] = v:string(a, name, { required = required, max = 255,
                                    label = where .. "physical_address_in_footer." .. name })
  end
  if out.country_code == "US" and out.state_code == nil then
    v:fail(where .. "physical_address_in_footer.state_code is required when country_code is US")
  end
  return out
end

-- from_email must be a confirmed account email (400 otherwise, like the API).
function _M.check_sender(account, t, where)
  local from = v:string(t, "from_email", { required = true, max = 80, email = true, label = where .. "from_email" })
  if not account_emails.is_confirmed(account, from) then
    v:fail(where .. "from_email '" .. from .. "' is not a confirmed email address of this account")
  end
  local reply_to = v:string(t, "reply_to_email", { required = true, max = 80, email = true,
                                                   label = where .. "reply_to_email" })
  local from_name = v:string(t, "from_name", { required = true, max = 100, label = where .. "from_name" })
  local subject = v:string(t, "subject", { required = true, max = 200, label = where .. "subject" })
  return from, reply_to, from_name, subject
end

local FORMAT_TYPES = { [1] = true, [2] = true, [3] = true, [4] = true, [5] = true }
local CREATABLE = { [4] = true, [5] = true } -- EmailCampaignActivityInput.format_type (3.0.178)

-- The one EmailCampaignActivityInput of a POST /emails body, checked.
local function activity_input(account, body)
  local list = v:array(body, "email_campaign_activities", { required = true, min = 1, max = 1, item = "object" })
  local a = list[1]
  local where = "email_campaign_activities[0]."
  local format_type = v:integer(a, "format_type", { required = true, label = where .. "format_type" })
  if not FORMAT_TYPES[format_type] then
    v:fail(where .. "format_type does not have a valid value: " .. format_type)
  elseif not CREATABLE[format_type] then
    v:fail(where .. "format_type " .. format_type .. " cannot be created with the V3 API; use 4 (email editor) " ..
      "or 5 (custom code)")
  end
  local from, reply_to, from_name, subject = _M.check_sender(account, a, where)
  return {
    format_type = format_type, from_email = from, reply_to_email = reply_to, from_name = from_name,
    subject = subject,
    html_content = v:string(a, "html_content", { required = true, max = 150000, label = where .. "html_content" }),
    preheader = v:string(a, "preheader", { max = 200, label = where .. "preheader" }),
    physical_address_in_footer = _M.check_address(a, where),
  }
end

-- EmailCampaign (full = with campaign_activities) or EmailCampaigns (a list item).
function _M.render(campaign, full)
  local out = {
    campaign_id = campaign.campaign_id,
    name = campaign.name,
    current_status = campaign.current_status,
    type = campaign.type,
    type_code = campaign.type_code,
    created_at = campaign.created_at,
    updated_at = campaign.updated_at,
  }
  if full then
    local refs = {}
    for i, ref in ipairs(campaign.activities) do
      refs[i] = { campaign_activity_id = ref.campaign_activity_id, role = ref.role, document_id = ref.document_id }
    end
    out.campaign_activities = json.array(refs)
  end
  return out
end

local function find(req)
  local campaign = store.get_campaign(req.account, req.params.campaign_id)
  if not campaign then
    http.fail(404, NOT_FOUND, "Email campaign " .. tostring(req.params.campaign_id) .. " not found")
  end
  return campaign
end

local handlers = {}

-- All campaigns, Removed ones too, in creation order; before_date/after_date filter
-- on updated_at.
function handlers.list(req)
  local args = req.args
  local limit, from = pager.window(args, LIMIT_DEFAULT, LIMIT_MAX)
  local before = v:query_date(args, "before_date")
  local after = v:query_date(args, "after_date")
  local match
  if before or after then
    match = function(c)
      local t = util.parse_iso(store.fresh(req.account, c).updated_at)
      return (not before or t < before) and (not after or t > after)
    end
  end
  local page, next_from = campaigns:page(req.account, from, limit, match)
  local out = {}
  for i, campaign in ipairs(page) do out[i] = _M.render(store.fresh(req.account, campaign), false) end
  return 200, {
    campaigns = json.array(out),
    _links = pager.links("/v3/emails", limit, next_from, args, { "before_date", "after_date" }),
  }
end

function handlers.create(req)
  local body = req:json()
  local name = v:string(body, "name", { required = true, max = NAME_MAX })
  local fields = activity_input(req.account, body)
  local campaign = store.create(req.account, name, fields)
  if not campaign then http.fail(409, CONFLICT, "An email campaign named '" .. name .. "' already exists") end
  return 200, _M.render(campaign, true)
end

function handlers.get(req)
  return 200, _M.render(find(req), true)
end

function handlers.rename(req)
  local campaign = find(req)
  local name = v:string(req:json(), "name", { required = true, max = NAME_MAX })
  if campaign.current_status == "Removed" then
    v:fail("A Removed email campaign cannot be renamed")
  end
  local old, new = store.name_key(campaign.name), store.name_key(name)
  if new ~= old then
    if not campaigns:claim(req.account, "name", new, campaign.campaign_id) then
      http.fail(409, CONFLICT, "An email campaign named '" .. name .. "' already exists")
    end
    campaigns:release(req.account, "name", old, campaign.campaign_id)
  end
  campaign.name, campaign.updated_at = name, util.now_iso()
  campaigns:update(req.account, campaign)
  return 200, _M.render(campaign, true)
end

-- 204; the campaign and its activities become Removed (still listed and readable as a
-- campaign), its name is free again. A Scheduled campaign cannot be deleted.
function handlers.delete(req)
  local campaign = find(req)
  if campaign.current_status == "Removed" then
    http.fail(404, NOT_FOUND, "Email campaign " .. campaign.campaign_id .. " not found")
  end
  if campaign.current_status == "Scheduled" then
    v:fail("A Scheduled email campaign cannot be deleted; unschedule it first")
  end
  local now = util.now_iso()
  for _, ref in ipairs(campaign.activities) do
    local activity = store.activities:get(req.account, ref.campaign_activity_id)
    if activity then
      activity.current_status, activity.updated_at = "REMOVED", now
      store.activities:update(req.account, activity)
    end
  end
  campaigns:release(req.account, "name", store.name_key(campaign.name), campaign.campaign_id)
  campaign.current_status, campaign.updated_at = "Removed", now
  campaigns:update(req.account, campaign)
  return 204
end

-- V2 campaign ids -> V3 campaign_id and primary campaign_activity_id. A campaign's V2
-- id is campaigns.V2_BASE + its creation sequence; unknown ids are left out.
function handlers.xrefs(req)
  local ids = v:query_csv(req.args, "v2_email_campaign_ids", { required = true, max = 50, item = "digits" })
  local out = {}
  for _, v2 in ipairs(ids) do
    local seq = tonumber(v2) - store.V2_BASE
    local campaign = seq >= 1 and seq <= campaigns:last_seq(req.account) and campaigns:at(req.account, seq)
    if campaign then
      out[#out + 1] = {
        v2_email_campaign_id = v2,
        campaign_id = campaign.campaign_id,
        campaign_activity_id = store.activity_id(campaign, "primary_email"),
      }
    end
  end
  return 200, { xrefs = json.array(out) }
end

_M.handlers = handlers

return _M
