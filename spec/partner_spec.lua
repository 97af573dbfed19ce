-- Technology partners: the partner token (C request builder + ctct.oauth), the
-- partner client (token cache, x-api-key, 401 re-auth, single flight),
-- provisioning validation, on-behalf-of (account_operations/sync) requests,
-- partner webhooks and ctct.webhooks.parse. Unit parts run on a scripted
-- transport; the "against the sandbox" parts start one.
local cjson = require "cjson"
local core = require "ctct.core"
local oauth = require "ctct.oauth"
local partner_mod = require "ctct.partner"
local webhooks = require "ctct.webhooks"
local fake = require "spec.helpers.fake_transport"

local SECRET = "partner-SECRET-xyz"
local BASE = "https://api.example.test/v3"
local TOKEN_URL = "https://auth.example.test/oauth2/token"
local ACCOUNT = "a07e1ikxyomhd4la0o"

local function answer(status, body, headers)
  headers = headers or {}
  headers["content-type"] = headers["content-type"] or "application/json"
  return { status = status, body = type(body) == "table" and cjson.encode(body) or body or "", headers = headers }
end

-- A fake transport routing by URL: token requests get jwt-1, jwt-2, ...;
-- everything else goes to `api(req)` (default 200 {}).
local function routed(api, token_answer)
  local script = {}
  local t = fake.new(script)
  t.token_requests, t.api_requests = 0, {}
  local function route(req)
    if req.url:sub(1, #TOKEN_URL) == TOKEN_URL then
      t.token_requests = t.token_requests + 1
      if token_answer then return token_answer(req, t.token_requests) end
      return answer(200, { access_token = "jwt-" .. t.token_requests, token_type = "Bearer", expires_in = 3600 })
    end
    t.api_requests[#t.api_requests + 1] = req
    if api then return api(req, #t.api_requests) end
    return answer(200, "{}")
  end
  for i = 1, 400 do script[i] = route end
  return t
end

local function new_partner(t, opts)
  local o = { client_id = "pid", secret = SECRET, api_key = "the-api-key", token_url = TOKEN_URL,
              base_url = BASE, transport = t, rate_limit = false, retry = false }
  for k, v in pairs(opts or {}) do o[k] = v end
  return partner_mod.new(o)
end

local function valid_account(over)
  local a = { contact_email = "owner@example.com", login_name = "hank_smith", password = "correct horse 9",
              country_code = "US", state_code = "MA", organization_name = "Hanks Fresh Fruit",
              contact_phone = "588-768-6868", website = "https://hank.example.com", first_name = "Hank",
              last_name = "Smith" }
  for k, v in pairs(over or {}) do
    if v == cjson.null then a[k] = nil else a[k] = v end
  end
  return a
end

describe("the partner token request", function()
  it("is built in C: POST, Basic of the form-encoded id and secret, a form body", function()
    local req = core.oauth_client_credentials_request(TOKEN_URL, "id+1", "s:e/c%")
    assert.equal("POST", req.method)
    assert.equal(TOKEN_URL, req.url)
    assert.equal("application/x-www-form-urlencoded", req.headers["Content-Type"])
    assert.equal("grant_type=client_credentials&scope=v3api/general.partner", req.body)
    local b64 = req.headers.Authorization:match("^Basic (.+)$")
    assert.equal("id%2B1:s%3Ae%2Fc%25", core.b64_decode(b64))
  end)

  it("refuses an empty id or secret without quoting the secret", function()
    assert.has_error(function() core.oauth_client_credentials_request(TOKEN_URL, "", "s") end)
    local ok, msg = pcall(core.oauth_client_credentials_request, TOKEN_URL, "id", "")
    assert.is_false(ok)
    assert.matches("secret", msg)
  end)

  it("oauth.client_credentials returns a token with its expiry", function()
    local t = routed()
    local tok = assert(oauth.client_credentials { client_id = "pid", client_secret = SECRET, token_url = TOKEN_URL,
                                                  transport = t })
    assert.equal("jwt-1", tok.access_token)
    assert.equal(t.time() + 3600, tok.expires_at)
    assert.equal("grant_type=client_credentials&scope=v3api/general.partner", t.requests[1].body)
  end)

  it("defaults to Constant Contact's partner token URL", function()
    local t = fake.new { answer(200, { access_token = "x", expires_in = 3600 }) }
    assert(oauth.client_credentials { client_id = "pid", client_secret = SECRET, transport = t })
    assert.equal("https://v3api-partner.auth.us-east-1.amazoncognito.com/oauth2/token", t.requests[1].url)
  end)

  it("reports the server's OAuth error as kind auth, never with the secret", function()
    local t = fake.new { answer(400, { error = "invalid_client", error_description = "bad secret " .. SECRET }) }
    local tok, err = oauth.client_credentials { client_id = "pid", client_secret = SECRET, token_url = TOKEN_URL,
                                                transport = t }
    assert.is_nil(tok)
    assert.equal("auth", err.kind)
    assert.equal("invalid_client", err.error_key)
    assert.falsy(tostring(err):find(SECRET, 1, true))
    assert.falsy(err.message:find(SECRET, 1, true))
  end)

  it("names a 415 without an OAuth error", function()
    local t = fake.new { answer(415, "") }
    local _, err = oauth.client_credentials { client_id = "pid", client_secret = SECRET, token_url = TOKEN_URL,
                                              transport = t }
    assert.equal("auth", err.kind)
    assert.equal("unsupported_media_type", err.error_key)
  end)
end)

describe("ctct.partner.new", function()
  it("raises naming a missing api_key, client_id or secret", function()
    for _, name in ipairs { "api_key", "client_id", "secret" } do
      local o = { client_id = "pid", secret = SECRET, api_key = "k", transport = routed() }
      o[name] = nil
      local ok, msg = pcall(partner_mod.new, o)
      assert.is_false(ok)
      assert.matches("missing option '" .. name .. "'", msg, 1, true)
      assert.falsy(msg:find(SECRET, 1, true))
    end
  end)

  it("refuses client options a partner cannot use and unknown ones", function()
    assert.has_error(function() new_partner(routed(), { access_token = "x" }) end)
    assert.has_error(function() new_partner(routed(), { acess_token = "x" }) end)
  end)

  it("sends the partner JWT and x-api-key on every call, with one token request for 100 calls", function()
    local t = routed()
    local p = new_partner(t)
    for _ = 1, 100 do assert(p:request("GET", "/partner/webhooks/subscriptions")) end
    assert.equal(1, t.token_requests)
    assert.equal(100, #t.api_requests)
    for _, req in ipairs(t.api_requests) do
      assert.equal("Bearer jwt-1", req.headers.Authorization)
      assert.equal("the-api-key", req.headers["x-api-key"])
    end
    assert.falsy(tostring(p):find(SECRET, 1, true))
    assert.falsy(tostring(p.tokens):find(SECRET, 1, true))
  end)

  it("gets a new token shortly before the old one expires (fake clock)", function()
    local t = routed()
    local p = new_partner(t)
    assert(p:request("GET", "/partner/accounts"))
    t.clock_now = t.clock_now + 3500
    assert(p:request("GET", "/partner/accounts"))
    assert.equal(1, t.token_requests)
    t.clock_now = t.clock_now + 60 -- 3560 s: inside the 60 s skew
    assert(p:request("GET", "/partner/accounts"))
    assert.equal(2, t.token_requests)
    assert.equal("Bearer jwt-2", t.api_requests[3].headers.Authorization)
  end)

  it("gets a new token once after a 401 and retries the call", function()
    local t = routed(function(req, n)
      if n == 2 then return answer(401, { error_key = "unauthorized", error_message = "Unauthorized" }) end
      return answer(200, { ok = req.headers.Authorization })
    end)
    local p = new_partner(t)
    assert(p:request("GET", "/partner/accounts"))
    local data = assert(p:request("GET", "/partner/accounts"))
    assert.equal("Bearer jwt-2", data.ok)
    assert.equal(2, t.token_requests)
    -- a second 401 in a row is reported, not retried forever
    local t2 = routed(function() return answer(401, { error_key = "unauthorized" }) end)
    local p2 = new_partner(t2)
    local none, err = p2:request("GET", "/partner/accounts")
    assert.is_nil(none)
    assert.equal(401, err.status)
    assert.equal(2, t2.token_requests)
  end)

  it("reports a refused token request as an auth error without the secret", function()
    local t = routed(nil, function() return answer(400, { error = "invalid_client" }) end)
    local p = new_partner(t)
    local data, err = p:request("GET", "/partner/accounts")
    assert.is_nil(data)
    assert.equal("auth", err.kind)
    assert.equal("invalid_client", err.error_key)
    assert.falsy(tostring(err):find(SECRET, 1, true))
    assert.equal(0, #t.api_requests)
  end)

  it("makes one token request when several coroutines need one at once", function()
    local t = routed(nil, function(_, n)
      coroutine.yield("in flight") -- the token request is under way; others run
      return answer(200, { access_token = "jwt-" .. n, expires_in = 3600 })
    end)
    local p = new_partner(t, { sleep = function() coroutine.yield("waiting") end })
    local cos = {}
    for i = 1, 5 do
      cos[i] = coroutine.create(function() assert(p:request("GET", "/partner/accounts")) end)
    end
    local running = true
    while running do
      running = false
      for _, co in ipairs(cos) do
        if coroutine.status(co) ~= "dead" then
          assert(coroutine.resume(co))
          running = true
        end
      end
    end
    assert.equal(1, t.token_requests)
    assert.equal(5, #t.api_requests)
    for _, req in ipairs(t.api_requests) do assert.equal("Bearer jwt-1", req.headers.Authorization) end
  end)
end)

describe("partner.accounts:create validation", function()
  local function check(over, field, rule)
    local t = routed()
    local p = new_partner(t)
    local data, err = p.accounts:create(valid_account(over))
    assert.is_nil(data)
    assert.equal("validation", err.kind)
    local found = false
    for _, d in ipairs(err.details) do
      if d.field == field and d.rule == rule then found = true end
    end
    assert.is_true(found, "expected " .. field .. "/" .. rule .. " in: " .. err.message)
    assert.matches(field, err.message, 1, true)
    assert.equal(0, #t.api_requests)
    assert.equal(0, t.token_requests)
  end

  it("sends a valid account", function()
    local t = routed(function() return answer(201, { encoded_account_id = ACCOUNT, provision_uuid = "u" }) end)
    local p = new_partner(t)
    local data = assert(p.accounts:create(valid_account()))
    assert.equal(ACCOUNT, data.encoded_account_id)
    local req = t.api_requests[1]
    assert.equal("POST", req.method)
    assert.equal(BASE .. "/partner/accounts", req.url)
    assert.equal("owner@example.com", cjson.decode(req.body).contact_email)
  end)

  it("requires contact_email", function() check({ contact_email = cjson.null }, "contact_email", "required") end)
  it("checks the email format", function() check({ contact_email = "not-an-email" }, "contact_email", "format") end)
  it("limits contact_email to 80", function()
    check({ contact_email = ("a"):rep(75) .. "@x.com" }, "contact_email", "length")
  end)
  it("requires login_name", function() check({ login_name = cjson.null }, "login_name", "required") end)
  it("needs login_name of 6 or more", function() check({ login_name = "hank" }, "login_name", "length") end)
  it("needs login_name of 50 or fewer", function() check({ login_name = ("h"):rep(51) }, "login_name", "length") end)
  it("limits login_name characters", function() check({ login_name = "hank smith!" }, "login_name", "characters") end)
  it("requires country_code", function() check({ country_code = cjson.null }, "country_code", "required") end)
  it("checks country_code", function() check({ country_code = "usa" }, "country_code", "format") end)
  it("requires state_code for US", function() check({ state_code = cjson.null }, "state_code", "required") end)
  it("requires state_code for CA", function()
    check({ country_code = "CA", state_code = cjson.null }, "state_code", "required")
  end)
  it("checks the US state", function() check({ state_code = "ZZ" }, "state_code", "unknown_state") end)
  it("checks the Canadian province", function()
    check({ country_code = "CA", state_code = "MA" }, "state_code", "unknown_state")
  end)
  it("checks the state format", function() check({ state_code = "ma" }, "state_code", "format") end)
  it("wants state_code blank outside US and CA", function()
    check({ country_code = "GB", state_code = "MA" }, "state_code", "blank")
  end)
  it("accepts GB without a state", function()
    local p = new_partner(routed(function() return answer(201, { encoded_account_id = ACCOUNT }) end))
    assert(p.accounts:create(valid_account { country_code = "GB", state_code = cjson.null }))
  end)
  it("requires a password without SSO", function() check({ password = cjson.null }, "password", "required") end)
  it("needs a password of 8 or more", function() check({ password = "short" }, "password", "length") end)
  it("needs a password of 80 or fewer", function() check({ password = ("p"):rep(81) }, "password", "length") end)
  it("takes no password with SSO", function()
    check({ external_id = "123", external_provider = "Yahoo" }, "password", "sso")
  end)
  it("accepts SSO without a password", function()
    local p = new_partner(routed(function() return answer(201, { encoded_account_id = ACCOUNT }) end))
    assert(p.accounts:create(valid_account { password = cjson.null, external_id = "1", external_provider = "Yahoo" }))
  end)
  it("checks contact_phone 5-25", function() check({ contact_phone = "123" }, "contact_phone", "length") end)
  it("checks organization_phone 5-25", function()
    check({ organization_phone = ("1"):rep(26) }, "organization_phone", "length")
  end)
  it("checks organization_name 1-50", function()
    check({ organization_name = ("o"):rep(51) }, "organization_name", "length")
  end)
  it("checks first_name 2-80", function() check({ first_name = "H" }, "first_name", "length") end)
  it("checks last_name 2-80", function() check({ last_name = ("s"):rep(81) }, "last_name", "length") end)
  it("checks the website scheme", function() check({ website = "ftp://hank.example.com" }, "website", "scheme") end)
  it("checks billing_locale", function() check({ billing_locale = "fr_FR" }, "billing_locale", "enum") end)
  it("checks boolean fields", function() check({ gdpr_opt_out = "yes" }, "gdpr_opt_out", "type") end)
  it("checks field types", function() check({ login_name = 123456 }, "login_name", "type") end)
  it("names unknown fields", function() check({ contact_mail = "x@y.com" }, "contact_mail", "unknown") end)

  it("reports five invalid fields at once, all named in one error", function()
    local p = new_partner(routed())
    local _, err = p.accounts:create(valid_account {
      contact_email = "nope", login_name = "a b", password = "short", state_code = cjson.null, website = "hank.com",
    })
    assert.equal("validation", err.kind)
    assert.equal(5, #err.details)
    for _, f in ipairs { "contact_email", "login_name", "password", "state_code", "website" } do
      assert.matches(f, err.message, 1, true)
    end
    assert.matches("5 invalid fields", err.message, 1, true)
  end)

  it("never puts the password in the error", function()
    local p = new_partner(routed())
    local _, err = p.accounts:create(valid_account { password = "sekrit!" })
    assert.falsy(tostring(err):find("sekrit!", 1, true))
  end)
end)

describe("partner.accounts", function()
  it("checks encoded_account_id before sending", function()
    local t = routed()
    local p = new_partner(t)
    for _, bad in ipairs { "ABCDEFGHIJK", "short", ("a"):rep(21), "abc/../defgh", 42 } do
      local data, err = p.accounts:plan(bad)
      assert.is_nil(data)
      assert.equal("validation", err.kind)
      assert.matches("encoded_account_id", err.message, 1, true)
    end
    assert.has_error(function() p:as_client("Not-Valid") end)
    assert.equal(0, #t.api_requests)
  end)

  it("lists accounts page by page with the account_type filter", function()
    local t = routed(function(_, n)
      if n == 1 then
        return answer(200, { site_owner_list = { { encoded_account_id = "a" }, { encoded_account_id = "b" } },
                             _links = { next = { href = "/v3/partner/accounts?offset=2&account_type=managed" } } })
      end
      return answer(200, { site_owner_list = { { encoded_account_id = "c" } } })
    end)
    local p = new_partner(t)
    local ids = {}
    for a in p.accounts:each { account_type = "managed" } do ids[#ids + 1] = a.encoded_account_id end
    assert.same({ "a", "b", "c" }, ids)
    assert.equal(BASE .. "/partner/accounts?account_type=managed", t.api_requests[1].url)
    local _, err = p.accounts:list { account_type = "mine" }
    assert.equal("validation", err.kind)
  end)

  it("sets plans, cancels, adds SSO users and unsubscribes contacts with checked bodies", function()
    local t = routed(function(req)
      return answer(200, { echo = req.body and cjson.decode(req.body) or cjson.null })
    end)
    local p = new_partner(t)
    local data = assert(p.accounts:set_plan(ACCOUNT, { plan_type = "GOLD", billing_day_of_month = 15 }))
    assert.same({ plan_type = "GOLD", billing_day_of_month = 15 }, data.echo)
    assert.equal("PUT", t.api_requests[1].method)
    assert.equal(BASE .. "/partner/accounts/" .. ACCOUNT .. "/plan", t.api_requests[1].url)
    local _, err = p.accounts:set_plan(ACCOUNT, { plan_type = "PLATINUM", billing_day_of_month = 32 })
    assert.equal(2, #err.details)
    data = assert(p.accounts:cancel(ACCOUNT, 2))
    assert.same({ reason_id = 2 }, data.echo)
    assert.equal(BASE .. "/partner/accounts/" .. ACCOUNT .. "/status/cancel", t.api_requests[2].url)
    _, err = p.accounts:cancel(ACCOUNT, 4)
    assert.equal("reason_id", err.details[1].field)
    _, err = p.accounts:create_sso_user(ACCOUNT, { first_name = "J" })
    assert.equal("validation", err.kind)
    assert.equal(6, #err.details)
    assert(p.accounts:create_sso_user(ACCOUNT, { first_name = "Josie", last_name = "Lang",
      role_name = "campaign_creator", contact_email = "josie@example.com", login_name = "josie.lang",
      external_id = "1", external_provider = "Yahoo" }))
    _, err = p.accounts:unsubscribe_contacts(ACCOUNT, { email_addresses = { "a@b.com", "c@d.com" },
                                                        global_unsubscribe = true })
    assert.equal(2, #err.details) -- update_source missing, global with two addresses
    assert(p.accounts:unsubscribe_contacts(ACCOUNT, { email_addresses = { "a@b.com" }, update_source = "Account" }))
    assert.equal(4, #t.api_requests)
  end)
end)

describe("partner:as_client", function()
  it("sends each request through account_operations/sync with the spec's body", function()
    local t = routed(function() return answer(200, { contact_id = "c1" }) end)
    local p = new_partner(t)
    local client = p:as_client(ACCOUNT)
    local id = "04fe9a3e-a579-43c5-bb1a-58ed29bf0a6a"
    local data = assert(client.contacts:get(id, { include = { "list_memberships", "taggings" } }))
    assert.equal("c1", data.contact_id)
    local req = t.api_requests[1]
    assert.equal("POST", req.method)
    assert.equal(BASE .. "/partner/accounts/" .. ACCOUNT .. "/account_operations/sync", req.url)
    assert.equal("Bearer jwt-1", req.headers.Authorization)
    assert.equal("the-api-key", req.headers["x-api-key"])
    assert.equal("application/json", req.headers["Content-Type"])
    local op = cjson.decode(req.body)
    assert.equal("/contacts/{contact_id}", op.account_operation_url)
    assert.equal("GET", op.account_operation_method)
    assert.same({ { path_param_key = "contact_id", path_param_value = id } }, op.account_operation_path_parameters)
    assert.same({ { query_param_key = "include", query_param_value = "list_memberships,taggings" } },
      op.account_operation_query_parameters)
    assert.is_nil(op.account_operation_payload)
    for _, h in ipairs(op.account_operation_headers) do
      assert.not_equal("authorization", h.header_key:lower())
      assert.not_equal("x-api-key", h.header_key:lower())
    end
  end)

  it("sends a body as a JSON string and keeps the answer's status", function()
    local t = routed(function(_, n)
      if n == 1 then return answer(201, { contact_id = "c2" }) end
      return answer(409, { { error_key = "contacts.api.conflict", error_message = "exists" } })
    end)
    local client = new_partner(t):as_client(ACCOUNT)
    local body = { email_address = { address = "a@example.com" }, create_source = "Account" }
    local data, res = client:request("POST", "/contacts", { body = body })
    assert.equal("c2", data.contact_id)
    assert.equal(201, res.status)
    local op = cjson.decode(t.api_requests[1].body)
    assert.equal("/contacts", op.account_operation_url)
    assert.equal("string", type(op.account_operation_payload))
    assert.same(body, cjson.decode(op.account_operation_payload))
    local _, err = client:request("POST", "/contacts", { body = body })
    assert.equal(409, err.status)
  end)

  it("decodes query values for the query parameter objects", function()
    local t = routed(function() return answer(200, { contacts = {} }) end)
    local client = new_partner(t):as_client(ACCOUNT)
    assert(client.contacts:list { email = "a+b@example.com", status = { "all" } })
    local op = cjson.decode(t.api_requests[1].body)
    assert.equal("/contacts", op.account_operation_url)
    local q = {}
    for _, p in ipairs(op.account_operation_query_parameters) do q[p.query_param_key] = p.query_param_value end
    assert.same({ email = "a+b@example.com", status = "all" }, q)
  end)

  it("falls back to the literal path when no operation matches, and reuses the partner token", function()
    local t = routed()
    local p = new_partner(t)
    assert(p:request("GET", "/partner/accounts"))
    local client = p:as_client(ACCOUNT)
    assert(client:request("GET", "/not/an/operation?x=1&x=2"))
    local op = cjson.decode(t.api_requests[2].body)
    assert.equal("/not/an/operation", op.account_operation_url)
    assert.same({ { query_param_key = "x", query_param_value = "1" },
                  { query_param_key = "x", query_param_value = "2" } }, op.account_operation_query_parameters)
    assert.equal(1, t.token_requests)
    assert.equal(ACCOUNT, client.encoded_account_id)
  end)
end)

describe("partner.webhooks", function()
  it("subscribes with PUT { hook_uri } and checks the topic and URI first", function()
    local t = routed(function(req) return answer(200, req.body and cjson.decode(req.body) or {}) end)
    local p = new_partner(t)
    assert(p.webhooks:subscribe(3, "https://hooks.example.com/ctct"))
    assert.equal("PUT", t.api_requests[1].method)
    assert.equal(BASE .. "/partner/webhooks/subscriptions/3", t.api_requests[1].url)
    assert.same({ hook_uri = "https://hooks.example.com/ctct" }, cjson.decode(t.api_requests[1].body))
    local _, err = p.webhooks:subscribe(3, "ftp://x")
    assert.equal("validation", err.kind)
    _, err = p.webhooks:get("x/../1")
    assert.equal("validation", err.kind)
    assert(p.webhooks:unsubscribe(3))
    assert.equal("DELETE", t.api_requests[2].method)
    assert(p.webhooks:test_send(3))
    assert.equal(BASE .. "/partner/webhooks/subscriptions/3/tests", t.api_requests[3].url)
    assert(p.webhooks:list())
    assert.equal(BASE .. "/partner/webhooks/subscriptions", t.api_requests[4].url)
  end)
end)

describe("ctct.webhooks.parse", function()
  local body = '{"url":"' .. BASE .. '/partner/accounts/' .. ACCOUNT .. '/plan","event_type":"tier.increase",' ..
               '"topic_id":1,"account_id":"' .. ACCOUNT .. '","time":"2026-11-24T10:00:00Z"}'

  it("reads a legacy HMAC notification only with secret", function()
    local mac = core.b64_encode(core.hmac_sha256("api-secret", body))
    local event = assert(webhooks.parse(body, { ["X-Ctct-Hmac-Sha256"] = mac }, { secret = "api-secret" }))
    assert.equal("tier.increase", event.event_type)
    assert.equal(1, event.topic_id)
    assert.equal(ACCOUNT, event.account_id)
    assert.equal("2026-11-24T10:00:00Z", event.time)
    assert.equal("tier.increase", event.raw.event_type)
    local none, err = webhooks.parse(body, { ["x-ctct-hmac-sha256"] = mac })
    assert.is_nil(none)
    assert.equal("auth", err.kind)
    none, err = webhooks.parse(body .. " ", { ["x-ctct-hmac-sha256"] = mac }, { secret = "api-secret" })
    assert.is_nil(none)
    assert.equal("auth", err.kind)
  end)

  it("rejects a call without a signature", function()
    local none, err = webhooks.parse(body, {}, { jwks = { keys = {} } })
    assert.is_nil(none)
    assert.equal("auth", err.kind)
    assert.equal("missing_signature", err.reason)
  end)

  it("event:fetch GETs the url through the partner client, only on its own API base", function()
    local t = routed(function(req) return answer(200, { fetched = req.url }) end)
    local p = new_partner(t)
    local mac = core.b64_encode(core.hmac_sha256("k", body))
    local event = assert(webhooks.parse(body, { ["x-ctct-hmac-sha256"] = mac }, { secret = "k" }))
    local data = assert(event:fetch(p))
    assert.equal(BASE .. "/partner/accounts/" .. ACCOUNT .. "/plan", data.fetched)
    assert.equal("the-api-key", t.api_requests[1].headers["x-api-key"])
    for _, url in ipairs { "https://evil.example/v3/partner/accounts", "https://api.example.test/other/x",
                           "https://api.example.test.evil.example/v3/x" } do
      event.url = url
      local none, err = event:fetch(p)
      assert.is_nil(none)
      assert.equal("validation", err.kind)
    end
    assert.equal(1, #t.api_requests)
  end)
end)

describe("partners against the sandbox", function()
  local ctct = require "ctct"
  local sandbox = require "spec.helpers.sandbox"
  local sb, partner

  local function new_sandbox_partner(opts)
    local o = { client_id = sb.partner.client_id, secret = sb.partner.client_secret, api_key = sb.partner.api_key,
                token_url = sb.partner.token_url, base_url = sb.base_url, rate_limit = false,
                sleep = function(s) core.sleep(math.min(s, 0.2)) end }
    for k, v in pairs(opts or {}) do o[k] = v end
    return partner_mod.new(o)
  end

  local function provision(p, login, over)
    local a = valid_account { login_name = login, contact_email = login .. "@example.com" }
    for k, v in pairs(over or {}) do a[k] = v end
    return assert(p.accounts:create(a))
  end

  lazy_setup(function() sb = sandbox.start() end)
  lazy_teardown(function()
    if partner then partner:close() end
    if sb then sb:stop() end
  end)
  before_each(function()
    sb:reset()
    sb:config { rate_limit_per_second = 0 }
    partner = new_sandbox_partner()
  end)

  it("gets a partner token from the sandbox's token endpoint", function()
    local tok = assert(oauth.client_credentials { client_id = sb.partner.client_id,
      client_secret = sb.partner.client_secret, token_url = sb.partner.token_url })
    assert.is_string(tok.access_token)
    assert.is_number(tok.expires_at)
    local none, err = oauth.client_credentials { client_id = sb.partner.client_id, client_secret = "wrong-secret",
                                                 token_url = sb.partner.token_url }
    assert.is_nil(none)
    assert.equal("auth", err.kind)
    assert.equal("invalid_client", err.error_key)
    assert.falsy(tostring(err):find("wrong-secret", 1, true))
  end)

  it("provisions, lists, plans, cancels, adds SSO users and unsubscribes", function()
    local created = provision(partner, "managed_one")
    local id = created.encoded_account_id
    assert.matches("^[a-z0-9]+$", id)
    provision(partner, "unmanaged_one", { managed_site_owner = false })

    local ids = {}
    for a in partner.accounts:each { account_type = "managed" } do ids[#ids + 1] = a.encoded_account_id end
    assert.same({ id }, ids)
    local all = assert(partner.accounts:all())
    assert.equal(2, #all)
    assert(partner.accounts:list { limit = 10 })

    local plan = assert(partner.accounts:plan(id))
    assert.is_string(plan.plan_type)
    plan = assert(partner.accounts:set_plan(id, { plan_type = "GOLD", billing_day_of_month = 15 }))
    assert.equal("GOLD", plan.plan_type)
    assert.equal("GOLD", assert(partner.accounts:plan(id)).plan_type)

    assert(partner.accounts:create_sso_user(id, { first_name = "Josie", last_name = "Lang",
      role_name = "campaign_creator", contact_email = "josie@example.com", login_name = "josie.lang",
      external_id = "2337", external_provider = "Yahoo" }))
    local unsub = assert(partner.accounts:unsubscribe_contacts(id, { email_addresses = { "nobody@example.com" },
                                                                     update_source = "Account" }))
    assert.is_number(unsub.unsubscribed_count)
    assert(partner.accounts:cancel(id, 1))
    assert.equal("Canceled", assert(partner.accounts:plan(id)).billing_status)

    local none, err = partner.accounts:plan("zzzzzzzzzzzz")
    assert.is_nil(none)
    assert.truthy(err.status == 404 or err.status == 403)
  end)

  it("asks for one token for many calls, and a new one after a revocation", function()
    for _ = 1, 10 do assert(partner.webhooks:list()) end
    local stats = sb:partner_stats()
    assert.equal(1, stats.token_requests)
    assert.equal(10, stats.api_requests)
    sb:partner_revoke()
    assert(partner.webhooks:list())
    assert.equal(2, sb:partner_stats().token_requests)
  end)

  it("renews the token before it expires", function()
    sb:config { partner_token_ttl = 61 } -- inside the 60 s skew once a second passes
    assert(partner.webhooks:list())
    core.sleep(1.1)
    assert(partner.webhooks:list())
    assert.equal(2, sb:partner_stats().token_requests)
  end)

  it("is refused without the right API key", function()
    local other = new_sandbox_partner { api_key = "not-the-key" }
    local none, err = other.webhooks:list()
    assert.is_nil(none)
    assert.equal(403, err.status)
  end)

  it("acts for a managed account; the contact is that account's, not the default one's", function()
    local id = provision(partner, "acting_for").encoded_account_id
    local client = partner:as_client(id)
    local contact = assert(client.contacts:create { email_address = { address = "onbehalf@example.com",
      permission_to_send = "implicit" }, first_name = "Ona", create_source = "Account" })
    local got = assert(client.contacts:get(contact.contact_id, { include = { "list_memberships" } }))
    assert.equal("onbehalf@example.com", got.email_address.address)
    local list = assert(client.lists:create { name = "Partner list" })
    assert(client.lists:get(list.list_id))

    -- The account's own token sees it; the default account does not.
    local tok = "acct-token-" .. id
    sb:add_token(tok, id)
    local own = ctct.new { access_token = tok, base_url = sb.base_url, rate_limit = false }
    assert.equal("Ona", assert(own.contacts:get(contact.contact_id)).first_name)
    local default = ctct.new { access_token = sb.token, base_url = sb.base_url, rate_limit = false }
    local none, err = default.contacts:get(contact.contact_id)
    assert.is_nil(none)
    assert.equal(404, err.status)
    local emails = {}
    for c in default.contacts:each {} do emails[c.email_address.address] = true end
    assert.is_nil(emails["onbehalf@example.com"])

    -- Errors of the forwarded call come back as they are.
    none, err = client.contacts:get("00000000-0000-0000-0000-000000000000")
    assert.is_nil(none)
    assert.equal(404, err.status)

    -- Unmanaged accounts cannot be acted for.
    local unmanaged = provision(partner, "not_managed", { managed_site_owner = false }).encoded_account_id
    none, err = partner:as_client(unmanaged).contacts:list {}
    assert.is_nil(none)
    assert.equal(403, err.status)
  end)

  it("subscribes a webhook, test-sends it, and the notification verifies; a tampered body does not", function()
    local sink = sb:webhook_sink_url("partner-spec")
    local topics = assert(partner.webhooks:list())
    assert.equal(4, #topics)
    assert(partner.webhooks:subscribe(3, sink))
    assert.equal(sink, assert(partner.webhooks:get(3)).hook_uri)
    assert(partner.webhooks:test_send(3))

    local got = sb:webhook_sink("partner-spec")
    assert.equal(1, #got)
    local body, headers = got[1].body, got[1].headers
    local event = assert(webhooks.parse(body, headers, { jwks = sb.webhook_jwks_url }))
    assert.equal("account.cancel", event.event_type)
    assert.equal(3, event.topic_id)
    assert.is_string(event.url)
    assert.equal("jws", event.verified.method)

    local tampered = body:gsub("account%.cancel", "account.disable")
    local none, err = webhooks.parse(tampered, headers, { jwks = sb.webhook_jwks_url })
    assert.is_nil(none)
    assert.equal("auth", err.kind)
    none, err = webhooks.parse(body, {}, { jwks = sb.webhook_jwks_url })
    assert.is_nil(none)
    assert.equal("auth", err.kind)

    assert(partner.webhooks:unsubscribe(3))
    assert.is_nil(assert(partner.webhooks:get(3)).hook_uri)
  end)

  it("fetches what a real notification points at (a cancellation) through the partner client", function()
    local id = provision(partner, "notified").encoded_account_id
    assert(partner.webhooks:subscribe(3, sb:webhook_sink_url("cancels")))
    assert(partner.accounts:cancel(id, { reason_id = 2 }))
    local got = {}
    for _ = 1, 50 do -- the sandbox notifies from a timer, after answering
      got = sb:webhook_sink("cancels")
      if #got > 0 then break end
      core.sleep(0.1)
    end
    assert.is_true(#got >= 1, "no account.cancel notification arrived")
    local event = assert(webhooks.parse(got[1].body, got[1].headers, { jwks = sb.webhook_jwks_url }))
    assert.equal("account.cancel", event.event_type)
    assert.equal(id, event.account_id)
    local plan = assert(event:fetch(partner))
    assert.equal("Canceled", plan.billing_status)
  end)
end)
