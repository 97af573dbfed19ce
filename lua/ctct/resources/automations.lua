--- client.automations: automation workflows (thin).
local base = require "ctct.resources.base"

--- The client.automations resource object (ctct.Client's `automations` field).
---@class ctct.resources.automations
---@field client ctct.Client
---@field NAME string the resource's name, "automations"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Automations = base.define {
  name = "automations",
  methods = {
    list = { op = "listAutomations" },
    get = { op = "retrieveAutomationCampaignUsingGet", args = { "automation_flow_id" } },
    create = { op = "createAutomationCampaignUsingPost", body = true },
    update = { op = "updateAutomationCampaignUsingPut", args = { "automation_flow_id" }, body = true },
  },
}

Automations.DOCS = {
  list = "The automation workflows (flow_summaries).",
  get = "One workflow.",
  create = "Create a workflow.",
  update = "Replace a workflow.",
}

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Automations.EXAMPLE = [==[
local flows = assert(client.automations:list())
print(require("ctct.json").encode(flows))
]==]

return Automations
