-- ctct.oauth against an independent, OpenID-certified authorization server:
-- oidc-provider (npm, in node), started on loopback by the spec. The user's
-- login and consent are automated by spec/helpers/oidc.lua with curl.
local oauth = require "ctct.oauth"
local oidc = require "spec.helpers.oidc"
local sandbox = require "spec.helpers.sandbox"

local SCOPE = { "openid", "offline_access", "contact_data" }

describe("OAuth flows against oidc-provider", function()
  local op
  lazy_setup(function()
    assert(oidc.available())
    op = oidc.start { device_interval = 1, device_code_ttl = 4, clock_tolerance = 0 }
  end)
  lazy_teardown(function() if op then op:stop() end end)

  local function endpoints(extra)
    local o = { authorize_url = op.authorization_endpoint, token_url = op.token_endpoint,
                device_url = op.device_endpoint, revoke_url = op.revocation_endpoint }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  local function login(client, redirect_uri)
    local url, session = oauth.authorization_url(endpoints { client_id = client, redirect_uri = redirect_uri,
                                                             scope = SCOPE })
    local code = assert(oauth.parse_callback(op:authorize(url), session))
    return code, session
  end

  it("runs authorization code + PKCE for a public client", function()
    local code, session = login(op.public.client_id, "http://127.0.0.1/callback")
    local token = assert(oauth.exchange_code(endpoints { client_id = op.public.client_id, code = code,
                                                         session = session }))
    assert.is_string(token.access_token)
    assert.is_string(token.refresh_token)
    assert.is_true(token.expires_at > token.obtained_at)
    assert.matches("contact_data", token.scope)
  end)

  it("runs authorization code for a confidential client with HTTP Basic", function()
    local code, session = login(op.confidential.client_id, "http://127.0.0.1/callback")
    local before = op:stats()
    local token = assert(oauth.exchange_code(endpoints { client_id = op.confidential.client_id,
      client_secret = op.confidential.client_secret, code = code, session = session }))
    assert.is_string(token.refresh_token)
    local after = op:stats()
    assert.equal((before.token_client_auth.basic or 0) + 1, after.token_client_auth.basic)
  end)

  it("refuses a reused code and a wrong secret", function()
    local code, session = login(op.confidential.client_id, "http://127.0.0.1/callback")
    local o = endpoints { client_id = op.confidential.client_id, client_secret = op.confidential.client_secret,
                          code = code, session = session }
    assert(oauth.exchange_code(o))
    local _, err = oauth.exchange_code(o)
    assert.equal("invalid_grant", err.error_key)
    o.client_secret = "wrong-secret"
    _, err = oauth.exchange_code(o)
    assert.equal("invalid_client", err.error_key)
    assert.equal(401, err.status)
    assert.is_nil(tostring(err):find("wrong-secret", 1, true))
  end)

  it("rejects a callback with another login's state", function()
    local url, session = oauth.authorization_url(endpoints { client_id = op.public.client_id,
      redirect_uri = "http://127.0.0.1/callback", scope = SCOPE })
    local _, other = oauth.authorization_url(endpoints { client_id = op.public.client_id,
      redirect_uri = "http://127.0.0.1/callback", scope = SCOPE })
    local _, err = oauth.parse_callback(op:authorize(url), other)
    assert.equal("state_mismatch", err.error_key)
    assert.is_string(oauth.parse_callback(op:authorize(url), session))
  end)

  it("reports a denied login", function()
    local url, session = oauth.authorization_url(endpoints { client_id = op.public.client_id,
      redirect_uri = "http://127.0.0.1/callback", scope = SCOPE })
    local _, err = oauth.parse_callback(op:authorize(url, { deny = true }), session)
    assert.equal("access_denied", err.error_key)
  end)

  it("rotates refresh tokens; a used one is refused; revocation works", function()
    local code, session = login(op.public.client_id, "http://127.0.0.1/callback")
    local first = assert(oauth.exchange_code(endpoints { client_id = op.public.client_id, code = code,
                                                         session = session }))
    local second = assert(oauth.refresh(endpoints { client_id = op.public.client_id,
                                                    refresh_token = first.refresh_token }))
    assert.are_not.equal(first.refresh_token, second.refresh_token)
    local _, err = oauth.refresh(endpoints { client_id = op.public.client_id, refresh_token = first.refresh_token })
    assert.equal("invalid_grant", err.error_key)
    -- reusing the old one revoked the family: the new one is gone too (oidc-provider)
    local fresh_code, fresh_session = login(op.public.client_id, "http://127.0.0.1/callback")
    local third = assert(oauth.exchange_code(endpoints { client_id = op.public.client_id, code = fresh_code,
                                                         session = fresh_session }))
    assert.is_true(oauth.revoke(endpoints { client_id = op.public.client_id, token = third.refresh_token,
                                            token_type_hint = "refresh_token" }))
    _, err = oauth.refresh(endpoints { client_id = op.public.client_id, refresh_token = third.refresh_token })
    assert.equal("invalid_grant", err.error_key)
  end)

  it("runs the device flow: pending until approved, then tokens", function()
    local device = assert(oauth.device(endpoints { client_id = op.public.client_id, scope = SCOPE }))
    assert.is_string(device.user_code)
    assert.is_string(device.verification_uri)
    local pendings = 0
    local token = assert(device:wait {
      on_poll = function(err)
        pendings = pendings + 1
        assert.equal("authorization_pending", err.error_key)
        if pendings == 1 then assert.equal("approved", op:approve_device(device.user_code)) end
      end,
    })
    assert.equal(1, pendings)
    assert.is_string(token.refresh_token)
  end)

  it("stops the device flow when the user denies", function()
    local device = assert(oauth.device(endpoints { client_id = op.public.client_id, scope = SCOPE }))
    op:approve_device(device.user_code, { deny = true })
    local _, err = device:wait()
    assert.equal("access_denied", err.error_key)
  end)

  it("stops the device flow when the code expires", function()
    local device = assert(oauth.device(endpoints { client_id = op.public.client_id, scope = SCOPE }))
    local _, err = device:wait()
    assert.equal("expired_token", err.error_key)
  end)

  it("runs the native-app login with a loopback redirect", function()
    local token = assert(oauth.login_pkce(endpoints {
      client_id = op.public.client_id, scope = SCOPE, timeout = 20,
      open = function(url)
        -- the "browser": log in and consent, then land on the loopback redirect
        local final = op:authorize(url)
        sandbox.run("curl -s -o /dev/null --max-time 10 " .. sandbox.quote(final) .. " &")
      end,
    }))
    assert.is_string(token.access_token)
    assert.is_string(token.refresh_token)
  end)
end)

describe("OAuth device flow slow_down against oidc-provider", function()
  it("adds 5 s to the interval when told to slow down", function()
    assert(oidc.available())
    local op = oidc.start { device_interval = 1, slow_down = true }
    finally(function() op:stop() end)
    local device = assert(oauth.device { client_id = op.public.client_id, scope = SCOPE,
      device_url = op.device_endpoint, token_url = op.token_endpoint })
    local seen = {}
    local slept = {}
    device.sleep = function(s) slept[#slept + 1] = s end -- count, don't wait
    local _, err = device:wait {
      timeout = 30,
      on_poll = function(e)
        seen[#seen + 1] = e.error_key
        if #seen == 2 then op:approve_device(device.user_code) end
      end,
    }
    assert.is_truthy(err == nil or err.error_key ~= "slow_down")
    assert.is_truthy(table.concat(seen, ","):find("slow_down", 1, true), table.concat(seen, ","))
    -- after a slow_down the interval is 5 s longer (the wait is that, less the
    -- time already spent since the last poll)
    assert.equal(1 + 5, device.interval)
    assert.is_true(slept[#slept] > 4, "waits: " .. table.concat(slept, ","))
  end)
end)
