-- The revocation endpoint (POST /oauth2/default/v1/revoke, RFC 7009). Any token of the
-- calling client is revoked; unknown, foreign or already revoked tokens also answer
-- 200, so the answer tells nothing about a token. token_type_hint is optional and,
-- as RFC 7009 2.1 allows, not needed: both kinds are looked up.
local common = require "sandbox.oauth.common"
local clients = require "sandbox.oauth.clients"
local grants = require "sandbox.oauth.grants"
local counters = require "sandbox.oauth.counters"

local _M = {}

function _M.serve()
  local form = common.form()
  local client = clients.authenticate(form)
  if not form.token then common.fail(400, "invalid_request", "The 'token' parameter is required.") end
  if grants.revoke(client, form.token) then counters.bump("revocations") end
  return 200, nil, common.no_store()
end

return _M
