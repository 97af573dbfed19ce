-- The authorization server's knobs (GET/POST /__sandbox/oauth/config); back to
-- DEFAULTS on reset.
local settings = require "sandbox.settings"
local auth = require "sandbox.auth"

local SECONDS = { settings.positive, "a positive integer (seconds)" }

return settings.new("oauth:config", {
  auto_approve = true,        -- true: approve at once; false: consent page; "deny": refuse all
  account = "default",        -- the sandbox account the user (and so the tokens) belong to
  access_token_ttl = 86400,   -- seconds (the real maximum: 24 h)
  refresh_rotation = true,    -- each refresh returns a new refresh token
  code_ttl = 300,             -- authorization code lifetime (real: 5 min)
  device_expires_in = 600,    -- device code lifetime
  device_interval = 5,        -- minimum seconds between polls (RFC 8628 default)
  -- A refresh of a token set younger than this many seconds is counted as an early
  -- refresh (stats.oauth.early_refresh): a fleet refreshing twice for one expiry. 0: off.
  early_refresh_age = 0,
}, {
  auto_approve = { function(v) return v == true or v == false or v == "deny" end, 'true, false or "deny"' },
  account = { auth.valid_account_name, "1-64 of letters, digits and _.-" },
  access_token_ttl = SECONDS,
  refresh_rotation = { function(v) return type(v) == "boolean" end, "true or false" },
  code_ttl = SECONDS,
  device_expires_in = SECONDS,
  device_interval = { settings.non_negative, "a non-negative integer (seconds)" },
  early_refresh_age = { function(v) return type(v) == "number" and v >= 0 end, "a number of seconds >= 0" },
}, "oauth config")
