-- Misuse gets clear errors before anything is sent: unknown option names and
-- wrong types name the function, the option and the fix; resource methods called
-- with a dot or with a bare string say how to call them; request bodies are
-- checked against the spec's definitions with every problem in one error.
local ctct = require "ctct"
local json = require "ctct.json"
local options = require "ctct.options"
local validate = require "ctct.api.validate"
local fake = require "spec.helpers.fake_transport"

local function client_with(answers)
  local t = fake.new(answers or {})
  return ctct.new { access_token = "t", transport = t, rate_limit = false, retry = false }, t
end

local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "did not raise")
  assert.matches(pattern, tostring(err), 1, true)
end

describe("option tables", function()
  it("an unknown name is refused, with the nearest known one", function()
    raises("f: unknown option 'timout'; use 'timeout'", options.check, "f", { timout = 1 }, { timeout = "number" })
    raises("f: unknown option 'zzz'", options.check, "f", { zzz = 1 }, { timeout = "number" })
    raises("f: option 'timeout' must be number, got string", options.check, "f", { timeout = "5" },
      { timeout = "number" })
    raises("f: option 'now' must be number or function, got boolean", options.check, "f", { now = true },
      { now = "number|function" })
    raises("f: options must be a table, got string", options.check, "f", "x", {})
    assert.same({}, options.check("f", nil, {}))
  end)

  it("ctct.new: a misspelt option, a number given as a string", function()
    raises("unknown option; did you mean 'access_token'?", ctct.new, { acess_token = "x" })
    raises("got the string \"5\" (write timeout = 5)", ctct.new, { timeout = "5" })
  end)

  it("webhooks.parse and verify take the same secret option; the old name says so", function()
    local webhooks = ctct.webhooks
    raises("ctct.webhooks.parse: unknown option 'hmac_secret'; use 'secret'", webhooks.parse, "{}", {},
      { hmac_secret = "k" })
    raises("ctct.webhooks.verify: unknown option 'tolerence'; use 'tolerance'", webhooks.verify, "{}", {},
      { tolerence = 5 })
    local body = '{"event_type":"account.cancel","topic_id":3}'
    local core = require "ctct.core"
    local mac = core.b64_encode(core.hmac_sha256("k", body))
    local event = assert(webhooks.parse(body, { ["x-ctct-hmac-sha256"] = mac }, { secret = "k" }))
    assert.equal("account.cancel", event.event_type)
    assert(webhooks.verify(body, { ["x-ctct-hmac-sha256"] = mac }, { secret = "k" }))
  end)

  it("the OAuth flows refuse unknown options (one settings table may serve them all)", function()
    local oauth = require "ctct.oauth"
    raises("ctct.oauth.refresh: unknown option 'refresh_tokn'; use 'refresh_token'", oauth.refresh,
      { client_id = "id", refresh_tokn = "r" })
    raises("ctct.oauth.authorization_url: option 'pkce' must be boolean, got string", oauth.authorization_url,
      { client_id = "id", redirect_uri = "https://app.example/cb", scope = { "contact_data" }, pkce = "no" })
    -- A table with the names of several flows is fine.
    local settings = { client_id = "id", redirect_uri = "https://app.example/cb", scope = { "contact_data" },
                       token_url = "https://authz.example/token", client_secret = "s" }
    local url = oauth.authorization_url(settings)
    assert.matches("^https://authz%.constantcontact%.com/", url)
  end)

  it("stores and key sets refuse unknown options", function()
    raises("ctct.store.memory.new: unknown option 'lock_timout'; use 'lock_timeout'",
      require("ctct.store.memory").new, { lock_timout = 3 })
    raises("ctct.store.file.new: option 'path' must be string, got number", require("ctct.store.file").new,
      { path = 5 })
    raises("ctct.jwks.new: unknown option 'uri'; use 'url'", require("ctct.jwks").new, { uri = "https://x" })
  end)
end)

describe("resource methods", function()
  it("called with a dot: says to use the colon, with the arguments", function()
    local c = client_with()
    raises("lists.get called without its object: use client.lists:get(list_id[, opts])", c.lists.get, "id")
    raises("use client.lists:each([opts])", c.lists.each, "x")
    raises("use client.contacts:update(...)", c.contacts.update, "id", {}) -- a hand-written method
    raises("use client.tags:get(tag_id[, opts])", c.tags.get, "id")
    -- A helper that is not a method (its first parameter is not self) is left alone.
    assert.equal("a1", c.campaigns.primary_activity_id { campaign_activities = {
      { role = "primary_email", campaign_activity_id = "a1" } } })
  end)

  it("a bare string where the body goes: says what a body is", function()
    local c, t = client_with()
    raises("bad argument 'body' to lists:create: expected a table of the request's fields", c.lists.create,
      c.lists, "VIP")
    assert.equal(0, #t.requests)
  end)
end)

describe("request bodies against the spec", function()
  it("collects every problem, at any depth, naming each member", function()
    local problems = validate.body("ContactPutRequest", {
      first_name = ("é"):rep(51),                   -- characters, not bytes
      street_addresses = { { kind = 5, city = "x" } },
      birthday_month = "May",
    })
    assert.same({                                   -- an object's missing members first
      "body.update_source: is required",
      "body.birthday_month: must be an integer, got string \"May\"",
      "body.first_name: must be at most 50 characters, got 51",
      "body.street_addresses[1].kind: must be a string, got integer",
    }, problems)
    assert.same({}, validate.body("ContactPutRequest", { update_source = "Account", first_name = ("é"):rep(50) }))
  end)

  it("PATCH bodies are partial: nothing is required", function()
    local def
    for name, d in pairs(require("ctct.api.schemas").definitions) do
      if d.required and #d.required > 0 and d.type == "object" then def = name break end
    end
    assert.is_true(#validate.body(def, {}) > 0)
    assert.same({}, validate.body(def, {}, { partial = true }))
  end)

  it("an empty table where the spec says array is sent as []", function()
    local c, t = client_with { { status = 200, body = "{}" } }
    local body = { update_source = "Account", email_address = { address = "a@b.example" },
                   list_memberships = {}, taggings = {} }
    assert(c:call("putContact", { contact_id = "c1", body = body }))
    local sent = t.requests[1].body
    assert.matches('"list_memberships":%[%]', sent)
    assert.matches('"taggings":%[%]', sent)
    assert.is_true(json.is_array(body.list_memberships))
  end)

  it("a call with a bad body sends nothing and returns one validation error", function()
    local c, t = client_with()
    local data, err = c:call("putContact", { contact_id = "c1", body = { first_name = 7 } })
    assert.is_nil(data)
    assert.equal("validation", err.kind)
    assert.equal("invalid_body", err.error_key)
    assert.same({ "body.update_source: is required", "body.first_name: must be a string, got integer" },
      err.problems)
    assert.matches("putContact: the body does not fit the spec's ContactPutRequest", err.message, 1, true)
    assert.equal(0, #t.requests)
    -- A JSON string is the caller's own text: sent as given.
    local c2, t2 = client_with { { status = 200, body = "{}" } }
    assert(c2:call("putContact", { contact_id = "c1", body = '{"first_name":7}' }))
    assert.equal('{"first_name":7}', t2.requests[1].body)
  end)

  it("a base_url without /v3 gets a hint on 404", function()
    local t = fake.new { { status = 404, body = '[{"error_key":"not.found","error_message":"no"}]' } }
    local c = ctct.new { access_token = "t", transport = t, rate_limit = false, retry = false,
                         base_url = "https://api.cc.email" }
    local _, err = c:request("GET", "/contacts")
    assert.matches("base_url has no /v3 at the end", err.message, 1, true)
  end)
end)
