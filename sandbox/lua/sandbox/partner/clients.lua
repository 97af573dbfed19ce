-- Technology partners (partner applications): their client credentials and API key.
--   partner:client:<client_id>  -> JSON { client_id, client_secret, api_key } (added ones)
-- The default partner lives in code, so a reset needs no re-seeding; an added partner
-- with the same id replaces it until the next reset.
local store = require "sandbox.store"
local http = require "sandbox.http"
local jose = require "sandbox.jose"

local m = store.m

local _M = {}

_M.DEFAULT = {
  client_id = "sandbox-partner", client_secret = "sandbox-partner-secret", api_key = "sandbox-partner-api-key",
}

local DEFAULTS = { [_M.DEFAULT.client_id] = _M.DEFAULT }

local function key(client_id) return "partner:client:" .. client_id end

function _M.get(client_id)
  if type(client_id) ~= "string" then return nil end
  return m.get_json(key(client_id)) or DEFAULTS[client_id]
end

-- Comparing digests makes the time taken independent of where the strings differ.
function _M.same(a, b)
  return type(a) == "string" and type(b) == "string" and jose.sha256(a) == jose.sha256(b)
end

local function printable(s, max)
  return type(s) == "string" and #s > 0 and #s <= max and not s:find("[%c ]")
end

-- POST /__sandbox/partner/clients { client_id, client_secret, api_key }: another
-- partner (tests of one partner not seeing another's accounts).
function _M.add(body)
  for _, name in ipairs({ "client_id", "client_secret", "api_key" }) do
    if not printable(body[name], 200) then
      http.fail(400, "sandbox.partner.invalid", name .. " must be 1-200 printable characters without spaces")
    end
  end
  local client = { client_id = body.client_id, client_secret = body.client_secret, api_key = body.api_key }
  m.set_json(key(client.client_id), client)
  return client
end

return _M
