-- Used by store_spec: rewrites a file token store as fast as it can, with
-- tokens of changing sizes, until it is killed.
--   lua5.4 spec/support/token_writer.lua PATH
local store = require("ctct.store.file").new { path = arg[1] }
local i = 0
while true do
  i = i + 1
  local pad = ("x"):rep((i * 7919) % 20000)
  assert(store:set("acct" .. (i % 5), { access_token = "at-" .. i .. pad, refresh_token = "rt-" .. i, expires_at = i }))
end
