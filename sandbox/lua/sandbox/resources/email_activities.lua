-- /emails/activities/{campaign_activity_id}[/...]: email campaign activities
-- (EmailCampaignActivity), scheduling (EmailScheduleInput, EmailScheduleResponse),
-- test sends (EmailTestSendInput), previews (EmailCampaignActivityPreview), send history
-- (EmailSendHistory), A/B tests (ABTestData) and resends to non-openers
-- (ResendToNonOpenersInput, ResendToNonOpeners, ResendToNonOpenersObject).
-- Storage and the status rules shared with /emails are in sandbox/campaigns.lua.
--
-- Statuses: an activity starts DRAFT; scheduling moves it to SCHEDULED (a date) or
-- sends it at once ("0": DONE with a send_history entry); unscheduling goes back to the
-- status before SCHEDULED; a scheduled activity is sent when read after its date.
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local check = require "sandbox.check"
local store = require "sandbox.campaigns"
local emails = require "sandbox.resources.emails"
local lists = require "sandbox.resources.lists"
local segments = require "sandbox.resources.segments"
local account = require "sandbox.resources.account"

local activities = store.activities

local v = emails.checker
local NOT_FOUND = "emails.api.not.found"
local CONFLICT = "emails.api.conflict"

local INCLUDE = check.set({ "physical_address_in_footer", "permalink_url", "html_content", "document_properties" })
local WINNER_WAIT = { [6] = true, [12] = true, [24] = true, [48] = true }

-- The activity named by the path (404 when unknown or REMOVED, like the API).
local function find(req)
  local activity = store.get_activity(req.account, req.params.campaign_activity_id)
  if not activity or activity.current_status == "REMOVED" then
    http.fail(404, NOT_FOUND, "Email campaign activity " .. tostring(req.params.campaign_activity_id) .. " not found")
  end
  return activity
end

-- The activity, which must be the campaign's primary_email (what can be sent).
local function find_primary(req, what)
  local activity = find(req)
  if activity.role ~= "primary_email" then
    v:fail("Only a primary_email campaign activity can be " .. what .. "; this one is '" .. activity.role .. "'")
  end
  return activity
end

local function physical_address(req, activity)
  if activity.physical_address_in_footer then return activity.physical_address_in_footer end
  -- Without one, the account's address and organization name are used.
  local summary = account.summary(req.account)
  local out = util.copy(summary.physical_address or {})
  out.organization_name = summary.organization_name
  return out
end

local function permalink_url(activity)
  return "https://conta.cc/" .. ngx.md5(activity.campaign_id):sub(1, 7)
end

local function render(req, activity, include)
  local out = {
    campaign_activity_id = activity.campaign_activity_id,
    campaign_id = activity.campaign_id,
    role = activity.role,
    current_status = activity.current_status,
    format_type = activity.format_type,
  }
  if activity.role == "primary_email" then
    out.contact_list_ids = json.array(activity.contact_list_ids)
    out.segment_ids = json.array(activity.segment_ids)
    out.from_email, out.from_name = activity.from_email, activity.from_name
    out.reply_to_email, out.subject, out.preheader = activity.reply_to_email, activity.subject, activity.preheader
    out.document_id = activity.document_id -- email-editor (format_type 4) emails only
  end
  include = include or {}
  if include.html_content then out.html_content = activity.html_content end
  if include.physical_address_in_footer then out.physical_address_in_footer = physical_address(req, activity) end
  if include.permalink_url then out.permalink_url = permalink_url(activity) end
  if include.document_properties and activity.document_properties then
    out.document_properties = activity.document_properties
  end
  return out
end

-- contact_list_ids (existing lists) or segment_ids (one live segment), never both.
local function recipients(req, body)
  local list_ids = v:array(body, "contact_list_ids", { item = "string", unique = true }) or {}
  local segment_ids = v:array(body, "segment_ids", { item = "integer", unique = true, max = 1 }) or {}
  if #list_ids > 0 and #segment_ids > 0 then
    v:fail("contact_list_ids and segment_ids cannot be used together")
  end
  for i, list_id in ipairs(list_ids) do
    if not lists.exists(req.account, list_id) then
      v:fail("contact_list_ids[" .. (i - 1) .. "]: no contact list " .. list_id)
    end
  end
  for i, segment_id in ipairs(segment_ids) do
    if not segments.exists(req.account, segment_id) then
      v:fail("segment_ids[" .. (i - 1) .. "]: no segment " .. string.format("%d", segment_id))
    end
  end
  return list_ids, segment_ids
end

local handlers = {}

function handlers.get(req)
  local names = v:query_csv(req.args, "include", { set = INCLUDE }) or {}
  return 200, render(req, find(req), check.set(names))
end

-- Replaces the activity (primary_email, DRAFT or DONE). Read-only members of a GET
-- answer sent back are ignored; html_content, physical_address_in_footer and
-- document_properties are kept when omitted (subresources, as the API says).
function handlers.put(req)
  local activity = find_primary(req, "updated")
  if activity.current_status ~= "DRAFT" and activity.current_status ~= "DONE" then
    v:fail("Only a DRAFT or DONE campaign activity can be updated; this one is " .. activity.current_status)
  end
  local body = req:json()
  local from, reply_to, from_name, subject = emails.check_sender(req.account, body, "")
  local list_ids, segment_ids = recipients(req, body)
  local html = v:string(body, "html_content", { max = 150000 })
  local preheader = v:string(body, "preheader", { max = 200 })
  local address = emails.check_address(body, "")
  local properties = v:object(body, "document_properties")
  activity.from_email, activity.reply_to_email = from, reply_to
  activity.from_name, activity.subject = from_name, subject
  activity.contact_list_ids, activity.segment_ids, activity.preheader = list_ids, segment_ids, preheader
  if html ~= nil then activity.html_content = html end
  if address ~= nil then activity.physical_address_in_footer = address end
  if properties ~= nil then activity.document_properties = properties end
  activity.updated_at = util.now_iso()
  activities:update(req.account, activity)
  local campaign = store.campaigns:get(req.account, activity.campaign_id)
  if campaign then
    campaign.updated_at = activity.updated_at
    store.campaigns:update(req.account, campaign)
  end
  return 200, render(req, activity, { html_content = true })
end

function handlers.get_schedules(req)
  local activity = find(req)
  if activity.current_status ~= "SCHEDULED" then return 200, json.array({}) end
  return 200, { { scheduled_date = activity.scheduled_date } }
end

-- scheduled_date "0" sends now (201 []); a future date schedules (201 [{scheduled_date}]).
function handlers.schedule(req)
  local activity = find_primary(req, "scheduled")
  local status = activity.current_status
  if status ~= "DRAFT" and status ~= "DONE" and status ~= "ERROR" then
    v:fail("Only a DRAFT, DONE or ERROR campaign activity can be scheduled; this one is " .. status)
  end
  local body = req:json()
  local when = v:string(body, "scheduled_date", { required = true })
  local epoch
  if when ~= "0" then
    epoch = select(2, v:date_time(body, "scheduled_date"))
    if epoch <= ngx.now() then v:fail("scheduled_date must be in the future (or \"0\" to send now)") end
  end
  local has_list = false
  for _, list_id in ipairs(activity.contact_list_ids or {}) do
    if lists.exists(req.account, list_id) then has_list = true end
  end
  local has_segment = false
  for _, segment_id in ipairs(activity.segment_ids or {}) do
    if segments.exists(req.account, segment_id) then has_segment = true end
  end
  if not has_list and not has_segment then
    v:fail("The campaign activity has no recipients: set contact_list_ids or segment_ids first (PUT)")
  end
  if epoch == nil then
    store.send(req.account, activity)
    return 201, json.array({})
  end
  activity.prior_status = status
  activity.scheduled_date, activity.scheduled_epoch = util.iso(epoch), epoch
  store.set_status(req.account, activity, "SCHEDULED")
  return 201, { { scheduled_date = activity.scheduled_date } }
end

-- 204; back to the status before SCHEDULED.
function handlers.unschedule(req)
  local activity = find(req)
  if activity.current_status ~= "SCHEDULED" then
    v:fail("Only a SCHEDULED campaign activity can be unscheduled; this one is " .. activity.current_status)
  end
  local prior = activity.prior_status or "DRAFT"
  activity.scheduled_date, activity.scheduled_epoch, activity.prior_status = nil, nil, nil
  store.set_status(req.account, activity, prior)
  return 204
end

-- 204; nothing is mailed. Counted per activity (test_sends) for the curious.
function handlers.test_send(req)
  local activity = find_primary(req, "test sent")
  local body = req:json()
  local addresses = v:array(body, "email_addresses", { required = true, min = 1, max = 5, item = "email" })
  v:string(body, "personal_message", { max = 1000 })
  activity.test_sends = (activity.test_sends or 0) + #addresses
  activities:update(req.account, activity)
  return 204
end

-- Contact and account variables are filled in with the account owner's details.
function handlers.preview(req)
  local activity = find(req)
  local summary = account.summary(req.account)
  local vars = {
    FIRSTNAME = summary.first_name, LASTNAME = summary.last_name, EMAIL = summary.contact_email,
    ORGANIZATIONNAME = summary.organization_name, trackingImage = "",
  }
  local html = (activity.html_content or ""):gsub("%[%[([%w_]+)%]%]", function(name) return vars[name] end)
  local text = html:gsub("<[^>]*>", " "):gsub("%s+", " ")
  return 200, {
    campaign_activity_id = activity.campaign_activity_id,
    from_email = activity.from_email, from_name = activity.from_name,
    reply_to_email = activity.reply_to_email, subject = activity.subject, preheader = activity.preheader,
    preview_html_content = html, preview_text_content = util.trim(text),
  }
end

function handlers.send_history(req)
  local activity = find(req)
  local out = {}
  for i, entry in ipairs(activity.send_history or {}) do
    local e = util.copy(entry)
    e.contact_list_ids, e.segment_ids = json.array(entry.contact_list_ids), json.array(entry.segment_ids)
    out[i] = e
  end
  return 200, json.array(out)
end

---------------------------------------------------------------------------------------
-- A/B tests (subject line): only on a DRAFT primary_email; the campaign's type
-- becomes A/B Test (57) and back to Newsletter (10) when the test is deleted.

local function set_campaign_type(req, activity, type_name, type_code)
  local campaign = store.campaigns:get(req.account, activity.campaign_id)
  if campaign then
    campaign.type, campaign.type_code, campaign.updated_at = type_name, type_code, util.now_iso()
    store.campaigns:update(req.account, campaign)
  end
end

local function render_abtest(abtest)
  return {
    alternative_subject = abtest.alternative_subject,
    test_size = abtest.test_size,
    winner_wait_duration = abtest.winner_wait_duration,
  }
end

function handlers.get_abtest(req)
  local activity = find_primary(req, "A/B tested")
  if not activity.abtest then
    http.fail(404, NOT_FOUND, "The campaign activity " .. activity.campaign_activity_id .. " has no A/B test")
  end
  return 200, render_abtest(activity.abtest)
end

function handlers.create_abtest(req)
  local activity = find_primary(req, "A/B tested")
  local body = req:json()
  local subject = v:string(body, "alternative_subject", { required = true, max = 200 })
  local size = v:integer(body, "test_size", { required = true, min = 5, max = 50 })
  local wait = v:integer(body, "winner_wait_duration", { required = true })
  if not WINNER_WAIT[wait] then v:fail("winner_wait_duration must be 6, 12, 24 or 48, got " .. wait) end
  if activity.current_status ~= "DRAFT" then
    http.fail(409, CONFLICT, "An A/B test can only be created on a DRAFT campaign activity")
  end
  if activity.abtest then
    http.fail(409, CONFLICT, "The campaign activity already has an A/B test")
  end
  activity.abtest = { alternative_subject = subject, test_size = size, winner_wait_duration = wait }
  activity.updated_at = util.now_iso()
  activities:update(req.account, activity)
  set_campaign_type(req, activity, "AB_TEST", 57)
  return 201, render_abtest(activity.abtest)
end

function handlers.delete_abtest(req)
  local activity = find_primary(req, "A/B tested")
  if not activity.abtest then
    http.fail(404, NOT_FOUND, "The campaign activity " .. activity.campaign_activity_id .. " has no A/B test")
  end
  if activity.current_status ~= "DRAFT" then
    http.fail(409, CONFLICT, "An A/B test can only be deleted from a DRAFT campaign activity")
  end
  activity.abtest, activity.updated_at = nil, util.now_iso()
  activities:update(req.account, activity)
  set_campaign_type(req, activity, "NEWSLETTER", 10)
  return 204
end

---------------------------------------------------------------------------------------
-- Resends to non-openers: one per campaign, on a primary_email in DRAFT, SCHEDULED or
-- DONE. Its resend_request_id is "DRAFT" while the campaign is a draft, its own id after.

local RESEND_STATUS = { DRAFT = "DRAFT", SCHEDULED = "SCHEDULED", DONE = "SCHEDULED" }

local function resend_id(activity)
  if activity.current_status == "DRAFT" then return "DRAFT" end
  return activity.resend.id
end

local function render_resend(activity, with_status)
  local r = activity.resend
  return {
    resend_subject = r.resend_subject,
    delay_minutes = r.delay_minutes,
    delay_days = r.delay_minutes % 1440 == 0 and math.floor(r.delay_minutes / 1440) or nil,
    resend_request_id = resend_id(activity),
    resend_status = with_status and RESEND_STATUS[activity.current_status] or nil,
  }
end

function handlers.get_resends(req)
  local activity = find_primary(req, "resent")
  if not activity.resend then return 200, json.array({}) end
  return 200, { render_resend(activity, true) }
end

-- delay_days (1-10) or delay_minutes (720-14400); with both, delay_minutes is ignored.
function handlers.create_resend(req)
  local activity = find_primary(req, "resent")
  local body = req:json()
  local subject = v:string(body, "resend_subject", { required = true, max = 200 })
  local days = v:integer(body, "delay_days", { min = 1, max = 10 })
  local minutes
  if days then
    minutes = days * 1440
  else
    minutes = v:integer(body, "delay_minutes", { min = 720, max = 14400 })
    if not minutes then v:fail("delay_days or delay_minutes is required") end
  end
  if not RESEND_STATUS[activity.current_status] then
    v:fail("A resend needs a Draft, Scheduled or Done campaign; this one is " .. activity.current_status)
  end
  if activity.resend then
    http.fail(409, CONFLICT, "The campaign already has a resend to non-openers")
  end
  activity.resend = { id = util.uuid(), resend_subject = subject, delay_minutes = minutes }
  activity.updated_at = util.now_iso()
  activities:update(req.account, activity)
  return 201, render_resend(activity, false)
end

function handlers.delete_resend(req)
  local activity = find_primary(req, "resent")
  if not activity.resend or req.params.resend_request_id ~= resend_id(activity) then
    http.fail(404, NOT_FOUND, "No resend to non-openers " .. req.params.resend_request_id)
  end
  activity.resend, activity.updated_at = nil, util.now_iso()
  activities:update(req.account, activity)
  return 204
end

return { handlers = handlers }
