-- ctct.csv alone: RFC 4180 records (quotes, "" escapes, fields over several
-- lines, CRLF or LF), where each record starts (line, bytes), and the line
-- named when text is not CSV.
local csv = require "ctct.csv"

-- The fields of every record.
local function fields(records)
  local out = {}
  for i, r in ipairs(records) do out[i] = r.fields end
  return out
end

-- The start line of every record.
local function lines(records)
  local out = {}
  for i, r in ipairs(records) do out[i] = r.line end
  return out
end

local function parse_ok(text)
  local records, err = csv.parse(text)
  assert.is_nil(err)
  assert.is_table(records)
  return records
end

describe("ctct.csv", function()
  it("parses nothing to no records", function()
    assert.same({}, parse_ok(""))
    assert.same({}, parse_ok("\n"))
    assert.same({}, parse_ok("\r\n\n\r\n"))
  end)

  it("parses LF records, with their line and byte range", function()
    assert.same({
      { fields = { "email", "first_name" }, line = 1, from = 1, to = 16 },
      { fields = { "ada@example.com", "Ada" }, line = 2, from = 18, to = 36 },
    }, parse_ok("email,first_name\nada@example.com,Ada\n"))
  end)

  it("parses CRLF records, leaving the CR out of the fields and the range", function()
    local text = "a,b\r\nc,d\r\n"
    local records = parse_ok(text)
    assert.same({ { "a", "b" }, { "c", "d" } }, fields(records))
    assert.same({ 1, 2 }, lines(records))
    assert.equal("a,b", text:sub(records[1].from, records[1].to))
    assert.equal("c,d", text:sub(records[2].from, records[2].to))
  end)

  it("takes the last record without a line break at the end", function()
    local records = parse_ok("a,b\nc,d")
    assert.same({ { "a", "b" }, { "c", "d" } }, fields(records))
    assert.equal(5, records[2].from)
    assert.equal(7, records[2].to)
  end)

  it("ends a record at a lone CR too", function()
    local records = parse_ok("a\rb\r")
    assert.same({ { "a" }, { "b" } }, fields(records))
    assert.same({ 1, 2 }, lines(records))
  end)

  it("skips blank lines but counts them in line numbers", function()
    local records = parse_ok("\nh1,h2\n\n\r\nx,y\r\n\n\nz\n")
    assert.same({ { "h1", "h2" }, { "x", "y" }, { "z" } }, fields(records))
    assert.same({ 2, 5, 8 }, lines(records))
  end)

  it("keeps empty fields: leading, trailing, between commas, alone at the end", function()
    assert.same({ { "", "a" }, { "a", "" }, { "", "", "" }, { "a", "", "b" }, { "", "" } },
      fields(parse_ok(",a\na,\n,,\na,,b\n,")))
  end)

  it("keeps spaces as they are", function()
    assert.same({ { " a ", "  ", "b c" } }, fields(parse_ok(" a ,  ,b c\n")))
  end)

  it("reads quoted fields: commas inside, \"\" for a quote, empty quotes", function()
    assert.same({ { "a,b", 'say "hi"', "", '"', "x" } },
      fields(parse_ok('"a,b","say ""hi""","","""",x\n')))
    assert.same({ { '""' } }, fields(parse_ok('""""""')))
  end)

  it("mixes quoted and unquoted fields, a quoted one last before CRLF or the end", function()
    assert.same({ { "1", "two", "3" }, { "4", "five" }, { "6" }, { "seven" } },
      fields(parse_ok('1,"two",3\r\n4,"five"\r\n6\n"seven"')))
    assert.same({ { "a" }, { "b" } }, fields(parse_ok('"a"\r"b"'))) -- a lone CR after a closing quote
  end)

  it("reads a quoted field over several lines, keeping its line breaks, and counts them", function()
    local text = 'id,note\n1,"line one\nline two\r\nline three"\n2,"x"\n\n3,y\n'
    local records = parse_ok(text)
    assert.same({ { "id", "note" }, { "1", "line one\nline two\r\nline three" }, { "2", "x" }, { "3", "y" } },
      fields(records))
    assert.same({ 1, 2, 5, 7 }, lines(records))
    assert.equal('1,"line one\nline two\r\nline three"', text:sub(records[2].from, records[2].to))
  end)

  it("keeps quoted line breaks at the start and end of a field", function()
    assert.same({ { "\n", "\r\n" }, { "z" } }, fields(parse_ok('"\n","\r\n"\nz')))
    assert.same({ 1, 4 }, lines(parse_ok('"\n","\r\n"\nz'))) -- two line breaks inside, one after
  end)

  it("gives byte ranges that cut the text into valid pieces", function()
    local text = 'h1,h2\r\n"a\nb",c\r\n\r\n"d,""e""",f\r\n'
    local records = parse_ok(text)
    assert.equal(3, #records)
    for _, r in ipairs(records) do
      local again = parse_ok(text:sub(r.from, r.to))
      assert.equal(1, #again)
      assert.same(r.fields, again[1].fields)
    end
    assert.equal('"d,""e""",f', text:sub(records[3].from, records[3].to))
  end)

  it("keeps bytes other than , \" CR LF as they are (UTF-8, tabs, NUL)", function()
    assert.same({ { "Zoë", "a\tb", "x\0y", "日本" } }, fields(parse_ok("Zoë,a\tb,x\0y,日本\n")))
  end)

  describe("errors", function()
    it("names a quoted field never closed, by the line its record starts on", function()
      local records, err = csv.parse('a,b\nc,"never\nclosed\n')
      assert.is_nil(records)
      assert.same({ line = 2, message = "a quoted field is never closed" }, err)
    end)

    it("names characters after a closing quote", function()
      local records, err = csv.parse('h\n"ab"c\n')
      assert.is_nil(records)
      assert.same({ line = 2, message = "characters after a closing quote" }, err)
      records, err = csv.parse('"a" ,b')
      assert.is_nil(records)
      assert.same({ line = 1, message = "characters after a closing quote" }, err)
    end)

    it("names a quote inside an unquoted field", function()
      local records, err = csv.parse('h1,h2\nab"c,d\n')
      assert.is_nil(records)
      assert.same({ line = 2, message = "a quote inside an unquoted field" }, err)
      records, err = csv.parse('x,y\n\nok,b"c\n')
      assert.is_nil(records)
      assert.same({ line = 3, message = "a quote inside an unquoted field" }, err)
      records, err = csv.parse(' "a"\n') -- a quote after a space is inside an unquoted field
      assert.is_nil(records)
      assert.same({ line = 1, message = "a quote inside an unquoted field" }, err)
    end)

    it("counts the lines of multi-line fields and blank lines before the bad record", function()
      local records, err = csv.parse('h\n"one\ntwo\nthree"\n\r\nx"y\n')
      assert.is_nil(records)
      assert.same({ line = 6, message = "a quote inside an unquoted field" }, err)
      records, err = csv.parse('h\n"a\nb"c\n') -- the record's first line, not the closing quote's
      assert.is_nil(records)
      assert.same({ line = 2, message = "characters after a closing quote" }, err)
    end)
  end)

  it("leaves a UTF-8 byte order mark out of the first field (Excel's CSV UTF-8)", function()
    local text = "\239\187\191email,first_name\r\na@b.example,Ada\r\n"
    local records = assert(csv.parse(text))
    assert.same({ "email", "first_name" }, records[1].fields)
    assert.equal(4, records[1].from)
    assert.equal("email,first_name", text:sub(records[1].from, records[1].to))
    assert.same({ "a@b.example", "Ada" }, records[2].fields)
    -- and the import's check accepts such a file
    local activities = require "ctct.resources.activities"
    assert.is_true(activities.check_csv(setmetatable({}, activities), text))
  end)
end)
