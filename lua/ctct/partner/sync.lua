--- ctct.partner.sync: a transport that runs each request as a managed client
-- account, through POST /partner/accounts/{encoded_account_id}/account_operations/sync.
--
--   local t = sync.new{ inner = <transport>, base_url = "https://api.cc.email/v3", account_id = "a07e..." }
--   local client = ctct.new{ transport = t, access_token = <partner token fn>, ... }
--
-- The Client builds every request as usual (resource objects, call, request,
-- pagination all unchanged); this transport rewrites it into the spec's
-- PartnerAccountOperationsRequest:
--   account_operation_url        the operation's path template without the base ("/contacts/{contact_id}"):
--                                client:call hands it down (req.operation, with the parameters as
--                                given); a bare client:request is matched against the operation
--                                table (else the literal path)
--   account_operation_method     the method
--   account_operation_payload    the request body, a JSON text sent AS A STRING
--   account_operation_path_parameters  [{ path_param_key, path_param_value }]
--   account_operation_query_parameters [{ query_param_key, query_param_value }]
--   account_operation_headers    [{ header_key, header_value }] (Accept, Content-Type; never credentials)
-- and sends it with the same Authorization (the partner JWT) and x-api-key. The
-- API answers with the forwarded call's status and body, which go back as they are.
local json = require "ctct.json"
local url = require "ctct.url"

local M = {}

-- Headers that belong to the sync call itself, not to the forwarded one.
local OWN = { authorization = true, ["x-api-key"] = true, ["content-length"] = true, host = true,
              ["user-agent"] = true, connection = true,
              -- other credentials a caller may set are never forwarded inside the body
              cookie = true, ["proxy-authorization"] = true }


-- method -> list of { template, segments, literal count }, most specific first.
local templates
local function template_index()
  if templates then return templates end
  templates = {}
  for _, op in pairs(require("ctct.api.operations").operations) do
    if op.security ~= "partner" then
      local segs, literal = {}, 0
      for seg in op.path:gmatch("[^/]+") do
        segs[#segs + 1] = seg
        if not seg:find("^{.+}$") then literal = literal + 1 end
      end
      local list = templates[op.method] or {}
      templates[op.method] = list
      list[#list + 1] = { path = op.path, segs = segs, literal = literal }
    end
  end
  for _, list in pairs(templates) do
    table.sort(list, function(a, b)
      if a.literal ~= b.literal then return a.literal > b.literal end
      return a.path < b.path
    end)
  end
  return templates
end

--- The path template and path parameters of a concrete V3 path (no query).
function M.match(method, path)
  local segs = {}
  for seg in path:gmatch("[^/]+") do segs[#segs + 1] = seg end
  for _, t in ipairs(template_index()[method] or {}) do
    if #t.segs == #segs then
      local params, ok = {}, true
      for i, seg in ipairs(t.segs) do
        local name = seg:match("^{(.+)}$")
        if name then
          params[#params + 1] = { path_param_key = name, path_param_value = url.unescape(segs[i]) }
        elseif seg ~= segs[i] then
          ok = false
          break
        end
      end
      if ok then return t.path, params end
    end
  end
  return path, {}
end

-- The template and parameters of the operation client:call handed down with the
-- request (ctct.api.call), path parameters in the template's order.
local function from_operation(operation)
  local path_params, query_params = {}, {}
  for _, p in ipairs(operation.path_params) do
    path_params[#path_params + 1] = { path_param_key = p.name, path_param_value = p.value,
                                      at = operation.template:find("{" .. p.name .. "}", 1, true) or 0 }
  end
  table.sort(path_params, function(a, b) return a.at < b.at end)
  for _, p in ipairs(path_params) do p.at = nil end
  for _, q in ipairs(operation.query) do
    query_params[#query_params + 1] = { query_param_key = q.name, query_param_value = q.value }
  end
  return operation.template, path_params, query_params
end

--- The PartnerAccountOperationsRequest for a request to `path` (relative to the base,
-- with query): from `operation` when client:call gave one, else by matching the
-- path against the spec's templates (client:request, pagination links).
function M.operation(method, path_and_query, headers, body, operation)
  local template, path_params, query_params
  if operation then
    template, path_params, query_params = from_operation(operation)
  else
    local path, query = path_and_query:match("^([^?]*)%??(.*)$")
    template, path_params = M.match(method, path)
    query_params = {}
    for pair in query:gmatch("[^&]+") do
      local k, v = pair:match("^([^=]*)=?(.*)$")
      query_params[#query_params + 1] = { query_param_key = url.unescape(k, true),
                                          query_param_value = url.unescape(v, true) }
    end
  end
  local header_params, names = {}, {}
  for k in pairs(headers or {}) do
    if not OWN[k:lower()] then names[#names + 1] = k end
  end
  table.sort(names)
  for _, k in ipairs(names) do
    header_params[#header_params + 1] = { header_key = k, header_value = headers[k] }
  end
  local op = {
    account_operation_url = template,
    account_operation_method = method,
    account_operation_path_parameters = json.array(path_params),
    account_operation_query_parameters = json.array(query_params),
    account_operation_headers = json.array(header_params),
  }
  if body ~= nil and body ~= "" then op.account_operation_payload = body end
  return op
end

--- new{ inner = transport, base_url, account_id }
function M.new(opts)
  local inner, base, id = opts.inner, opts.base_url, opts.account_id
  local sync_url = base .. "/partner/accounts/" .. id .. "/account_operations/sync"
  local t = { inner = inner, account_id = id, now = inner.now, time = inner.time, sleep = inner.sleep }
  function t.request(_, req)
    if req.url:sub(1, #base + 1) ~= base .. "/" then
      return nil, require("ctct.errors").new { kind = "validation", error_key = "invalid_url",
        message = "an on-behalf-of request must stay under " .. base }
    end
    local op = M.operation(req.method, req.url:sub(#base + 1), req.headers, req.body, req.operation)
    local text, why = json.encode(op)
    if not text then
      return nil, require("ctct.errors").new { kind = "validation", error_key = "invalid_body",
        message = "the request cannot be sent on behalf of an account: " .. tostring(why) }
    end
    local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
    for k, v in pairs(req.headers) do
      local l = k:lower()
      if l == "authorization" or l == "x-api-key" then headers[k] = v end
    end
    return inner:request {
      method = "POST", url = sync_url, headers = headers, body = text, timeout = req.timeout, sink = req.sink,
    }
  end
  function t.close() if inner.close then inner:close() end end
  return t
end

return M
