-- POST /partner/accounts/{encoded_account_id}/account_operations/sync: a V3 call made
-- for a managed client account, described by a PartnerAccountOperationsRequest
-- (account_operation_url, _method, _payload (the JSON body as a string), and arrays of
-- path parameters, query parameters and headers). The call runs through the normal
-- /v3 route's handler as that account (app.lua sets _M.dispatch); its status, headers
-- and body are the answer.
local http = require "sandbox.http"
local check = require "sandbox.check"
local accounts = require "sandbox.partner.accounts"

local _M = {}

local ERR = accounts.ERR
local METHODS = check.set({ "GET", "POST", "PUT", "PATCH", "DELETE" })

-- Set by app.lua: dispatch(account, op) -> status, body, headers, content_type, where
-- op = { method, path (under /v3), args, headers (list of { name, value }), payload }.
_M.dispatch = nil

local function bad(message) http.fail(400, ERR, message) end

-- The name/value objects of one array member, e.g. path_param_key/path_param_value.
local function pairs_of(body, name, key_field, value_field)
  local list = body[name]
  if check.absent(list) then return {} end
  if not check.is_array(list) then bad(name .. " must be an array") end
  local out = {}
  for i, item in ipairs(list) do
    local where = name .. "[" .. (i - 1) .. "]"
    if not check.is_object(item) then bad(where .. " must be an object") end
    local k, v = item[key_field], item[value_field]
    if type(k) ~= "string" or k == "" then bad(where .. "." .. key_field .. " must be a non-empty string") end
    if type(v) == "number" or type(v) == "boolean" then v = tostring(v) end
    if type(v) ~= "string" then bad(where .. "." .. value_field .. " must be a string") end
    out[#out + 1] = { k, v }
  end
  return out
end

-- Checks the request body; returns the operation to dispatch.
function _M.operation(body)
  local url = body.account_operation_url
  if check.absent(url) then bad("account_operation_url is required") end
  if type(url) ~= "string" or url:sub(1, 1) ~= "/" then
    bad("account_operation_url must be a V3 path such as /contacts/{contact_id}")
  end
  local method = body.account_operation_method
  if check.absent(method) then bad("account_operation_method is required") end
  if type(method) ~= "string" or not METHODS[method:upper()] then
    bad("account_operation_method must be one of GET, POST, PUT, PATCH, DELETE")
  end
  local payload = body.account_operation_payload
  if check.absent(payload) then
    payload = nil
  elseif type(payload) ~= "string" then
    bad("account_operation_payload must be a string (the JSON body, string-escaped)")
  end

  local path, query = url:match("^([^?]*)%??(.*)$")
  for _, p in ipairs(pairs_of(body, "account_operation_path_parameters", "path_param_key", "path_param_value")) do
    local template = "{" .. p[1] .. "}"
    local at = path:find(template, 1, true)
    if not at then bad("account_operation_url has no path parameter {" .. p[1] .. "}") end
    path = path:sub(1, at - 1) .. p[2] .. path:sub(at + #template)
  end
  local missing = path:match("{([^}]*)}")
  if missing then bad("no value for the path parameter {" .. missing .. "} of account_operation_url") end
  if path == "/partner" or path:sub(1, 9) == "/partner/" then
    bad("account_operation_url must name a non-partner V3 operation")
  end

  local args = query ~= "" and ngx.decode_args(query, 100) or {}
  for _, q in ipairs(pairs_of(body, "account_operation_query_parameters", "query_param_key", "query_param_value")) do
    local old = args[q[1]]
    if old == nil then
      args[q[1]] = q[2]
    elseif type(old) == "table" then
      old[#old + 1] = q[2]
    else
      args[q[1]] = { old, q[2] }
    end
  end
  local headers = pairs_of(body, "account_operation_headers", "header_key", "header_value")
  return { method = method:upper(), path = path, args = args, headers = headers, payload = payload }
end

-- Runs body's operation for the managed account record.
function _M.run(record, body)
  return _M.dispatch(record.encoded_account_id, _M.operation(body))
end

return _M
