-- /reports/contact_reports/{contact_id}/...: one contact's tracking activity. Generated
-- from the contact id (sandbox/report_rows.lua): the contact took part in a number of
-- campaign activities, and the details, the summary and the rates agree with each
-- other. contact_id has no uuid format in the spec, so an id that is not a uuid is a
-- contact that does not exist (404).
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"
local rows = require "sandbox.report_rows"

local v = check.new("reports.api.validation.error")
local NOT_FOUND = "reports.api.not.found"

local LIMIT_DEFAULT, LIMIT_MAX = 100, 100

local TYPES = check.set(rows.DETAIL_TYPES)

local function contact_id(req)
  local id = req.params.contact_id
  if not util.is_uuid(id) then http.fail(404, NOT_FOUND, "Contact " .. tostring(id) .. " not found") end
  return id:lower()
end

local multi = http.query_multi

-- The activity types asked for (tracking_activities_list or tracking_activity_type,
-- not both), as a set, and the name and value the next link repeats; nil for all.
local function type_filter()
  local list, array = multi("tracking_activities_list"), multi("tracking_activity_type")
  if list and array then
    v:fail("tracking_activities_list and tracking_activity_type are mutually exclusive")
  end
  local name = list and "tracking_activities_list" or "tracking_activity_type"
  local values = list or array
  if not values then return nil end
  if #values == 0 then v:fail(name .. " must name at least one tracking activity type") end
  local set = {}
  for _, t in ipairs(values) do
    if not TYPES[t] then
      v:fail(name .. " does not have a valid value: '" .. t .. "' (one of "
        .. table.concat(rows.DETAIL_TYPES, ", ") .. ")")
    end
    set[t] = true
  end
  return set, name, table.concat(values, ",")
end

-- start and end (required ISO 8601 date-times), end not before start.
local function range(args)
  local start = v:query_date(args, "start", { required = true })
  local finish = v:query_date(args, "end", { required = true })
  if finish < start then v:fail("end must not be before start") end
  return start, finish
end

local function email_activities_in(id, start, finish)
  local out = {}
  for _, act in ipairs(rows.contact_activities(id)) do
    if not act.landing and act.t >= start and act.t <= finish then out[#out + 1] = act end
  end
  return out
end

local handlers = {}

-- ContactTrackingActivitiesPage, newest first.
function handlers.activity_details(req)
  local id = contact_id(req)
  local args = req.args
  local wanted, filter_name, filter_value = type_filter()
  local names = v:query_bool(args, "include_campaign_activity_names", true)
  v:query_int(args, "limit", { default = LIMIT_DEFAULT, min = 1, max = LIMIT_MAX })
  local items = {}
  local acts = rows.contact_activities(id)
  for a = #acts, 1, -1 do
    local detail = rows.detail_rows(acts[a])
    for k = #detail, 1, -1 do
      if not wanted or wanted[detail[k].type] then items[#items + 1] = detail[k] end
    end
  end
  local keep = { "include_campaign_activity_names" }
  if filter_name then
    -- Repeated parameters reach the link as one comma-separated value.
    args.tracking_activities_list, args.tracking_activity_type = nil, nil
    args[filter_name] = filter_value
    keep[#keep + 1] = filter_name
  end
  local page, links = pager.slice(items, args, LIMIT_DEFAULT, LIMIT_MAX,
    "/v3/reports/contact_reports/" .. id .. "/activity_details", keep)
  local out = {}
  for i, row in ipairs(page) do
    out[i] = {
      contact_id = id, campaign_activity_id = row.act.campaign_activity_id,
      tracking_activity_type = row.type, created_time = util.iso(row.t),
      campaign_activity_name = names and row.act.name or nil,
    }
  end
  return 200, { tracking_activities = json.array(out), _links = links }
end

-- ContactCampaignActivitiesSummary: the email activities that started in [start, end].
function handlers.activity_summary(req)
  local id = contact_id(req)
  local start, finish = range(req.args)
  local out = {}
  for i, act in ipairs(email_activities_in(id, start, finish)) do
    local c = act.counts
    out[i] = {
      campaign_activity_id = act.campaign_activity_id, start_on = util.iso(act.t),
      em_sends = c.em_sends, em_opens = c.em_opens, em_clicks = c.em_clicks, em_bounces = c.em_bounces,
      em_forwards = c.em_forwards, em_unsubscribes = c.em_optouts,
    }
  end
  return 200, { contact_id = id, campaign_activities = json.array(out) }
end

-- ContactOpenAndClickRates over the email activities that started in [start, end]:
-- the share of them the contact opened and clicked.
function handlers.rates(req)
  local id = contact_id(req)
  local start, finish = range(req.args)
  local acts = email_activities_in(id, start, finish)
  local opened, clicked = 0, 0
  for _, act in ipairs(acts) do
    if act.counts.em_opens > 0 then opened = opened + 1 end
    if act.counts.em_clicks > 0 then clicked = clicked + 1 end
  end
  local n = #acts
  return 200, {
    contact_id = id, included_activities_count = n,
    average_open_rate = n > 0 and opened / n or 0,
    average_click_rate = n > 0 and clicked / n or 0,
  }
end

return { handlers = handlers }
