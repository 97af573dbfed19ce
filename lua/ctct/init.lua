--- ctct: the Constant Contact V3 API for Lua.
--
-- local ctct = require "ctct"
-- local client = ctct.new{ access_token = os.getenv("CTCT_ACCESS_TOKEN") }
-- local summary = assert(client:request("GET", "/account/summary"))
local core = require "ctct.core"
local client = require "ctct.client"
local errors = require "ctct.errors"
local json = require "ctct.json"

--- The ctct module: ctct.new, the error type, JSON helpers, and modules loaded on first use.
---@class ctct
---@field VERSION string the library's version
---@field Error ctct.Error the error type (its metatable), returned (as `nil, err`) by every network call
---@field is_error fun(value: any): boolean true when value (any Lua value) is a ctct.Error
---@field null ctct.json.null JSON null, for sending `null` and comparing decoded values
---@field array fun(t?: table): table mark t (or a new table) as a JSON array, so an empty one is sent as `[]`
---@field is_array fun(t: any): boolean true for a table (any value accepted) carrying the array mark
---@field partner ctct.partner Technology Partners (loaded on first use)
---@field webhooks ctct.webhooks webhook verification and parsing (loaded on first use)
---@field json ctct.json exact JSON (loaded on first use)
---@field ratelimit ctct.ratelimit a limiter several clients of one API key can share (loaded on first use)
local ctct = {
  VERSION = core.VERSION,
  --- The error type returned (as `nil, err`) by every network call.
  Error = errors.Error,
  is_error = errors.is,
  --- JSON null, for sending `null` and comparing decoded values.
  null = json.null,
  --- Mark a table as a JSON array so that an empty one is sent as `[]`.
  array = json.array,
  --- True for a table carrying the array mark (every decoded array does).
  is_array = json.is_array,
}

--- Make a client: ctct.new{ access_token = ..., base_url = ..., ... }.
---@param opts? ctct.client.Options
---@return ctct.Client
function ctct.new(opts)
  return client.new(opts)
end

-- Modules reachable from require "ctct", loaded on first use: ctct.partner
-- (Technology Partners), ctct.webhooks, ctct.json (exact JSON), ctct.ratelimit
-- (a limiter several clients of one API key can share).
local LAZY = { partner = "ctct.partner", webhooks = "ctct.webhooks", json = "ctct.json",
               ratelimit = "ctct.ratelimit" }
setmetatable(ctct, { __index = function(t, key)
  local module = LAZY[key]
  if not module then return nil end
  local m = require(module)
  rawset(t, key, m)
  return m
end })

return ctct
