-- The authorization server (authz.constantcontact.com, an Okta authorization server
-- named "default"), served on the sandbox's own origin at the real paths. The pieces
-- are in sandbox/oauth/: authorize (code flow + consent), token, device, revoke,
-- codes, grants (token families), clients, settings, counters, pages.
local http = require "sandbox.http"
local common = require "sandbox.oauth.common"
local authorize = require "sandbox.oauth.authorize"
local token = require "sandbox.oauth.token"
local device = require "sandbox.oauth.device"
local revoke = require "sandbox.oauth.revoke"

local _M = {}

local BASE = "/oauth2/default/v1"
_M.BASE = BASE

-- [path] = { METHOD = handler }; a handler returns status, body, headers, content type.
_M.ROUTES = {
  [authorize.PATH] = { GET = authorize.authorize },
  [authorize.DECISION_PATH] = { POST = authorize.decision },
  [BASE .. "/token"] = { POST = token.serve },
  [BASE .. "/device/authorize"] = { POST = device.authorize },
  [BASE .. "/revoke"] = { POST = revoke.serve },
  [device.PAGE_PATH] = { GET = device.page, POST = device.page_decision },
}

function _M.serve(method, path)
  local methods = _M.ROUTES[path]
  local handler = methods[method]
  if not handler then
    local allowed = {}
    for name in pairs(methods) do allowed[#allowed + 1] = name end
    table.sort(allowed)
    common.fail(405, "invalid_request", method .. " is not allowed on " .. path,
      { Allow = table.concat(allowed, ", ") })
  end
  return http.send(handler())
end

return _M
