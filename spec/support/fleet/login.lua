-- A token set for `account` from the sandbox's authorization server (code flow),
-- stored as already expired: every access token a fleet sends then comes from one
-- of its own refreshes, so the sandbox's count of access tokens put to use is the
-- number of expiries the fleet went through. Shared by spec/fleet_spec.lua and
-- spec/fleet_faults_spec.lua.
local core = require "ctct.core"

return function(sb, account)
  local status, query = sb:authorize { login_hint = account }
  assert(status == 302, "authorize answered " .. tostring(status))
  local code, t = sb:oauth_token { grant_type = "authorization_code", code = query.code,
                                   redirect_uri = sb.oauth.redirect_uri }
  assert(code == 200, "the token endpoint answered " .. tostring(code))
  return { access_token = t.access_token, refresh_token = t.refresh_token, token_type = "Bearer",
           expires_at = core.time() - 1, obtained_at = core.time() - t.expires_in }
end
