-- ctct.partner.sync alone: matching paths against the spec's templates, the
-- PartnerAccountOperationsRequest it builds (from a path, or from the operation
-- client:call hands down), and the transport over a recording inner transport.
local cjson = require "cjson"
local json = require "ctct.json"
local sync = require "ctct.partner.sync"

local BASE = "https://api.cc.email/v3"
local ACCOUNT = "a07e1ikxyomhd4la0o"
local SYNC_URL = BASE .. "/partner/accounts/" .. ACCOUNT .. "/account_operations/sync"

-- An inner transport that records every request and answers `answer`.
local function recorder(answer)
  local inner = { seen = {}, closed = 0 }
  inner.now = function() return 1 end
  inner.time = function() return 2 end
  inner.sleep = function() end
  function inner:request(req)
    self.seen[#self.seen + 1] = req
    return answer or { status = 200, headers = { ["content-type"] = "application/json" }, body = "{}" }
  end
  function inner:close() self.closed = self.closed + 1 end
  return inner
end

local function transport(inner)
  return sync.new { inner = inner, base_url = BASE, account_id = ACCOUNT }
end

describe("ctct.partner.sync", function()
  describe("match", function()
    it("finds the template and the path parameters of a concrete path", function()
      local template, params = sync.match("GET", "/contacts/abc-123")
      assert.equal("/contacts/{contact_id}", template)
      assert.same({ { path_param_key = "contact_id", path_param_value = "abc-123" } }, params)

      template, params = sync.match("DELETE", "/emails/activities/act-1/non_opener_resends/r-9")
      assert.equal("/emails/activities/{campaign_activity_id}/non_opener_resends/{resend_request_id}", template)
      assert.same({ { path_param_key = "campaign_activity_id", path_param_value = "act-1" },
                    { path_param_key = "resend_request_id", path_param_value = "r-9" } }, params)
    end)

    it("prefers the template with more literal segments", function()
      local template, params = sync.match("GET", "/contacts/counts")
      assert.equal("/contacts/counts", template)
      assert.same({}, params)
      template, params = sync.match("PUT", "/contacts/resubscribe/c1")
      assert.equal("/contacts/resubscribe/{contact_id}", template)
      assert.same({ { path_param_key = "contact_id", path_param_value = "c1" } }, params)
    end)

    it("orders the templates by how many literal segments they have, not by their text", function()
      -- A fresh copy of the module over a made-up operation table (its index is built once, on first use).
      local real_ops, real_sync = package.loaded["ctct.api.operations"], package.loaded["ctct.partner.sync"]
      finally(function()
        package.loaded["ctct.api.operations"], package.loaded["ctct.partner.sync"] = real_ops, real_sync
      end)
      package.loaded["ctct.api.operations"] = { operations = {
        two = { method = "GET", path = "/a/b/{x}/{y}", security = "oauth" },      -- sorts first as text
        three = { method = "GET", path = "/a/{w}/c/d", security = "oauth" },
        own = { method = "GET", path = "/a/b/c/d", security = "partner" },        -- never a forwarded one
        put = { method = "PUT", path = "/a/b/c/{z}", security = "oauth" },
      } }
      package.loaded["ctct.partner.sync"] = nil
      local fresh = require "ctct.partner.sync"
      assert.are_not.equal(sync, fresh)
      local template, params = fresh.match("GET", "/a/b/c/d")
      assert.equal("/a/{w}/c/d", template)
      assert.same({ { path_param_key = "w", path_param_value = "b" } }, params)
      template, params = fresh.match("GET", "/a/b/x/y")
      assert.equal("/a/b/{x}/{y}", template)
      assert.same({ { path_param_key = "x", path_param_value = "x" },
                    { path_param_key = "y", path_param_value = "y" } }, params)
    end)

    it("unescapes the parameter values (a %2F stays in one segment, a + stays a +)", function()
      local template, params = sync.match("GET", "/contacts/a%2Fb%20c+d")
      assert.equal("/contacts/{contact_id}", template)
      assert.same({ { path_param_key = "contact_id", path_param_value = "a/b c+d" } }, params)
    end)

    it("gives the literal path when no template of that method matches", function()
      for _, case in ipairs {
        { "PATCH", "/contacts/abc" },             -- no PATCH /contacts/{contact_id}
        { "GET", "/contacts/a/b/c" },             -- no template of that length
        { "GET", "/nothing/here" },
        { "HEAD", "/contacts/abc" },              -- no HEAD operations at all
        { "GET", "/partner/accounts/x/plan" },    -- partner operations are not forwarded
      } do
        local template, params = sync.match(case[1], case[2])
        assert.equal(case[2], template)
        assert.same({}, params)
      end
    end)
  end)

  describe("operation", function()
    it("from a path: template, path and query parameters (form-unescaped), headers but no credentials", function()
      local op = sync.operation("GET", "/contacts/abc?include=custom_fields%2Clist_memberships&q=a+b%26c&flag", {
        Accept = "application/json", Authorization = "Bearer jwt", ["X-API-KEY"] = "key",
        ["User-Agent"] = "ctct/1", Host = "api.cc.email", ["Content-Length"] = "0", connection = "close",
        ["X-Trace"] = "t1",
      })
      assert.same({
        account_operation_url = "/contacts/{contact_id}",
        account_operation_method = "GET",
        account_operation_path_parameters = { { path_param_key = "contact_id", path_param_value = "abc" } },
        account_operation_query_parameters = {
          { query_param_key = "include", query_param_value = "custom_fields,list_memberships" },
          { query_param_key = "q", query_param_value = "a b&c" },
          { query_param_key = "flag", query_param_value = "" },
        },
        account_operation_headers = { { header_key = "Accept", header_value = "application/json" },
                                      { header_key = "X-Trace", header_value = "t1" } },
      }, op)
      assert.is_true(json.is_array(op.account_operation_path_parameters))
      assert.is_true(json.is_array(op.account_operation_query_parameters))
      assert.is_true(json.is_array(op.account_operation_headers))
    end)

    it("marks empty lists as arrays, and leaves out an empty or missing payload", function()
      local op = sync.operation("GET", "/contacts", nil, nil)
      assert.same({ account_operation_url = "/contacts", account_operation_method = "GET",
        account_operation_path_parameters = {}, account_operation_query_parameters = {},
        account_operation_headers = {} }, op)
      assert.is_true(json.is_array(op.account_operation_path_parameters))
      assert.is_true(json.is_array(op.account_operation_query_parameters))
      assert.is_true(json.is_array(op.account_operation_headers))
      assert.is_nil(sync.operation("POST", "/contacts", {}, "").account_operation_payload)
      assert.equal('{"a":1}', sync.operation("POST", "/contacts", {}, '{"a":1}').account_operation_payload)
    end)

    it("from the operation client:call hands down: its template and values, in the template's order", function()
      local operation = {
        id = "deleteResendToNonOpenersUsingDELETE",
        template = "/emails/activities/{campaign_activity_id}/non_opener_resends/{resend_request_id}",
        path_params = { { name = "resend_request_id", value = "r 1" },
                        { name = "campaign_activity_id", value = "c/1" } },
        query = { { name = "include", value = "a,b" }, { name = "x", value = "1+2" } },
      }
      -- the path is not re-parsed: its (different) segments and query are ignored
      local op = sync.operation("DELETE", "/emails/activities/zzz/non_opener_resends/yyy?ignored=1",
        { ["Content-Type"] = "application/json" }, '{"k":"v"}', operation)
      assert.same({
        account_operation_url = operation.template,
        account_operation_method = "DELETE",
        account_operation_path_parameters = {
          { path_param_key = "campaign_activity_id", path_param_value = "c/1" },
          { path_param_key = "resend_request_id", path_param_value = "r 1" },
        },
        account_operation_query_parameters = {
          { query_param_key = "include", query_param_value = "a,b" },
          { query_param_key = "x", query_param_value = "1+2" },
        },
        account_operation_headers = { { header_key = "Content-Type", header_value = "application/json" } },
        account_operation_payload = '{"k":"v"}',
      }, op)
      assert.is_true(json.is_array(op.account_operation_path_parameters))
      assert.is_true(json.is_array(op.account_operation_query_parameters))

      local none = sync.operation("GET", "/contacts?limit=5", {},
        nil, { id = "getContacts", template = "/contacts", path_params = {}, query = {} })
      assert.same({}, none.account_operation_query_parameters) -- not the URL's limit=5
      assert.is_true(json.is_array(none.account_operation_path_parameters))
      assert.is_true(json.is_array(none.account_operation_query_parameters))
    end)
  end)

  describe("new(...).request", function()
    it("POSTs the request to account_operations/sync with only the sync call's own headers", function()
      local answer = { status = 200, headers = { ["content-type"] = "application/json" },
                       body = '{"contact_id":"abc"}' }
      local inner = recorder(answer)
      local t = transport(inner)
      local res = t:request {
        method = "PUT", url = BASE .. "/contacts/abc?include=taggings", timeout = 7, sink = "/tmp/out.json",
        headers = { authorization = "Bearer partner-jwt", ["X-Api-Key"] = "key-1", ["User-Agent"] = "ctct/1",
                    ["Content-Type"] = "application/json", Accept = "application/json", ["X-Trace"] = "t1" },
        body = '{"first_name":"Ann"}',
      }
      assert.equal(answer, res) -- the forwarded call's answer, as it is
      assert.equal(1, #inner.seen)
      local sent = inner.seen[1]
      assert.equal("POST", sent.method)
      assert.equal(SYNC_URL, sent.url)
      assert.equal(7, sent.timeout)
      assert.equal("/tmp/out.json", sent.sink)
      assert.same({ ["Content-Type"] = "application/json", Accept = "application/json",
                    authorization = "Bearer partner-jwt", ["X-Api-Key"] = "key-1" }, sent.headers)

      local body = cjson.decode(sent.body)
      assert.same({
        account_operation_url = "/contacts/{contact_id}",
        account_operation_method = "PUT",
        account_operation_payload = '{"first_name":"Ann"}',
        account_operation_path_parameters = { { path_param_key = "contact_id", path_param_value = "abc" } },
        account_operation_query_parameters = { { query_param_key = "include", query_param_value = "taggings" } },
        account_operation_headers = {
          { header_key = "Accept", header_value = "application/json" },
          { header_key = "Content-Type", header_value = "application/json" },
          { header_key = "X-Trace", header_value = "t1" },
        },
      }, body)
      assert.equal("string", type(body.account_operation_payload)) -- the payload is a JSON text, not an object
      assert.is_nil(sent.body:find("partner-jwt", 1, true))
      assert.is_nil(sent.body:find("key-1", 1, true))
    end)

    it("encodes empty parameter lists as [] and sends no payload for a GET", function()
      local inner = recorder()
      assert.is_truthy(transport(inner):request {
        method = "GET", url = BASE .. "/contacts", headers = { Authorization = "Bearer j" } })
      local text = inner.seen[1].body
      for _, k in ipairs { "account_operation_path_parameters", "account_operation_query_parameters",
                           "account_operation_headers" } do
        assert.is_truthy(text:find('"' .. k .. '":[]', 1, true), k)
      end
      assert.same({ account_operation_url = "/contacts", account_operation_method = "GET",
        account_operation_path_parameters = {}, account_operation_query_parameters = {},
        account_operation_headers = {} }, cjson.decode(text))
      assert.same({ ["Content-Type"] = "application/json", Accept = "application/json",
                    Authorization = "Bearer j" }, inner.seen[1].headers)
    end)

    it("uses req.operation when client:call handed one down", function()
      local inner = recorder()
      transport(inner):request {
        method = "GET", url = BASE .. "/contacts/c%2F1?include=custom_fields,notes", headers = {},
        operation = { id = "getContact", template = "/contacts/{contact_id}",
                      path_params = { { name = "contact_id", value = "c/1" } },
                      query = { { name = "include", value = "custom_fields,notes" } } },
      }
      local body = cjson.decode(inner.seen[1].body)
      assert.equal("/contacts/{contact_id}", body.account_operation_url)
      assert.same({ { path_param_key = "contact_id", path_param_value = "c/1" } },
        body.account_operation_path_parameters)
      assert.same({ { query_param_key = "include", query_param_value = "custom_fields,notes" } },
        body.account_operation_query_parameters)
    end)

    it("sends the literal path when no template matches", function()
      local inner = recorder()
      transport(inner):request { method = "GET", url = BASE .. "/some/unknown/path?a=1&b=x%20y", headers = {} }
      local body = cjson.decode(inner.seen[1].body)
      assert.equal("/some/unknown/path", body.account_operation_url)
      assert.same({}, body.account_operation_path_parameters)
      assert.is_truthy(inner.seen[1].body:find('"account_operation_path_parameters":[]', 1, true))
      assert.same({ { query_param_key = "a", query_param_value = "1" },
                    { query_param_key = "b", query_param_value = "x y" } }, body.account_operation_query_parameters)
    end)

    it("refuses a URL outside the base with a validation error, sending nothing", function()
      local inner = recorder()
      local t = transport(inner)
      for _, u in ipairs { "https://evil.example/v3/contacts", BASE .. "x/contacts", BASE,
                           "http://api.cc.email/v3/contacts" } do
        local res, err = t:request { method = "GET", url = u, headers = { Authorization = "Bearer j" } }
        assert.is_nil(res, u)
        assert.equal("validation", err.kind)
        assert.equal("invalid_url", err.error_key)
        assert.equal("an on-behalf-of request must stay under " .. BASE, err.message)
      end
      assert.same({}, inner.seen)
    end)

    it("refuses a body that cannot be encoded (invalid UTF-8), sending nothing", function()
      local inner = recorder()
      local res, err = transport(inner):request { method = "POST", url = BASE .. "/contacts", headers = {},
                                                  body = "{\"first_name\":\"\255\"}" }
      assert.is_nil(res)
      assert.equal("validation", err.kind)
      assert.equal("invalid_body", err.error_key)
      assert.equal("the request cannot be sent on behalf of an account: a string is not valid UTF-8 at " ..
        "value.account_operation_payload", err.message)
      assert.same({}, inner.seen)
    end)

    it("takes the inner transport's clocks and sleep, and closes it", function()
      local inner = recorder()
      local t = transport(inner)
      assert.equal(ACCOUNT, t.account_id)
      assert.equal(inner, t.inner)
      assert.equal(inner.now, t.now)
      assert.equal(inner.time, t.time)
      assert.equal(inner.sleep, t.sleep)
      t:close()
      assert.equal(1, inner.closed)
      local bare = { request = function() end }
      assert.has_no_error(function() transport(bare):close() end)
    end)
  end)
end)
