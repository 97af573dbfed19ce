-- /reports/stats, /reports/summary_reports and /reports/email_reports: email (and SMS)
-- campaign reporting. Nothing is stored: every figure is generated from the ids in the
-- path (sandbox/report_rows.lua), so the same request always answers the same rows,
-- and an activity's stats count the rows of its tracking reports.
--
-- Tracking reports page with the usual cursor (_links.next.href); rows keep their
-- order, so the pages of a report hold every row exactly once.
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"
local rows = require "sandbox.report_rows"

local v = check.new("reports.api.validation.error")

local TRACKING_LIMIT_DEFAULT, TRACKING_LIMIT_MAX = 500, 500
local SUMMARY_LIMIT_DEFAULT, SUMMARY_LIMIT_MAX = 50, 500
local SMS_LIMIT_DEFAULT, SMS_LIMIT_MAX = 50, 50
local MAX_CAMPAIGN_IDS, MAX_ACTIVITY_IDS = 150, 10

local BOUNCE_CODES = check.set(rows.BOUNCE_CODES)

-- The campaign_activity_id of the path: a uuid, or 400 naming it.
local function activity_id(req)
  local id = req.params.campaign_activity_id
  if not util.is_uuid(id) then
    v:fail("campaign_activity_id must be a uuid, got '" .. tostring(id) .. "'")
  end
  return id:lower()
end

-- A comma-separated list of uuids in the path: at most max, repeated ids once.
local function id_list(raw, name, max)
  local ids, seen = {}, {}
  for _, id in ipairs(util.split_csv(raw or "")) do
    if not util.is_uuid(id) then v:fail(name .. " must contain uuids, got '" .. id .. "'") end
    id = id:lower()
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
  if #ids == 0 then v:fail(name .. " is required") end
  if #ids > max then v:fail(name .. " accepts at most " .. max .. " ids, got " .. #ids) end
  return ids
end

local multi = http.query_multi

-- One page of rows (descriptors) rendered with render(row); keep: the filters the next
-- link repeats. links_required: the page schema requires _links (then {} on the last page).
local function page_of(req, items, path, keep, render, links_required)
  local page, links = pager.slice(items, req.args, TRACKING_LIMIT_DEFAULT, TRACKING_LIMIT_MAX, path, keep)
  local out = {}
  for i, row in ipairs(page) do out[i] = render(row) end
  if links == nil and links_required then links = {} end
  return { tracking_activities = json.array(out), _links = links }
end

local function tracking(kind, links_required)
  return function(req)
    local id = activity_id(req)
    local args = req.args
    local m = rows.activity(id)
    local items = rows.tracking_rows(m, kind)
    local keep = {}
    if kind == "clicks" then
      local url_id = v:query_int(args, "url_id", { min = 0 })
      if url_id then
        local wanted = string.format("%d", url_id)
        local by_link = {}
        for k = 1, m.links do by_link[k] = rows.link(m, k).url_id == wanted end
        local kept = {}
        for _, row in ipairs(items) do
          if by_link[row.link] then kept[#kept + 1] = row end
        end
        items, args.url_id = kept, wanted
        keep[#keep + 1] = "url_id"
      end
    elseif kind == "bounces" then
      local codes = multi("bounce_code")
      if codes and #codes > 0 then
        local wanted = {}
        for _, code in ipairs(codes) do
          if not BOUNCE_CODES[code] then
            v:fail("bounce_code does not have a valid value: '" .. code .. "' (one of B, D, F, S, V, X, Z)")
          end
          wanted[code] = true
        end
        local kept = {}
        for _, row in ipairs(items) do
          if wanted[row.code] then kept[#kept + 1] = row end
        end
        items, args.bounce_code = kept, table.concat(codes, ",")
        keep[#keep + 1] = "bounce_code"
      end
    end
    -- Check limit even when a cursor is given (the cursor carries its own).
    v:query_int(args, "limit", { default = TRACKING_LIMIT_DEFAULT, min = 1, max = TRACKING_LIMIT_MAX })
    local path = "/v3/reports/email_reports/" .. id .. "/tracking/" .. kind
    return 200, page_of(req, items, path, keep, function(row) return rows.render_tracking(m, kind, row) end,
      links_required)
  end
end

local handlers = {}

handlers.sends = tracking("sends")
handlers.opens = tracking("opens")
handlers.unique_opens = tracking("unique_opens")
handlers.clicks = tracking("clicks")
handlers.didnotopens = tracking("didnotopens")
handlers.forwards = tracking("forwards")
handlers.optouts = tracking("optouts", true)
handlers.bounces = tracking("bounces", true)

-- EmailLinks: the links with unique clicks; no_clicks=true adds the links nobody clicked.
function handlers.links(req)
  local id = activity_id(req)
  local no_clicks = v:query_bool(req.args, "no_clicks", false)
  local out = {}
  for _, link in ipairs(rows.link_counts(rows.activity(id))) do
    if no_clicks or link.unique_clicks > 0 then out[#out + 1] = link end
  end
  return 200, { campaign_activity_id = id, link_click_counts = json.array(out) }
end

-- StatsEmail (the fields of StatsEmailActivity that StatsEmail has).
local CAMPAIGN_STATS = { "em_bounces", "em_clicks", "em_clicks_all", "em_clicks_all_computer",
  "em_clicks_all_mobile", "em_clicks_all_tablet", "em_clicks_all_other", "em_clicks_all_none",
  "em_forwards", "em_not_opened", "em_opens", "em_opens_all", "em_opens_all_computer", "em_opens_all_mobile",
  "em_opens_all_tablet", "em_opens_all_other", "em_opens_all_none", "em_optouts", "em_sends" }

local function campaign_stats(campaign_id)
  local m = rows.activity(rows.primary_activity(campaign_id))
  local all = rows.activity_stats(m)
  local stats = {}
  for _, name in ipairs(CAMPAIGN_STATS) do stats[name] = all[name] end
  return m, stats, all
end

-- CampaignStatsQueryResultEmail for up to 150 campaign ids (in the order given).
function handlers.campaign_stats(req)
  local ids = id_list(req.params.campaign_ids, "campaign_ids", MAX_CAMPAIGN_IDS)
  local results = {}
  for i, campaign_id in ipairs(ids) do
    local m, stats = campaign_stats(campaign_id)
    results[i] = { campaign_id = campaign_id, stats = stats, percents = rows.percents(stats),
                   last_refresh_time = rows.refresh_time(m) }
  end
  return 200, { results = json.array(results), errors = json.array({}) }
end

-- CampaignActivityStatsQueryResultEmail for up to 10 campaign activity ids.
function handlers.activity_stats(req)
  local ids = id_list(req.params.campaign_activity_ids, "campaign_activity_ids", MAX_ACTIVITY_IDS)
  local results = {}
  for i, id in ipairs(ids) do
    local m = rows.activity(id)
    results[i] = {
      campaign_id = util.derived_uuid(id, "campaign"), campaign_activity_id = id,
      stats = rows.activity_stats(m), last_refresh_time = rows.refresh_time(m),
    }
  end
  return 200, { results = json.array(results), errors = json.array({}) }
end

-- BulkEmailCampaignSummariesPage: the account's campaigns, newest first; the
-- aggregate percents cover all of them.
function handlers.campaign_summaries(req)
  local campaigns = rows.email_campaigns(req.account)
  local page, links = pager.slice(campaigns, req.args, SUMMARY_LIMIT_DEFAULT, SUMMARY_LIMIT_MAX,
    "/v3/reports/summary_reports/email_campaign_summaries")
  local total = { sends = 0, opens = 0, clicks = 0, not_opened = 0, bounces = 0, optouts = 0 }
  local function counts(c)
    local m = rows.activity(rows.primary_activity(c.campaign_id))
    return m, {
      sends = m.sends, opens = m.unique_opens, clicks = m.clickers, forwards = m.forwards,
      optouts = m.optouts, abuse = m.abuse, bounces = m.bounces, not_opened = m.delivered - m.unique_opens,
    }
  end
  for _, c in ipairs(campaigns) do
    local _, u = counts(c)
    for k in pairs(total) do total[k] = total[k] + u[k] end
  end
  local out = {}
  for i, c in ipairs(page) do
    local m, u = counts(c)
    out[i] = { campaign_id = c.campaign_id, campaign_type = c.campaign_type,
               last_sent_date = util.iso(m.sent_at), unique_counts = u }
  end
  local delivered = total.sends - total.bounces
  return 200, {
    bulk_email_campaign_summaries = json.array(out),
    aggregate_percents = {
      open = rows.pct(total.opens, delivered), click = rows.pct(total.clicks, delivered),
      did_not_open = rows.pct(total.not_opened, delivered), bounce = rows.pct(total.bounces, total.sends),
      unsubscribe = rows.pct(total.optouts, delivered),
    },
    _links = links,
  }
end

-- SmsCampaignSummariesPage: SMS campaigns sent in [start_at, end_at], newest first.
function handlers.sms_summaries(req)
  local args = req.args
  local start_at = v:query_date(args, "start_at", { required = true })
  local end_at = v:query_date(args, "end_at")
  if end_at and end_at < start_at then v:fail("end_at must not be before start_at") end
  local kept = {}
  for _, c in ipairs(rows.sms_campaigns(req.account)) do
    if c.t >= start_at and (not end_at or c.t <= end_at) then kept[#kept + 1] = c end
  end
  local page, links = pager.slice(kept, args, SMS_LIMIT_DEFAULT, SMS_LIMIT_MAX,
    "/v3/reports/summary_reports/sms_campaign_summaries", { "start_at", "end_at" })
  local total = { sends = 0, delivers = 0, clicks = 0, optouts = 0 }
  for _, c in ipairs(kept) do
    for k in pairs(total) do total[k] = total[k] + c.unique_counts[k] end
  end
  local out = {}
  for i, c in ipairs(page) do
    out[i] = { campaign_id = c.campaign_id, campaign_name = c.campaign_name, campaign_type = "SMS",
               last_sent_date = util.iso(c.t), unique_counts = c.unique_counts }
  end
  return 200, {
    bulk_sms_campaign_summaries = json.array(out),
    aggregate_percents = {
      deliver = rows.pct(total.delivers, total.sends), click = rows.pct(total.clicks, total.delivers),
      bounce = rows.pct(total.sends - total.delivers, total.sends),
      unsubscribe = rows.pct(total.optouts, total.delivers),
    },
    _links = links,
  }
end

return { handlers = handlers }
