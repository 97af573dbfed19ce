--- client.tags: contact tags.
local base = require "ctct.resources.base"

--- The client.tags resource object (ctct.Client's `tags` field).
---@class ctct.resources.tags
---@field client ctct.Client
---@field NAME string the resource's name, "tags"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Tags = base.define {
  name = "tags",
  collection = { op = "getTags", items = "tags" },
  methods = {
    get = { op = "getTag", args = { "tag_id" } },
    create = { op = "postTag", body = true },
    update = { op = "putTag", args = { "tag_id" }, body = true },
    delete = { op = "deleteTag", args = { "tag_id" }, activity = true },
  },
}

Tags.DOCS = {
  list = "One page of tags; opts: limit, include_count.",
  each = "Every tag, one at a time.",
  all = "All tags (opts.max, default 10,000).",
  get = "One tag; opts.include_count.",
  create = "Create a tag: { name = ..., tag_source = ... }.",
  update = "Replace a tag ({ name = ... }).",
  rename = "Rename a tag.",
  delete = "Delete a tag (and remove it from contacts): an Activity.",
}

--- Rename a tag (putTag with { name = name }).
---@param tag_id string
---@param name string the new name
---@return ctct.schema.Tag|nil tag
---@return ctct.Response|ctct.Error response_or_err
function Tags:rename(tag_id, name)
  return self:update(tag_id, { name = name })
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Tags.EXAMPLE = [==[
local tag = assert(client.tags:create { name = "Early bird" })
assert(client.tags:rename(tag.tag_id, "Early birds"))
for t in client.tags:each() do print(t.name) end
assert(assert(client.tags:delete(tag.tag_id)):wait { timeout = 60 })
]==]

return Tags
