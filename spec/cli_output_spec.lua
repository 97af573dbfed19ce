-- ctct.cli.output alone: the helpers (split, get, cell, encode) and the Writer
-- in each format (table, json, jsonl, csv) for one object and for a streamed
-- collection, writing into a recording file object (no client, no server).
-- Objects with more than one key are built with json.ordered (as the CLI's
-- decoder makes them) wherever the JSON key order is asserted.
local output = require "ctct.cli.output"
local json = require "ctct.json"
local sandbox = require "spec.helpers.sandbox"

-- A file-like object that records what is written.
local function recorder()
  local got = {}
  local f = {}
  function f.write(self, ...)
    for i = 1, select("#", ...) do got[#got + 1] = tostring((select(i, ...))) end
    return self
  end
  function f.text() return table.concat(got) end
  return f
end

-- What a writer in `format` (with opts) prints for fn(writer); and the writer.
local function render(format, fn, opts)
  local out = recorder()
  local o = { format = format, stdout = out }
  for k, v in pairs(opts or {}) do o[k] = v end
  local w = output.new(o)
  fn(w)
  return out.text(), w
end

local function collection(format, items, defaults, opts)
  return render(format, function(w) w:collection(output.array_iter(items), defaults) end, opts)
end

local function object(format, obj, defaults, opts)
  return (render(format, function(w) w:object(obj, defaults) end, opts))
end

describe("ctct.cli.output", function()
  it("FORMATS lists the four formats, table first", function()
    assert.same({ "table", "json", "jsonl", "csv" }, output.FORMATS)
  end)

  describe("helpers", function()
    it("split: comma-separated, trimmed, empty parts dropped", function()
      assert.same({ "a", "b", "c d" }, output.split(" a, b,,c d ,"))
      assert.same({ "email_address.address" }, output.split("email_address.address"))
      assert.same({}, output.split(""))
      assert.same({}, output.split(nil))
      assert.same({}, output.split(" , ,"))
    end)

    it("get: dotted paths, numeric parts index arrays, else keys", function()
      local obj = { email_address = { address = "a@example.com" }, list_memberships = { "l1", "l2" },
                    ["1"] = "key one", nested = { ["2"] = "key two" } }
      assert.equal("a@example.com", output.get(obj, "email_address.address"))
      assert.equal("l2", output.get(obj, "list_memberships.2"))
      assert.equal("key one", output.get(obj, "1")) -- no obj[1]: the key "1"
      assert.equal("key two", output.get(obj, "nested.2"))
      assert.is_nil(output.get(obj, "list_memberships.3"))
      assert.is_nil(output.get(obj, "email_address.address.more")) -- through a string
      assert.is_nil(output.get(obj, "missing.x"))
      assert.equal(obj, output.get(obj, "")) -- no parts: the object itself
      assert.is_nil(output.get("text", "a"))
    end)

    it("cell: scalars as text, nil and null empty, tables as compact JSON, integral floats as integers", function()
      assert.equal("", output.cell(nil))
      assert.equal("", output.cell(json.null))
      assert.equal("x", output.cell("x"))
      assert.equal("true", output.cell(true))
      assert.equal("false", output.cell(false))
      assert.equal("3", output.cell(3))
      assert.equal("3", output.cell(3.0))
      assert.equal("-12", output.cell(-12.0))
      assert.equal("1.5", output.cell(1.5))
      assert.equal("9007199254740991", output.cell(2 ^ 53 - 1))
      assert.equal(tostring(2 ^ 53), output.cell(2 ^ 53)) -- beyond 2^53: Lua's own text
      assert.equal("[1,2]", output.cell(json.array { 1, 2 }))
      assert.equal("[]", output.cell(json.array {}))
      assert.equal('{"b":1,"a":[true]}', output.cell(json.ordered({ a = { true }, b = 1 }, { "b", "a" })))
    end)

    it("encode: compact JSON in the object's key order, control characters escaped, DEL raw", function()
      assert.equal("null", output.encode(nil))
      assert.equal('{"z":1,"a":"x","m":null}', output.encode(json.ordered({ a = "x", z = 1, m = json.null },
        { "z", "a", "m" })))
      assert.equal('"\\u001b[31m\\n\\t\\u0000"', output.encode("\27[31m\n\t\0"))
      assert.equal('"\127"', output.encode("\127"))
      assert.equal('"caf\195\169"', output.encode("caf\195\169"))
    end)

    it("array_iter yields each element, then nil; a nil list yields nothing", function()
      local it = output.array_iter { "a", "b" }
      assert.equal("a", it())
      assert.equal("b", it())
      assert.is_nil(it())
      assert.is_nil(output.array_iter(nil)())
    end)

    it("isatty follows CTCT_FORCE_TTY, and new{} defaults to table on a terminal, json otherwise", function()
      local lua = (rawget(_G, "jit") and "luajit" or "lua5.4")
      local code = "package.path=" .. ("%q"):format(package.path) .. " package.cpath=" ..
        ("%q"):format(package.cpath) .. " local o=require'ctct.cli.output' " ..
        "io.write(tostring(o.isatty(1)),' ',tostring(o.isatty(2)),' ',o.new{}.format)"
      local function with(value)
        local out, rc = sandbox.run("CTCT_FORCE_TTY=" .. sandbox.quote(value) .. " " .. lua .. " -e " ..
          sandbox.quote(code) .. " </dev/null >/dev/stdout 2>&1")
        assert.equal(0, rc, out)
        return out
      end
      assert.equal("true false table", with("1"))
      assert.equal("false true json", with("2"))
      assert.equal("true true table", with("1,2"))
    end)
  end)

  describe("one object", function()
    local contact = json.ordered({ contact_id = "c1", first_name = "Ada", email_address = { address = "a@x.io" },
                                   _links = { self = { href = "/c1" } } },
                                 { "contact_id", "first_name", "email_address", "_links" })

    it("json and jsonl: one line of JSON in the API's key order", function()
      local want = '{"contact_id":"c1","first_name":"Ada","email_address":{"address":"a@x.io"},' ..
        '"_links":{"self":{"href":"/c1"}}}\n'
      assert.equal(want, object("json", contact))
      assert.equal(want, object("jsonl", contact))
    end)

    it("json with fields: only those, in the order given, named by their paths; missing ones left out", function()
      assert.equal('{"email_address.address":"a@x.io","contact_id":"c1"}\n', object("json", contact, nil,
        { fields = { "email_address.address", "nope", "contact_id" } }))
      -- An empty field list is no projection.
      assert.equal('{"contact_id":"c1"}\n', object("json", { contact_id = "c1" }, nil, { fields = {} }))
    end)

    it("a string is written as it is, with a final newline added only when missing", function()
      assert.equal("a,b\r\n1,2\n", object("json", "a,b\r\n1,2"))
      assert.equal("<html>\n", object("table", "<html>\n"))
      assert.equal("x\n", object("csv", "x"))
    end)

    it("a scalar result becomes {ok = value}", function()
      assert.equal('{"ok":true}\n', object("json", true))
      assert.equal("ok  true\n", object("table", true))
      assert.equal("ok\n3\n", object("csv", 3))
    end)

    it("table: field and value, keys sorted, _links hidden, the array part numbered, aligned", function()
      local obj = { first_name = "Ada", id = 7, email_address = { address = "a@x.io" }, _links = { x = 1 } }
      obj[1] = "one"
      assert.equal("email_address  {\"address\":\"a@x.io\"}\n" ..
                   "first_name     Ada\n" ..
                   "id             7\n" ..
                   "1              one\n", object("table", obj))
    end)

    it("table with fields: those rows in the order given, missing values empty", function()
      assert.equal("email_address.address  a@x.io\n" ..
                   "nope                   \n" ..
                   "contact_id             c1\n",
        object("table", contact, nil, { fields = { "email_address.address", "nope", "contact_id" } }))
    end)

    it("table: an empty object is (empty)", function()
      assert.equal("(empty)\n", object("table", {}))
      assert.equal("(empty)\n", object("table", { _links = {} }))
    end)

    it("table: control characters in keys and values become visible escapes, CR/LF/TAB a space", function()
      local text = object("table", { ["k\27[2J"] = "v\27]0;t\7" })
      assert.equal("k\\x1b[2J  v\\x1b]0;t\\x07\n", text)
      assert.equal("id    1\nnote  a b c\n", object("table", { note = "a\r\nb\tc", id = 1 }))
    end)

    it("table: the field column is as wide as the escaped keys",
      function()
        assert.equal("k\\x1b  1\nzz     2\n", object("table", { ["k\27"] = 1, zz = 2 }))
      end)

    it("csv: a header and one row; columns from defaults, else the object's scalar keys sorted", function()
      local obj = { b = "x,y", a = 1, c = { 1 }, _links = {} }
      assert.equal('a,b\n1,"x,y"\n', object("csv", obj))
      assert.equal('c,b\n[1],"x,y"\n', object("csv", obj, { "c", "b" }))
      assert.equal('b\n"x,y"\n', object("csv", obj, { "c" }, { fields = { "b" } }))
    end)
  end)

  describe("a collection", function()
    local items = {
      json.ordered({ id = 1, name = 'Ada, "L"', tags = json.array { 1, 2 }, _links = { x = 1 } },
        { "name", "id", "tags", "_links" }),
      json.ordered({ id = 2, name = "B\27[31mred\nx", extra = 2.5 }, { "id", "name", "extra" }),
    }

    it("json: one array, an item a line, in each item's key order", function()
      local text, w = collection("json", items)
      assert.equal('[\n{"name":"Ada, \\"L\\"","id":1,"tags":[1,2],"_links":{"x":1}},\n' ..
        '{"id":2,"name":"B\\u001b[31mred\\nx","extra":2.5}\n]\n', text)
      assert.equal(2, w.count)
      assert.equal("[]\n", (collection("json", {})))
    end)

    it("jsonl: one object a line; nothing for an empty collection", function()
      local text, w = collection("jsonl", items, nil, { fields = { "id", "name" } })
      assert.equal('{"id":1,"name":"Ada, \\"L\\""}\n{"id":2,"name":"B\\u001b[31mred\\nx"}\n', text)
      assert.equal(2, w.count)
      assert.equal("", (collection("jsonl", {})))
    end)

    it("csv: the first item's scalar keys sorted (no tables, no _links), quoted as RFC 4180 needs", function()
      -- extra is not a column: only the first item's keys are.
      assert.equal('id,name\n1,"Ada, ""L"""\n2,"B\27[31mred\nx"\n', (collection("csv", items)))
      assert.equal('name,tags\n"Ada, ""L""",[1]\n"B\27[31mred\nx",\n',
        (collection("csv", { { name = 'Ada, "L"', tags = { 1 } }, items[2] }, { "name", "tags" })))
      assert.equal('"a,b",c\n,\n', (collection("csv", { { c = json.null } }, nil, { fields = { "a,b", "c" } })))
      assert.equal('x\n"line\r"\n', (collection("csv", { { x = "line\r" } })))
      assert.equal("id\n1\n", (collection("csv", { { id = 1, _links = "scalar" } }))) -- _links never a column
    end)

    it("csv: scalar items are one value column; an empty collection still has its header", function()
      assert.equal("value\nx\n7\n", (collection("csv", { "x", 7 })))
      assert.equal("id,email\n", (collection("csv", {}, { "id", "email" })))
      assert.equal("value\n", (collection("csv", {})))
    end)

    it("table: upper-case headers, columns padded to the widest cell, the last one not padded", function()
      local text, w = collection("table", { { id = "1", name = "Ada" }, { id = "12345", name = "B" } })
      assert.equal("ID     NAME\n1      Ada\n12345  B\n", text)
      assert.equal(2, w.count)
      assert.equal("VALUE\nx\nyy\n", (collection("table", { "x", "yy" })))
      assert.equal("(none)\n", (collection("table", {}, { "id" })))
    end)

    it("table: defaults or fields pick the columns; nested values as JSON", function()
      local rows = { { id = "c1", email_address = { address = "a@x.io" }, n = 3 } }
      assert.equal("EMAIL_ADDRESS.ADDRESS  ID\na@x.io                 c1\n",
        (collection("table", rows, { "email_address.address", "id" })))
      assert.equal("N  EMAIL_ADDRESS\n3  {\"address\":\"a@x.io\"}\n",
        (collection("table", rows, { "id" }, { fields = { "n", "email_address" } })))
    end)

    it("table: control characters in cells become escapes, CR/LF/TAB a space", function()
      local text = collection("table", items)
      assert.equal("ID  NAME\n1   Ada, \"L\"\n2   B\\x1b[31mred x\n", text)
      assert.is_nil(text:find("\27", 1, true))
    end)

    it("table: control characters in column names (the API's keys, or --fields) are escaped too", function()
      local text = collection("table", { { ["\27]0;x\7k"] = "v" } })
      assert.is_nil(text:find("\27", 1, true))
      assert.is_nil(text:find("\7", 1, true))
    end)

    it("table: widths are capped at 60 (longer cells are not cut)", function()
      local long = ("x"):rep(70)
      local text = collection("table", { { a = long, b = "1" }, { a = "ab", b = "2" } })
      assert.equal("A" .. (" "):rep(59) .. "  B\n" .. long .. "  1\nab" .. (" "):rep(58) .. "  2\n", text)
    end)

    it("table: drawn in blocks of 200 rows, one header; later blocks widen with their own cells", function()
      local list = {}
      for i = 1, 200 do list[i] = { k = "a", v = tostring(i) } end
      list[201] = { k = "abcdef", v = "z" }
      local text, w = collection("table", list)
      local lines = {}
      for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
      assert.equal(202, #lines)
      assert.equal(201, w.count)
      assert.equal("K  V", lines[1])
      assert.equal("a  1", lines[2])
      assert.equal("a  200", lines[201])
      assert.equal("abcdef  z", lines[202])
      assert.equal(1, select(2, text:gsub("K  V", "")))
    end)

    it("limit: at most N items written, in every format; count says how many", function()
      local list = { { n = 1 }, { n = 2 }, { n = 3 }, { n = 4 } }
      local text, w = collection("jsonl", list, nil, { limit = 2 })
      assert.equal('{"n":1}\n{"n":2}\n', text)
      assert.equal(2, w.count)
      assert.equal('[\n{"n":1}\n]\n', (collection("json", list, nil, { limit = 1 })))
      assert.equal("n\n1\n2\n3\n", (collection("csv", list, nil, { limit = 3 })))
      assert.equal("N\n1\n", (collection("table", list, nil, { limit = 1 })))
      text, w = collection("json", list, nil, { limit = 0 })
      assert.equal("[]\n", text)
      assert.equal(0, w.count)
      assert.equal("(none)\n", (collection("table", list, nil, { limit = 0 })))
    end)

    it("limit: the iterator is not asked for an item past the limit (that asks the API for the next page)",
      function()
        local pulled = 0
        local function iter()
          pulled = pulled + 1
          return { n = pulled }
        end
        render("jsonl", function(w) w:collection(iter) end, { limit = 2 })
        assert.equal(2, pulled)
      end)

    it("an error raised by the iterator goes up, after what was already written", function()
      local out = recorder()
      local w = output.new { format = "jsonl", stdout = out }
      local n = 0
      local ok, err = pcall(w.collection, w, function()
        n = n + 1
        if n == 2 then error("page 2 failed", 0) end
        return { n = n }
      end)
      assert.is_false(ok)
      assert.equal("page 2 failed", err)
      assert.equal('{"n":1}\n', out.text())
    end)
  end)
end)
