-- Activity records: the bodies of the 201/202 answers of bulk and asynchronous
-- operations and of GET /activities. The work itself runs in sandbox/bulk.lua.
--   a:<account>:activity#<id> -> seq, a:<account>:activity:<seq> -> record
-- A record keeps what the client sees (state, percent_done, status counts,
-- activity_errors, source_file_name) plus `kind`, which is never shown.
local collection = require "sandbox.collection"
local json = require "sandbox.json"
local util = require "sandbox.util"

local activities = collection.new("activity", "activity_id")

local _M = { collection = activities }

-- Kinds whose activity_errors are objects ({"message": ...}, ActivityGeneric); the
-- others use strings, as their definitions say.
local OBJECT_ERRORS = { tag_delete = true }

-- Public form of a record (a copy).
function _M.render(record)
  local out = util.copy(record)
  out.seq, out.kind = nil, nil
  local errors = record.activity_errors or {}
  if OBJECT_ERRORS[record.kind] then
    local objects = {}
    for i, message in ipairs(errors) do objects[i] = { message = message } end
    errors = objects
  end
  out.activity_errors = json.array(errors)
  out._links = { self = { href = "/v3/activities/" .. record.activity_id } }
  if record.results_href then
    out._links.results = { href = record.results_href }
    out.results_href = nil
  end
  return out
end

-- A new record of `kind` in state "initialized"; fields (status, source_file_name ...)
-- are merged in. Returns the stored record.
function _M.create(account, kind, fields)
  local now = util.now_iso()
  local record = {
    kind = kind, state = "initialized", percent_done = 0,
    created_at = now, updated_at = now, activity_errors = {},
  }
  for k, value in pairs(fields or {}) do record[k] = value end
  return activities:insert(account, record)
end

-- Records an activity whose work was done at once (deleting one list or tag), and
-- returns the "just accepted" body the API answers: state initialized, 0 percent.
-- A later GET shows it completed.
function _M.completed(account, kind, fields)
  local now = util.now_iso()
  local f = { state = "completed", percent_done = 100, started_at = now, completed_at = now }
  for k, value in pairs(fields or {}) do f[k] = value end
  local record = _M.create(account, kind, f)
  local accepted = _M.render(record)
  accepted.state, accepted.percent_done = "initialized", 0
  accepted.started_at, accepted.completed_at = nil, nil
  if accepted.status and accepted.status.items_completed_count then
    accepted.status = util.copy(accepted.status)
    accepted.status.items_completed_count = 0
  end
  return accepted
end

function _M.update(account, record)
  record.updated_at = util.now_iso()
  return activities:update(account, record)
end

function _M.find(account, id)
  return activities:get(account, id)
end

function _M.get(account, id)
  local record = activities:get(account, id)
  return record and _M.render(record) or nil
end

return _M
