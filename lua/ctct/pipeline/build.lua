--- ctct.pipeline.build: the first stage, a request table from client:request's
-- arguments: the method and path checked, the URL (cached per path), the query
-- encoded, the body as JSON, the caller's headers over ours.
local config = require "ctct.config"
local json = require "ctct.json"
local url = require "ctct.url"

local M = {}

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, HEAD = true }
local byte, find = string.byte, string.find
local SLASH = 47 -- "/"
local BODY_ROOT = { root = "body" } -- encoder errors name body.street_addresses[2].city

-- Programmer errors raise, naming the argument. `level` counts from the
-- function that calls `bad` (1) up to the user's code.
local function bad(what, rule, level)
  error("ctct: bad " .. what .. ": " .. rule, level + 1)
end

-- Header values may hold a tab, but no other control character (CR/LF would
-- let a value inject headers).
local function has_header_control(s)
  for i = 1, #s do
    local b = s:byte(i)
    if (b < 32 and b ~= 9) or b == 127 then return true end
  end
  return false
end

local function check_path(path)
  -- The common case in one pass, without making substrings; the checks below
  -- name what is wrong.
  if type(path) == "string" and byte(path, 1) == SLASH and byte(path, 2) ~= SLASH
      and not find(path, "[%s%c#]") then
    return
  end
  if type(path) ~= "string" then
    bad("argument 'path'", "expected a string such as '/contacts', got " .. type(path), 4)
  end
  if path:sub(1, 1) ~= "/" then bad("argument 'path'", "must start with '/', got '" .. path .. "'", 4) end
  if path:sub(1, 2) == "//" then bad("argument 'path'", "must not start with '//'", 4) end
  if path:find("[%s%c#]") then bad("argument 'path'", "must not contain spaces, control characters or '#'", 4) end
end

local function check_headers(headers)
  if headers == nil then return end
  if type(headers) ~= "table" then bad("option 'headers'", "must be a table of name = value", 4) end
  for k, v in pairs(headers) do
    if type(k) ~= "string" or not k:match("^[%w!#$%%&'*+.^_`|~-]+$") then
      bad("header name '" .. tostring(k) .. "'", "must be an HTTP token", 4)
    end
    if type(v) ~= "string" and type(v) ~= "number" then
      bad("header '" .. k .. "'", "value must be a string", 4)
    end
    if has_header_control(tostring(v)) then
      bad("header '" .. k .. "'", "value must not contain CR, LF or other control characters", 4)
    end
  end
end

local REQUEST_OPTIONS = { query = true, body = true, headers = true, timeout = true, raw = true, sink = true }
local PATH_CACHE_MAX = 256
local NO_OPTIONS = setmetatable({}, { __newindex = function() error("ctct: internal: NO_OPTIONS is read-only", 2) end })

--- The transport request for (method, path, opts), built once: attempts reuse it.
-- Raises (at the user's call to client:request) on a bad method, path or option.
---@param state table the client
---@param method string
---@param path string
---@param opts? ctct.RequestOptions
---@param operation? table what client:call knew: { id, template, path_params, query }
---@return table request { method, url, headers, body, sink, operation }
---@return ctct.RequestOptions opts
function M.build(state, method, path, opts, operation)
  if not METHODS[method] then -- its keys are strings: any other type misses too
    bad("argument 'method'", "must be one of GET, POST, PUT, PATCH, DELETE, HEAD, got " .. tostring(method), 3)
  end
  -- A path checked before maps to its URL: most programs call a few paths over
  -- and over. The cache is dropped whole when full or when base_url changed.
  local paths = rawget(state, "path_cache")
  local target = paths and paths.base_url == state.base_url and paths.urls[path]
  if not target then
    check_path(path)
    target = state.base_url .. path
    if paths then
      if paths.base_url ~= state.base_url or paths.size >= PATH_CACHE_MAX then
        paths = { base_url = state.base_url, size = 0, urls = {} }
        state.path_cache = paths
      end
      paths.urls[path], paths.size = target, paths.size + 1
    end
  end
  if opts == nil then
    opts = NO_OPTIONS -- shared, never written: no table per call
  else
    if type(opts) ~= "table" then bad("argument 'options'", "must be a table", 3) end
    for k in pairs(opts) do
      if not REQUEST_OPTIONS[k] then bad("request option '" .. tostring(k) .. "'", "unknown option", 3) end
    end
    check_headers(opts.headers)
    config.check_seconds("timeout", opts.timeout, 3)
    if opts.sink ~= nil and (type(opts.sink) ~= "string" or opts.sink == "") then
      bad("option 'sink'", "must be the path of the file to write the body to", 3)
    end
  end

  if opts.query ~= nil then
    if type(opts.query) ~= "table" then bad("option 'query'", "must be a table", 3) end
    local ok, qs = pcall(url.query, opts.query)
    if not ok then bad("option 'query'", qs, 3) end
    if qs ~= "" then target = target .. (path:find("?", 1, true) and "&" or "?") .. qs end
  end

  -- Sized for the Authorization header request() adds (a nil field still
  -- counts in the constructor's size): no rehash per call.
  local headers = { ["Accept"] = "application/json", ["Authorization"] = nil }
  local body = opts.body
  if body ~= nil then
    if method == "GET" or method == "HEAD" then bad("option 'body'", "not allowed with " .. method, 3) end
    if type(body) == "table" then
      local text, why = json.encode(body, BODY_ROOT)
      if not text then bad("option 'body'", "cannot be encoded as JSON: " .. why, 3) end
      body = text
      headers["Content-Type"] = "application/json"
    elseif type(body) ~= "string" then
      bad("option 'body'", "must be a table (sent as JSON) or a string, got " .. type(body), 3)
    end
  end
  if opts.headers then
    for k, v in pairs(opts.headers) do
      -- A user header replaces ours whatever its case.
      for ours in pairs(headers) do
        if ours:lower() == k:lower() then headers[ours] = nil end
      end
      headers[k] = tostring(v)
    end
  end
  return {
    method = method,
    url = target,
    headers = headers,
    body = body,
    sink = opts.sink,
    operation = operation,
  }, opts
end

return M
