-- JSON in and out, error bodies, and the "raise an HTTP error" convention.
--
-- Handlers raise errors with http.fail(status, error_key, message); the dispatcher
-- (app.lua) catches them and answers with an error body. Any other Lua error becomes a
-- 500 with an error body and a traceback in the error log.
local json = require "sandbox.json"
local util = require "sandbox.util"
local capture = require "sandbox.capture"

local _M = {}

_M.null = json.null

_M.encode = json.encode

-- Returns value or nil, err.
_M.decode = json.decode

-- Error raised by handlers; app.lua turns it into a response.
local HttpError = {}
HttpError.__index = HttpError
HttpError.__tostring = function(e) return e.status .. " " .. e.error_key .. ": " .. e.error_message end

function _M.fail(status, error_key, message, headers)
  error(setmetatable({ status = status, error_key = error_key, error_message = message,
                       headers = headers }, HttpError), 0)
end

-- Like fail, but answers body (a table is sent as JSON, a string as is with
-- content_type) instead of an APIErrorSchema: OAuth errors and HTML error pages.
function _M.fail_body(status, body, headers, content_type)
  error(setmetatable({ status = status, error_key = "custom", error_message = "custom body",
                       body = body, headers = headers, content_type = content_type }, HttpError), 0)
end

function _M.is_error(e)
  return getmetatable(e) == HttpError
end

-- The headers of a /v3 401 (the API sits behind an AWS API gateway). The protocol
-- reference names the WWW-Authenticate header without its value: the RFC 6750 scheme.
_M.UNAUTHORIZED_HEADERS = {
  ["WWW-Authenticate"] = 'Bearer realm="api.cc.email"',
  ["x-amzn-ErrorType"] = "UnauthorizedException",
}

-- APIErrorSchema: an array of {error_key, error_message}.
function _M.error_body(error_key, message)
  return { { error_key = error_key, error_message = message } }
end

-- Writes a complete response. body: table (JSON), string (raw) or nil (no body).
function _M.send(status, body, headers, content_type)
  ngx.status = status
  if headers then
    for name, value in pairs(headers) do ngx.header[name] = value end
  end
  if body == nil then
    ngx.header["Content-Type"] = nil
    return ngx.send_headers()
  end
  if type(body) == "table" then
    body = json.encode(body)
    capture.write(body)
  elseif capture.on() and (content_type or "application/json"):find("json", 1, true) then
    capture.write_if_json(body)   -- a raw body said to be JSON (faults): only if it is
  end
  ngx.header["Content-Type"] = content_type or "application/json"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
end

function _M.send_error(status, error_key, message, headers)
  return _M.send(status, _M.error_body(error_key, message), headers)
end

-- The raw request body ("" when there is none); large bodies may sit in a file.
-- Every value of a repeatable query parameter (?a=1&a=2 and ?a=1,2), or nil.
function _M.query_multi(name)
  local raw = ngx.req.get_uri_args(100)[name]
  if raw == nil then return nil end
  if type(raw) ~= "table" then raw = { raw } end
  local out = {}
  for _, value in ipairs(raw) do
    if value == true then value = "" end
    for _, item in ipairs(util.split_csv(value)) do out[#out + 1] = item end
  end
  return out
end

function _M.read_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if not data then
    local path = ngx.req.get_body_file()
    if path then
      local f = io.open(path, "rb")
      if f then
        data = f:read("*a")
        f:close()
      end
    end
  end
  data = data or ""
  -- The first read is what the client sent (a partner sync reads its inner payload
  -- later): the request log keeps it.
  local ctx = ngx.ctx
  if ctx.request_body == nil then
    ctx.request_body, ctx.request_type, ctx.body_bytes = data, ngx.var.content_type, #data
  end
  return data
end

function _M.is_json_type(ctype)
  return ctype ~= nil and ctype:lower():match("^%s*application/json%s*;?") ~= nil
end

-- Decodes a JSON request body; the text is captured (json_capture) when it decodes.
function _M.decode_body(raw)
  local value, err = json.decode(raw)
  if value ~= nil then capture.write(raw) end
  return value, err
end

-- The request body as a JSON object, or an HTTP error like the API's:
-- 415 for another media type, 400 for a missing or malformed body. check(value), if
-- given, runs before the object test (the route's body shape, app.lua).
function _M.json_body(error_prefix, check)
  error_prefix = error_prefix or "api"
  local ctype = ngx.var.content_type
  if not _M.is_json_type(ctype) then
    _M.fail(415, error_prefix .. ".unsupported.media.type",
      "Content-Type must be application/json, got '" .. (ctype or "") .. "'")
  end
  local raw = _M.read_body()
  if raw:match("^%s*$") then
    _M.fail(400, error_prefix .. ".validation.error", "The request body is required")
  end
  local value, err = _M.decode_body(raw)
  if value == nil then
    _M.fail(400, error_prefix .. ".validation.error", "The request body is not valid JSON: " .. tostring(err))
  end
  if check then check(value) end
  if type(value) ~= "table" or json.is_array(value) then
    _M.fail(400, error_prefix .. ".validation.error", "The request body must be a JSON object")
  end
  return value
end

-- Query arguments with repeated names collapsed to their first value.
function _M.query_args()
  local args = ngx.req.get_uri_args(100)
  for k, v in pairs(args) do
    if type(v) == "table" then args[k] = v[1] end
  end
  return args
end

return _M
