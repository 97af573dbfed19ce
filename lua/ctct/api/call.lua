--- ctct.api.call: any of the 128 V3 operations by its operationId.
--
--   local data, res = client:call("getContacts", { status = { "active" }, limit = 100 })
--   local contact = client:call("getContact", { contact_id = id, include = { "list_memberships" } })
--   client:call("createContact", { body = { email_address = { address = "a@b.example" }, ... } })
--
-- Parameters go by their names in the spec, path, query and body alike (the
-- body may always be given as `body`). Before anything is sent they are
-- checked against the generated operation table: unknown names, missing
-- required ones, types, enums, ranges, uuid formats, list sizes. A check that
-- fails returns nil and a `validation` error naming the parameter (and, for an
-- unknown operation id, the closest ones). Path values are percent-encoded and
-- may not change the path (no "/", "..", "?"); arrays follow the spec's
-- collectionFormat (csv: a,b  multi: x=a&x=b).
local errors = require "ctct.errors"
local validate = require "ctct.api.validate"
local url = require "ctct.url"

local M = {}

local OPS = require("ctct.api.operations").operations
M.operations = OPS

local function invalid(op_id, param, message)
  return nil, errors.new { kind = "validation", error_key = "invalid_parameter", operation = op_id, param = param,
                           message = op_id .. ": " .. (param and ("parameter '" .. param .. "' ") or "") .. message }
end

local distance = require("ctct.options").distance

--- Up to `n` operation ids close to `name` (by edit distance, or containing it).
function M.suggest(name, n)
  local scored = {}
  local lname = name:lower()
  for id in pairs(OPS) do
    local d = distance(name, id)
    if #lname >= 4 and id:lower():find(lname, 1, true) then d = math.min(d, 2) end
    if d <= math.max(3, math.floor(#id / 3)) then scored[#scored + 1] = { id = id, d = d } end
  end
  table.sort(scored, function(x, y) return x.d < y.d or (x.d == y.d and x.id < y.id) end)
  local out = {}
  for i = 1, math.min(n or 3, #scored) do out[i] = scored[i].id end
  return out
end

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- Check one scalar against a type/format/enum description; returns the text to send or nil, why.
local function scalar(spec, v)
  local t = spec.type or "string"
  if t == "integer" or t == "number" then
    local n = tonumber(v)
    if type(v) ~= "number" and not (type(v) == "string" and n) then return nil, "must be a number" end
    if t == "integer" and n ~= math.floor(n) then return nil, "must be an integer" end
    if (spec.minimum and n < spec.minimum) or (spec.maximum and n > spec.maximum) then
      return nil, ("must be %s%s, got %s"):format(spec.minimum and ("from " .. spec.minimum) or "",
        spec.maximum and (" to " .. spec.maximum) or "", tostring(v))
    end
    return url.number(n)
  elseif t == "boolean" then
    if v == true or v == "true" then return "true" end
    if v == false or v == "false" then return "false" end
    return nil, "must be true or false"
  end
  if type(v) == "number" then v = url.number(v) end -- an id decoded as 1, never "1.0"
  if type(v) ~= "string" then return nil, "must be a string, got " .. type(v) end
  if spec.enum then
    local ok = false
    for _, e in ipairs(spec.enum) do if v == e then ok = true end end
    if not ok then return nil, "must be one of " .. table.concat(spec.enum, ", ") .. ", got '" .. v .. "'" end
  end
  if spec.format == "uuid" and not v:match(UUID) then return nil, "must be a uuid, got '" .. v .. "'" end
  if spec.format == "date-time" and not v:match("^%d%d%d%d%-%d%d%-%d%d") then
    return nil, "must be an ISO 8601 date-time (2026-01-31T00:00:00Z), got '" .. v .. "'"
  end
  if (spec.min_length and #v < spec.min_length) or (spec.max_length and #v > spec.max_length) then
    return nil, ("must be %d to %d characters"):format(spec.min_length or 0, spec.max_length or math.huge)
  end
  return v
end

-- An array parameter as a list of checked strings.
local function list(p, v)
  if type(v) == "string" then -- "a,b" as a command line would give it
    local items = {}
    for item in v:gmatch("[^,]+") do items[#items + 1] = item end
    v = items
  elseif type(v) ~= "table" then
    v = { v }
  end
  if #v == 0 and next(v) ~= nil then return nil, "must be an array of values, not a map" end
  if p.max_items and #v > p.max_items then return nil, ("takes at most %d values, got %d"):format(p.max_items, #v) end
  local out = {}
  for i, item in ipairs(v) do
    local text, why = scalar(p.items or {}, item)
    if not text then return nil, "item " .. i .. " " .. why end
    out[i] = text
  end
  return out
end

-- A path value that cannot escape its segment.
local function path_value(v)
  if type(v) == "number" then v = string.format(v == math.floor(v) and "%d" or "%s", v) end
  if type(v) ~= "string" or v == "" then return nil, "must be a non-empty string" end
  if v == "." or v == ".." or v:find("[/?#%%\\]") or v:find("%c") then
    return nil, "must not contain '/', '?', '#', '%', '\\' or control characters, nor be '.' or '..'"
  end
  return url.escape_segment(v)
end

local function find_body_param(op)
  for _, p in ipairs(op.params) do
    if p["in"] == "body" then return p end
  end
end

--- Check params against an operation and build its request.
-- Returns { method, path (with query), body, headers, raw, operation = { id,
-- template, path_params = {{ name, value }}, query = {{ name, value }} } } or nil,
-- validation error.
function M.build(op_id, params)
  if type(op_id) ~= "string" then error("ctct: bad argument 'operation_id': expected a string", 3) end
  local op = OPS[op_id]
  if not op then
    local near = M.suggest(op_id)
    return nil, errors.new { kind = "validation", error_key = "unknown_operation", operation = op_id,
      suggestions = near, message = "unknown operation '" .. op_id .. "'" ..
        (#near > 0 and ("; did you mean " .. table.concat(near, ", ") .. "?") or "") }
  end
  params = params or {}
  if type(params) ~= "table" then error("ctct: bad argument 'params': expected a table", 3) end

  local by_name, body_param = {}, find_body_param(op)
  for _, p in ipairs(op.params) do by_name[p.name] = p end
  for name in pairs(params) do
    if not by_name[name] and not (name == "body" and body_param) then
      local known = {}
      for _, p in ipairs(op.params) do known[#known + 1] = p.name end
      return invalid(op_id, tostring(name), "is not a parameter of this operation (it takes: " ..
        (#known > 0 and table.concat(known, ", ") or "none") .. ")")
    end
  end

  local path = op.path
  local query, form, body = {}, {}, nil
  -- What the request is, for transports that forward it (ctct.partner.sync):
  -- the values as given, before escaping.
  local operation = { id = op_id, template = op.path, path_params = {}, query = {} }
  for _, p in ipairs(op.params) do
    local v = params[p.name]
    if v == nil and p == body_param then v = params.body end
    if v == nil then
      if p.required then return invalid(op_id, p.name, "is required (" .. p["in"] .. ")") end
    elseif p["in"] == "path" then
      local text, why
      if p.type == "array" then -- "id1,id2" in one segment; each id checked on its own
        local items
        items, why = list(p, v)
        if items and #items == 0 then items, why = nil, "needs at least one value" end
        if items then
          for i, item in ipairs(items) do
            items[i], why = path_value(item)
            if not items[i] then items, why = nil, "item " .. i .. " " .. why; break end
          end
        end
        text = items and table.concat(items, ",")
      else
        text, why = path_value(v)
        if text then text, why = scalar({ type = "string", enum = p.enum, format = p.format }, text) end
      end
      if not text then return invalid(op_id, p.name, why) end
      path = path:gsub("{" .. p.name:gsub("%p", "%%%0") .. "}", (text:gsub("%%", "%%%%")))
      operation.path_params[#operation.path_params + 1] = { name = p.name, value = url.unescape(text) }
    elseif p["in"] == "query" then
      local items, why
      if p.type == "array" then items, why = list(p, v) else
        local one
        one, why = scalar(p, v)
        items = one and { one }
      end
      if not items then return invalid(op_id, p.name, why) end
      if p.type == "array" and p.collection == "multi" then
        for _, item in ipairs(items) do
          query[#query + 1] = url.escape(p.name) .. "=" .. url.escape(item)
          operation.query[#operation.query + 1] = { name = p.name, value = item }
        end
      else
        local escaped = {}
        for i, item in ipairs(items) do escaped[i] = url.escape(item) end
        query[#query + 1] = url.escape(p.name) .. "=" .. table.concat(escaped, ",")
        operation.query[#operation.query + 1] = { name = p.name, value = table.concat(items, ",") }
      end
    elseif p["in"] == "body" then
      if type(v) ~= "table" and type(v) ~= "string" then
        return invalid(op_id, p.name, "must be a table (sent as JSON) or a JSON string")
      end
      -- A table is checked against the spec's definition (a JSON string is sent as
      -- given); every problem in one error. PATCH bodies are partial.
      if type(v) == "table" and p.schema then
        local problems = validate.body(p.schema, v, { partial = op.method == "PATCH" })
        if #problems > 0 then
          local shown = table.concat(problems, "; ", 1, math.min(#problems, 5))
          if #problems > 5 or problems.more then
            shown = shown .. "; and " .. (problems.more and "more" or tostring(#problems - 5) .. " more") ..
              " (err.problems)"
          end
          return nil, errors.new { kind = "validation", error_key = "invalid_body", operation = op_id,
            param = p.name, problems = problems,
            message = op_id .. ": the body does not fit the spec's " .. p.schema .. ": " .. shown }
        end
      end
      body = v
    elseif p["in"] == "formData" then
      local part = v
      if p.type == "array" then
        local items, why = list(p, v)
        if not items then return invalid(op_id, p.name, why) end
        part = table.concat(items, ",")
      elseif p.type ~= "file" then
        local why
        part, why = scalar(p, v)
        if not part then return invalid(op_id, p.name, why) end
      elseif type(part) ~= "string" then
        return invalid(op_id, p.name, "must be the file's content as a string")
      end
      form[#form + 1] = { name = p.name, value = part, file = p.type == "file" }
    end
  end

  local req = { method = op.method, path = path, headers = {}, operation = operation }
  if #query > 0 then req.path = path .. "?" .. table.concat(query, "&") end
  if #form > 0 then
    req.body, req.headers["Content-Type"] = require("ctct.multipart").encode(form)
  elseif body ~= nil then
    req.body = body
    if type(body) == "string" then req.headers["Content-Type"] = "application/json" end
  end
  local produces = op.produces or {}
  if produces[1] and produces[1] ~= "application/json" and #produces == 1 then
    req.headers.Accept, req.raw = produces[1], true -- CSV downloads and the like
  end
  return req
end

return M
