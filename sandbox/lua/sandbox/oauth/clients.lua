-- Registered OAuth clients (applications), their redirect URIs, and client
-- authentication at the token, device and revoke endpoints.
--   oauth:client:<client_id>  -> JSON { client_id, client_secret (absent: public), redirect_uris }
-- The two default clients live in code, so a reset needs no re-seeding; an added
-- client with the same id replaces one until the next reset.
local store = require "sandbox.store"
local http = require "sandbox.http"
local jose = require "sandbox.jose"
local common = require "sandbox.oauth.common"

local m = store.m

local _M = {}

-- Loopback URIs match on any port (RFC 8252 7.3), so these cover
-- http://127.0.0.1:<port>/callback and http://localhost:<port>/callback.
local DEFAULT_REDIRECTS = {
  "http://127.0.0.1/callback", "http://localhost/callback", "https://app.example/callback",
}

local DEFAULTS = {
  ["sandbox-client"] = { client_id = "sandbox-client", client_secret = "sandbox-secret",
                         redirect_uris = DEFAULT_REDIRECTS },
  ["sandbox-public"] = { client_id = "sandbox-public", redirect_uris = DEFAULT_REDIRECTS },
}

local function key(client_id) return "oauth:client:" .. client_id end

function _M.get(client_id)
  if type(client_id) ~= "string" then return nil end
  return m.get_json(key(client_id)) or DEFAULTS[client_id]
end

function _M.is_public(client) return client.client_secret == nil end

local function invalid(message) http.fail(400, "sandbox.client.invalid", message) end

-- POST /__sandbox/oauth/clients { client_id, client_secret (omit: public client),
-- redirect_uris }.
function _M.add(body)
  local id, secret, uris = body.client_id, body.client_secret, body.redirect_uris
  -- Any printable characters: tests need ids and secrets that must be urlencoded.
  if type(id) ~= "string" or #id == 0 or #id > 200 or id:find("%c") then
    invalid("client_id must be 1-200 printable characters")
  end
  if secret == http.null then secret = nil end
  if secret ~= nil and (type(secret) ~= "string" or #secret == 0 or #secret > 200 or secret:find("%c")) then
    invalid("client_secret must be 1-200 printable characters, or absent for a public client")
  end
  if type(uris) ~= "table" or uris[1] == nil then invalid("redirect_uris must be a non-empty array") end
  for _, uri in ipairs(uris) do
    if type(uri) ~= "string" or not uri:match("^[%a][%w+.-]*://[^%s#]+$") then
      invalid("redirect_uris must be absolute URIs without a fragment")
    end
  end
  local client = { client_id = id, client_secret = secret, redirect_uris = uris }
  m.set_json(key(id), client)
  return { client_id = id, public = secret == nil, redirect_uris = uris }
end

-- For a loopback redirect URI, the URI without its port; nil for any other URI.
local LOOPBACK = { "http://127.0.0.1", "http://localhost", "http://[::1]" }
local function without_port(uri)
  for _, prefix in ipairs(LOOPBACK) do
    if uri:sub(1, #prefix) == prefix then
      local rest = uri:sub(#prefix + 1)
      local port, after = rest:match("^:(%d+)(.*)$")
      if port then
        if tonumber(port) < 1 or tonumber(port) > 65535 then return nil end
        rest = after
      end
      -- "http://localhost.example/..." is not loopback.
      if rest == "" or rest:find("^[/?]") then return prefix .. rest end
    end
  end
  return nil
end

-- Whether uri is registered for client: an exact match, or a loopback URI that
-- differs only in its port.
function _M.redirect_allowed(client, uri)
  if type(uri) ~= "string" or uri:find("#", 1, true) then return false end
  local loose = without_port(uri)
  for _, registered in ipairs(client.redirect_uris) do
    if registered == uri then return true end
    if loose and without_port(registered) == loose then return true end
  end
  return false
end

local function invalid_client(description, basic)
  common.fail(401, "invalid_client", description,
    basic and { ["WWW-Authenticate"] = 'Basic realm="sandbox"' } or nil)
end

-- Comparing digests makes the time taken independent of where the secrets differ.
local function same_secret(a, b)
  return jose.sha256(a) == jose.sha256(b)
end

-- The client calling a token, device or revoke endpoint, from the request's HTTP Basic
-- credentials (confidential clients: base64(urlencode(id) ":" urlencode(secret)),
-- RFC 6749 2.3.1) or the form's client_id (public clients, no secret). Anything else
-- raises 401 invalid_client.
function _M.authenticate(form)
  local header = ngx.var.http_authorization
  if header then
    local encoded = header:match("^%s*[Bb][Aa][Ss][Ii][Cc]%s+(%S+)%s*$")
    local decoded = encoded and ngx.decode_base64(encoded)
    local id, secret = (decoded or ""):match("^([^:]*):(.*)$")
    if not id then invalid_client("Client authentication failed: malformed HTTP Basic credentials", true) end
    -- Decoding is the identity for credentials without special characters, so the
    -- plain (not urlencoded) form works for those.
    id, secret = common.form_decode(id), common.form_decode(secret)
    local client = _M.get(id)
    if not client or _M.is_public(client) or not same_secret(secret, client.client_secret) then
      invalid_client("Client authentication failed. Either the client or the client credentials are invalid.",
        true)
    end
    if form.client_id and form.client_id ~= id then
      invalid_client("Client authentication failed: client_id in the body differs from the Basic credentials",
        true)
    end
    if form.client_secret then
      common.fail(400, "invalid_request", "Use one client authentication method: HTTP Basic or the body, not both")
    end
    return client
  end
  local client = _M.get(form.client_id)
  if not client then
    invalid_client("Client authentication failed. Either the client or the client credentials are invalid.")
  end
  if not _M.is_public(client) then
    -- The real server accepts only client_secret_basic for confidential apps.
    invalid_client("Client authentication failed: this client must authenticate with HTTP Basic "
      .. "(client_secret_basic)")
  end
  if form.client_secret then
    invalid_client("Client authentication failed: a public client has no secret")
  end
  return client
end

return _M
