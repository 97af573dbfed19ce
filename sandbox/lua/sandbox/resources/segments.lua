-- /segments: saved contact searches (definitions SegmentData, SegmentDetail, SegmentName,
-- SegmentMaster, SegmentsDTO). Ids are integers (the account's creation sequence).
-- A deleted segment keeps its record with deleted_at (GET /segments/{id} still shows
-- it, like the API) but leaves the listing and frees its name.
--   a:<account>:segment:<seq>              record; segment_id = seq
--   a:<account>:segment@name:<lowercased>  -> segment_id (live segments only)
-- The criteria are stored as given; the sandbox does not evaluate them.
local collection = require "sandbox.collection"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"

local segments = collection.new("segment", "segment_id", { numeric_ids = true })

local _M = { collection = segments }

local v = check.new("segments.api.validation.error")
local NOT_FOUND = "segments.api.not.found"
local CONFLICT = "segments.api.conflict"

local LIMIT_DEFAULT, LIMIT_MAX = 1000, 1000
local CRITERIA_MAX = 20000
local SORT_BY = check.set({ "date", "name" })

local function name_key(name) return name:lower() end

-- Whether segment_id names a live (not deleted) segment of the account.
function _M.exists(account, segment_id)
  local segment = segments:get(account, segment_id)
  return segment ~= nil and segment.deleted_at == nil
end

function _M.get(account, segment_id)
  return segments:get(account, segment_id)
end

local function render(segment, detail)
  return {
    segment_id = segment.segment_id,
    name = segment.name,
    segment_criteria = detail and segment.segment_criteria or nil,
    created_at = segment.created_at,
    edited_at = segment.edited_at,
  }
end

-- The segment named by the path, or 400 (not an integer) / 404. Deleted segments are
-- found only when include_deleted.
local function find(req, include_deleted)
  local raw = req.params.segment_id
  if not raw:match("^%d+$") or #raw > 10 then
    v:fail("segment_id must be an integer, got '" .. raw .. "'")
  end
  local segment = segments:get(req.account, raw)
  if not segment or (segment.deleted_at and not include_deleted) then
    http.fail(404, NOT_FOUND, "Segment " .. raw .. " not found")
  end
  return segment
end

local function check_name(body)
  return v:string(body, "name", { required = true, max = 255 })
end

-- segment_criteria: a string of JSON (an object), whose top-level criteria group, when
-- it names a type, is "and" (the spec: "the top-level group type must be ...").
local function check_criteria(body)
  local criteria = v:string(body, "segment_criteria", { required = true, max = CRITERIA_MAX })
  local parsed = http.decode(criteria)
  if type(parsed) ~= "table" or json.is_array(parsed) then
    v:fail("segment_criteria must be a JSON object in a string")
  end
  local group = parsed.criteria
  if group ~= nil and type(group) ~= "table" then v:fail("segment_criteria.criteria must be an object") end
  if type(group) == "table" and group.type ~= nil and group.type ~= "and" then
    v:fail("segment_criteria: the top-level group type must be 'and', got '" .. tostring(group.type) .. "'")
  end
  return criteria
end

local function claim_name(account, name, segment_id)
  if not segments:claim(account, "name", name_key(name), segment_id) then
    http.fail(409, CONFLICT, "A segment named '" .. name .. "' already exists")
  end
end

-- Renames segment (claims the new name first, then frees the old one).
local function set_name(account, segment, name)
  if name_key(name) ~= name_key(segment.name) then
    claim_name(account, name, segment.segment_id)
    segments:release(account, "name", name_key(segment.name), segment.segment_id)
  end
  segment.name = name
end

local handlers = {}

-- sort_by=date: most recently edited first; sort_by=name: ascending by name.
function handlers.list(req)
  local args = req.args
  local sort_by = v:query_enum(args, "sort_by", SORT_BY, { default = "date" })
  local live = segments:all(req.account, function(s) return s.deleted_at == nil end)
  if sort_by == "name" then
    table.sort(live, function(a, b)
      local ka, kb = name_key(a.name), name_key(b.name)
      if ka ~= kb then return ka < kb end
      return a.segment_id < b.segment_id
    end)
  else
    table.sort(live, function(a, b)
      if a.edited_at ~= b.edited_at then return a.edited_at > b.edited_at end
      return a.segment_id > b.segment_id
    end)
  end
  local page, links = pager.slice(live, args, LIMIT_DEFAULT, LIMIT_MAX, "/v3/segments", { "sort_by" })
  local out = {}
  for i, segment in ipairs(page) do out[i] = render(segment, false) end
  return 200, { segments = json.array(out), _links = links }
end

function handlers.create(req)
  local body = req:json()
  local name = check_name(body)
  local criteria = check_criteria(body)
  if segments:lookup(req.account, "name", name_key(name)) then
    http.fail(409, CONFLICT, "A segment named '" .. name .. "' already exists")
  end
  local now = util.now_iso()
  local segment = segments:insert(req.account, {
    name = name, segment_criteria = criteria, created_at = now, edited_at = now,
  })
  if not segments:claim(req.account, "name", name_key(name), segment.segment_id) then
    segments:remove(req.account, segment)
    http.fail(409, CONFLICT, "A segment named '" .. name .. "' already exists")
  end
  return 201, render(segment, true)
end

function handlers.get(req)
  return 200, render(find(req, true), true)
end

-- Both name and segment_criteria are required, even when only one changes.
function handlers.put(req)
  local segment = find(req)
  local body = req:json()
  local name = check_name(body)
  local criteria = check_criteria(body)
  set_name(req.account, segment, name)
  segment.segment_criteria, segment.edited_at = criteria, util.now_iso()
  segments:update(req.account, segment)
  return 200, render(segment, true)
end

function handlers.rename(req)
  local segment = find(req)
  local name = check_name(req:json())
  set_name(req.account, segment, name)
  segment.edited_at = util.now_iso()
  segments:update(req.account, segment)
  return 200, render(segment, true)
end

function handlers.delete(req)
  local segment = find(req)
  segments:release(req.account, "name", name_key(segment.name), segment.segment_id)
  segment.deleted_at = util.now_iso()
  segments:update(req.account, segment)
  return 204
end

_M.handlers = handlers

return _M
