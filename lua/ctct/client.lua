--- ctct.client: what ctct.new returns — the resource objects (client.contacts, ...),
-- client:call (every operation, checked against the spec by ctct.api.call) and
-- client:request, which hands each request to ctct.pipeline:
--
--   build -> token -> rate limit -> deadline -> send -> decode -> retry
--
-- local client = ctct.new{ access_token = "...", base_url = "https://api.cc.email/v3" }
-- local data, res = client:request("GET", "/contacts", { query = { limit = 50 } })
-- -- data: decoded JSON (true for an empty 2xx body); res: { status, headers, http_version }
-- -- on failure: nil, err (a ctct.Error)
local config = require "ctct.config"
local core = require "ctct.core"
local errors = require "ctct.errors"
local pipeline = require "ctct.pipeline"
local retry = require "ctct.retry"
local url = require "ctct.url"

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

M.DEFAULT_BASE_URL = config.DEFAULT_BASE_URL
-- ctct.new's options (names -> types): ctct.config owns them and their checks.
M.OPTIONS = config.OPTIONS

--- Make a client. See docs/ARCHITECTURE.md and README.md for every option.
---@param opts? ctct.client.Options
---@return ctct.Client
function M.new(opts)
  opts = opts or {}
  config.check(opts, 2)
  local base = (opts.base_url or M.DEFAULT_BASE_URL):gsub("/+$", "")
  local origin, base_path = url.split(base)
  local transport = config.transport(opts)
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
    limiter = config.limiter(opts.rate_limit, clock, time),
    -- ordered_json: objects remember the API's key order (the CLI prints it back).
    decode_options = opts.ordered_json and { ordered = true } or nil,
    path_cache = { base_url = base, size = 0, urls = {} }, -- see ctct.pipeline.build
    retry_policy = opts.retry ~= false and retry.new(opts.retry or {}) or nil,
    -- get() and after_unauthorized(used): the token store's (ctct.auth) or the caller's.
    token_source = opts.token_source,
    -- on_request(info) after every call; counts for usage().
    on_request = opts.on_request, requests = 0, waited = 0,
  }, Client)
  if opts.token_store then
    self.token_source = require("ctct.auth").new {
      store = opts.token_store, account = opts.account, client_id = opts.client_id,
      client_secret = opts.client_secret, token_url = opts.token_url, authz_url = opts.authz_url,
      refresh_skew = opts.refresh_skew, transport = transport, time = time, logger = opts.logger,
      sleep = self.sleep,
    }
  end
  local source = self.token_source
  -- Kept in closures, out of the table's visible fields, so printing or
  -- dumping the client never shows the token.
  -- get_token() -> token, nil, "Bearer <token>" | nil, why; the header value is
  -- made once per token, not per call.
  local token, checked, bearer = opts.access_token, nil, nil
  if source then token = function() return source:get() end end
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
  local source = self.token_source
  local token = source and (source.account and ("store " .. source.account) or "source")
    or (self.get_token() ~= nil and "set" or "none")
  return "ctct.Client(" .. self.base_url .. ", token " .. token .. ")"
end

--- Replace the access token (a string, or a function returning one).
---@param token string|fun(): string?, ctct.Error?
function Client:set_access_token(token)
  config.check_access_token(token, 2)
  self.set_token(token)
end

--- Hand a message to the logger option, if there is one.
---@param level 'debug'|'info'|'warn'|'error'
---@param message string
function Client:log(level, message)
  if self.logger then self.logger(level, message) end
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
  return pipeline.request(self, method, path, opts)
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
  return pipeline.request(self, req.method, req.path, o, req.operation)
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

---@class ctct.Usage
---@field requests integer calls this client made (client:request and everything above it)
---@field waited number seconds its calls waited for the rate budget
---@field limiter? 'local'|'shdict'|'redis' where the budget is kept (nil: rate_limit = false)
---@field per_second? number the budget's rate, for every client that shares it
---@field daily? integer the daily quota (nil: none)
---@field remaining_today? integer what is left of it (fleet-wide with Redis; nil when unknown)
---@field resets_in? number seconds until 00:00 UTC

--- The rate budget as this client sees it: its own calls and waits, and the shared
--- budget's rate and what is left today (from Redis or the shared dict when shared).
---@return ctct.Usage
function Client:usage()
  local u = { requests = self.requests, waited = self.waited }
  local l = self.limiter
  if l then
    u.limiter = l.name or "local"
    u.per_second = l.rate
    u.daily = l.daily or nil
    if l.remaining_today then u.remaining_today = l:remaining_today() end
    if l.until_reset then u.resets_in = l:until_reset() end
  end
  return u
end

--- Release connections now instead of at garbage collection.
function Client:close()
  if self.transport.close then self.transport:close() end
end

return M
