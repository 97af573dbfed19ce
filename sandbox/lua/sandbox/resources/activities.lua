-- /activities/{activity_id}: status of a bulk activity (only those the sandbox made,
-- e.g. by deleting a list; the bulk activity endpoints come later).
local http = require "sandbox.http"
local activity = require "sandbox.activity"

local function get_activity(req)
  local found = activity.get(req.account, req.params.activity_id)
  if not found then
    http.fail(404, "activities.api.not.found", "Activity " .. req.params.activity_id .. " not found")
  end
  return 200, found
end

return {
  routes = {
    { "GET", "/activities/{activity_id}", get_activity },
  },
}
