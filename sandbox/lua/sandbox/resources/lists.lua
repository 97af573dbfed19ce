-- /contact_lists: contact lists (definitions ContactList, ListInput, ContactListArray).
-- Membership lives on contacts (list_memberships); each list keeps two counters so
-- membership_count costs O(1):
--   a:<account>:list:<list_id>:members:all     non-deleted member contacts
--   a:<account>:list:<list_id>:members:active  of those, the ones with permission
local collection = require "sandbox.collection"
local store = require "sandbox.store"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local activity = require "sandbox.activity"
local check = require "sandbox.check"

local d = store.d

local lists = collection.new("list", "list_id")

local _M = { collection = lists }

local ERR = "contacts.api.validation.error"
local NOT_FOUND = "contacts.api.not.found"
local CONFLICT = "contacts.api.conflict"

local LIMIT_DEFAULT, LIMIT_MAX = 50, 1000

local function members_key(account, list_id, which)
  return store.key(account, "list", list_id, "members", which)
end

function _M.exists(account, list_id)
  return lists:has(account, list_id)
end

-- Adds delta to the counters of each list in list_ids; active says whether the
-- contact also counts as an active member.
function _M.adjust_members(account, list_ids, delta, active)
  for _, list_id in ipairs(list_ids or {}) do
    if _M.exists(account, list_id) then
      d.incr(members_key(account, list_id, "all"), delta, 0)
      if active then d.incr(members_key(account, list_id, "active"), delta, 0) end
    end
  end
end

local function name_key(name) return name:lower() end

local function render(account, list, membership)
  local out = {
    list_id = list.list_id,
    name = list.name,
    description = list.description,
    favorite = list.favorite,
    created_at = list.created_at,
    updated_at = list.updated_at,
  }
  if membership then
    out.membership_count = d.get(members_key(account, list.list_id, membership)) or 0
  end
  return out
end

local function membership_arg(args)
  local v = args.include_membership_count
  if v == nil then return nil end
  if v ~= "all" and v ~= "active" then
    http.fail(400, ERR, "include_membership_count does not have a valid value")
  end
  return v
end

local function boolean_arg(args, name)
  local v = args[name]
  if v == nil or v == false or v == "false" then return false end
  if v == true or v == "true" then return true end
  http.fail(400, ERR, name .. " must be true or false")
end

-- Checks a ListInput body; returns name, favorite, description.
local function list_input(body)
  local name = body.name
  if type(name) ~= "string" or util.trim(name) == "" then
    http.fail(400, ERR, "name is required")
  end
  if #name > 255 then http.fail(400, ERR, "name must be at most 255 characters") end
  local favorite = body.favorite
  if favorite == nil or favorite == http.null then favorite = false end
  if type(favorite) ~= "boolean" then http.fail(400, ERR, "favorite must be a boolean") end
  local description = body.description
  if description == http.null then description = nil end
  if description ~= nil and type(description) ~= "string" then
    http.fail(400, ERR, "description must be a string")
  end
  return name, favorite, description
end

local function find(req)
  local list = lists:get(req.account, req.params.list_id)
  if not list then
    http.fail(404, NOT_FOUND, "Contact list " .. tostring(req.params.list_id) .. " not found")
  end
  return list
end

local function claim_name(account, name, list_id)
  local ok = lists:claim(account, "name", name_key(name), list_id)
  if not ok then
    http.fail(409, CONFLICT, "A contact list named '" .. name .. "' already exists")
  end
end

local function get_lists(req)
  local args = req.args
  local limit, from = pager.window(args, LIMIT_DEFAULT, LIMIT_MAX)
  local membership = membership_arg(args)
  local include_count = boolean_arg(args, "include_count")
  if args.status ~= nil and args.status ~= "all" and args.status ~= "active" and args.status ~= "deleted" then
    http.fail(400, ERR, "status does not have a valid value")
  end

  -- Deleted lists are removed outright, so status=deleted finds none.
  local match
  if args.status == "deleted" then
    match = function() return false end
  elseif args.name ~= nil then
    local wanted = tostring(args.name)
    match = function(list) return list.name == wanted end
  end

  local page, next_from = lists:page(req.account, from, limit, match)
  local out = {}
  for i, list in ipairs(page) do out[i] = render(req.account, list, membership) end
  local body = {
    lists = json.array(out),
    _links = pager.links("/v3/contact_lists", limit, next_from, args,
      { "include_count", "include_membership_count", "name", "status" }),
  }
  if include_count then
    body.lists_count = match and lists:count_matching(req.account, match) or lists:count(req.account)
  end
  return 200, body
end

local function create_list(req)
  local name, favorite, description = list_input(req:json())
  local list_id = util.uuid()
  claim_name(req.account, name, list_id)
  local now = util.now_iso()
  local list = lists:insert(req.account, {
    list_id = list_id, name = name, favorite = favorite, description = description,
    created_at = now, updated_at = now,
  })
  return 201, render(req.account, list)
end

local function get_list(req)
  local membership = membership_arg(req.args)
  return 200, render(req.account, find(req), membership)
end

local function put_list(req)
  local list = find(req)
  local name, favorite, description = list_input(req:json())
  if name_key(name) ~= name_key(list.name) then
    claim_name(req.account, name, list.list_id)
    lists:release(req.account, "name", name_key(list.name), list.list_id)
  end
  list.name, list.favorite, list.description = name, favorite, description
  list.updated_at = util.now_iso()
  lists:update(req.account, list)
  return 200, render(req.account, list)
end

-- Removes the list and its counters. Contacts keep the stale id in their record, but
-- it is never shown nor matched again (list ids are never reused).
function _M.remove(account, list)
  lists:remove(account, list)
  lists:release(account, "name", name_key(list.name), list.list_id)
  d.delete(members_key(account, list.list_id, "all"))
  d.delete(members_key(account, list.list_id, "active"))
end

-- 202 Accepted with an ActivityDeleteListResponse and, as the spec says, a Location of
-- the activity. Accepted asynchronous work answers "status":"processing" at the real
-- API (a member ActivityDeleteListResponse does not define, so nothing contradicts it);
-- the spec's `state` stays "initialized".
local function delete_list(req)
  _M.remove(req.account, find(req))
  local accepted = activity.completed(req.account, "list_delete")
  accepted.status = "processing"
  return 202, accepted, { Location = accepted._links.self.href }
end

-- V2 -> V3 ids. The sandbox's V2 id of a list is its creation sequence number in the
-- account (1, 2, 3 ...): deterministic, and unknown or deleted ids are left out.
local xref_check = check.new(ERR)

function _M.xrefs(collection_, account, args, id_field)
  local ids = xref_check:query_csv(args, "sequence_ids", { required = true, max = 500, item = "digits" })
  table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end)
  local out = {}
  for _, sequence_id in ipairs(ids) do
    local record = collection_:at(account, tonumber(sequence_id))
    if record and not record.deleted_at then
      out[#out + 1] = { sequence_id = sequence_id, [id_field] = record[id_field] }
    end
  end
  return { xrefs = json.array(out) }
end

local function list_xrefs(req)
  return 200, _M.xrefs(lists, req.account, req.args, "list_id")
end

_M.handlers = {
  list = get_lists,
  create = create_list,
  get = get_list,
  put = put_list,
  delete = delete_list,
  xrefs = list_xrefs,
}

return _M
