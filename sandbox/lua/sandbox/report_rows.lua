-- Generated report data: every number and row of a report is a pure function of the
-- ids in its path (util.hash, util.derived_uuid), so the same request always answers
-- the same rows, and the counts agree across endpoints: an activity's stats count the
-- rows of its tracking reports, a contact's activity summary counts its activity
-- details.
--
-- Rows are small descriptors ({ r = recipient, t = epoch, ... }); only the rows of the
-- page answered are rendered into JSON objects (render_*), so a page costs O(page)
-- rendering on top of an O(rows) walk of cheap hashes (at most a few thousand rows).
local util = require "sandbox.util"

local floor = math.floor
local h = util.hash

local _M = {}

local EPOCH_2024 = 1704067200   -- 2024-01-01T00:00:00Z
local DAY = 86400

local FIRST = { "Maddie", "Josie", "Sam", "Alex", "Priya", "Chen", "Omar", "Lucia", "Noah", "Ava",
  "Kofi", "Mia", "Ivan", "Zoe", "Raj", "Elena" }
local LAST = { "Brown", "Lang", "Garcia", "Nguyen", "Smith", "Okafor", "Rossi", "Kim", "Patel",
  "Schmidt", "Silva", "Haddad", "Novak", "Tanaka" }

-- Device types of opens and clicks, weighted (computer and mobile most often).
local DEVICES = { "computer", "computer", "computer", "mobile", "mobile", "mobile", "mobile",
  "tablet", "other", "none" }

-- Bounce codes (the getBounces enum) and the StatsEmailActivity counter of each.
_M.BOUNCE_CODES = { "B", "D", "F", "S", "V", "X", "Z" }
_M.BOUNCE_STATS = {
  B = "em_bounces_nonexistent_address", D = "em_bounces_undeliverable", F = "em_bounces_mailbox_full",
  S = "em_bounces_suspended", V = "em_bounces_vacation", X = "em_bounces_other", Z = "em_bounces_blocked",
}

local OPT_OUT_REASONS = { "The content is not what I expected", "I receive too many emails",
  "I never signed up for this list", "Other" }

local function pick(list, ...) return list[h(...) % #list + 1] end

---------------------------------------------------------------------------------------
-- People. Recipient r of a report scope (an activity id) is one generated contact.

-- { contact_id, email_address, first_name, last_name[, deleted_at] } of recipient r.
-- first_name, last_name, email_address of recipient r (cheap: no uuid).
function _M.names(scope, r)
  local first, last = pick(FIRST, scope, "first", r), pick(LAST, scope, "last", r)
  return first, last, (first .. "." .. last .. "." .. r):lower() .. "@example.com"
end

function _M.person(scope, r)
  local first, last, email = _M.names(scope, r)
  local p = {
    contact_id = util.derived_uuid(scope, "contact", tostring(r)),
    first_name = first, last_name = last, email_address = email,
  }
  if h(scope, "deleted", r) % 40 == 0 then
    p.deleted_at = os.date("!%Y-%m-%d", EPOCH_2024 + 800 * DAY + h(scope, "deleted_at", r) % (60 * DAY))
  end
  return p
end

---------------------------------------------------------------------------------------
-- An email campaign activity: its counts and the rows of each tracking report.

-- The counts of campaign activity id (a uuid string); memoized per request is not
-- needed, it is a dozen hashes.
function _M.activity(id)
  local m = { id = id }
  m.sends = h(id, "sends") % 1201
  m.bounces = m.sends > 0 and h(id, "bounces") % (floor(m.sends / 8) + 1) or 0
  m.delivered = m.sends - m.bounces
  m.unique_opens = floor(m.delivered * (20 + h(id, "open_rate") % 51) / 100)
  m.opens = m.unique_opens + h(id, "reopens") % (m.unique_opens + 1)
  m.clickers = floor(m.unique_opens * (h(id, "click_rate") % 41) / 100)
  m.clicks = m.clickers + h(id, "reclicks") % (m.clickers + 1)
  m.forwards = h(id, "forwards") % (floor(m.unique_opens / 15) + 1)
  m.optouts = h(id, "optouts") % (floor(m.delivered / 40) + 1)
  m.abuse = h(id, "abuse") % (floor(m.optouts / 4) + 1)
  m.links = 1 + h(id, "links") % 6
  -- The last link of a multi-link email is sometimes never clicked (links?no_clicks=true).
  m.clicked_links = m.links > 1 and m.links - h(id, "unclicked") % 2 or 1
  m.sent_at = EPOCH_2024 + h(id, "sent_at") % (700 * DAY)
  return m
end

local function device(m, kind, j) return DEVICES[h(m.id, kind, j) % #DEVICES + 1] end

-- Link k (1..m.links) of the activity: url_id, link_url and sometimes a list action.
function _M.link(m, k)
  local link = {
    url_id = string.format("%d", 1100000000000 + h(m.id, "url_id", k) % 800000000000),
    link_url = "https://example.com/" .. pick({ "offers", "blog", "events", "shop", "news" }, m.id, "url", k)
      .. "/" .. k,
  }
  if h(m.id, "link_tag", k) % 3 == 0 then link.link_tag = "link-" .. k end
  if h(m.id, "list_action", k) % 4 == 0 then
    link.list_action = "add"
    link.list_id = util.derived_uuid(m.id, "list", tostring(k))
  end
  return link
end

-- The rows of a tracking report, in report order (newest first within the activity).
-- kind: sends, opens, unique_opens, clicks, didnotopens, forwards, optouts, bounces.
function _M.tracking_rows(m, kind)
  local rows = {}
  local t0 = m.sent_at
  if kind == "sends" then
    for r = 1, m.sends do rows[#rows + 1] = { r = r, t = t0 + floor((m.sends - r) / 20) } end
  elseif kind == "opens" or kind == "unique_opens" then
    local n = kind == "opens" and m.opens or m.unique_opens
    for j = n, 1, -1 do
      local r = j <= m.unique_opens and j or j - m.unique_opens
      rows[#rows + 1] = { r = r, t = t0 + 300 + j * 37, device = device(m, "open_device", j) }
    end
  elseif kind == "didnotopens" then
    for r = m.unique_opens + 1, m.delivered do rows[#rows + 1] = { r = r, t = t0 } end
  elseif kind == "clicks" then
    for j = m.clicks, 1, -1 do
      local r = j <= m.clickers and j or j - m.clickers
      rows[#rows + 1] = { r = r, t = t0 + 400 + j * 53, device = device(m, "click_device", j),
                          link = h(m.id, "click_link", j) % m.clicked_links + 1 }
    end
  elseif kind == "forwards" then
    for r = m.forwards, 1, -1 do rows[#rows + 1] = { r = r, t = t0 + 900 + r * 71 } end
  elseif kind == "optouts" then
    for j = m.optouts, 1, -1 do rows[#rows + 1] = { r = m.delivered - j + 1, t = t0 + 1200 + j * 97 } end
  elseif kind == "bounces" then
    for j = m.bounces, 1, -1 do
      local r = m.delivered + j
      rows[#rows + 1] = { r = r, t = t0 + 60 + j, code = _M.BOUNCE_CODES[h(m.id, "bounce_code", r) % 7 + 1] }
    end
  else
    error("unknown tracking report " .. tostring(kind))
  end
  return rows
end

local TYPES = {
  sends = "em_sends", opens = "em_opens", unique_opens = "em_opens", clicks = "em_clicks",
  didnotopens = "em_didnotopens", forwards = "em_forwards", optouts = "em_optouts", bounces = "em_bounces",
}

-- The JSON object of a tracking row.
function _M.render_tracking(m, kind, row)
  local p = _M.person(m.id, row.r)
  local out = {
    contact_id = p.contact_id, campaign_activity_id = m.id, tracking_activity_type = TYPES[kind],
    email_address = p.email_address, first_name = p.first_name, last_name = p.last_name,
    created_time = util.iso(row.t), deleted_at = p.deleted_at, device_type = row.device,
  }
  if kind == "clicks" then
    local link = _M.link(m, row.link)
    out.url_id, out.link_url = link.url_id, link.link_url
  elseif kind == "bounces" then
    out.bounce_code = row.code
    if h(m.id, "current_email", row.r) % 5 == 0 then
      out.current_email_address = (p.first_name .. "_" .. p.last_name .. row.r):lower() .. "@example.net"
    end
  elseif kind == "optouts" then
    out.opt_out_reason = pick(OPT_OUT_REASONS, m.id, "reason", row.r)
  end
  return out
end

-- EmailLinks.link_click_counts: every link with its unique clickers.
function _M.link_counts(m)
  local seen, counts = {}, {}
  for k = 1, m.links do counts[k] = 0 end
  for _, row in ipairs(_M.tracking_rows(m, "clicks")) do
    local key = row.link .. ":" .. row.r
    if not seen[key] then
      seen[key] = true
      counts[row.link] = counts[row.link] + 1
    end
  end
  local out = {}
  for k = 1, m.links do
    local link = _M.link(m, k)
    link.unique_clicks = counts[k]
    out[k] = link
  end
  return out
end

local function pct(part, whole)
  if whole == 0 then return 0 end
  return floor(part * 1000 / whole + 0.5) / 10
end
_M.pct = pct

-- StatsEmailActivity of the activity (counts agree with the tracking reports).
function _M.activity_stats(m)
  local s = {
    em_sends = m.sends, em_bounces = m.bounces, em_opens = m.unique_opens, em_opens_all = m.opens,
    em_clicks = m.clickers, em_clicks_all = m.clicks, em_forwards = m.forwards, em_optouts = m.optouts,
    em_not_opened = m.delivered - m.unique_opens, em_abuse = m.abuse,
  }
  for _, d in ipairs({ "computer", "mobile", "tablet", "other", "none" }) do
    s["em_opens_all_" .. d], s["em_clicks_all_" .. d] = 0, 0
  end
  for _, row in ipairs(_M.tracking_rows(m, "opens")) do
    local k = "em_opens_all_" .. row.device
    s[k] = s[k] + 1
  end
  for _, row in ipairs(_M.tracking_rows(m, "clicks")) do
    local k = "em_clicks_all_" .. row.device
    s[k] = s[k] + 1
  end
  for _, name in pairs(_M.BOUNCE_STATS) do s[name] = 0 end
  for _, row in ipairs(_M.tracking_rows(m, "bounces")) do
    local k = _M.BOUNCE_STATS[row.code]
    s[k] = s[k] + 1
  end
  return s
end

-- PercentsEmail of a StatsEmail.
function _M.percents(s)
  local delivered = s.em_sends - s.em_bounces
  return {
    bounce = pct(s.em_bounces, s.em_sends),
    open = pct(s.em_opens, delivered),
    click = pct(s.em_clicks, delivered),
    did_not_open = pct(s.em_not_opened, delivered),
    unsubscribe = pct(s.em_optouts, delivered),
    desktop_open = pct(s.em_opens_all_computer, s.em_opens_all),
    mobile_open = pct(s.em_opens_all_mobile, s.em_opens_all),
    desktop_click = pct(s.em_clicks_all_computer, s.em_clicks_all),
    mobile_click = pct(s.em_clicks_all_mobile, s.em_clicks_all),
  }
end

-- The campaign's primary email activity (the one its stats and summaries report on).
function _M.primary_activity(campaign_id)
  return util.derived_uuid(campaign_id, "primary_email")
end

-- When the stats were last refreshed: a while after the last open.
function _M.refresh_time(m)
  return util.iso(m.sent_at + 3 * DAY)
end

---------------------------------------------------------------------------------------
-- Account-wide summaries.

local CAMPAIGN_TYPES = { "Newsletter", "Announcement", "Promotion", "Event", "Custom Code Email" }

-- Email campaigns of the account, newest first: { campaign_id, campaign_type, m }.
function _M.email_campaigns(account)
  local n = 25 + h(account, "email_campaigns") % 100
  local out = {}
  for i = 1, n do
    local campaign_id = util.derived_uuid(account, "email_campaign", tostring(i))
    out[i] = { campaign_id = campaign_id, campaign_type = pick(CAMPAIGN_TYPES, campaign_id, "type"),
               i = i }
  end
  return out
end

-- SMS campaigns of the account, newest first, each with its send time (epoch).
function _M.sms_campaigns(account)
  local n = 20 + h(account, "sms_campaigns") % 60
  local out = {}
  local t = EPOCH_2024 + 1000 * DAY
  for i = 1, n do
    t = t - DAY - h(account, "sms_gap", i) % (20 * DAY)
    local id = util.derived_uuid(account, "sms_campaign", tostring(i))
    local sends = 10 + h(id, "sends") % 500
    local delivers = sends - h(id, "undelivered") % (floor(sends / 10) + 1)
    out[i] = {
      campaign_id = id, t = t,
      campaign_name = pick({ "Spring Clearance Sale", "Flash Deal", "Reminder", "Weekend Offer" }, id, "name")
        .. " #" .. (n - i + 1),
      unique_counts = {
        sends = sends, delivers = delivers,
        opens = h(id, "opens") % (delivers + 1),
        clicks = h(id, "clicks") % (floor(delivers / 3) + 1),
        optouts = h(id, "optouts") % (floor(delivers / 50) + 1),
      },
    }
  end
  return out
end

---------------------------------------------------------------------------------------
-- A contact's campaign activities (contact reports).

-- The contact's campaign activities, oldest first: { campaign_activity_id, t, landing,
-- counts { em_sends, em_opens, ... } } (a landing page has p_* counts instead).
function _M.contact_activities(contact_id)
  local n = h(contact_id, "activities") % 41
  local out = {}
  local t = EPOCH_2024 + h(contact_id, "first") % (90 * DAY)
  for a = 1, n do
    t = t + 3 * DAY + h(contact_id, "gap", a) % (10 * DAY)
    local id = util.derived_uuid(contact_id, "activity", tostring(a))
    local act = { campaign_activity_id = id, t = t, a = a, name = "Campaign " .. a }
    if h(id, "landing") % 7 == 0 then
      act.landing = true
      act.name = "Landing page " .. a
      act.counts = {
        p_contact_open = 1 + h(id, "p_open") % 3,
        p_contact_click = h(id, "p_click") % 3,
        p_contact_add = h(id, "p_add") % 4 == 0 and 1 or 0,
        p_contact_update = h(id, "p_update") % 5 == 0 and 1 or 0,
      }
    else
      local bounced = h(id, "bounced") % 12 == 0
      local opens = bounced and 0 or h(id, "opens") % 5
      act.counts = {
        em_sends = 1,
        em_bounces = bounced and 1 or 0,
        em_opens = opens,
        em_clicks = opens > 0 and h(id, "clicks") % 4 or 0,
        em_forwards = (opens > 0 and h(id, "forwards") % 9 == 0) and 1 or 0,
        em_optouts = (not bounced and h(id, "optouts") % 25 == 0) and 1 or 0,
      }
    end
    out[a] = act
  end
  return out
end

-- Activity detail rows of one contact activity ({ type, t }), in time order.
local DETAIL_ORDER = { "em_sends", "em_bounces", "em_opens", "em_clicks", "em_forwards", "em_optouts",
  "p_contact_open", "p_contact_click", "p_contact_add", "p_contact_update" }
_M.DETAIL_TYPES = DETAIL_ORDER

function _M.detail_rows(act)
  local rows = {}
  for step, kind in ipairs(DETAIL_ORDER) do
    for k = 1, act.counts[kind] or 0 do
      rows[#rows + 1] = { act = act, type = kind, t = act.t + step * 3600 + k * 600 }
    end
  end
  return rows
end

return _M
