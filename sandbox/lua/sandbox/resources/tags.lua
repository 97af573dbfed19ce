-- /contact_tags: tags (definitions Tag, TagPost, TagPut, Tags).
-- Taggings live on contacts (taggings); each tag keeps a counter of the non-deleted
-- contacts carrying it, so contacts_count costs O(1):
--   a:<account>:tag:<tag_id>:contacts
-- Deleting a tag removes it at once; contacts keep the stale id in their record, but
-- it is never shown, matched nor counted again (tag ids are never reused).
local collection = require "sandbox.collection"
local store = require "sandbox.store"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"
local activity = require "sandbox.activity"

local d = store.d

local tags = collection.new("tag", "tag_id")

local _M = { collection = tags }

local v = check.new("tags.api.validation.error")
local NOT_FOUND = "tags.api.not.found"
local CONFLICT = "tags.api.conflict"

local LIMIT_DEFAULT, LIMIT_MAX = 50, 500

local function count_key(account, tag_id) return store.key(account, "tag", tag_id, "contacts") end

function _M.exists(account, tag_id)
  return type(tag_id) == "string" and tags:get(account, tag_id) ~= nil
end

-- Adds delta to the counter of each (existing) tag in tag_ids.
function _M.adjust(account, tag_ids, delta)
  for _, tag_id in ipairs(tag_ids or {}) do
    if _M.exists(account, tag_id) then d.incr(count_key(account, tag_id), delta, 0) end
  end
end

function _M.count(account, tag_id)
  return d.get(count_key(account, tag_id)) or 0
end

local function name_key(name) return name:lower() end

local function render(account, tag, include_count)
  return {
    tag_id = tag.tag_id,
    name = tag.name,
    tag_source = tag.tag_source,
    created_at = tag.created_at,
    updated_at = tag.updated_at,
    contacts_count = include_count and _M.count(account, tag.tag_id) or nil,
  }
end

local function find(req)
  local tag = tags:get(req.account, req.params.tag_id)
  if not tag then http.fail(404, NOT_FOUND, "Tag " .. tostring(req.params.tag_id) .. " not found") end
  return tag
end

local function claim_name(account, name, tag_id)
  if not tags:claim(account, "name", name_key(name), tag_id) then
    http.fail(409, CONFLICT, "A tag named '" .. name .. "' already exists")
  end
end

-- Removes a tag and its counter (DELETE /contact_tags/{id} and the tags_delete activity).
function _M.remove(account, tag)
  tags:remove(account, tag)
  tags:release(account, "name", name_key(tag.name), tag.tag_id)
  d.delete(count_key(account, tag.tag_id))
end

local handlers = {}

function handlers.list(req)
  local args = req.args
  local limit, from = pager.window(args, LIMIT_DEFAULT, LIMIT_MAX)
  local include_count = v:query_bool(args, "include_count")
  local page, next_from = tags:page(req.account, from, limit)
  local out = {}
  for i, tag in ipairs(page) do out[i] = render(req.account, tag, include_count) end
  return 200, {
    tags = json.array(out),
    _links = pager.links("/v3/contact_tags", limit, next_from, args, { "include_count" }),
  }
end

function handlers.create(req)
  local body = req:json()
  local name = v:string(body, "name", { required = true, max = 255, min = 1 })
  local tag_source = v:string(body, "tag_source", { max = 255 })
  local tag_id = util.uuid()
  claim_name(req.account, name, tag_id)
  local now = util.now_iso()
  local tag = tags:insert(req.account, {
    tag_id = tag_id, name = name, tag_source = tag_source, created_at = now, updated_at = now,
  })
  return 201, render(req.account, tag, false)
end

function handlers.get(req)
  local include_count = v:query_bool(req.args, "include_count")
  return 200, render(req.account, find(req), include_count)
end

-- Renames; tag_source cannot change.
function handlers.put(req)
  local tag = find(req)
  local name = v:string(req:json(), "name", { required = true, max = 255, min = 1 })
  if name_key(name) ~= name_key(tag.name) then
    claim_name(req.account, name, tag.tag_id)
    tags:release(req.account, "name", name_key(tag.name), tag.tag_id)
  end
  tag.name, tag.updated_at = name, util.now_iso()
  tags:update(req.account, tag)
  return 200, render(req.account, tag, false)
end

-- 202 with an ActivityGeneric; the tag is gone at once. Its `status` is the spec's
-- ActivityGenericStatus object (counts), so it cannot also be "processing" here.
function handlers.delete(req)
  local tag = find(req)
  local tagged = _M.count(req.account, tag.tag_id)
  _M.remove(req.account, tag)
  return 202, activity.completed(req.account, "tag_delete",
    { status = { items_total_count = tagged, items_completed_count = tagged } })
end

_M.handlers = handlers

return _M
