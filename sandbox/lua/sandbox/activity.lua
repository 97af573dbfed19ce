-- Bulk activity records (the body of 202/201 answers such as deleteListActivity).
-- The sandbox does the work at once, so the stored activity is already completed while
-- the answer says "initialized", as the real, asynchronous API would.
--   a:<account>:activity#<id> -> seq, a:<account>:activity:<seq> -> record
local collection = require "sandbox.collection"
local http = require "sandbox.http"
local util = require "sandbox.util"

local activities = collection.new("activity", "activity_id")

local _M = { collection = activities }

local function render(record)
  local out = util.copy(record)
  out.seq = nil
  out.activity_errors = http.array(record.activity_errors)
  out._links = { self = { href = "/v3/activities/" .. record.activity_id } }
  return out
end

-- Records a finished activity of `kind` and returns the "just accepted" body.
function _M.completed(account, kind)
  local now = util.now_iso()
  local record = activities:insert(account, {
    kind = kind, state = "completed", percent_done = 100,
    created_at = now, updated_at = now, activity_errors = {},
  })
  local accepted = render(record)
  accepted.kind = nil
  accepted.state, accepted.percent_done = "initialized", 0
  return accepted
end

function _M.get(account, id)
  local record = activities:get(account, id)
  if not record then return nil end
  local out = render(record)
  out.kind = nil
  return out
end

return _M
