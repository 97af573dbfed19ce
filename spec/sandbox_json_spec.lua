-- The sandbox's JSON (sandbox/lua/sandbox/{json,shape,capture}.lua): it tells [] from
-- {} in what clients send, checks body shapes against the official spec like the
-- real API (400 json.field.invalid), says [] where the API does, captures bodies
-- (json_capture) and logs the exact request body. Driven with curl through
-- spec/helpers/sandbox.lua and checked on raw text or with cjson, never with ctct.core.
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"

local run, quote = sandbox.run, sandbox.quote

local UUID = "00000000-0000-4000-8000-000000000001"

-- The messages of an APIErrorSchema body, joined.
local function messages(body)
  local out = {}
  for _, e in ipairs(type(body) == "table" and body or {}) do out[#out + 1] = tostring(e.error_message) end
  return table.concat(out, " | ")
end

-- status must be 400 with every error json.field.invalid, one of them exactly message.
local function invalid(message, status, body)
  assert.are.equal(400, status, type(body) == "string" and body or cjson.encode(body))
  local found = false
  for _, e in ipairs(body) do
    assert.are.equal("json.field.invalid", e.error_key)
    if e.error_message == message then found = true end
  end
  assert.is_true(found, "no error '" .. message .. "' in: " .. messages(body))
end

local function read_lines(path)
  local out = {}
  local f = io.open(path, "rb")
  if not f then return out end
  for line in f:lines() do out[#out + 1] = line end
  f:close()
  return out
end

describe("spec helper JSON", function()
  it("keeps empty arrays apart from empty objects, both ways", function()
    local v = sandbox.decode('{"a":[],"b":{},"c":[{"d":[ ]}],"s":"[] \\" []"}')
    assert.is_true(sandbox.is_array(v.a))
    assert.is_false(sandbox.is_array(v.b))
    assert.is_true(sandbox.is_array(v.c[1].d))
    assert.are.equal('[] " []', v.s)
    assert.are.equal('{"x":[]}', sandbox.encode({ x = sandbox.array() }))
    assert.are.equal('{"x":{}}', sandbox.encode({ x = {} }))
    assert.are.equal('[[],[1]]', sandbox.encode({ sandbox.array(), { 1 } }))
  end)
end)

describe("sandbox JSON #once", function()
  local sb

  lazy_setup(function() sb = sandbox.start() end)
  lazy_teardown(function() if sb then sb:stop() end end)

  before_each(function()
    sb:reset()
    sb:config{ rate_limit_per_second = 0 }
  end)

  local function new_contact(email)
    local status, contact = sb:api("POST", "/contacts", { email_address = { address = email },
                                                          create_source = "Account" })
    assert.are.equal(201, status, cjson.encode(contact))
    return contact.contact_id
  end

  describe("body shapes", function()
    it("PUT /contacts/{id}: list_memberships {} is a 400 naming it, [] is fine", function()
      local id = new_contact("shape@example.com")
      local path = "/contacts/" .. id
      local put = '{"update_source":"Account","email_address":{"address":"shape@example.com"},'
      invalid("#/list_memberships: expected type array, found object",
        sb:api("PUT", path, put .. '"list_memberships":{}}'))
      local status, body, _, _, raw = sb:api("PUT", path, put .. '"list_memberships":[]}')
      assert.are.equal(200, status, raw)
      assert.truthy(raw:find('"list_memberships":[]', 1, true), raw)
      assert.are.equal(id, body.contact_id)
    end)

    it("an array where the spec has an object, at the top or inside", function()
      local path = "/contacts/" .. new_contact("object@example.com")
      invalid("#/email_address: expected type object, found array",
        sb:api("PUT", path, '{"update_source":"Account","email_address":[]}'))
      invalid("#: expected type object, found array", sb:api("PUT", path, '[{"update_source":"Account"}]'))
    end)

    it("nested: array items and definitions inside definitions", function()
      local path = "/contacts/" .. new_contact("nested@example.com")
      invalid("#/street_addresses/0/kind: expected type string, found object",
        sb:api("PUT", path, '{"update_source":"Account","street_addresses":[{"kind":{},"city":"Boston"}]}'))
      invalid("#/street_addresses/1: expected type object, found array",
        sb:api("PUT", path, '{"update_source":"Account","street_addresses":[{"kind":"home"},[]]}'))
      invalid("#/source/list_ids: expected type array, found object",
        sb:api("POST", "/activities/add_list_memberships", '{"source":{"list_ids":{}},"list_ids":["' .. UUID .. '"]}'))
    end)

    it("scalar types: a number where a string goes, a string where an integer goes", function()
      local path = "/contacts/" .. new_contact("scalar@example.com")
      invalid("#/first_name: expected type string, found integer",
        sb:api("PUT", path, '{"update_source":"Account","first_name":5}'))
      invalid("#/birthday_day: expected type integer, found string",
        sb:api("PUT", path, '{"update_source":"Account","birthday_day":"5"}'))
      invalid("#/birthday_day: expected type integer, found number",
        sb:api("PUT", path, '{"update_source":"Account","birthday_day":5.5}'))
      -- null is left to the handlers, like an absent member.
      assert.are.equal(200, (sb:api("PUT", path,
        '{"update_source":"Account","email_address":{"address":"scalar@example.com"},"first_name":null}')))
    end)

    it("reports every mismatch, and comes before 404 (the API validates the body first)", function()
      local status, body = sb:api("PUT", "/contacts/" .. UUID,
        '{"update_source":"Account","list_memberships":{},"taggings":{},"notes":[{"content":1}]}')
      invalid("#/list_memberships: expected type array, found object", status, body)
      assert.are.same({ "#/list_memberships: expected type array, found object",
                        "#/notes/0/content: expected type string, found integer",
                        "#/taggings: expected type array, found object" },
        { body[1].error_message, body[2].error_message, body[3].error_message })
      -- Another media type is still the handler's 415.
      local path = "/contacts/" .. new_contact("media@example.com")
      assert.are.equal(415, (sb:api("PUT", path, '{"list_memberships":{}}', { content_type = "text/plain" })))
    end)

    it("every operation with a JSON body checks it against its definition", function()
      local ops = require("ctct.api.operations").operations
      local defs = require("ctct.api.schemas").definitions
      local token = sb:partner_token()
      local checked = 0
      for id, op in pairs(ops) do
        local schema
        for _, p in ipairs(op.params) do if p["in"] == "body" then schema = p.schema end end
        if schema then
          -- A property that takes an array gets {}, else one that takes an object gets [];
          -- a body without such a property is sent as an array.
          local body, want = "[]", "#: expected type object, found array"
          local def = defs[schema]
          local names = {}
          for name in pairs(def and def.properties or {}) do names[#names + 1] = name end
          table.sort(names)
          for _, kind in ipairs({ "array", "object" }) do
            for _, name in ipairs(names) do
              if want:sub(1, 3) == "#: " and def.properties[name].type == kind then
                body = '{"' .. name .. '":' .. (kind == "array" and "{}" or "[]") .. "}"
                want = "#/" .. name .. ": expected type " .. kind .. ", found " .. (kind == "array" and "object"
                  or "array")
              end
            end
          end
          local path = "/v3" .. op.path:gsub("{encoded_account_id}", "a07e1abcdefghij"):gsub("{topic_id}", "1")
            :gsub("{[^}]+}", UUID)
          local status, got
          if op.security == "partner" then
            status, got = sb:partner_api(op.method, path, body, nil, { token = token })
          else
            status, got = sb:api(op.method, path:sub(4), body)
          end
          assert.are.equal(400, status, id .. " " .. op.method .. " " .. path .. ": " .. tostring(status))
          assert.are.equal(want, got[1] and got[1].error_message, id)
          assert.are.equal("json.field.invalid", got[1].error_key, id)
          checked = checked + 1
        end
      end
      assert.is_true(checked >= 45, checked .. " operations")
    end)

    it("partner sync: the outer body, and the inner payload against the inner operation", function()
      local status, account = sb:partner_api("POST", "/partner/accounts", {
        contact_email = "owner@client.example", country_code = "US", state_code = "MA",
        login_name = "json-client", password = "s3cret-password" })
      assert.are.equal(201, status, cjson.encode(account))
      local id = account.encoded_account_id
      sb:add_token("tok-client", id)
      local _, contact = sb:api("POST", "/contacts", { email_address = { address = "sync@x.example" },
                                                       create_source = "Account" }, { token = "tok-client" })
      local sync = "/partner/accounts/" .. id .. "/account_operations/sync"
      local function op(payload)
        return sandbox.encode({
          account_operation_url = "/contacts/{contact_id}", account_operation_method = "PUT",
          account_operation_path_parameters = { { path_param_key = "contact_id",
                                                  path_param_value = contact.contact_id } },
          account_operation_payload = '{"update_source":"Account","email_address":{"address":"sync@x.example"},'
            .. payload .. "}",
        })
      end
      invalid("#/list_memberships: expected type array, found object",
        sb:partner_api("POST", sync, op('"list_memberships":{}')))
      local got
      status, got = sb:partner_api("POST", sync, op('"list_memberships":[]'))
      assert.are.equal(200, status, cjson.encode(got))
      assert.are.equal(contact.contact_id, got.contact_id)
      invalid("#/account_operation_headers: expected type array, found object",
        sb:partner_api("POST", sync, '{"account_operation_url":"/contacts","account_operation_method":"GET",'
          .. '"account_operation_headers":{}}'))
    end)
  end)

  describe("answers", function()
    it("say [] for empty arrays, in answers and in stored state, and write / plainly", function()
      local _, _, _, _, raw = sb:api("GET", "/contact_lists")
      assert.truthy(raw:find('"lists":[]', 1, true), raw)
      local id = new_contact("empty@example.com")
      _, _, _, _, raw = sb:api("GET", "/contacts/" .. id .. "?include=list_memberships,custom_fields")
      assert.truthy(raw:find('"list_memberships":[]', 1, true), raw)
      assert.truthy(raw:find('"custom_fields":[]', 1, true), raw)
      -- A whole answer that is an empty array.
      _, _, _, _, raw = sb:api("GET", "/contacts/sms_engagement_history/" .. id)
      assert.are.equal("[]", raw)
      -- Links are not "\/"-escaped.
      new_contact("second@example.com")
      _, _, _, _, raw = sb:api("GET", "/contacts?limit=1")
      assert.truthy(raw:find('"href":"/v3/contacts?', 1, true), raw)
      assert.falsy(raw:find("\\/", 1, true), raw)
      -- The admin API too.
      _, _, _, _, raw = sb:curl{ path = "/__sandbox/faults" }
      assert.are.equal('{"faults":[]}', raw)
    end)
  end)

  describe("request log", function()
    it("keeps the exact JSON request body, and none for other media types", function()
      local body = '{ "email_address" : {"address":"log@example.com"},\n "create_source":"Account",'
        .. '"list_memberships":[], "notes":[], "first_name":"Zo\\u00e9 \\/ \xc3\xa9"}'
      assert.are.equal(201, (sb:api("POST", "/contacts", body)))
      assert.are.equal(415, (sb:api("POST", "/contacts", "a=b",
        { content_type = "application/x-www-form-urlencoded" })))
      assert.are.equal(200, (sb:api("GET", "/contacts")))
      local log = sb:requests()
      assert.are.equal(3, #log)
      assert.are.equal(body, log[1].body)
      assert.is_nil(log[1].body_truncated)
      assert.is_nil(log[2].body)
      assert.is_nil(log[3].body)
      assert.are.equal(#body, log[1].body_bytes)
    end)

    it("keeps a body that got a 401, and caps a big one at 64 KiB on a character boundary", function()
      assert.are.equal(401, (sb:api("POST", "/contacts", '{"x":[]}', { token = "nope" })))
      -- 15 bytes, then 2-byte characters: byte 65536 starts one, 65537 is inside it.
      local big = '{"first_name":"' .. ("\xc3\xa9"):rep(35000) .. '"}'
      sb:api("PUT", "/contacts/" .. UUID, big)
      local log = sb:requests()
      assert.are.equal('{"x":[]}', log[1].body)
      assert.are.equal(#big, log[2].body_bytes)
      assert.is_true(log[2].body_truncated)
      assert.are.equal(65535, #log[2].body)
      assert.are.equal(big:sub(1, 65535), log[2].body)
    end)
  end)

  describe("json_capture", function()
    local dir
    lazy_setup(function() dir = assert(io.popen("mktemp -d")):read("*l") end)
    lazy_teardown(function() if dir then run("rm -rf " .. quote(dir)) end end)

    it("sandbox/start --json-capture: every body sent and decoded, one per line", function()
      local file = dir .. "/start.jsonl"
      local cb = sandbox.start{ json_capture = file }
      finally(function() cb:stop() end)
      cb:config{ rate_limit_per_second = 0 }
      local sent = '{"email_address":{"address":"cap@example.com"},"create_source":"Account","notes":[]}'
      local status, _, _, _, created = cb:api("POST", "/contacts", sent)
      assert.are.equal(201, status)
      local _, _, _, _, listed = cb:api("GET", "/contact_lists")
      -- A pretty-printed body has raw newlines: decoded, but skipped (and counted).
      assert.are.equal(201, (cb:api("POST", "/contact_lists", '{\n  "name": "Pretty"\n}')))
      local lines = read_lines(file)
      local seen = {}
      for _, l in ipairs(lines) do
        seen[l] = true
        assert.is_true((pcall(cjson.decode, l)), l)
      end
      assert.is_true(seen[sent], "request body not captured")
      assert.is_true(seen[created], "response body not captured")
      assert.is_true(seen[listed], "response body not captured")
      assert.is_true(seen['{"lists":[]}'])
      local counts = cb:stats().json_capture
      assert.are.equal(1, counts.skipped)
      assert.is_true(counts.lines >= 5, cjson.encode(counts))
      -- The knob survives a reset (it is the start option's), and can be turned off.
      cb:reset()
      assert.are.equal(file, cb:config{}.json_capture)
      cb:config{ json_capture = "" }
      local before = #read_lines(file)
      cb:api("GET", "/contact_lists")
      assert.are.equal(before, #read_lines(file))
    end)

    it("POST /__sandbox/config json_capture: on at run time, to an absolute path", function()
      local file = dir .. "/knob.jsonl"
      sb:config{ json_capture = file }
      finally(function() sb:config{ json_capture = sb.json_capture or "" } end)
      local _, _, _, _, raw = sb:api("GET", "/contact_lists")
      assert.are.same({ raw }, read_lines(file))
      assert.are.equal(400, (sb:admin("POST", "/__sandbox/config", { json_capture = "relative/path" })))
    end)
  end)

  it("sandbox/start refuses to start without the LuaJIT build of ctct.core", function()
    local tmp = assert(io.popen("mktemp -d")):read("*l")
    finally(function() run("rm -rf " .. quote(tmp)) end)
    run("cp -r " .. quote(sb.root .. "/sandbox") .. " " .. quote(sb.root .. "/tools") .. " " .. quote(tmp .. "/"))
    local out, code = run(quote(tmp .. "/sandbox/start") .. " 2>&1")
    assert.are.equal(2, code, out)
    assert.truthy(out:find("run make luajit", 1, true), out)
    assert.are.equal(1, select(2, out:gsub("\n", "")), out)
  end)
end)
