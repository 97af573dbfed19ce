--- ctct.client: the one request pipeline every call goes through.
--
--   auth header -> rate limit -> transport -> retry/backoff -> decode JSON -> typed error
--
-- local client = ctct.new{ access_token = "...", base_url = "https://api.cc.email/v3" }
-- local data, res = client:request("GET", "/contacts", { query = { limit = 50 } })
-- -- data: decoded JSON (true for an empty 2xx body); res: { status, headers, http_version }
-- -- on failure: nil, err (a ctct.Error)
local errors = require "ctct.errors"
local json = require "ctct.json"
local options = require "ctct.options"
local url = require "ctct.url"
local ratelimit = require "ctct.ratelimit"
local retry = require "ctct.retry"
local core = require "ctct.core"

---@class ctct.client
---@field Client ctct.Client
---@field RESOURCES table<string, string> resource name -> module
---@field DEFAULT_BASE_URL string
---@field OPTIONS table<string, string> ctct.new's option names -> their types (ctct.options rules)
local M = {}

--- What a successful call returns after its data.
---@class ctct.Response
---@field status integer
---@field headers table<string, string> lower-case names
---@field http_version? string
---@field bytes? integer how many bytes went to opts.sink

---@class ctct.RequestOptions
---@field query? table<string, string|number|boolean|string[]>
---@field body? table|string a table is sent as JSON
---@field headers? table<string, string>
---@field timeout? number seconds for this attempt
---@field raw? boolean return the body text, not decoded JSON
---@field sink? string stream a successful body into this file

---@class ctct.PageOptions
---@field query? table<string, string|number|boolean|string[]>
---@field timeout? number seconds per page
---@field max_pages? integer raise a protocol error rather than fetch one more
---@field items? string the page's array of items (each only; default: the one array)

---@class ctct.CallOptions
---@field headers? table<string, string>
---@field timeout? number
---@field sink? string

--- A client of the V3 API: every resource object, and the request pipeline.
---@class ctct.Client
---@field base_url string
---@field account ctct.resources.account
---@field contacts ctct.resources.contacts
---@field lists ctct.resources.lists
---@field tags ctct.resources.tags
---@field custom_fields ctct.resources.custom_fields
---@field segments ctct.resources.segments
---@field campaigns ctct.resources.campaigns
---@field activities ctct.resources.activities
---@field reports ctct.resources.reports
---@field events ctct.resources.events
---@field automations ctct.resources.automations
---@field social ctct.resources.social
local Client = {}
M.Client = Client

-- The resource objects (client.contacts, ...), made on first use.
local RESOURCES = {
  account = "ctct.resources.account", contacts = "ctct.resources.contacts", lists = "ctct.resources.lists",
  tags = "ctct.resources.tags", custom_fields = "ctct.resources.custom_fields",
  segments = "ctct.resources.segments", campaigns = "ctct.resources.campaigns",
  activities = "ctct.resources.activities", reports = "ctct.resources.reports",
  events = "ctct.resources.events", automations = "ctct.resources.automations", social = "ctct.resources.social",
}
M.RESOURCES = RESOURCES

Client.__index = function(self, key)
  local method = Client[key]
  if method ~= nil then return method end
  local module = RESOURCES[key]
  if module then
    local resource = require(module).new(self)
    rawset(self, key, resource)
    return resource
  end
  return nil
end

M.DEFAULT_BASE_URL = "https://api.cc.email/v3"

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, HEAD = true }
local byte, find, min = string.byte, string.find, math.min
local SLASH = 47 -- "/"
local BODY_ROOT = { root = "body" } -- encoder errors name body.street_addresses[2].city

-- Programmer errors raise, naming the argument. `level` counts from the
-- function that calls `bad` (1) up to the user's code.
local function bad(what, rule, level)
  error("ctct: bad " .. what .. ": " .. rule, level + 1)
end

local function has_control(s)
  return s:find("%c") ~= nil
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

local function check_seconds(name, v, level)
  if v == nil then return end
  if type(v) == "string" and tonumber(v) then
    bad("option '" .. name .. "'", "must be a number of seconds, got the string " .. string.format("%q", v) ..
      " (write " .. name .. " = " .. v .. ")", level + 1)
  end
  if type(v) ~= "number" or not (v > 0) or v > 86400 then
    bad("option '" .. name .. "'", "must be a positive number of seconds up to 86400, got " ..
      (type(v) == "number" and tostring(v) or type(v)), level + 1)
  end
end

-- Option name -> checker(value, level). Unknown names are refused, so a typo
-- (acess_token) fails loudly instead of sending unauthenticated requests.
local OPTION_CHECKS = {
  access_token = function(v, level)
    if v ~= nil and type(v) ~= "string" and type(v) ~= "function" then
      bad("option 'access_token'", "must be a string or a function returning one", level + 1)
    end
    if type(v) == "string" and (v == "" or v:find("[%s%c]")) then
      bad("option 'access_token'", "must be non-empty and contain no spaces or control characters", level + 1)
    end
  end,
  base_url = function(v, level)
    if v == nil then return end
    if type(v) ~= "string" then
      bad("option 'base_url'", "must be a string like https://api.cc.email/v3, got " .. type(v), level + 1)
    end
    if not url.split((v:gsub("/+$", ""))) then
      bad("option 'base_url'", "must be an absolute http(s) URL without query or fragment", level + 1)
    end
  end,
  timeout = function(v, level) check_seconds("timeout", v, level + 1) end,
  connect_timeout = function(v, level) check_seconds("connect_timeout", v, level + 1) end,
  deadline = function(v, level) check_seconds("deadline", v, level + 1) end,
  cafile = function(v, level)
    if v ~= nil and (type(v) ~= "string" or v == "") then
      bad("option 'cafile'", "must be a path to a PEM file", level + 1)
    end
  end,
  insecure = function(v, level)
    if v ~= nil and type(v) ~= "boolean" then bad("option 'insecure'", "must be a boolean", level + 1) end
  end,
  http2 = function(v, level)
    if v ~= nil and type(v) ~= "boolean" then bad("option 'http2'", "must be a boolean", level + 1) end
  end,
  ordered_json = function(v, level)
    if v ~= nil and type(v) ~= "boolean" then bad("option 'ordered_json'", "must be a boolean", level + 1) end
  end,
  proxy = function(v, level)
    if v ~= nil and (type(v) ~= "string" or has_control(v)) then
      bad("option 'proxy'", "must be a proxy URL string", level + 1)
    end
  end,
  user_agent = function(v, level)
    if v ~= nil and (type(v) ~= "string" or has_control(v)) then
      bad("option 'user_agent'", "must be a string without control characters", level + 1)
    end
  end,
  max_response_bytes = function(v, level)
    if v ~= nil and (type(v) ~= "number" or v < 1) then
      bad("option 'max_response_bytes'", "must be a positive number", level + 1)
    end
  end,
  rate_limit = function(v, level)
    if v ~= nil and v ~= false and type(v) ~= "table" then
      bad("option 'rate_limit'", "must be false, a table of settings or a shared limiter", level + 1)
    end
  end,
  retry = function(v, level)
    if v ~= nil and v ~= false and type(v) ~= "table" then
      bad("option 'retry'", "must be false or a table of settings", level + 1)
    end
  end,
  transport = function(v, level)
    if v ~= nil and (type(v) ~= "table" or type(v.request) ~= "function") then
      bad("option 'transport'", "must be an object with a request method", level + 1)
    end
  end,
}
for _, name in ipairs { "client_id", "client_secret", "account", "token_url", "authz_url" } do
  OPTION_CHECKS[name] = function(v, level)
    if v ~= nil and (type(v) ~= "string" or v == "" or has_control(v)) then
      bad("option '" .. name .. "'", "must be a non-empty string", level + 1)
    end
  end
end
OPTION_CHECKS.token_store = function(v, level)
  if v ~= nil and (type(v) ~= "table" or type(v.get) ~= "function" or type(v.set) ~= "function"
      or type(v.lock) ~= "function") then
    bad("option 'token_store'", "must be a token store (get, set, delete, lock), e.g. ctct.store.file.new{}",
      level + 1)
  end
end
OPTION_CHECKS.refresh_skew = function(v, level)
  if v ~= nil and (type(v) ~= "number" or v < 0) then
    bad("option 'refresh_skew'", "must be a number of seconds >= 0", level + 1)
  end
end
for _, name in ipairs { "clock", "time", "sleep", "logger" } do
  OPTION_CHECKS[name] = function(v, level)
    if v ~= nil and type(v) ~= "function" then
      bad("option '" .. name .. "'", "must be a function", level + 1)
    end
  end
end

-- The option names and their types, for the LuaLS stubs (types/) and tools; the
-- checkers above say more (non-empty, an absolute URL, a store with lock...).
M.OPTIONS = {
  access_token = "string|function", base_url = "string", timeout = "number", connect_timeout = "number",
  deadline = "number", cafile = "string", insecure = "boolean", http2 = "boolean", ordered_json = "boolean",
  proxy = "string", user_agent = "string", max_response_bytes = "integer", rate_limit = "false|table",
  retry = "false|table", transport = "table", client_id = "string", client_secret = "string", account = "string",
  token_url = "string", authz_url = "string", token_store = "table", refresh_skew = "number",
  clock = "function", time = "function", sleep = "function", logger = "function",
}
for name in pairs(OPTION_CHECKS) do assert(M.OPTIONS[name], "ctct.client: option without a type: " .. name) end
for name in pairs(M.OPTIONS) do assert(OPTION_CHECKS[name], "ctct.client: option without a check: " .. name) end

local function check_options(opts, level)
  if type(opts) ~= "table" then bad("argument to ctct.new", "expected a table of options", level + 1) end
  for k, v in pairs(opts) do
    local checker = OPTION_CHECKS[k]
    if not checker then
      local near = type(k) == "string" and options.nearest(k, OPTION_CHECKS)
      bad("option '" .. tostring(k) .. "'", "unknown option" .. (near and ("; did you mean '" .. near .. "'?") or ""),
        level + 1)
    end
    checker(v, level + 1)
  end
end

local function make_limiter(setting, clock, time)
  if setting == false then return nil end
  if type(setting) == "table" and type(setting.take) == "function" then return setting end
  local o = {}
  for k, v in pairs(setting or {}) do o[k] = v end
  o.clock, o.time = o.clock or clock, o.time or time
  return ratelimit.new(o)
end

--- Make a client. See docs/ARCHITECTURE.md and README.md for every option.
---@param opts? ctct.client.Options
---@return ctct.Client
function M.new(opts)
  opts = opts or {}
  check_options(opts, 2)
  local base = (opts.base_url or M.DEFAULT_BASE_URL):gsub("/+$", "")
  local origin, base_path = url.split(base)
  local user_agent = "ctct-lua/" .. core.VERSION
  if opts.user_agent then user_agent = user_agent .. " " .. opts.user_agent end

  local transport = opts.transport or require("ctct.transport.default").new {
    connect_timeout = opts.connect_timeout,
    timeout = opts.timeout,
    cafile = opts.cafile,
    insecure = opts.insecure,
    proxy = opts.proxy,
    http2 = opts.http2,
    user_agent = user_agent,
    max_response_bytes = opts.max_response_bytes,
  }
  local clock = opts.clock or transport.now or core.monotonic
  local time = opts.time or transport.time or core.time

  local self = setmetatable({
    base_url = base,
    origin = origin,
    base_path = base_path,
    transport = transport,
    timeout = opts.timeout or 30,
    deadline = opts.deadline or 120,
    clock = clock,
    time = time,
    sleep = opts.sleep or transport.sleep or core.sleep,
    logger = opts.logger,
    limiter = make_limiter(opts.rate_limit, clock, time),
    -- ordered_json: objects remember the API's key order (the CLI prints it back).
    decode_options = opts.ordered_json and { ordered = true } or nil,
    path_cache = { base_url = base, size = 0, urls = {} }, -- see build()
    retry_policy = opts.retry ~= false and retry.new(opts.retry or {}) or nil,
  }, Client)
  if opts.token_store then
    if opts.access_token then
      bad("options", "give access_token or token_store, not both", 2)
    end
    self.auth = require("ctct.auth").new {
      store = opts.token_store, account = opts.account, client_id = opts.client_id,
      client_secret = opts.client_secret, token_url = opts.token_url, authz_url = opts.authz_url,
      refresh_skew = opts.refresh_skew, transport = transport, time = time, logger = opts.logger,
    }
    local auth = self.auth
    opts = setmetatable({ access_token = function() return auth:token() end }, { __index = opts })
  end
  -- Kept in closures, out of the table's visible fields, so printing or
  -- dumping the client never shows the token.
  -- get_token() -> token, nil, "Bearer <token>" | nil, why; the header value is
  -- made once per token, not per call.
  local token, checked, bearer = opts.access_token, nil, nil
  self.get_token = function()
    local t, why = token, nil
    if type(t) == "function" then t, why = t() end
    if why ~= nil and errors.is(why) then return nil, why end
    if t == nil or t == "" then
      return nil, "no access token: pass access_token to ctct.new or log in first"
    end
    if t ~= checked then -- each new token is checked once, not on every call
      if type(t) ~= "string" or t:find("[%s%c]") then
        return nil, "the access token provider returned an invalid token"
      end
      checked, bearer = t, "Bearer " .. t
    end
    return t, nil, bearer
  end
  self.set_token = function(t) token, checked, bearer = t, nil, nil end
  return self
end

function Client:__tostring()
  local token = self.auth and ("store " .. self.auth.account) or (self.get_token() ~= nil and "set" or "none")
  return "ctct.Client(" .. self.base_url .. ", token " .. token .. ")"
end

--- Replace the access token (a string, or a function returning one).
---@param token string|fun(): string?, ctct.Error?
function Client:set_access_token(token)
  OPTION_CHECKS.access_token(token, 2)
  self.set_token(token)
end

--- Hand a message to the logger option, if there is one.
---@param level 'debug'|'info'|'warn'|'error'
---@param message string
function Client:log(level, message)
  if self.logger then self.logger(level, message) end
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

-- Build the transport request once; attempts reuse it.
local function build(self, method, path, opts)
  if not METHODS[method] then -- its keys are strings: any other type misses too
    bad("argument 'method'", "must be one of GET, POST, PUT, PATCH, DELETE, HEAD, got " .. tostring(method), 3)
  end
  -- A path checked before maps to its URL: most programs call a few paths over
  -- and over. The cache is dropped whole when full or when base_url changed.
  local paths = rawget(self, "path_cache")
  local target = paths and paths.base_url == self.base_url and paths.urls[path]
  if not target then
    check_path(path)
    target = self.base_url .. path
    if paths then
      if paths.base_url ~= self.base_url or paths.size >= PATH_CACHE_MAX then
        paths = { base_url = self.base_url, size = 0, urls = {} }
        self.path_cache = paths
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
    check_seconds("timeout", opts.timeout, 3)
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
  }, opts
end

local function transport_failure(err, method, path)
  err.method, err.path = method, path
  return err
end

-- Turn a finished exchange into (data, response) or (nil, err).
local function finish(self, res, method, path, raw)
  local meta = { status = res.status, headers = res.headers, http_version = res.http_version }
  if res.status < 200 or res.status > 299 then
    local err = errors.from_response(res, { method = method, path = path, now = self.time() })
    -- Every V3 path is under /v3: a base_url without it gets 404 for everything.
    if res.status == 404 and not self.base_path:match("/v3$") then
      err.message = err.message .. " (base_url has no /v3 at the end: the API's is " .. M.DEFAULT_BASE_URL .. ")"
    end
    return nil, err
  end
  if res.sink_bytes then -- the body went to the caller's file
    meta.bytes = res.sink_bytes
    return true, meta
  end
  if raw then return res.body, meta end
  if res.body == nil or res.body == "" then return true, meta end
  local data, why = json.decode(res.body, self.decode_options)
  if data == nil then
    if not res.body:find("%S") then return true, meta end -- only whitespace: empty
    return nil, errors.new {
      kind = "protocol",
      status = res.status,
      message = "expected a JSON body (" .. (res.headers["content-type"] or "no content type") ..
        "), got: " .. errors.snippet(res.body, 120) .. " [" .. tostring(why) .. "]",
      method = method,
      path = path,
    }
  end
  return data, meta
end

--- Send one API request through the pipeline.
-- method: GET, POST, PUT, PATCH, DELETE, HEAD; path: relative to base_url,
-- starting with '/'; opts: { query = {..}, body = table|string, headers = {..},
-- timeout = seconds, raw = true (return the body text, not decoded JSON),
-- sink = path (stream a successful body into that file; returns true, response
-- with response.bytes) }.
-- Returns data, response ({ status, headers, http_version }) or nil, ctct.Error.
---@param method 'GET'|'POST'|'PUT'|'PATCH'|'DELETE'|'HEAD'
---@param path string
---@param opts? ctct.RequestOptions
---@return table|string|true|nil data decoded JSON, the text with raw, true for an empty body
---@return ctct.Response|ctct.Error response_or_err
function Client:request(method, path, opts)
  local req
  req, opts = build(self, method, path, opts)
  -- never log the query (it may hold emails)
  local log_path = find(path, "?", 1, true) and path:match("^[^?]*") or path

  local token, why, bearer = self.get_token()
  if not token then
    if errors.is(why) then
      why.method, why.path = method, log_path
      return nil, why
    end
    return nil, errors.new { kind = "auth", message = why, method = method, path = log_path }
  end
  req.headers["Authorization"] = bearer
  local reauthorized = false

  local started = self.clock()
  local deadline = started + self.deadline
  local per_attempt = opts.timeout or self.timeout
  local attempt = 0
  while true do
    attempt = attempt + 1
    if self.limiter then
      local wait, reset_in = self.limiter:take()
      if not wait then
        return nil, errors.new {
          kind = "rate_limited", error_key = "quota_exceeded", retry_after = reset_in,
          message = "the client's daily request budget is used up; it resets at 00:00 UTC",
          method = method, path = log_path,
        }
      end
      if wait > 0 then
        if self.clock() + wait > deadline then
          return nil, errors.new {
            kind = "rate_limited", retry_after = wait, method = method, path = log_path,
            message = "waiting for the client rate limiter would pass the call's deadline",
          }
        end
        self.sleep(wait)
      end
    end

    local remaining = deadline - self.clock()
    if remaining <= 0 then
      return nil, errors.new { kind = "timeout", message = "the call's deadline passed before it could be sent",
                               method = method, path = log_path }
    end
    req.timeout = min(per_attempt, remaining)

    local res, err = self.transport:request(req)
    if res then
      local data, meta_or_err = finish(self, res, method, log_path, opts.raw)
      if data ~= nil then return data, meta_or_err end
      err = meta_or_err
    else
      err = transport_failure(err, method, log_path)
    end

    -- A 401 may mean the token was revoked or aged out early: refresh once.
    if err.status == 401 and self.auth and not reauthorized then
      reauthorized = true
      local fresh, aerr = self.auth:after_unauthorized(token)
      if not fresh then
        aerr.method, aerr.path, aerr.status = method, log_path, 401
        return nil, aerr
      end
      token = fresh
      req.headers["Authorization"] = "Bearer " .. token
      attempt = attempt - 1 -- the retry after a refresh is not a failed attempt
      goto continue
    end

    if err.status == 429 and err.error_key == "quota_exceeded" and self.limiter and self.limiter.exhaust_day then
      self.limiter:exhaust_day()
    end
    if not self.retry_policy then return nil, err end
    local delay, why_not = self.retry_policy:decide(method, attempt, err)
    if not delay then
      if attempt > 1 then err.attempts = attempt end
      self:log("debug", string.format("%s %s: not retrying (%s): %s", method, log_path, why_not, err.message))
      return nil, err
    end
    if self.clock() + delay >= deadline then
      err.attempts = attempt
      return nil, err
    end
    self:log("info", string.format("%s %s: attempt %d failed (%s%s), retrying in %.2f s",
      method, log_path, attempt, err.status and ("HTTP " .. err.status) or err.kind,
      err.error_key and (" " .. err.error_key) or "", delay))
    self.sleep(delay)
    ::continue::
  end
end

--- Call any V3 operation by its operationId, with parameters checked against
-- the spec first (see ctct.api.call). Returns data, response | nil, err; a
-- parameter that cannot be right gives a `validation` error naming it and
-- nothing is sent. opts: { headers = {...}, timeout = s, sink = path }.
---@param operation_id ctct.OperationId
---@param params? table the operation's parameters by name (ctct.params.<operation_id>)
---@param opts? ctct.CallOptions
---@return table|true|nil data
---@return ctct.Response|ctct.Error response_or_err
function Client:call(operation_id, params, opts)
  local req, err = require("ctct.api.call").build(operation_id, params)
  if not req then return nil, err end
  local o = { body = req.body, headers = req.headers, raw = req.raw }
  if opts then
    o.timeout, o.sink = opts.timeout, opts.sink
    for k, v in pairs(opts.headers or {}) do o.headers[k] = v end
  end
  return self:request(req.method, req.path, o)
end

---@class ctct.TokenInfo
---@field scopes string[]
---@field expires_at? integer
---@field expires_in? integer
---@field platform_user_id? string
---@field client_id? string
---@field user_id? string
---@field subject? string
---@field issuer? string
---@field audience? string|string[]
---@field claims table<string, ctct.json.Value> every claim, as decoded

--- What the current access token says about itself, read from its JWT claims
-- with no network call (Constant Contact retired its token_info endpoint):
-- { scopes, expires_at, expires_in, platform_user_id, client_id, user_id,
--   subject, issuer, audience, claims }. The token is not verified here: it is
-- the client's own token, as the authorization server issued it.
---@return ctct.TokenInfo|nil info
---@return ctct.Error? err
function Client:token_info()
  local token, why = self.get_token()
  if not token then return nil, errors.new { kind = "auth", message = why } end
  local tok, err = require("ctct.jwt").decode(token)
  if not tok then return nil, err end
  local exp = tok:expires_at()
  return {
    scopes = tok:scopes(),
    expires_at = exp,
    expires_in = exp and math.floor(exp - self.time()) or nil,
    platform_user_id = tok:platform_user_id(),
    client_id = tok:client_id(),
    user_id = tok:user_id(),
    subject = tok:subject(),
    issuer = tok:issuer(),
    audience = tok:audience(),
    claims = tok.claims,
  }
end

--- Turn a `_links.next.href` into a path for `request`: only links on the
-- client's own origin and under its base path are followed.
---@param href string
---@return string|nil path
---@return string? why
function Client:link_path(href)
  if type(href) ~= "string" or href == "" then return nil, "empty link" end
  local rest = href
  if href:match("^%a[%w+.-]*://") then
    if href:sub(1, #self.origin + 1) ~= self.origin .. "/" then
      return nil, "link points to another host"
    end
    rest = href:sub(#self.origin + 1)
  end
  if rest:sub(1, 1) ~= "/" then return nil, "link is not an absolute path" end
  if self.base_path ~= "" then
    if rest:sub(1, #self.base_path + 1) ~= self.base_path .. "/" then
      return nil, "link is outside the API base path " .. self.base_path
    end
    rest = rest:sub(#self.base_path + 1)
  end
  if rest:find("[%s%c#]") then return nil, "link contains invalid characters" end
  return rest
end

--- Iterate over the pages of a collection, following `_links.next.href`.
-- for page in client:pages("/contacts", { query = { limit = 500 } }) do ... end
-- Raises the ctct.Error if a page cannot be fetched.
---@param path string
---@param opts? ctct.PageOptions
---@return fun(): table? pages
function Client:pages(path, opts)
  return require("ctct.paginate").pages(self, path, opts)
end

--- Iterate over the items of a collection one at a time, page by page.
-- for contact in client:each("/contacts", { items = "contacts" }) do ... end
---@param path string
---@param opts? ctct.PageOptions
---@return fun(): table? items
function Client:each(path, opts)
  return require("ctct.paginate").each(self, path, opts)
end

--- Release connections now instead of at garbage collection.
function Client:close()
  if self.transport.close then self.transport:close() end
end

return M
