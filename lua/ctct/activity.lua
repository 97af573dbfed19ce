--- ctct.activity: an asynchronous job (bulk activity) of the V3 API.
--
--   local act = assert(client.activities:add_list_memberships{ ... })
--   local ok, err = act:wait{ on_progress = function(a) print(a.state, a.percent_done) end }
--   for _, e in ipairs(act.errors) do print(e.message) end   -- per-row problems
--
-- POSTs to /activities/... answer 201 with the activity in state
-- "initialized"; it moves to "processing" and ends "completed", "failed",
-- "cancelled" or "timed_out". wait() polls GET /activities/{id} with a growing
-- interval until it ends.
local errors = require "ctct.errors"

---@class ctct.activity
---@field Activity ctct.Activity the activity class (its metatable)
---@field FINAL table<string, true> the states an activity ends in
local M = {}

--- An asynchronous job of the API (bulk import, export, delete...), polled with status() and wait().
---@class ctct.Activity
---@field client ctct.Client the client it polls with
---@field data table the activity's last JSON (ctct.schema.Activity or the POST's own answer)
---@field id string the activity_id
---@field state string initialized, processing, completed, failed, cancelled or timed_out
---@field percent_done? integer
---@field errors (string|ctct.schema.ActivityErrors)[] the activity_errors (per-row problems)
---@field status_counts? table<string, integer> the activity's `status` object (items_total_count...)
local Activity = {}
Activity.__index = Activity
M.Activity = Activity

local FINAL = { completed = true, failed = true, cancelled = true, timed_out = true }
M.FINAL = FINAL

local function absorb(self, data)
  self.data = data
  self.id = data.activity_id or self.id
  self.state = data.state
  self.percent_done = data.percent_done
  self.errors = data.activity_errors or {}
  self.status_counts = data.status
  return self
end

--- An activity object for the activity JSON a call returned.
---@param client ctct.Client
---@param data table the activity JSON (activity_id, state, percent_done, activity_errors, status, _links)
---@return ctct.Activity
function M.new(client, data)
  return absorb(setmetatable({ client = client }, Activity), data)
end

--- "ctct.Activity(<id>, <state>, <percent_done>%)".
---@return string
function Activity:__tostring()
  return ("ctct.Activity(%s, %s, %s%%)"):format(tostring(self.id), tostring(self.state), tostring(self.percent_done))
end

--- True once the activity has ended (completed, failed, cancelled, timed out).
---@return boolean
function Activity:done() return FINAL[self.state] == true end

--- Fetch the current state. Returns self | nil, err.
---@return ctct.Activity|nil self
---@return ctct.Error? err
function Activity:status()
  local data, err = self.client:call("getActivity", { activity_id = self.id })
  if not data then return nil, err end
  return absorb(self, data)
end

--- Options of Activity:wait.
---@class ctct.activity.WaitOptions
---@field on_progress? fun(activity: ctct.Activity) called after each poll
---@field timeout? number seconds to wait in all (default 600)
---@field interval? number the first wait, in seconds (default 0.5; it grows by half each poll)
---@field max_interval? number the longest wait between polls, in seconds (default 10)

--- Poll until the activity ends. opts: on_progress(activity) after each poll,
--- timeout (seconds, default 600), interval (first wait, 0.5 s), max_interval (10 s).
--- Returns self when completed; nil and an error when it failed, was cancelled,
--- timed out (on the server), or the timeout passed; the activity's per-row
--- errors are in self.errors either way.
---@param opts? ctct.activity.WaitOptions
---@return ctct.Activity|nil self
---@return ctct.Error? err
function Activity:wait(opts)
  opts = opts or {}
  local client = self.client
  local deadline = client.clock() + (opts.timeout or 600)
  local interval = math.min(opts.interval or 0.5, opts.max_interval or 10) -- the cap holds from the first wait
  while not self:done() do
    if client.clock() + interval > deadline then
      return nil, errors.new { kind = "timeout", message = "activity " .. tostring(self.id) ..
        " still " .. tostring(self.state) .. " when the wait ended" }
    end
    client.sleep(interval)
    local ok, err = self:status()
    if not ok then return nil, err end
    if opts.on_progress then opts.on_progress(self) end
    interval = math.min(interval * 1.5, opts.max_interval or 10)
  end
  if self.state ~= "completed" then
    return nil, errors.new { kind = "http", error_key = "activity_" .. self.state, details = self.errors,
      message = "activity " .. tostring(self.id) .. " ended " .. self.state ..
        (#self.errors > 0 and (": " .. tostring(type(self.errors[1]) == "table" and self.errors[1].message
          or self.errors[1])) or "") }
  end
  return self
end

--- The link to an export's results (a CSV), once completed.
---@return string|nil href
function Activity:results_href()
  local links = self.data and self.data._links
  return links and links.results and links.results.href
end

--- Stream a completed export's CSV into the file at `path` (constant memory).
--- Returns the number of bytes written | nil, err.
---@param path string the file to write
---@return integer|nil bytes
---@return ctct.Error? err
function Activity:download(path)
  local href = self:results_href()
  if not href then
    return nil, errors.new { kind = "validation", message = "activity " .. tostring(self.id) ..
      " has no results to download (state " .. tostring(self.state) .. ")" }
  end
  local rel, why = self.client:link_path(href)
  if not rel then return nil, errors.new { kind = "protocol", message = "results link: " .. why } end
  local ok, res = self.client:request("GET", rel, { headers = { Accept = "text/csv" }, sink = path })
  if not ok then return nil, res end
  return res.bytes
end

return M
