--- client.lists: contact lists.
local base = require "ctct.resources.base"

--- The client.lists resource object (ctct.Client's `lists` field).
---@class ctct.resources.lists
---@field client ctct.Client
---@field NAME string the resource's name, "lists"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Lists = base.define {
  name = "lists",
  collection = { op = "getLists", items = "lists" },
  methods = {
    get = { op = "getList", args = { "list_id" } },
    create = { op = "createList", body = true },
    update = { op = "putList", args = { "list_id" }, body = true },
    delete = { op = "deleteListActivity", args = { "list_id" }, activity = true },
    id_xrefs = { op = "getListIdXrefs" },                                 -- {sequence_ids = {...}}
  },
}

Lists.DOCS = {
  list = "One page of lists; opts: limit (1-1000), include_count, include_membership_count, name, status.",
  each = "Every list, one at a time.",
  all = "All lists (opts.max, default 10,000).",
  get = "One list; opts.include_membership_count = \"all\" | \"active\".",
  create = "Create a list: { name = ..., favorite = false, description = ... }.",
  update = "Replace a list (name is required).",
  rename = "Rename a list, keeping its other fields.",
  delete = "Delete a list: an Activity (the API deletes asynchronously).",
  id_xrefs = "V2 list ids to V3: { sequence_ids = { ... } }.",
}

--- Rename a list, keeping its description and favorite flag (getList, then putList).
---@param list_id string
---@param name string the new name
---@return ctct.schema.ContactListPutPost|nil list
---@return ctct.Response|ctct.Error response_or_err
function Lists:rename(list_id, name)
  local list, err = self:get(list_id)
  if not list then return nil, err end
  return self:update(list_id, { name = name, favorite = list.favorite, description = list.description })
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Lists.EXAMPLE = [==[
local list = assert(client.lists:create { name = "Readers", description = "Weekly readers" })
assert(client.lists:rename(list.list_id, "Weekly readers"))
for l in client.lists:each { include_membership_count = "all" } do print(l.name, l.membership_count) end
assert(assert(client.lists:delete(list.list_id)):wait { timeout = 60 })
]==]

return Lists
