--- ctct.config: ctct.new's options — their names, types and checks — and the one
-- place a transport, a User-Agent and a rate limiter are made from them (the
-- client, the partner, the OAuth flows, the JWKS fetch and the CLI all ask here).
--
--   config.check(opts, 2)                    -- raises on an unknown or wrong option
--   config.transport(opts)                   -- curl, or cosockets inside nginx
--   config.user_agent("ctct-cli")            -- "ctct-lua/0.1.0 ctct-cli"
local core = require "ctct.core"
local options = require "ctct.options"
local ratelimit = require "ctct.ratelimit"
local url = require "ctct.url"

---@class ctct.config
---@field OPTIONS table<string, string> ctct.new's option names -> their types (ctct.options rules)
---@field DEFAULT_BASE_URL string
local M = {}

M.DEFAULT_BASE_URL = "https://api.cc.email/v3"

-- Programmer errors raise, naming the argument. `level` counts from the
-- function that calls `bad` (1) up to the user's code.
local function bad(what, rule, level)
  error("ctct: bad " .. what .. ": " .. rule, level + 1)
end

local function has_control(s)
  return s:find("%c") ~= nil
end

--- Raises unless v is nil or a number of seconds in (0, 86400]; a numeric string
-- gets a hint (timeout = "5").
---@param name string the option's name, for the message
---@param v number|nil
---@param level integer 1 = the caller of check_seconds
function M.check_seconds(name, v, level)
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

local function is_token_source(v)
  return type(v) == "table" and type(v.get) == "function" and type(v.after_unauthorized) == "function"
end

-- Option name -> checker(value, level). Unknown names are refused, so a typo
-- (acess_token) fails loudly instead of sending unauthenticated requests.
local CHECKS = {
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
  timeout = function(v, level) M.check_seconds("timeout", v, level + 1) end,
  connect_timeout = function(v, level) M.check_seconds("connect_timeout", v, level + 1) end,
  deadline = function(v, level) M.check_seconds("deadline", v, level + 1) end,
  cafile = function(v, level)
    if v ~= nil and (type(v) ~= "string" or v == "") then
      bad("option 'cafile'", "must be a path to a PEM file", level + 1)
    end
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
  token_store = function(v, level)
    if v ~= nil and (type(v) ~= "table" or type(v.get) ~= "function" or type(v.set) ~= "function"
        or type(v.lock) ~= "function") then
      bad("option 'token_store'", "must be a token store (get, set, delete, lock), e.g. ctct.store.file.new{}",
        level + 1)
    end
  end,
  token_source = function(v, level)
    if v ~= nil and not is_token_source(v) then
      bad("option 'token_source'", "must be an object with get() and after_unauthorized(used) methods", level + 1)
    end
  end,
  refresh_skew = function(v, level)
    if v ~= nil and (type(v) ~= "number" or v < 0) then
      bad("option 'refresh_skew'", "must be a number of seconds >= 0", level + 1)
    end
  end,
}
for _, name in ipairs { "insecure", "http2", "ordered_json" } do
  CHECKS[name] = function(v, level)
    if v ~= nil and type(v) ~= "boolean" then bad("option '" .. name .. "'", "must be a boolean", level + 1) end
  end
end
for _, name in ipairs { "client_id", "client_secret", "account", "token_url", "authz_url" } do
  CHECKS[name] = function(v, level)
    if v ~= nil and (type(v) ~= "string" or v == "" or has_control(v)) then
      bad("option '" .. name .. "'", "must be a non-empty string", level + 1)
    end
  end
end
for _, name in ipairs { "clock", "time", "sleep", "logger", "on_request" } do
  CHECKS[name] = function(v, level)
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
  token_url = "string", authz_url = "string", token_store = "table", token_source = "table",
  refresh_skew = "number", clock = "function", time = "function", sleep = "function", logger = "function",
  on_request = "function",
}
for name in pairs(CHECKS) do assert(M.OPTIONS[name], "ctct.config: option without a type: " .. name) end
for name in pairs(M.OPTIONS) do assert(CHECKS[name], "ctct.config: option without a check: " .. name) end

--- Raises (at `level` above the caller) on the first unknown or wrong option;
-- at most one of access_token, token_store and token_source.
---@param opts table
---@param level integer 1 = the caller of check
function M.check(opts, level)
  if type(opts) ~= "table" then bad("argument to ctct.new", "expected a table of options", level + 1) end
  for k, v in pairs(opts) do
    local checker = CHECKS[k]
    if not checker then
      local near = type(k) == "string" and options.nearest(k, CHECKS)
      bad("option '" .. tostring(k) .. "'", "unknown option" .. (near and ("; did you mean '" .. near .. "'?") or ""),
        level + 1)
    end
    checker(v, level + 1)
  end
  local given = (opts.access_token and 1 or 0) + (opts.token_store and 1 or 0) + (opts.token_source and 1 or 0)
  if given > 1 then
    bad("options", "give one of access_token, token_store and token_source", level + 1)
  end
end

--- Raises unless `token` is a valid access_token option value.
---@param token string|function
---@param level integer 1 = the caller of check_access_token
function M.check_access_token(token, level)
  CHECKS.access_token(token, level + 1)
end

--- "ctct-lua/<version>", then `extra` (the user_agent option, a tool's name).
---@param extra? string
---@return string
function M.user_agent(extra)
  local ua = "ctct-lua/" .. core.VERSION
  if extra then ua = ua .. " " .. extra end
  return ua
end

---@class ctct.config.TransportOptions
---@field transport? table a transport to use as it is
---@field connect_timeout? number
---@field timeout? number
---@field cafile? string
---@field insecure? boolean
---@field proxy? string
---@field http2? boolean
---@field user_agent? string added after ctct-lua/<version>
---@field max_response_bytes? integer

--- The transport for these options: opts.transport, or a new one (cosockets inside
-- nginx, else libcurl) with their timeouts, TLS settings, proxy and User-Agent.
---@param opts ctct.config.TransportOptions
---@return table transport an object with request(req) (and close())
function M.transport(opts)
  if opts.transport then return opts.transport end
  return require("ctct.transport.default").new {
    connect_timeout = opts.connect_timeout, timeout = opts.timeout, cafile = opts.cafile,
    insecure = opts.insecure, proxy = opts.proxy, http2 = opts.http2, user_agent = M.user_agent(opts.user_agent),
    max_response_bytes = opts.max_response_bytes,
  }
end

--- The client-side limiter the rate_limit option asks for: none (false), the given
-- shared limiter, or a new one with those settings.
---@param setting false|table|nil
---@param clock fun(): number monotonic seconds
---@param time fun(): number Unix time
---@return table|nil limiter
function M.limiter(setting, clock, time)
  if setting == false then return nil end
  if type(setting) == "table" and type(setting.take) == "function" then return setting end
  local o = {}
  for k, v in pairs(setting or {}) do o[k] = v end
  o.clock, o.time = o.clock or clock, o.time or time
  return ratelimit.new(o)
end

return M
