local json = require "ctct.json"
local ctct = require "ctct"

local IS_JIT = math.type == nil

describe("ctct.json", function()
  describe("decode", function()
    it("marks every array, empty or not, and leaves objects unmarked", function()
      local v = json.decode('{"a":[],"b":{},"c":[1,[],{"d":[]}]}')
      assert.is_true(json.is_array(v.a))
      assert.is_false(json.is_array(v.b))
      assert.is_nil(getmetatable(v.b))
      assert.is_true(json.is_array(v.c))
      assert.is_true(json.is_array(v.c[2]))
      assert.is_true(json.is_array(v.c[3].d))
      assert.is_nil(getmetatable(v))
    end)

    it("decodes integers as integers on Lua 5.4 and numbers on LuaJIT", function()
      local v = json.decode('[3, 3.0, -9223372036854775808, 9223372036854775807, 9223372036854775808, 1e2]')
      if IS_JIT then
        assert.are.equal(3, v[1])
        assert.are.equal(2^63, v[5])
      else
        assert.are.equal("integer", math.type(v[1]))
        assert.are.equal("float", math.type(v[2]))
        assert.are.equal(math.mininteger, v[3])
        assert.are.equal(math.maxinteger, v[4])
        assert.are.equal("float", math.type(v[5])) -- beyond int64: a float, as documented
        assert.are.equal("float", math.type(v[6]))
        assert.are.equal("3", tostring(v[1]))
      end
    end)

    it("reads integers beyond 64 bits as floats", function()
      local v = json.decode('[123456789012345678901234567890, "123456789012345678901234567890"]')
      assert.are.equal(1.2345678901234568e29, v[1])
      assert.are.equal("123456789012345678901234567890", v[2])
    end)

    it("decodes null as ctct.null, the same value as cjson.null", function()
      assert.are.equal(ctct.null, json.decode('{"a":null}').a)
      assert.are.equal(require("cjson").null, json.null)
    end)

    it("keeps the last of duplicate keys", function()
      assert.are.equal(2, json.decode('{"a":1,"a":2}').a)
    end)

    it("decodes unicode escapes and surrogate pairs to UTF-8", function()
      assert.are.equal("é中😀", json.decode('"\\u00e9\\u4e2d\\ud83d\\ude00"'))
    end)

    it("refuses bad JSON with the byte offset and the reason", function()
      local v, why, at = json.decode('{"a":1,}')
      assert.is_nil(v)
      assert.are.equal(7, at)
      assert.matches("at byte 7", why)
      for text, reason in pairs { ["<html>"] = "unexpected", ['"\255"'] = "invalid UTF%-8", ["NaN"] = "at byte 0",
                                  ["[1e999]"] = "invalid number", ['"\\ud800"'] = "escape", [""] = "empty" } do
        v, why = json.decode(text)
        assert.is_nil(v, text)
        assert.matches(reason, why)
      end
    end)

    it("bounds nesting (200 by default) and size", function()
      assert.is_table(json.decode(string.rep("[", 200) .. string.rep("]", 200)))
      local v, why, at = json.decode(string.rep("[", 201) .. string.rep("]", 201))
      assert.is_nil(v)
      assert.matches("nested deeper than 200 levels", why)
      assert.are.equal(200, at)
      assert.is_table(json.decode("[[[1]]]", { max_depth = 3 }))
      assert.is_nil(json.decode("[[[1]]]", { max_depth = 2 }))
      v, why = json.decode("[1,2,3]", { max_bytes = 4 })
      assert.is_nil(v)
      assert.matches("JSON body of 7 bytes is over the limit of 4 bytes", why)
    end)

    it("raises on bad options, naming them", function()
      assert.has_error(function() json.decode("[]", { max_depth = 0 }) end)
      assert.has_error(function() json.decode("[]", { ordered = "yes" }) end,
        "option 'ordered' must be a boolean, got string")
    end)

    it("keeps the key order when asked", function()
      local v = json.decode('{"z":1,"a":{"y":2,"b":3},"m":[{"q":1,"c":2}]}', { ordered = true })
      assert.are.equal('{"z":1,"a":{"y":2,"b":3},"m":[{"q":1,"c":2}]}', json.encode(v))
      v.new = true -- keys added later come after the known ones
      assert.matches('"m":%[{"q":1,"c":2}%],"new":true}$', json.encode(v))
    end)
  end)

  describe("encode", function()
    it("writes a marked empty array as [] and a plain empty table as {}", function()
      assert.are.equal('{"list_ids":[]}', json.encode { list_ids = ctct.array() })
      assert.are.equal("{}", json.encode {})
      assert.are.equal('[1,2,3]', json.encode { 1, 2, 3 })
    end)

    it("sends back what it decoded: a read-modify-write keeps every array", function()
      local text = '{"contact_id":"c1","list_memberships":[],"taggings":[],"notes":[],' ..
                   '"phone_numbers":[],"custom_fields":[],"email_address":{"address":"a@example.com"}}'
      local c = json.decode(text)
      c.first_name = "Ada"
      local back = json.decode(json.encode(c))
      for _, k in ipairs { "list_memberships", "taggings", "notes", "phone_numbers", "custom_fields" } do
        assert.is_true(json.is_array(back[k]), k)
        assert.truthy(json.encode(c):find('"' .. k .. '":[]', 1, true), k)
      end
    end)

    it("writes integers without .0 and floats that read back the same", function()
      assert.are.equal("[1,-7,0.1,0.3333333333333333,1e+300]", json.encode { 1, -7, 0.1, 1 / 3, 1e300 })
      if not IS_JIT then
        assert.are.equal("[3.0,9223372036854775807]", json.encode { 3.0, math.maxinteger })
      end
      assert.are.equal("[-0.0]", json.encode { -0.0 })
      local seg = json.decode('{"segment_id":1}')
      assert.are.equal('{"segment_id":1}', json.encode(seg))
    end)

    it("escapes only what JSON needs", function()
      assert.are.equal('"a\\"b\\\\c\\n\\u0001/é"', json.encode('a"b\\c\n\1/é'))
    end)

    it("refuses what is not JSON, naming the path", function()
      local cases = {
        { { body = { x = 0 / 0 } }, "NaN is not JSON at value.body.x" },
        { { n = math.huge }, "an infinity is not JSON at value.n" },
        { { street_addresses = { { city = "x" }, { city = function() end } } },
          "a function cannot be JSON at value.street_addresses[2].city" },
        { { list = { 1, nil, 3 } }, "a sparse array (items must be at 1..n with no holes) at value.list" },
        { { mix = { 1, a = 2 } }, "a table that mixes array items and string keys at value.mix" },
        { { s = "\255" }, "a string is not valid UTF-8 at value.s" },
        { { [true] = 1 }, "a key that is neither a string nor an array index at value" },
        { { a = setmetatable({ x = 1 }, json.array_mt) }, "an array (ctct.array) with string keys at value.a" },
      }
      for _, case in ipairs(cases) do
        local text, why = json.encode(case[1])
        assert.is_nil(text)
        assert.are.equal(case[2], why)
      end
      local cyclic = { a = {} }
      cyclic.a.back = cyclic
      assert.are.same({ nil, "a cycle (a table inside itself) at value.a.back" }, { json.encode(cyclic) })
      local _, why = json.encode({ x = { 0 / 0 } }, { root = "body" })
      assert.are.equal("NaN is not JSON at body.x[1]", why)
    end)

    it("allows the same table twice when it is not a cycle", function()
      local shared = { 1 }
      assert.are.equal('[[1],[1]]', json.encode { shared, shared })
    end)

    it("bounds nesting", function()
      local deep = {}
      local t = deep
      for _ = 1, 250 do t[1] = {} t = t[1] end
      local text, why = json.encode(deep)
      assert.is_nil(text)
      assert.matches("^nested deeper than 200 levels at value%[1%]", why)
    end)
  end)

  it("ordered() makes an object that keeps the given key order", function()
    assert.are.equal('{"b":1,"a":2}', json.encode(json.ordered({ a = 2, b = 1 }, { "b", "a" })))
  end)

  it("refuses to mark a non-table", function()
    assert.has_error(function() ctct.array("x") end, "ctct.array: expected a table, got string")
  end)
end)
