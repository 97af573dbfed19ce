--- client.segments: segments (saved contact searches).
local base = require "ctct.resources.base"

--- The client.segments resource object (ctct.Client's `segments` field).
---@class ctct.resources.segments
---@field client ctct.Client
---@field NAME string the resource's name, "segments"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Segments = base.define {
  name = "segments",
  collection = { op = "getAccountSegments", items = "segments" },
  methods = {
    get = { op = "getSegmentDetail", args = { "segment_id" } },
    create = { op = "createSegment", body = true },
    update = { op = "updateSegment", args = { "segment_id" }, body = true },
    delete = { op = "deleteSegment", args = { "segment_id" } },
  },
}

Segments.DOCS = {
  list = "One page of segments; opts: limit, sort_by.",
  each = "Every segment, one at a time.",
  all = "All segments (opts.max, default 10,000).",
  get = "One segment with its criteria.",
  create = "Create a segment: { name = ..., segment_criteria = <JSON string> }.",
  update = "Replace a segment's name and criteria.",
  rename = "Rename a segment (PATCH /segments/{id}/name).",
  delete = "Delete a segment.",
  contacts = "Iterate the contacts of a segment (see contacts:each{ segment_id = ... }).",
}

--- Rename a segment (PATCH /segments/{segment_id}/name, updateSegmentName).
---@param segment_id integer
---@param name string the new name
---@return ctct.schema.SegmentDetail|nil segment
---@return ctct.Response|ctct.Error response_or_err
function Segments:rename(segment_id, name)
  return self.client:call("updateSegmentName", { segment_id = segment_id, body = { name = name } })
end

--- Iterate the contacts of a segment: contacts:each with segment_id set (see contacts:each).
--- Raises the ctct.Error if a page fails.
---@param segment_id integer|string the segment's id (SegmentDetail.segment_id, or the same as a string)
---@param opts? ctct.resources.contacts.EachOptions further filters (getContacts) and segment_wait
---@return fun(): ctct.schema.ContactResource? items
function Segments:contacts(segment_id, opts)
  local params = { segment_id = segment_id }
  for k, v in pairs(opts or {}) do params[k] = v end
  return self.client.contacts:each(params)
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Segments.EXAMPLE = [==[
local criteria = '{"version":"1.0.0","criteria":{"type":"and","group":[{"source":"contact",' ..
  '"field":"first_name","op":"eq","value":"Ada"}]}}'
local segment = assert(client.segments:create { name = "Adas", segment_criteria = criteria })
assert(client.segments:rename(segment.segment_id, "Everyone named Ada"))
for s in client.segments:each { sort_by = "name" } do print(s.segment_id, s.name) end
assert(client.segments:delete(segment.segment_id))
]==]

return Segments
