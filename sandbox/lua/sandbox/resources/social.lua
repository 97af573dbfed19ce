-- /social: the account's connected social profiles, their connections and saved
-- hashtag groups (fixed per account: derived from the account name), and social posts
-- (POST /social/posts, checked against PostCreateDto and stored under
-- a:<account>:social_post:<seq>).
local collection = require "sandbox.collection"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local check = require "sandbox.check"

local posts = collection.new("social_post", "campaign_id")

local v = check.new("social.api.validation.error")

local INCLUDES = check.set({ "accessible" })
local POST_STATUSES = check.set({ "DRAFT", "SCHEDULED" })
local HASHTAG_LIMIT_DEFAULT, HASHTAG_LIMIT_MAX = 5, 5

-- The account's profiles: network, page name, handle, accessible.
local PROFILES = {
  { network = "facebook", name = "My Business Page", handle = "mybusinesspage", accessible = true,
    url = "https://www.facebook.com/" },
  { network = "instagram", name = "My Business", handle = "mybusiness", accessible = true,
    url = "https://www.instagram.com/" },
  { network = "linkedin", name = "My Business Company Page", handle = "my-business", accessible = false,
    url = "https://www.linkedin.com/company/" },
}

local HASHTAG_GROUPS = {
  { "Seasonal", { "#spring", "#summer", "#sale" } },
  { "Brand", { "#mybusiness", "#shoplocal" } },
  { "Events", { "#livemusic", "#weekend", "#community" } },
  { "Food", { "#foodie", "#brunch" } },
  { "Holidays", { "#holidays", "#giftideas", "#newyear" } },
  { "Giveaways", { "#giveaway", "#contest" } },
  { "Tips", { "#tips", "#howto", "#diy" } },
}

local function profile_id(account, i) return util.derived_uuid(account, "social_profile", tostring(i)) end

-- ProfileDto list; with accessible, each says whether it can be posted to.
local function profiles(account, accessible)
  local out = {}
  for i, p in ipairs(PROFILES) do
    local id = profile_id(account, i)
    local network_id = string.format("%d", 100000000000 + util.hash(account, p.network) % 900000000000)
    out[i] = {
      profile_id = id, network = p.network, connected = true, name = p.name, handle = p.handle,
      url = p.url .. p.handle, image_url = "https://example.com/" .. p.network .. "/" .. p.handle .. ".jpg",
      network_profile_id = network_id, network_user_id = network_id,
      account_info = { network = p.network, display_name = p.name, username = p.handle,
                       network_account_id = network_id, account_url = p.url .. p.handle,
                       image_url = "https://example.com/" .. p.network .. "/avatar.jpg" },
    }
    if accessible then out[i].accessible = p.accessible end
  end
  return out
end

local multi = http.query_multi

local handlers = {}

-- Profiles (an array of ProfileDto); include=accessible adds accessible.
function handlers.profiles(req)
  local accessible = false
  for _, item in ipairs(multi("include") or {}) do
    if not INCLUDES[item] then v:fail("include does not have a valid value: '" .. item .. "' (accessible)") end
    accessible = true
  end
  return 200, profiles(req.account, accessible)
end

-- ConnectionResponseDto: one healthy connection per profile (the LinkedIn one's token
-- lacks a scope, so its profile is not accessible).
function handlers.connections(req)
  local out = {}
  for i, p in ipairs(profiles(req.account, true)) do
    out[i] = {
      account_info = p.account_info,
      connection_status = { has_token = true, is_active_user = true, rate_limited = false, status = 200,
                            token_is_valid = true, token_has_scopes = p.accessible },
    }
  end
  return 200, { connections = out }
end

-- PagedHashtagGroupsDto: page (0-based) of limit (1-5) groups.
function handlers.hashtag_groups(req)
  local args = req.args
  local limit = v:query_int(args, "limit", { default = HASHTAG_LIMIT_DEFAULT, min = 1, max = HASHTAG_LIMIT_MAX })
  local page = v:query_int(args, "page", { default = 0, min = 0 })
  local total = #HASHTAG_GROUPS
  local out = {}
  for i = page * limit + 1, math.min(total, (page + 1) * limit) do
    local g = HASHTAG_GROUPS[i]
    out[#out + 1] = { hashtag_group_id = util.derived_uuid(req.account, "hashtag_group", tostring(i)),
                      hashtag_group_name = g[1], hashtag_names = g[2] }
  end
  local links = {}
  if (page + 1) * limit < total then
    links.next = { href = "/v3/social/hashtags/groups?limit=" .. limit .. "&page=" .. (page + 1) }
  end
  return 200, {
    hashtag_groups = json.array(out), _links = links,
    page = { page = page, size = limit, total_elements = total, total_pages = math.ceil(total / limit) },
  }
end

-- 201 PostDto: the post with its campaign id, content ids and each profile's details.
function handlers.create_post(req)
  local body = req:json()
  local status = v:enum(body, "status", POST_STATUSES, { required = true })
  local name = v:string(body, "name", { max = 255 })
  local _, scheduled_epoch = v:date_time(body, "scheduled_time")
  local entries = v:array(body, "profile_posts", { required = true, min = 1, item = "object" })
  local known = {}
  for _, p in ipairs(profiles(req.account, true)) do known[p.profile_id] = p end
  local now = util.now_iso()
  local scheduled
  if status == "SCHEDULED" then
    if scheduled_epoch and scheduled_epoch < ngx.time() - 60 then v:fail("scheduled_time must be in the future") end
    scheduled = scheduled_epoch and util.iso(scheduled_epoch) or now
  end
  local out = {}
  for i, entry in ipairs(entries) do
    local where = "profile_posts[" .. (i - 1) .. "]"
    local text = v:string(entry, "text", { max = 5000, label = where .. ".text" })
    local images = v:array(entry, "images", { item = "object", max = 10, label = where .. ".images" }) or {}
    for k, image in ipairs(images) do
      local url = v:string(image, "url", { required = true, label = where .. ".images[" .. (k - 1) .. "].url" })
      if not url:match("^https?://[^%s/]+") then
        v:fail(where .. ".images[" .. (k - 1) .. "].url must be an http(s) URL, got '" .. url .. "'")
      end
      images[k] = { url = url, image_id = util.derived_uuid(url, "image") }
    end
    local settings = v:object(entry, "settings", { label = where .. ".settings" })
    local targets = v:array(entry, "profiles", { required = true, item = "object", label = where .. ".profiles" })
    if #targets == 0 and status ~= "DRAFT" then
      v:fail(where .. ".profiles can be empty only for a DRAFT post")
    end
    if status == "SCHEDULED" and not text and #images == 0 then
      v:fail(where .. " needs text or images for a SCHEDULED post")
    end
    local rendered = {}
    for k, target in ipairs(targets) do
      local label = where .. ".profiles[" .. (k - 1) .. "].profile_id"
      local id = v:string(target, "profile_id", { required = true, label = label })
      local p = known[id]
      if not p then v:fail(label .. " is not a connected profile: '" .. id .. "'") end
      if status == "SCHEDULED" and not p.accessible then
        v:fail(label .. " names a profile that is not accessible for posting: '" .. id .. "'")
      end
      rendered[k] = {
        profile_id = id, network = p.network, profile_name = p.name, account_username = p.handle,
        image_url = p.image_url, campaign_activity_id = util.uuid(), campaign_activity_status = status,
        campaign_activity_status_date = now,
      }
    end
    out[i] = { post_content_id = util.uuid(), text = text, images = json.array(images), settings = settings,
               profiles = json.array(rendered) }
  end
  local post = posts:insert(req.account, {
    name = name or ("Social post " .. now:sub(1, 10)), status = status, scheduled_time = scheduled,
    profile_posts = out, created_at = now,
  })
  local answer = util.copy(post)
  answer.seq, answer.created_at = nil, nil
  return 201, answer
end

return { handlers = handlers, collection = posts }
