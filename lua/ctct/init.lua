--- ctct: the Constant Contact V3 API for Lua.
--
-- local ctct = require "ctct"
-- local client = ctct.new{ access_token = os.getenv("CTCT_ACCESS_TOKEN") }
-- local summary = assert(client:request("GET", "/account/summary"))
local core = require "ctct.core"
local client = require "ctct.client"
local errors = require "ctct.errors"
local json = require "ctct.json"

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
