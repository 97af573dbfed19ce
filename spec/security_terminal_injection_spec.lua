-- Issue 17: the API's error_message went verbatim into tostring(err) and the
-- CLI's error line, so ESC sequences (colours, cursor moves, screen clears), OSC
-- titles and BEL reached the terminal, and newlines broke the one-line promise.
-- tostring(err) and the CLI show control characters as visible escapes (\x1b,
-- \u009b); err.message keeps the API's own text for programs.
local errors = require "ctct.errors"
local exitcodes = require "ctct.cli.exitcodes"
local cjson = require "cjson"

local EVIL = "bad\27]0;pwned\7 title\27[2J\27[31mred\r\nsecond line\tand \194\155" .. "31m C1 end\127"

local function api_error(message)
  return errors.from_response({ status = 400, headers = { ["content-type"] = "application/json",
                                                          ["x-request-id"] = "req\27[8m-1" },
                                body = cjson.encode { { error_key = "json.field.invalid", error_message = message } } },
                              { method = "POST", path = "/contacts" })
end

-- No C0 control (other than the final newline), no DEL, no C1 (raw or UTF-8).
local function assert_printable(text, allow_final_newline)
  if allow_final_newline then
    assert.equal("\n", text:sub(-1))
    text = text:sub(1, -2)
  end
  local at = text:find("[%z\1-\31\127]")
  assert.is_nil(at, "control byte at " .. tostring(at) .. " in " .. ("%q"):format(text))
  assert.is_nil(text:find("\194[\128-\159]"), "a C1 control in " .. ("%q"):format(text))
  assert.is_nil(text:find("\255", 1, true), "an invalid UTF-8 byte in " .. ("%q"):format(text))
end

local function capture_stderr(fn)
  local saved, got = io.stderr, {}
  io.stderr = { write = function(self, ...) -- luacheck: ignore 122
    for _, s in ipairs { ... } do got[#got + 1] = tostring(s) end
    return self
  end, flush = function(self) return self end }
  local ok, res = pcall(fn)
  io.stderr = saved -- luacheck: ignore 122
  if not ok then error(res, 0) end
  return table.concat(got), res
end

describe("security: terminal injection through error messages", function()
  it("tostring(err) shows control characters as visible escapes, on one line", function()
    local err = api_error(EVIL)
    local line = tostring(err)
    assert_printable(line)
    assert.truthy(line:find("bad\\x1b]0;pwned\\x07 title\\x1b[2J\\x1b[31mred second line and \\u009b31m C1 end\\x7f",
      1, true), line)
    assert.truthy(line:find("[request req\\x1b[8m-1]", 1, true), line)
  end)

  it("keeps the API's text unchanged in err.message (for programs)", function()
    local err = api_error(EVIL)
    assert.equal(EVIL, err.message)
    assert.equal(EVIL, err.details[1].error_message)
  end)

  it("shows bytes that are not UTF-8 as escapes (an 8-bit terminal reads 0x9b as CSI)", function()
    local err = errors.new { kind = "protocol", message = "raw \155" .. "31m and \255 and \226\130" }
    local line = tostring(err)
    assert_printable(line)
    assert.is_nil(line:find("[\128-\255]"), line)
    assert.equal("ctct: protocol: raw \\x9b31m and \\xff and \\xe2\\x82", line)
  end)

  it("leaves ordinary text, UTF-8 included, as it is", function()
    local err = errors.new { kind = "http", status = 409, message = "Grüße, 東京: the contact already exists" }
    assert.equal("ctct: http 409: Grüße, 東京: the contact already exists", tostring(err))
  end)

  it("the CLI's error line has no control bytes, and is one line", function()
    local out, code = capture_stderr(function() return exitcodes.report(api_error(EVIL), {}) end)
    assert.equal(exitcodes.API, code)
    assert_printable(out, true)
    assert.truthy(out:find("\\x1b]0;pwned", 1, true), out)
  end)

  it("the CLI's JSON error object carries no raw control bytes either", function()
    local out = capture_stderr(function() return exitcodes.report(api_error(EVIL), { json = true }) end)
    assert_printable((out:gsub("\n", " ")), false)
    local obj = cjson.decode(out)
    assert.truthy(obj.error.message:find("\\x1b]0;pwned", 1, true))
  end)

  it("usage errors and raised strings are cleaned the same way", function()
    local out = capture_stderr(function()
      return exitcodes.report(exitcodes.usage("no file 'a\27[2Jb'", "x\7y"), {})
    end)
    assert_printable(out, true)
    assert.truthy(out:find("a\\x1b[2Jb", 1, true), out)
    out = capture_stderr(function() return exitcodes.report("boom\27]2;t\7", {}) end)
    assert_printable(out, true)
  end)

  it("still redacts secrets before cleaning", function()
    local out = capture_stderr(function()
      return exitcodes.report(errors.new { kind = "auth", status = 401, message = "token s3cr3t-token\27[0m bad" },
        { secrets = { "s3cr3t-token" } })
    end)
    assert.is_nil(out:find("s3cr3t", 1, true))
    assert_printable(out, true)
  end)

  it("CLI notes and --verbose log lines show control characters as escapes, secrets redacted", function()
    local Ctx = require("ctct.cli").Ctx
    local ctx = setmetatable({ args = { verbose = true }, secrets = { "tok-123" } }, Ctx)
    local out = capture_stderr(function() ctx:note("path /contacts/" .. EVIL .. " tok-123") end)
    assert_printable(out, true)
    assert.is_nil(out:find("tok-123", 1, true))
    assert.truthy(out:find("\\x1b[2J", 1, true), out)
    out = capture_stderr(function() ctx:log("http", "GET /x" .. EVIL) end)
    assert_printable(out, true)
    assert.matches("^ctct: http: GET /xbad", out)
  end)

  it("table output (for a terminal) shows the API's control characters as escapes; json keeps them", function()
    local output = require "ctct.cli.output"
    local function render(format, fn)
      local got = {}
      local sink = { write = function(self, ...)
        for _, s in ipairs { ... } do got[#got + 1] = tostring(s) end
        return self
      end }
      fn(output.new { format = format, stdout = sink })
      return table.concat(got)
    end
    local contact = { contact_id = "c1", first_name = EVIL }
    for _, text in ipairs {
      render("table", function(w) w:collection(output.array_iter { contact }, { "contact_id", "first_name" }) end),
      render("table", function(w) w:object(contact) end),
    } do
      for line in text:gmatch("[^\n]+") do assert_printable(line) end
      assert.truthy(text:find("bad\\x1b]0;pwned\\x07", 1, false), text)
    end
    local raw = render("json", function(w) w:object(contact) end)
    assert.equal(EVIL, require("ctct.json").decode(raw).first_name)
  end)
end)
