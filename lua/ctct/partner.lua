--- ctct.partner: the Technology Partner side of the V3 API.
--
--   local partner = require("ctct.partner").new {
--     client_id = ..., secret = ..., api_key = ...,   -- the partner app's credentials
--     token_url = ..., base_url = ...,                 -- optional (sandbox, tests)
--     ...                                              -- any ctct.new option (timeout, retry, logger, ...)
--   }
--   for a in partner.accounts:each { account_type = "managed" } do print(a.encoded_account_id) end
--   local acct = assert(partner.accounts:create { contact_email = ..., login_name = ..., ... })
--   assert(partner.accounts:set_plan(acct.encoded_account_id, { plan_type = "GOLD", billing_day_of_month = 15 }))
--   local client = partner:as_client(acct.encoded_account_id)   -- a normal client, acting for that account
--   client.contacts:create { ... }
--   partner.webhooks:subscribe(3, "https://example.com/hooks/ctct")
--
-- The partner is a ctct Client (same pipeline: rate limit, retry, typed errors)
-- whose access token is the partner JWT (ctct.partner.token: cached, renewed
-- before expiry and once after a 401, single-flight) and whose transport adds
-- x-api-key to every request. as_client() makes another Client whose transport
-- (ctct.partner.sync) turns each request into an account_operations/sync call.
local client_mod = require "ctct.client"
local config = require "ctct.config"
local core = require "ctct.core"
local validate = require "ctct.partner.validate"

---@class ctct.partner
---@field TOKEN_URL string the partner token endpoint (ctct.oauth.PARTNER_TOKEN_URL)
---@field Partner ctct.Partner the class of partner objects
local M = {}

M.TOKEN_URL = require("ctct.oauth").PARTNER_TOKEN_URL

---@class ctct.Partner
---@field client ctct.Client the partner's own client (partner JWT + x-api-key on every request)
---@field tokens table the partner JWT cache (ctct.partner.token: get, after_unauthorized, clear)
---@field client_id string the partner app's client id
---@field base_url string the API base URL
---@field accounts ctct.partner.accounts the client accounts (made on first use)
---@field webhooks ctct.partner.webhooks the webhook subscriptions (made on first use)
local Partner = {}
M.Partner = Partner

local OBJECTS = { accounts = "ctct.partner.accounts", webhooks = "ctct.partner.webhooks" }

--- Method lookup; `accounts` and `webhooks` are made on first use and kept.
---@param key string
---@return function|ctct.partner.accounts|ctct.partner.webhooks|nil
Partner.__index = function(self, key)
  local method = Partner[key]
  if method ~= nil then return method end
  local module = OBJECTS[key]
  if module then
    local object = require(module).new(self)
    rawset(self, key, object)
    return object
  end
  return nil
end

local function bad(name, rule)
  error("ctct.partner: bad option '" .. name .. "': " .. rule, 3)
end

-- Options of ctct.partner.new itself; the rest go to the Client.
local OWN = { client_id = true, secret = true, client_secret = true, api_key = true, token_url = true,
              scope = true, refresh_skew = true, shared_dict = true }
-- Client options that make no sense for a partner.
local REFUSED = { access_token = true, token_store = true, token_source = true, account = true, authz_url = true }

local function need(opts, name, alias)
  local v = opts[name]
  if v == nil and alias then v = opts[alias] end
  if v == nil then
    error("ctct.partner: missing option '" .. name .. "' (the partner app's " ..
      (name == "api_key" and "API key, sent as x-api-key" or name == "secret" and "client secret" or "client id") ..
      ")", 3)
  end
  if type(v) ~= "string" or v == "" or v:find("[%c]") then
    bad(name, "must be a non-empty string without control characters")
  end
  return v
end

-- A transport that adds the API key to every request.
local function with_api_key(inner, api_key)
  local t = { inner = inner, now = inner.now, time = inner.time, sleep = inner.sleep }
  function t.request(_, req)
    req.headers = req.headers or {}
    req.headers["x-api-key"] = api_key
    return inner:request(req)
  end
  function t.close() if inner.close then inner:close() end end
  return t
end

---@class ctct.partner.Options: ctct.client.Options
---@field client_id string the partner app's client id
---@field secret? string the partner app's client secret (required: this or client_secret)
---@field client_secret? string another name for secret
---@field api_key string the partner app's API key, sent as x-api-key
---@field token_url? string the token endpoint (default ctct.partner.TOKEN_URL)
---@field scope? string|string[] the token's scopes (default oauth.PARTNER_SCOPE)
---@field refresh_skew? number seconds before expiry a new token is asked for (default 60)
---@field shared_dict? string inside nginx: the lua_shared_dict sharing the partner token between workers

--- new{ client_id, secret, api_key, token_url?, scope?, refresh_skew = 60, base_url?, ...client options }
--- Raises on a missing or bad option (access_token, token_store, account and authz_url are refused).
---@param opts ctct.partner.Options
---@return ctct.Partner
function M.new(opts)
  if type(opts) ~= "table" then error("ctct.partner.new: expected a table of options", 2) end
  local client_id = need(opts, "client_id")
  local secret = need(opts, "secret", "client_secret")
  local api_key = need(opts, "api_key")
  if opts.token_url ~= nil and (type(opts.token_url) ~= "string" or not opts.token_url:match("^https?://[^/%s]+")) then
    bad("token_url", "must be an absolute http(s) URL")
  end
  if opts.refresh_skew ~= nil and (type(opts.refresh_skew) ~= "number" or opts.refresh_skew < 0) then
    bad("refresh_skew", "must be a number of seconds >= 0")
  end
  local copts = {}
  for k, v in pairs(opts) do
    if REFUSED[k] then bad(k, "not used by a partner client (it gets its own tokens)") end
    if not OWN[k] then copts[k] = v end
  end
  local inner = config.transport(opts)
  local time = opts.time or inner.time or core.time
  local tokens = require("ctct.partner.token").new {
    client_id = client_id, client_secret = secret, token_url = opts.token_url or M.TOKEN_URL,
    scope = opts.scope, skew = opts.refresh_skew, transport = inner, time = time,
    sleep = opts.sleep or inner.sleep or core.sleep, logger = opts.logger, shared_dict = opts.shared_dict,
  }
  local transport = with_api_key(inner, api_key)
  copts.transport = transport
  copts.token_source = tokens -- get(), and a new token after a 401
  local client = client_mod.new(copts)
  return setmetatable({
    client = client,
    tokens = tokens,
    client_id = client_id,
    base_url = client.base_url,
    transport = transport,
    options = copts,
  }, Partner)
end

--- "ctct.partner(<client_id>, <base_url>)".
---@return string
function Partner:__tostring()
  return "ctct.partner(" .. self.client_id .. ", " .. self.base_url .. ")"
end

--- Any request through the partner pipeline (partner JWT + x-api-key): see Client:request.
---@param method 'GET'|'POST'|'PUT'|'PATCH'|'DELETE'|'HEAD'
---@param path string
---@param opts? ctct.RequestOptions
---@return table|string|true|nil data decoded JSON, the text with raw, true for an empty body
---@return ctct.Response|ctct.Error response_or_err
function Partner:request(method, path, opts)
  return self.client:request(method, path, opts)
end

--- Any operation by its operationId (the 13 partner operations, checked against the spec).
---@param operation_id ctct.OperationId
---@param params? table the operation's parameters by name (ctct.params.<operation_id>)
---@param opts? ctct.CallOptions
---@return table|true|nil data
---@return ctct.Response|ctct.Error response_or_err
function Partner:call(operation_id, params, opts)
  return self.client:call(operation_id, params, opts)
end

--- The partner JWT now (a cached one, or a new one): token | nil, err.
---@return string|nil token
---@return ctct.Error? err
function Partner:token()
  return self.tokens:get()
end

--- A client acting for the managed account `encoded_account_id`: the same
--- interface as ctct.new's (contacts, lists, campaigns, ..., call, request,
--- pages, each), each request sent through account_operations/sync.
--- Raises when encoded_account_id is not a valid account id.
---@param encoded_account_id string
---@return ctct.Client
function Partner:as_client(encoded_account_id)
  local id, err = validate.account_id(encoded_account_id)
  if not id then error("ctct.partner:as_client: " .. err.message, 2) end
  local copts = {}
  for k, v in pairs(self.options) do copts[k] = v end
  copts.transport = require("ctct.partner.sync").new {
    inner = self.transport, base_url = self.base_url, account_id = id,
  }
  copts.rate_limit = self.client.limiter or false -- one budget for the partner and its accounts
  copts.token_source = self.tokens
  local client = client_mod.new(copts)
  rawset(client, "encoded_account_id", id)
  return client
end

--- Release connections now instead of at garbage collection.
function Partner:close()
  self.client:close()
end

return M
