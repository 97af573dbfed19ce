-- /automations/workflows: automation workflows (AutomationCampaign), created from a
-- trigger definition (TriggerDefDto) and stored (a:<account>:automation:<seq>).
-- The list answers 209, the only success code the spec gives listAutomations.
local collection = require "sandbox.collection"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local check = require "sandbox.check"

local flows = collection.new("automation", "id")

local v = check.new("automations.api.validation.error")
local NOT_FOUND = "automations.api.not.found"

local TRIGGER_TYPES = check.set({ "Action", "Date", "segment_join", "engagement_level" })
local NEEDS_ACTION = { Action = true, Date = true }
local ENGAGEMENT_LEVELS = check.set({ "MOST", "SOMEWHAT", "LEAST" })
local STATUSES = check.set({ "DRAFT", "ACTIVE", "PAUSED", "INACTIVE" })
local SORT_DIRECTIONS = check.set({ "ASC", "DESC" })
local CREATED_FROM = check.set({ "SCRATCH", "TEMPLATE" })

local GOAL_TAG = { key = "GOAL", value = "goal_undefined", display_value = "All from-scratch paths" }

local function find(req)
  local id = req.params.automation_flow_id
  if not util.is_uuid(id) then v:fail("automation_flow_id must be a uuid, got '" .. tostring(id) .. "'") end
  local flow = flows:get(req.account, id:lower())
  if not flow then http.fail(404, NOT_FOUND, "Automation workflow " .. id .. " not found") end
  return flow
end

-- A TriggerDefDto from the body, checked; returns the stored copy.
local function trigger_def(body)
  local t = v:enum(body, "type", TRIGGER_TYPES, { required = true })
  local action = v:string(body, "action_name", { max = 100 })
  if NEEDS_ACTION[t] and not action then v:fail("action_name is required for type " .. t) end
  local params = v:array(body, "parameters", { item = "object" }) or {}
  for i, p in ipairs(params) do
    local where = "parameters[" .. (i - 1) .. "]"
    v:string(p, "parameter_name", { required = true, label = where .. ".parameter_name" })
    v:array(p, "parameter_list_value", { item = "string", label = where .. ".parameter_list_value" })
    v:string(p, "parameter_string_value", { label = where .. ".parameter_string_value" })
  end
  local segment_id = v:string(body, "segment_id")
  if t == "segment_join" and not segment_id then v:fail("segment_id is required for type segment_join") end
  local level = v:enum(body, "engagement_level", ENGAGEMENT_LEVELS)
  if t == "engagement_level" and not level then v:fail("engagement_level is required for type engagement_level") end
  local bounds = v:object(body, "bounds")
  if bounds then
    for _, name in ipairs({ "after", "before" }) do
      local b = v:string(bounds, name, { label = "bounds." .. name })
      if b and not b:match("^P%-?%d+[DWMY]$") then
        v:fail("bounds." .. name .. " must be an ISO 8601 period such as P7D or P-7D, got '" .. b .. "'")
      end
    end
  end
  local date = v:object(body, "trigger_date")
  if t == "Date" and not date then v:fail("trigger_date is required for type Date") end
  return {
    type = t, action_name = action, parameters = json.array(params), segment_id = segment_id,
    engagement_level = level, bounds = bounds, trigger_date = date,
    unique_by = v:string(body, "unique_by"),
  }
end

local function definition(flow_id, name, campaign_id, trigger, state)
  return {
    state = state,
    trigger = { trigger_def = trigger, trigger_version = "1.0.0" },
    workflow = { workflow_def = {
      parameters = { automation_flow_id = flow_id, automation_flow_name = name, campaign_id = campaign_id },
      correlation_metadata = { automation_flow_id = flow_id, campaign_id = campaign_id },
      tasks = json.array({}),
      status = state,
    } },
  }
end

-- Stored empty arrays come back from JSON as empty tables: mark them as arrays again.
local function fix_arrays(def)
  if type(def) ~= "table" then return end
  local tdef = type(def.trigger) == "table" and def.trigger.trigger_def
  if type(tdef) == "table" and type(tdef.parameters) == "table" then tdef.parameters = json.array(tdef.parameters) end
  local wdef = type(def.workflow) == "table" and def.workflow.workflow_def
  if type(wdef) == "table" and type(wdef.tasks) == "table" then wdef.tasks = json.array(wdef.tasks) end
end

local function render(flow)
  fix_arrays(flow.draft_definition)
  fix_arrays(flow.active_definition)
  if type(flow.structured_tags) == "table" then flow.structured_tags = json.array(flow.structured_tags) end
  local out = util.copy(flow)
  out.seq, out.campaign_id, out.created_date, out.update_date, out.channel = nil, nil, nil, nil, nil
  return out
end

local function summary(flow)
  return {
    id = flow.id, name = flow.name, description = flow.description, status = flow.status,
    active_state = flow.status == "ACTIVE" and "ACTIVE" or "INACTIVE",
    draft_state = flow.active_definition and "PROMOTED" or "DRAFT",
    created_date = flow.created_date, update_date = flow.update_date, created_by_id = "1",
    structured_tags = type(flow.structured_tags) == "table" and json.array(flow.structured_tags) or nil,
  }
end

local handlers = {}

-- 209 ListAutomationFlowsResponseDto: filters channel, created_from, goals, name;
-- sorted by creation, newest first unless sort_direction=ASC.
function handlers.list(req)
  local args = req.args
  local direction = v:query_enum(args, "sort_direction", SORT_DIRECTIONS, { default = "DESC" })
  local created_from = v:query_enum(args, "created_from", CREATED_FROM)
  local goals = args.goals ~= nil and check.set(util.split_csv(args.goals)) or nil
  local name, channel = args.name, args.channel
  local items = flows:all(req.account, function(f)
    if created_from and created_from ~= "SCRATCH" then return false end
    if name ~= nil and f.name ~= name then return false end
    if channel ~= nil and tostring(channel):upper() ~= f.channel then return false end
    if goals then
      local hit = false
      for _, tag in ipairs(type(f.structured_tags) == "table" and f.structured_tags or {}) do
        if tag.key == "GOAL" and goals[tag.value] then hit = true end
      end
      if not hit then return false end
    end
    return true
  end)
  local out = {}
  for i, f in ipairs(items) do out[i] = summary(f) end
  if direction == "DESC" then
    local n = #out
    for i = 1, math.floor(n / 2) do out[i], out[n - i + 1] = out[n - i + 1], out[i] end
  end
  return 209, { flow_summaries = json.array(out) }
end

-- 201 AutomationCampaign in DRAFT; ?workflowName= names it.
function handlers.create(req)
  local body = req:json()
  local trigger = trigger_def(body)
  local name = req.args.workflowName
  if name == true or name == "" then name = nil end
  if name and #name > 255 then v:fail("workflowName must be at most 255 characters") end
  local account = req.account
  local id = util.uuid()
  local explicit = name ~= nil
  name = name or ("Untitled automation " .. (flows:last_seq(account) + 1))
  local campaign_id = util.uuid()
  local now = util.now_iso()
  local flow = flows:insert(account, {
    id = id, name = name, name_explicitly_set = explicit, description = "",
    structured_tags = { GOAL_TAG }, status = "DRAFT", channel = "EMAIL",
    draft_definition = definition(id, name, campaign_id, trigger, "DRAFT"),
    campaign_id = campaign_id, created_date = now, update_date = now,
  })
  return 201, render(flow)
end

function handlers.get(req)
  return 200, render(find(req))
end

-- 200 AutomationCampaign: automation_flow replaces name, description, status,
-- structured_tags and the definitions it gives.
function handlers.put(req)
  local flow = find(req)
  local body = req:json()
  local f = v:object(body, "automation_flow", { required = true })
  if not check.absent(f.id) and f.id ~= flow.id then v:fail("automation_flow.id does not match the path") end
  local name = v:string(f, "name", { min = 1, max = 255, label = "automation_flow.name" })
  local description = v:string(f, "description", { max = 1000, label = "automation_flow.description" })
  local status = v:enum(f, "status", STATUSES, { label = "automation_flow.status" })
  local tags = v:array(f, "structured_tags", { item = "object", label = "automation_flow.structured_tags" })
  for _, which in ipairs({ "draft_definition", "active_definition" }) do
    local def = v:object(f, which, { label = "automation_flow." .. which })
    if def then
      local trigger = v:object(def, "trigger", { label = "automation_flow." .. which .. ".trigger" })
      local tdef = trigger and v:object(trigger, "trigger_def",
        { label = "automation_flow." .. which .. ".trigger.trigger_def" })
      if tdef then trigger.trigger_def = trigger_def(tdef) end
      flow[which] = def
    end
  end
  if name then
    flow.name = name
    flow.name_explicitly_set = true
  end
  if description then flow.description = description end
  if status then flow.status = status end
  if tags then flow.structured_tags = json.array(tags) end
  flow.update_date = util.now_iso()
  flows:update(req.account, flow)
  return 200, render(flow)
end

return { handlers = handlers, collection = flows }
