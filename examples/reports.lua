-- examples/reports.lua: campaign reports. Stats for recent campaigns, then every
-- open and click of one activity through the paginated tracking iterators.
--
--   CTCT_ACCESS_TOKEN=... lua5.4 examples/reports.lua [campaign_activity_id]
local ctct = require "ctct"

local client = ctct.new {
  access_token = os.getenv("CTCT_ACCESS_TOKEN"),
  base_url = os.getenv("CTCT_BASE_URL"),
  cafile = os.getenv("CTCT_CAFILE"),
}

local function must(data, err)
  if data == nil then
    io.stderr:write("reports: ", tostring(err), "\n")
    os.exit(1)
  end
  return data
end

-- Summaries of sent campaigns: an iterator over every page.
local n = 0
for s in client.reports:campaign_summaries { limit = 10 } do
  n = n + 1
  if n <= 3 then
    local unique = s.unique_counts or {}
    print(("campaign %s: sends %d, opens %d, clicks %d"):format(s.campaign_id, unique.sends or 0,
      unique.opens or 0, unique.clicks or 0))
  end
end
print(("%d campaign summaries"):format(n))

local activity_id = arg[1]
if not activity_id then
  -- No id given: use the primary activity of the newest campaign, or a made-up id
  -- (the sandbox generates reports for any well-formed id).
  local page = must(client.campaigns:list { limit = 1 })
  local newest = page.campaigns and page.campaigns[1]
  local campaign = newest and must(client.campaigns:get(newest.campaign_id))
  activity_id = campaign and client.campaigns.primary_activity_id(campaign) or "0c1a5c60-89b1-4a4e-8c36-1a0bf1e5b0a1"
end

local stats = must(client.reports:activity_stats { activity_id })
for _, row in ipairs(stats.results or {}) do
  local st = row.stats or {}
  print(("activity %s: %d sends, %d opens, %d clicks, %d bounces"):format(row.campaign_activity_id,
    st.em_sends or 0, st.em_opens or 0, st.em_clicks or 0, st.em_bounces or 0))
end

local opens, by_contact = 0, {}
for row in client.reports:opens(activity_id, { limit = 500 }) do
  opens = opens + 1
  by_contact[row.contact_id] = (by_contact[row.contact_id] or 0) + 1
end
local contacts = 0
for _ in pairs(by_contact) do contacts = contacts + 1 end
print(("opens: %d by %d contacts"):format(opens, contacts))

local clicks = 0
for _ in client.reports:clicks(activity_id) do clicks = clicks + 1 end
print(("clicks: %d"):format(clicks))
for _, link in ipairs(must(client.reports:links(activity_id)).link_click_counts or {}) do
  print(("  %5d unique clicks  %s"):format(link.unique_clicks or 0, tostring(link.link_url)))
end
