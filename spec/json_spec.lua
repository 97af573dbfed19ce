local json = require "ctct.json"
local ctct = require "ctct"

describe("ctct.json", function()
  it("encodes a marked empty array as [] and a plain empty table as {}", function()
    local text = json.encode({ list_ids = ctct.array(), extra = {} })
    local decoded = json.decode(text)
    assert.truthy(text:find('"list_ids":%[%]'))
    assert.truthy(text:find('"extra":{}'))
    assert.same({}, decoded.list_ids)
  end)

  it("finds empty arrays at any depth and leaves the caller's tables untouched", function()
    local inner = { tags = ctct.array() }
    local body = { contacts = { { email = "a@example.com", lists = ctct.array() }, inner } }
    local text = json.encode(body)
    local _, n = text:gsub("%[%]", "")
    assert.equal(2, n)
    assert.equal(json.array_mt, getmetatable(inner.tags)) -- not replaced by the placeholder
    assert.equal("table", type(body.contacts[1].lists))
  end)

  it("keeps non-empty marked arrays as arrays", function()
    assert.equal('{"ids":[1,2,3]}', json.encode({ ids = ctct.array { 1, 2, 3 } }))
  end)

  it("does not confuse a user string with the placeholder", function()
    local text = json.encode({ s = "[]", t = ctct.array() })
    assert.same({ s = "[]", t = {} }, json.decode(text))
  end)

  it("reports what cannot be encoded instead of raising", function()
    local text, why = json.encode({ f = function() end })
    assert.is_nil(text)
    assert.matches("function", why)
    local cyclic = {}
    cyclic.self = cyclic
    text, why = json.encode(cyclic)
    assert.is_nil(text)
    assert.is_string(why)
  end)

  it("decodes null as ctct.null and reports bad JSON", function()
    assert.equal(ctct.null, json.decode('{"a":null}').a)
    local v, why = json.decode("<html>")
    assert.is_nil(v)
    assert.is_string(why)
  end)

  it("does not change the settings of the application's own cjson", function()
    local cjson = require "cjson"
    local deep = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
    assert.is_table(cjson.decode(deep))
  end)

  it("refuses to mark a non-table", function()
    assert.has_error(function() ctct.array("x") end, "ctct.array: expected a table, got string")
  end)
end)
