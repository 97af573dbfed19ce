-- Run by build/embed-host: proves ctct.core came from package.preload (linked
-- into the host, not a .so on disk), then calls the sandbox through ctct.
local base_url, token = arg[1], arg[2]
assert(package.preload["ctct.core"], "ctct.core is not preloaded by the host")
assert(package.searchpath("ctct.core", package.cpath) == nil,
  "a ctct/core.so is on package.cpath: this check wants the one linked into the host")
local core = require "ctct.core"
local ctct = require "ctct"
local client = ctct.new { access_token = token, base_url = base_url, rate_limit = false }
local summary = assert(client:request("GET", "/account/summary"))
print("embedded ctct " .. core.VERSION .. ": account " .. tostring(summary.encoded_account_id))
client:close()
