--- client.custom_fields: contact custom fields.
local base = require "ctct.resources.base"

--- The client.custom_fields resource object (ctct.Client's `custom_fields` field).
---@class ctct.resources.custom_fields
---@field client ctct.Client
---@field NAME string the resource's name, "custom_fields"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local CustomFields = base.define {
  name = "custom_fields",
  collection = { op = "getCustomFields", items = "custom_fields" },
  methods = {
    get = { op = "getCustomField", args = { "custom_field_id" } },
    create = { op = "postCustomFields", body = true },
    update = { op = "putCustomField", args = { "custom_field_id" }, body = true },
    delete = { op = "deleteCustomField", args = { "custom_field_id" } },
  },
}

CustomFields.DOCS = {
  list = "One page of custom fields; opts.limit (1-100).",
  each = "Every custom field, one at a time.",
  all = "All custom fields (opts.max, default 10,000).",
  get = "One custom field.",
  create = "Create a custom field: { label = ..., type = \"string\" | \"date\" | ... }.",
  update = "Replace a custom field.",
  rename = "Change a custom field's label, keeping its type.",
  delete = "Delete a custom field.",
}

--- Change a custom field's label, keeping its type (getCustomField, then putCustomField).
---@param custom_field_id string
---@param label string the new label
---@return ctct.schema.CustomField|nil custom_field
---@return ctct.Response|ctct.Error response_or_err
function CustomFields:rename(custom_field_id, label)
  local field, err = self:get(custom_field_id)
  if not field then return nil, err end
  return self:update(custom_field_id, { label = label, type = field.type })
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
CustomFields.EXAMPLE = [==[
local field = assert(client.custom_fields:create { label = "Shoe size", type = "string" })
assert(client.custom_fields:rename(field.custom_field_id, "Shoe size (EU)"))
for f in client.custom_fields:each() do print(f.label, f.name, f.type) end
assert(client.custom_fields:delete(field.custom_field_id))
]==]

return CustomFields
