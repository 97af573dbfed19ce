-- Runtime knobs set through POST /__sandbox/config; back to DEFAULTS on reset.
local settings = require "sandbox.settings"

local INTEGER = { settings.non_negative, "a non-negative integer" }

local function capture_path(v)
  return v == "" or (type(v) == "string" and v:match("^/[%w._/+-]+$") ~= nil)
end

-- The real API's limits: 4 requests per second and 10,000 per day per key, about one
-- token request per second per OAuth client, and 1,000 queued bulk activities per
-- account (protocol reference, "Real-API behaviours").
return settings.new("config", {
  rate_limit_per_second = 4,   -- 0 = off
  daily_quota = 10000,         -- 0 = off
  -- POST /oauth2/default/v1/token per client (oauth/token.lua); over it: 429. 0 = off.
  token_rate_limit_per_second = 1,
  -- Bulk activities of an account not yet finished (bulk.lua); one more: 429. 0 = off.
  activity_queue_limit = 1000,
  latency_ms = 0,              -- added before every /v3 request
  -- Bulk activities (sandbox/bulk.lua) progress over this many GET /activities/{id}
  -- polls: initialized, processing ..., completed. 0 = the work is done in the POST.
  activity_polls = 3,
  -- Lifetime of partner tokens (POST /partner-auth/oauth2/token), seconds.
  partner_token_ttl = 3600,
  -- A file every JSON body sent or decoded is appended to, one per line (capture.lua);
  -- "" = off. The default is sandbox/start's --json-capture (app.init).
  json_capture = "",
  -- What the per-second and daily limits count per: "token" (each access token), or
  -- "api_key" (every token of one OAuth client together, as the real API counts a
  -- key's requests across all its accounts: a fleet's shared budget).
  rate_limit_scope = "token",
}, {
  rate_limit_per_second = INTEGER,
  daily_quota = INTEGER,
  token_rate_limit_per_second = INTEGER,
  activity_queue_limit = INTEGER,
  latency_ms = INTEGER,
  activity_polls = INTEGER,
  partner_token_ttl = { settings.positive, "a positive integer" },
  json_capture = { capture_path, '"" or an absolute file path' },
  rate_limit_scope = { function(v) return v == "token" or v == "api_key" end, '"token" or "api_key"' },
}, "config")
