-- /reports/landing_pages/campaign_details/{campaign_activity_id}/p_*: landing page
-- reporting. Generated from the activity id (sandbox/report_rows.lua): the page had a
-- number of visitors; the unique reports list a share of them once each, p_contact_opens
-- lists every open (repeat visits too). Cursor paging, limit 1-500 (50), and
-- contacts_filter (a case-insensitive part of the first name, last name or email).
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"
local rows = require "sandbox.report_rows"

local h = util.hash
local floor = math.floor

local v = check.new("reports.api.validation.error")

local LIMIT_DEFAULT, LIMIT_MAX = 50, 500

-- kind -> tracking_activity_type, the share of visitors (percent range start), and
-- whether the rows come from the end of the visitor list.
local KINDS = {
  contact_opens = { type = "p_contact_opens", path = "p_contact_opens" },
  unique_contact_opens = { type = "p_contact_opens", path = "p_unique_contact_opens" },
  unique_contact_clicks = { type = "p_contact_click", path = "p_unique_contact_clicks", share = 10 },
  unique_contact_adds = { type = "p_contact_adds", path = "p_unique_contact_adds", share = 5, tail = true },
  unique_contact_updates = { type = "p_contact_updates", path = "p_unique_contact_updates", share = 5 },
  unique_contact_sms_optins = { type = "p_contact_sms_optins", path = "p_unique_contact_sms_optins",
                                share = 2, tail = true },
}

-- The rows ({ r = visitor, j = position, t = epoch }) of one report, newest first.
local function report_rows(id, kind)
  local spec = KINDS[kind]
  local visitors = h(id, "lp_visitors") % 601
  local t0 = 1704067200 + h(id, "lp_published") % (700 * 86400)
  local list = {}
  if kind == "contact_opens" then
    local n = visitors + h(id, "lp_reopens") % (visitors + 1)
    for j = n, 1, -1 do
      list[#list + 1] = { r = j <= visitors and j or j - visitors, j = j, t = t0 + j * 41 }
    end
  elseif kind == "unique_contact_opens" then
    for r = visitors, 1, -1 do list[#list + 1] = { r = r, j = r, t = t0 + r * 41 } end
  else
    local n = floor(visitors * (spec.share + h(id, kind) % 30) / 100)
    for j = n, 1, -1 do
      local r = spec.tail and visitors - j + 1 or j
      list[#list + 1] = { r = r, j = j, t = t0 + r * 41 + 120 }
    end
  end
  return list
end

local function render(id, kind, row)
  local p = rows.person(id, row.r)
  local out = {
    contact_id = p.contact_id, campaign_activity_id = id, tracking_activity_type = KINDS[kind].type,
    email_address = p.email_address, first_name = p.first_name, last_name = p.last_name,
    created_time = util.iso(row.t), deleted_at = p.deleted_at,
  }
  if kind == "contact_opens" or kind == "unique_contact_opens" or kind == "unique_contact_clicks" then
    out.device_type = ({ "computer", "mobile", "tablet" })[h(id, kind, "device", row.j) % 3 + 1]
  end
  if kind == "unique_contact_clicks" then
    local k = h(id, "lp_link", row.r) % 3 + 1
    out.url_id = string.format("%d", 1200000000000 + h(id, "lp_url", k) % 800000000000)
    out.link_url = "https://example.com/landing/" .. k
  end
  if kind == "unique_contact_sms_optins" then
    local line = string.format("%04d", h(id, "sms", row.r) % 10000)
    out.sms_channel = { country_code = "US", formatted_international = "+1 234-555-" .. line,
                        formatted_national = "(234) 555-" .. line }
  end
  return out
end

local function report(kind)
  return function(req)
    local id = req.params.campaign_activity_id
    if not util.is_uuid(id) then
      v:fail("campaign_activity_id must be a uuid, got '" .. tostring(id) .. "'")
    end
    id = id:lower()
    local args = req.args
    v:query_int(args, "limit", { default = LIMIT_DEFAULT, min = 1, max = LIMIT_MAX })
    local items = report_rows(id, kind)
    local filter = args.contacts_filter
    if filter == true then filter = nil end
    if filter and filter ~= "" then
      local needle = filter:lower()
      local kept = {}
      for _, row in ipairs(items) do
        local first, last, email = rows.names(id, row.r)
        if first:lower():find(needle, 1, true) or last:lower():find(needle, 1, true)
          or email:find(needle, 1, true) then
          kept[#kept + 1] = row
        end
      end
      items = kept
    end
    local path = "/v3/reports/landing_pages/campaign_details/" .. id .. "/" .. KINDS[kind].path
    local page, links = pager.slice(items, args, LIMIT_DEFAULT, LIMIT_MAX, path, { "contacts_filter" })
    local out = {}
    for i, row in ipairs(page) do out[i] = render(id, kind, row) end
    -- The page schemas require _links: {} on the last page.
    return 200, { tracking_activities = json.array(out), _links = links or {} }
  end
end

local handlers = {}
for kind in pairs(KINDS) do handlers[kind] = report(kind) end

return { handlers = handlers }
