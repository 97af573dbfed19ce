--- tools/public_modules.lua: the modules users require (README, docs/API.md,
-- examples) or reach through require "ctct", for the generators (gen_docs,
-- gen_types) and the specs that check them. Loaded with dofile.
local M = {}

--- The client's resource objects (client.contacts, ...), in docs/API.md's order.
M.RESOURCES = {
  "account", "contacts", "lists", "tags", "custom_fields", "segments", "campaigns", "activities", "reports",
  "events", "automations", "social",
}

--- Every public module, the resource modules last.
M.MODULES = {
  "ctct", "ctct.client", "ctct.errors", "ctct.activity", "ctct.json", "ctct.oauth", "ctct.oauth.device",
  "ctct.oauth.loopback", "ctct.jwt", "ctct.jwks",
  "ctct.webhooks", "ctct.ratelimit", "ctct.ratelimit.bucket", "ctct.ratelimit.redis", "ctct.store.file",
  "ctct.store.memory", "ctct.store.shdict", "ctct.store.redis", "ctct.redis.connection",
  "ctct.partner", "ctct.partner.accounts", "ctct.partner.webhooks",
}
for _, name in ipairs(M.RESOURCES) do M.MODULES[#M.MODULES + 1] = "ctct.resources." .. name end

return M
