-- The sandbox's Technology Partner emulation (sandbox/lua/sandbox/partner/): the
-- partner token endpoint, partner auth, the 13 /v3/partner operations, sync
-- forwarding and webhook notifications. Driven with curl through
-- spec/helpers/sandbox.lua; only the webhook signature check uses the library
-- (ctct.webhooks.verify against the sandbox's webhook JWKS).
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"

local ID = "^[a-z0-9]+$"
local NONE = {}   -- in provision()'s and rejects()' changes: leave the field out

-- The claims of a JWT (base64url decoding in plain Lua: this runs on 5.1 and 5.4).
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function jwt_claims(jwt)
  local payload = assert(jwt:match("^[%w_-]+%.([%w_-]+)%.[%w_-]+$"), "not a compact JWS")
  local bits = payload:gsub(".", function(c)
    local n = B64:find(c, 1, true) - 1
    local out = ""
    for i = 5, 0, -1 do out = out .. (math.floor(n / 2 ^ i) % 2) end
    return out
  end)
  local bytes = bits:gsub("%d%d%d%d%d%d%d%d", function(byte) return string.char(tonumber(byte, 2)) end)
  return cjson.decode((bytes:gsub("[01]+$", "")))
end

describe("sandbox technology partners #once", function()
  local sb

  lazy_setup(function()
    sb = sandbox.start()
  end)
  lazy_teardown(function() if sb then sb:stop() end end)

  before_each(function()
    sb:reset()
    sb:config{ rate_limit_per_second = 0 }
  end)

  local function token_post(params, opts)
    opts = opts or {}
    local basic = opts.basic
    if basic == nil then basic = { sb.partner.client_id, sb.partner.client_secret } end
    return sb:form_post(opts.url or sb.partner.token_url, params,
      { basic = basic or nil, content_type = opts.content_type })
  end

  local GRANT = { grant_type = "client_credentials", scope = "v3api/general.partner" }

  local function provision(extra)
    local body = { contact_email = "owner@client.example", country_code = "US", state_code = "MA",
                   login_name = "client-" .. tostring(math.random(1e9)), password = "s3cret-password" }
    for k, v in pairs(extra or {}) do
      if v == NONE then body[k] = nil else body[k] = v end
    end
    local status, got = sb:partner_api("POST", "/partner/accounts", body)
    assert.are.equal(201, status, cjson.encode(got))
    return got.encoded_account_id, got
  end

  local function messages(body)
    local out = {}
    for _, e in ipairs(body) do out[#out + 1] = e.error_message end
    return table.concat(out, " | ")
  end

  describe("token endpoint", function()
    it("issues a signed partner JWT for client credentials (query string or form body)", function()
      local status, got, headers = token_post(GRANT)
      assert.are.equal(200, status)
      assert.are.equal("Bearer", got.token_type)
      assert.are.equal(3600, got.expires_in)
      assert.are.equal("no-store", headers["cache-control"])
      local claims = jwt_claims(got.access_token)
      assert.are.equal("sandbox-partner", claims.client_id)
      assert.are.equal("v3api/general.partner", claims.scope)
      assert.are.equal("access", claims.token_use)
      assert.are.equal(3600, claims.exp - claims.iat)
      -- Parameters in the query string with an empty form body, as the guide shows.
      status = token_post("", { url = sb.partner.token_url .. "?" .. sandbox.form(GRANT) })
      assert.are.equal(200, status)
    end)

    it("answers 415 without the form content type", function()
      local status, got = token_post(GRANT, { content_type = "application/json" })
      assert.are.equal(415, status)
      assert.are.same({ error = "unsupported_media_type" }, got)
      status = token_post(GRANT, { content_type = false })
      assert.are.equal(415, status)
    end)

    it("answers invalid_client for a bad secret or no credentials", function()
      local status, got = token_post(GRANT, { basic = { sb.partner.client_id, "wrong" } })
      assert.are.equal(400, status)
      assert.are.same({ error = "invalid_client" }, got)
      status, got = token_post(GRANT, { basic = false })
      assert.are.equal(400, status)
      assert.are.same({ error = "invalid_client" }, got)
    end)

    it("answers invalid_scope, unsupported_grant_type and invalid_request", function()
      local status, got = token_post({ grant_type = "client_credentials", scope = "account_read" })
      assert.are.equal(400, status)
      assert.are.same({ error = "invalid_scope" }, got)
      status, got = token_post({ grant_type = "password", scope = "v3api/general.partner" })
      assert.are.equal(400, status)
      assert.are.same({ error = "unsupported_grant_type" }, got)
      status, got = token_post({ scope = "v3api/general.partner" })
      assert.are.equal(400, status)
      assert.are.same({ error = "invalid_request" }, got)
    end)

    it("honours partner_token_ttl: the token expires after it", function()
      assert.are.equal(1, sb:config{ partner_token_ttl = 1 }.partner_token_ttl)
      local tok, got = sb:partner_token()
      assert.are.equal(1, got.expires_in)
      assert.are.equal(200, (sb:partner_api("GET", "/partner/accounts", nil, nil, { token = tok })))
      sandbox.run("sleep 2.1")
      assert.are.equal(401, (sb:partner_api("GET", "/partner/accounts", nil, nil, { token = tok })))
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/config", { partner_token_ttl = 0 })))
    end)

    it("counts token and API requests; reset clears them", function()
      sb:partner_api("GET", "/partner/accounts")
      sb:partner_api("GET", "/partner/webhooks/subscriptions")
      assert.are.same({ token_requests = 2, api_requests = 2 }, sb:partner_stats())
      sb:reset()
      assert.are.same({ token_requests = 0, api_requests = 0 }, sb:partner_stats())
    end)
  end)

  describe("partner auth", function()
    it("needs the partner's x-api-key (403 Forbidden without or with a wrong one)", function()
      local tok = sb:partner_token()
      local status, got = sb:curl{ path = "/v3/partner/accounts", token = tok }
      assert.are.equal(403, status)
      assert.are.same({ message = "Forbidden" }, got)
      status = sb:curl{ path = "/v3/partner/accounts", token = tok, headers = { "x-api-key: nope" } }
      assert.are.equal(403, status)
    end)

    it("answers 401 to an account token, no token or a garbage token", function()
      local key = { "x-api-key: " .. sb.partner.api_key }
      local status, got = sb:curl{ path = "/v3/partner/accounts", token = sb.token, headers = key }
      assert.are.equal(401, status)
      assert.are.same({ error_key = "unauthorized", error_message = "Unauthorized" }, got)
      assert.are.equal(401, (sb:curl{ path = "/v3/partner/accounts", headers = key }))
      assert.are.equal(401, (sb:curl{ path = "/v3/partner/accounts", token = "x.y.z", headers = key }))
      -- And a partner token is no account token.
      assert.are.equal(401, (sb:api("GET", "/contacts", nil, { token = sb:partner_token() })))
    end)

    it("answers 401 to tokens issued before /__sandbox/partner/revoke", function()
      local tok = sb:partner_token()
      assert.are.equal(200, (sb:partner_api("GET", "/partner/accounts", nil, nil, { token = tok })))
      sb:partner_revoke()
      assert.are.equal(401, (sb:partner_api("GET", "/partner/accounts", nil, nil, { token = tok })))
      assert.are.equal(200, (sb:partner_api("GET", "/partner/accounts")))
    end)
  end)

  describe("client accounts", function()
    it("provision: 201 with an encoded_account_id that is a real sandbox account", function()
      local id, got = provision({ organization_name = "Client Org", first_name = "Ada", last_name = "Lovelace" })
      assert.is_truthy(#id >= 10 and #id <= 20 and id:match(ID))
      assert.is_string(got.provision_uuid)
      sb:add_token("client-token", id)
      local status, summary = sb:api("GET", "/account/summary", nil, { token = "client-token" })
      assert.are.equal(200, status)
      assert.are.equal(id, summary.encoded_account_id)
      assert.are.equal("Client Org", summary.organization_name)
      assert.are.equal("owner@client.example", summary.contact_email)
    end)

    describe("provisioning rules (400 naming every bad field)", function()
      local function rejects(extra, field)
        local status, body = sb:partner_api("POST", "/partner/accounts", (function()
          local b = { contact_email = "o@client.example", country_code = "US", state_code = "MA",
                      login_name = "rule-user", password = "s3cret-password" }
          for k, v in pairs(extra) do
            if v == NONE then b[k] = nil else b[k] = v end
          end
          return b
        end)())
        assert.are.equal(400, status)
        assert.is_truthy(messages(body):find(field, 1, true), messages(body))
      end

      it("contact_email is required", function() rejects({ contact_email = NONE }, "contact_email") end)
      it("contact_email must be an email", function() rejects({ contact_email = "nope" }, "contact_email") end)
      it("country_code is required", function() rejects({ country_code = NONE }, "country_code") end)
      it("login_name is required", function() rejects({ login_name = NONE }, "login_name") end)
      it("state_code is required for US", function() rejects({ state_code = NONE }, "state_code") end)
      it("state_code is required for CA", function()
        rejects({ country_code = "CA", state_code = NONE }, "state_code")
      end)
      it("state_code must be blank elsewhere", function()
        rejects({ country_code = "FR", state_code = "MA" }, "state_code")
      end)
      it("login_name is at least 6 characters", function() rejects({ login_name = "abcde" }, "login_name") end)
      it("login_name is at most 50 characters", function()
        rejects({ login_name = string.rep("a", 51) }, "login_name")
      end)
      it("login_name has only letters, digits and -_@.+", function()
        rejects({ login_name = "bad name!" }, "login_name")
      end)
      it("password is required without SSO", function() rejects({ password = NONE }, "password") end)
      it("password is 8-80 characters", function() rejects({ password = "short" }, "password") end)
      it("contact_phone is 5-25 characters", function() rejects({ contact_phone = "1234" }, "contact_phone") end)
      it("organization_phone is 5-25 characters", function()
        rejects({ organization_phone = string.rep("1", 26) }, "organization_phone")
      end)
      it("website starts with http:// or https://", function()
        rejects({ website = "www.example.com" }, "website")
      end)

      it("every broken rule is reported at once", function()
        local status, body = sb:partner_api("POST", "/partner/accounts",
          { country_code = "FR", state_code = "XX", login_name = "ab", website = "ftp://x" })
        assert.are.equal(400, status)
        assert.are.equal(5, #body, messages(body))   -- contact_email, state_code, login_name, password, website
        for _, e in ipairs(body) do assert.are.equal("partner.api.validation.error", e.error_key) end
      end)

      it("accepts SSO (external_id + external_provider) without a password, and non-US without a state", function()
        provision({ password = NONE, external_id = "ext-1", external_provider = "PayPal" })
        provision({ country_code = "FR", state_code = NONE, website = "https://client.example" })
      end)

      it("a login_name in use is a 409", function()
        provision({ login_name = "taken-login" })
        local status, body = sb:partner_api("POST", "/partner/accounts",
          { contact_email = "o@client.example", country_code = "US", state_code = "MA",
            login_name = "taken-login", password = "s3cret-password" })
        assert.are.equal(409, status)
        assert.are.equal("partner.api.conflict", body[1].error_key)
      end)
    end)

    it("GET /partner/accounts lists, filters by account_type and pages with offset/limit", function()
      local managed = {}
      for i = 1, 11 do managed[i] = provision({ organization_name = "Org " .. i }) end
      local unmanaged = provision({ managed_site_owner = false })
      local status, page = sb:partner_api("GET", "/partner/accounts")
      assert.are.equal(200, status)
      assert.are.equal(12, #page.site_owner_list)
      assert.is_nil(page._links)
      local first = page.site_owner_list[1]
      assert.are.equal(managed[1], first.encoded_account_id)
      assert.are.equal("Org 1", first.organization_name)
      assert.are.equal("Trial", first.billing_status)
      assert.are.equal(0, first.subscriber_count)
      assert.is_string(first.site_owner_name)

      status, page = sb:partner_api("GET", "/partner/accounts?account_type=unmanaged")
      assert.are.equal(200, status)
      assert.are.equal(1, #page.site_owner_list)
      assert.are.equal(unmanaged, page.site_owner_list[1].encoded_account_id)
      status, page = sb:partner_api("GET", "/partner/accounts?account_type=managed&limit=10")
      assert.are.equal(200, status)
      assert.are.equal(10, #page.site_owner_list)
      assert.are.equal("/v3/partner/accounts?offset=10&limit=10&account_type=managed", page._links.next.href)
      status, page = sb:partner_api("GET", page._links.next.href)
      assert.are.equal(200, status)
      assert.are.equal(1, #page.site_owner_list)
      assert.are.equal(managed[11], page.site_owner_list[1].encoded_account_id)
      -- A limit outside 10-50 is ignored (the default, 50, applies).
      status, page = sb:partner_api("GET", "/partner/accounts?limit=5")
      assert.are.equal(200, status)
      assert.are.equal(12, #page.site_owner_list)
      assert.are.equal(400, (sb:partner_api("GET", "/partner/accounts?account_type=other")))
      -- An empty list is a JSON array.
      sb:reset()
      local q = sandbox.quote
      local raw = sandbox.run("curl -sS --compressed -H " .. q("Authorization: Bearer " .. sb:partner_token())
        .. " -H " .. q("x-api-key: " .. sb.partner.api_key) .. " " .. q(sb.url .. "/v3/partner/accounts"))
      assert.are.equal('{"site_owner_list":[]}', raw)
    end)

    it("one partner does not see another's accounts", function()
      local other = { client_id = "other-partner", client_secret = "other-secret", api_key = "other-key" }
      sb:add_partner(other)
      local id = provision()
      local status, page = sb:partner_api("GET", "/partner/accounts", nil, nil, { partner = other })
      assert.are.equal(200, status)
      assert.are.equal(0, #page.site_owner_list)
      assert.are.equal(404, (sb:partner_api("GET", "/partner/accounts/" .. id .. "/plan", nil, nil,
        { partner = other })))
      -- cancelAccount: another partner's account is a 400 (the spec's rule).
      assert.are.equal(400, (sb:partner_api("PUT", "/partner/accounts/" .. id .. "/status/cancel", {}, nil,
        { partner = other })))
      -- The other partner's key does not go with this partner's token.
      assert.are.equal(403, (sb:curl{ path = "/v3/partner/accounts", token = sb:partner_token(),
                                     headers = { "x-api-key: other-key" } }))
    end)

    it("encoded_account_id: malformed is 400, unknown is 404", function()
      assert.are.equal(400, (sb:partner_api("GET", "/partner/accounts/ABC/plan")))
      assert.are.equal(400, (sb:partner_api("GET", "/partner/accounts/short/plan")))
      assert.are.equal(400, (sb:partner_api("GET", "/partner/accounts/" .. string.rep("a", 21) .. "/plan")))
      local status, body = sb:partner_api("GET", "/partner/accounts/a07e1nosuchacct/plan")
      assert.are.equal(404, status)
      assert.are.equal("partner.api.not.found", body[1].error_key)
    end)

    it("plan: GET shows TRIAL; PUT to a paid plan opens billing; back to TRIAL is a 400", function()
      local id = provision()
      local path = "/partner/accounts/" .. id .. "/plan"
      local status, plan = sb:partner_api("GET", path)
      assert.are.equal(200, status)
      assert.are.equal("TRIAL", plan.plan_type)
      assert.are.equal("Trial", plan.billing_status)
      assert.are.equal(cjson.null, plan.billing_day_of_month)
      assert.are.equal("CONTACTS", plan.current_tiers[1].usage_type)
      assert.are.equal(1, plan.current_tiers[1].tier)
      status, plan = sb:partner_api("PUT", path, { plan_type = "GOLD", billing_day_of_month = 5 })
      assert.are.equal(200, status)
      assert.are.equal("GOLD", plan.plan_type)
      assert.are.equal("Open", plan.billing_status)
      assert.are.equal(5, plan.billing_day_of_month)
      -- billing_day_of_month changes only when leaving TRIAL.
      status, plan = sb:partner_api("PUT", path, { plan_type = "SILVER", billing_day_of_month = 9 })
      assert.are.equal(200, status)
      assert.are.equal("SILVER", plan.plan_type)
      assert.are.equal(5, plan.billing_day_of_month)
      assert.are.equal(400, (sb:partner_api("PUT", path, { plan_type = "TRIAL" })))
      assert.are.equal(400, (sb:partner_api("PUT", path, { plan_type = "PLATINUM" })))
      assert.are.equal(400, (sb:partner_api("PUT", path, { billing_day_of_month = 32 })))
    end)

    it("cancel: 200 with the cancellation, the account shows Canceled, twice is a 400", function()
      local id = provision()
      local path = "/partner/accounts/" .. id .. "/status/cancel"
      local status, got = sb:partner_api("PUT", path, { reason_id = 2, effective_date = "2030-01-01T00:00:00Z" })
      assert.are.equal(200, status)
      assert.are.same({ reason_id = 2, effective_date = "2030-01-01T00:00:00Z" }, got)
      local _, page = sb:partner_api("GET", "/partner/accounts")
      assert.are.equal("Canceled", page.site_owner_list[1].billing_status)
      assert.are.equal(400, (sb:partner_api("PUT", path, {})))
      local other = provision()
      assert.are.equal(400, (sb:partner_api("PUT", "/partner/accounts/" .. other .. "/status/cancel",
        { reason_id = 99 })))
      -- No body at all: cancelled now.
      status, got = sb:curl{ method = "PUT", path = "/v3/partner/accounts/" .. other .. "/status/cancel",
                             token = sb:partner_token(), headers = { "x-api-key: " .. sb.partner.api_key } }
      assert.are.equal(200, status)
      assert.is_string(got.effective_date)
    end)

    it("SSO user: 201; every field required; a login name in use is a 409", function()
      local id = provision()
      local path = "/partner/accounts/" .. id .. "/users/sso"
      local user = { first_name = "Sam", last_name = "Sso", role_name = "campaign_creator",
                     contact_email = "sam@client.example", login_name = "sam-sso", external_id = "e-1",
                     external_provider = "PayPal" }
      local status, got = sb:partner_api("POST", path, user)
      assert.are.equal(201, status)
      assert.are.equal("sam-sso", got.login_name)
      assert.are.equal(409, (sb:partner_api("POST", path, user)))
      for _, field in ipairs({ "first_name", "last_name", "role_name", "contact_email", "login_name",
                               "external_id", "external_provider" }) do
        local b = {}
        for k, v in pairs(user) do b[k] = v end
        b.login_name = "other-login"
        b[field] = nil
        local s, body = sb:partner_api("POST", path, b)
        assert.are.equal(400, s, field)
        assert.is_truthy(messages(body):find(field, 1, true), field)
      end
      user.login_name, user.role_name = "someone-else", "admin"
      assert.are.equal(400, (sb:partner_api("POST", path, user)))
    end)

    it("contacts/unsubscribe: unsubscribes in the account, or globally in every account", function()
      local a, b = provision(), provision()
      sb:add_token("tok-a", a)
      sb:add_token("tok-b", b)
      for _, tok in ipairs({ "tok-a", "tok-b" }) do
        for _, email in ipairs({ "one@x.example", "two@x.example" }) do
          assert.are.equal(201, (sb:api("POST", "/contacts",
            { email_address = { address = email }, create_source = "Account" }, { token = tok })))
        end
      end
      local status, got = sb:partner_api("POST", "/partner/accounts/" .. a .. "/contacts/unsubscribe",
        { email_addresses = { "one@x.example", "nobody@x.example" }, update_source = "Account",
          opt_out_reason = "moved" })
      assert.are.equal(200, status)
      assert.are.same({ unsubscribed_count = 1 }, got)
      local _, counts = sb:api("GET", "/contacts/counts", nil, { token = "tok-a" })
      assert.are.equal(1, counts.unsubscribed)
      _, counts = sb:api("GET", "/contacts/counts", nil, { token = "tok-b" })
      assert.are.equal(0, counts.unsubscribed)

      status, got = sb:partner_api("POST", "/partner/accounts/" .. a .. "/contacts/unsubscribe",
        { email_addresses = { "two@x.example" }, update_source = "System", global_unsubscribe = true })
      assert.are.equal(200, status)
      assert.are.same({ unsubscribed_count = 2 }, got)
      _, counts = sb:api("GET", "/contacts/counts", nil, { token = "tok-b" })
      assert.are.equal(1, counts.unsubscribed)

      assert.are.equal(400, (sb:partner_api("POST", "/partner/accounts/" .. a .. "/contacts/unsubscribe",
        { email_addresses = { "one@x.example" } })))
      assert.are.equal(400, (sb:partner_api("POST", "/partner/accounts/" .. a .. "/contacts/unsubscribe",
        { email_addresses = { "a@x.example", "b@x.example" }, update_source = "Account",
          global_unsubscribe = true })))
    end)
  end)

  describe("account_operations/sync", function()
    local function sync(id, op, opts)
      return sb:partner_api("POST", "/partner/accounts/" .. id .. "/account_operations/sync", op, nil, opts)
    end

    it("runs a V3 call as the client account; the result is its own", function()
      local id = provision()
      local status, contact = sync(id, {
        account_operation_url = "/contacts", account_operation_method = "POST",
        account_operation_payload = cjson.encode({ email_address = { address = "synced@x.example" },
                                                   create_source = "Account" }),
        account_operation_headers = { { header_key = "Content-Type", header_value = "application/json" } },
      })
      assert.are.equal(201, status)
      assert.are.equal("synced@x.example", contact.email_address.address)

      -- Visible to a token for the client account, not to the default account.
      sb:add_token("client-tok", id)
      local s, got = sb:api("GET", "/contacts/" .. contact.contact_id, nil, { token = "client-tok" })
      assert.are.equal(200, s)
      assert.are.equal("synced@x.example", got.email_address.address)
      assert.are.equal(404, (sb:api("GET", "/contacts/" .. contact.contact_id)))

      -- Path and query parameters.
      status, got = sync(id, {
        account_operation_url = "/contacts/{contact_id}", account_operation_method = "GET",
        account_operation_path_parameters = {
          { path_param_key = "contact_id", path_param_value = contact.contact_id } },
        account_operation_query_parameters = {
          { query_param_key = "include", query_param_value = "list_memberships" } },
      })
      assert.are.equal(200, status)
      assert.are.equal(contact.contact_id, got.contact_id)
      assert.are.same({}, got.list_memberships)

      -- The forwarded call's errors are the answer.
      status, got = sync(id, { account_operation_url = "/contacts/{contact_id}", account_operation_method = "GET",
        account_operation_path_parameters = { { path_param_key = "contact_id",
                                                path_param_value = "00000000-0000-4000-8000-000000000000" } } })
      assert.are.equal(404, status)
      assert.is_string(got[1].error_key)
      status = sync(id, { account_operation_url = "/contacts", account_operation_method = "POST",
                          account_operation_payload = "{not json" })
      assert.are.equal(400, status)
      status = sync(id, { account_operation_url = "/contacts/{contact_id}", account_operation_method = "DELETE",
        account_operation_path_parameters = {
          { path_param_key = "contact_id", path_param_value = contact.contact_id } } })
      assert.are.equal(204, status)
    end)

    it("checks the request: required fields, unknown routes, partner routes, missing path values", function()
      local id = provision()
      assert.are.equal(400, (sync(id, { account_operation_method = "GET" })))
      assert.are.equal(400, (sync(id, { account_operation_url = "/contacts" })))
      assert.are.equal(400, (sync(id, { account_operation_url = "/contacts", account_operation_method = "TRACE" })))
      assert.are.equal(404, (sync(id, { account_operation_url = "/nothing/here", account_operation_method = "GET" })))
      assert.are.equal(405, (sync(id, { account_operation_url = "/contacts", account_operation_method = "PATCH" })))
      assert.are.equal(400, (sync(id, { account_operation_url = "/partner/accounts",
                                        account_operation_method = "GET" })))
      assert.are.equal(400, (sync(id, { account_operation_url = "/contacts/{contact_id}",
                                        account_operation_method = "GET" })))
    end)

    it("only for this partner's managed accounts (403), known ones (404)", function()
      local unmanaged = provision({ managed_site_owner = false })
      local op = { account_operation_url = "/contacts", account_operation_method = "GET" }
      assert.are.equal(403, (sync(unmanaged, op)))
      assert.are.equal(404, (sync("a07e1nosuchacct", op)))
      local other = { client_id = "other-partner", client_secret = "other-secret", api_key = "other-key" }
      sb:add_partner(other)
      local mine = provision()
      assert.are.equal(403, (sync(mine, op, { partner = other })))
      assert.are.equal(200, (sync(mine, op)))
    end)
  end)

  describe("webhooks", function()
    local function subs(path, method, body)
      return sb:partner_api(method or "GET", "/partner/webhooks/subscriptions" .. (path or ""), body)
    end

    it("lists topics 1-4, subscribes, shows, unsubscribes", function()
      local status, list = subs()
      assert.are.equal(200, status)
      assert.are.equal(4, #list)
      for i, t in ipairs(list) do
        assert.are.equal(i, t.topic_id)
        assert.is_string(t.topic_name)
        assert.is_nil(t.hook_uri)
      end
      local uri = "https://partner.example/hooks/tier"
      local got, _
      status, got = subs("/1", "PUT", { callback_uri = uri })
      assert.are.equal(200, status)
      assert.are.same({ topic_id = 1, hook_uri = uri, callback_uri = uri }, got)
      -- The spec's name for the field works too.
      status, got = subs("/2", "PUT", { hook_uri = uri .. "2" })
      assert.are.equal(200, status)
      assert.are.equal(uri .. "2", got.callback_uri)
      status, got = subs("/1")
      assert.are.equal(200, status)
      assert.are.equal(uri, got.callback_uri)
      assert.are.equal(uri, got.hook_uri)
      _, list = subs()
      assert.are.equal(uri, list[1].callback_uri)
      assert.is_nil(list[3].callback_uri)
      assert.are.equal(204, (subs("/1", "DELETE")))
      _, got = subs("/1")
      assert.is_nil(got.callback_uri)
      assert.are.equal(404, (subs("/1", "DELETE")))
    end)

    it("rejects bad topics and callback URIs", function()
      assert.are.equal(404, (subs("/5")))
      assert.are.equal(400, (subs("/abc")))
      assert.are.equal(400, (subs("/1", "PUT", { callback_uri = "ftp://x.example/" })))
      assert.are.equal(400, (subs("/1", "PUT", {})))
      assert.are.equal(404, (subs("/1/tests", "POST")))
    end)

    it("test send POSTs a signed notification that ctct.webhooks.verify accepts", function()
      local id = provision()
      assert.are.equal(200, (subs("/3", "PUT", { callback_uri = sb:webhook_sink_url("hook3") })))
      local status, got = subs("/3/tests", "POST")
      assert.are.equal(201, status)
      assert.are.equal(3, got.topic_id)
      assert.are.equal(sb:webhook_sink_url("hook3"), got.hook_uri)
      local received = sb:webhook_sink("hook3")
      assert.are.equal(1, #received)
      local r = received[1]
      local note = cjson.decode(r.body)
      assert.are.equal("account.cancel", note.event_type)
      assert.are.equal(3, note.topic_id)
      assert.are.equal(id, note.account_id)
      assert.are.equal(sb.url .. "/v3/partner/accounts/" .. id .. "/plan", note.url)
      assert.is_truthy(note.time:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"))
      assert.are.equal("application/json", r.headers["content-type"])
      local sig = r.headers["x-ctct-webhook-sig"]
      assert.is_truthy(sig:match("^[%w_-]+%.%.[%w_-]+$"))

      local webhooks = require "ctct.webhooks"
      local ok, err = webhooks.verify(r.body, r.headers, { jwks = sb.webhook_jwks_url })
      assert.is_truthy(ok, tostring(err))
      local bad = webhooks.verify(r.body:gsub("cancel", "disable"), r.headers, { jwks = sb.webhook_jwks_url })
      assert.is_nil(bad)
      -- The notification's url is fetchable with partner credentials.
      assert.are.equal(200, (sb:partner_api("GET", note.url:sub(#sb.url + 1))))
    end)

    it("test send fails with 502 when the callback fails or cannot be reached", function()
      assert.are.equal(200, (subs("/1", "PUT", { callback_uri = sb.url .. "/nowhere" })))
      local status, got = subs("/1/tests", "POST")
      assert.are.equal(502, status)
      assert.are.equal("partner.webhooks.callback.failed", got[1].error_key)
      assert.are.equal(200, (subs("/1", "PUT", { callback_uri = "http://127.0.0.1:1/hook" })))
      status, got = subs("/1/tests", "POST")
      assert.are.equal(502, status)
      assert.are.equal("partner.webhooks.callback.unreachable", got[1].error_key)
    end)

    it("cancelling an account notifies the account.cancel subscriber", function()
      local id = provision()
      assert.are.equal(200, (subs("/3", "PUT", { callback_uri = sb:webhook_sink_url("cancels") })))
      assert.are.equal(200, (sb:partner_api("PUT", "/partner/accounts/" .. id .. "/status/cancel", {})))
      local received
      for _ = 1, 50 do
        received = sb:webhook_sink("cancels")
        if #received > 0 then break end
        sandbox.run("sleep 0.05")
      end
      assert.are.equal(1, #received)
      assert.are.equal(id, cjson.decode(received[1].body).account_id)
    end)
  end)

  describe("webhook sink", function()
    it("keeps raw bodies and lower-case headers; DELETE forgets them", function()
      local status = sb:curl{ method = "POST", path = "/__sandbox/webhook-sink/raw", body = "not json \1",
                              content_type = "text/plain", headers = { "X-Custom: Yes" } }
      assert.are.equal(204, status)
      local got = sb:webhook_sink("raw")
      assert.are.equal("not json \1", got[1].body)
      assert.are.equal("Yes", got[1].headers["x-custom"])
      assert.are.equal(204, (sb:admin("DELETE", "/__sandbox/webhook-sink/raw")))
      assert.are.equal(0, #sb:webhook_sink("raw"))
      assert.are.equal(400, (sb:admin("GET", "/__sandbox/webhook-sink/bad%20name")))
    end)
  end)
end)
