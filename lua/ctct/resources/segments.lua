--- client.segments: segments (saved contact searches).
local base = require "ctct.resources.base"

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

function Segments:rename(segment_id, name)
  return self.client:call("updateSegmentName", { segment_id = segment_id, body = { name = name } })
end

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
