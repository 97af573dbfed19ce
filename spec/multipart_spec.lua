-- ctct.multipart alone: multipart/form-data bodies (RFC 7578) as the CSV import
-- sends them: the boundary, form and file parts, their headers and the
-- Content-Type that names the boundary.
local multipart = require "ctct.multipart"
local core = require "ctct.core"

local BOUNDARY = "^multipart/form%-data; boundary=(ctct%-" .. ("%x"):rep(32) .. ")$"

-- The body and the boundary its Content-Type names (checked to have the promised form).
local function encode(parts)
  local body, content_type = multipart.encode(parts)
  assert.is_string(body)
  local boundary = content_type:match(BOUNDARY)
  assert.is_string(boundary, "Content-Type: " .. tostring(content_type))
  return body, boundary
end

-- Run fn with core.random_bytes answering `answers` in turn; returns the sizes asked for.
local function with_random(answers, fn)
  local real, asked = core.random_bytes, {}
  core.random_bytes = function(n)
    asked[#asked + 1] = n
    return assert(table.remove(answers, 1), "random_bytes called too often")
  end
  local ok, err = pcall(fn)
  core.random_bytes = real
  if not ok then error(err, 0) end
  return asked
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

describe("ctct.multipart", function()
  it("encodes a form field: disposition, blank line, value, closing delimiter", function()
    local body, b = encode { { name = "list_ids", value = "a,b" } }
    assert.equal("--" .. b .. "\r\n" ..
      'Content-Disposition: form-data; name="list_ids"\r\n' ..
      "\r\n" ..
      "a,b\r\n" ..
      "--" .. b .. "--\r\n", body)
  end)

  it("encodes a file part with the default filename and text/csv", function()
    local body, b = encode { { name = "file", value = "email\nada@example.com\n", file = true } }
    assert.equal("--" .. b .. "\r\n" ..
      'Content-Disposition: form-data; name="file"; filename="contacts.csv"\r\n' ..
      "Content-Type: text/csv\r\n" ..
      "\r\n" ..
      "email\nada@example.com\n\r\n" ..
      "--" .. b .. "--\r\n", body)
  end)

  it("uses a file part's own filename and content_type", function()
    local body, b = encode {
      { name = "data", value = "\0\1\2", file = true, filename = "export.bin",
        content_type = "application/octet-stream" },
    }
    assert.equal("--" .. b .. "\r\n" ..
      'Content-Disposition: form-data; name="data"; filename="export.bin"\r\n' ..
      "Content-Type: application/octet-stream\r\n" ..
      "\r\n" ..
      "\0\1\2\r\n" ..
      "--" .. b .. "--\r\n", body)
  end)

  it("gives a part that is not a file neither filename nor Content-Type, whatever else it holds", function()
    local body = encode { { name = "x", value = "v", filename = "ignored.csv", content_type = "text/plain" } }
    assert.is_nil(body:find("filename", 1, true))
    assert.is_nil(body:find("Content-Type", 1, true))
  end)

  it("encodes several parts in order, each opened by the boundary", function()
    local body, b = encode {
      { name = "file", value = "email\n", file = true },
      { name = "list_ids", value = "l1,l2" },
      { name = "sms_permission_to_send", value = "true" },
    }
    assert.equal("--" .. b .. "\r\n" ..
      'Content-Disposition: form-data; name="file"; filename="contacts.csv"\r\n' ..
      "Content-Type: text/csv\r\n\r\n" ..
      "email\n\r\n" ..
      "--" .. b .. "\r\n" ..
      'Content-Disposition: form-data; name="list_ids"\r\n\r\n' ..
      "l1,l2\r\n" ..
      "--" .. b .. "\r\n" ..
      'Content-Disposition: form-data; name="sms_permission_to_send"\r\n\r\n' ..
      "true\r\n" ..
      "--" .. b .. "--\r\n", body)
  end)

  it("encodes no parts as the closing delimiter alone", function()
    local body, b = encode {}
    assert.equal("--" .. b .. "--\r\n", body)
  end)

  it("keeps a value's bytes as they are, empty, CRLF and dashes included", function()
    local value = "--not-a-boundary\r\n\r\n--\r\n\0\255"
    local body, b = encode { { name = "v", value = value }, { name = "e", value = "" } }
    local pre = "--" .. b .. '\r\nContent-Disposition: form-data; name="v"\r\n\r\n'
    assert.equal(pre .. value .. "\r\n", body:sub(1, #pre + #value + 2))
    assert.truthy(body:find('name="e"\r\n\r\n\r\n--' .. b .. "--\r\n", 1, true))
  end)

  it("replaces quotes, backslashes and control characters in names and filenames", function()
    local body = encode {
      { name = 'a"b\\c\r\nd\0e\127f', value = "1" },
      { name = "f", value = "2", file = true, filename = 'evil".csv\r\nX-Injected: 1' },
    }
    assert.truthy(body:find('name="a_b_c__d_e_f"\r\n', 1, true))
    assert.truthy(body:find('; filename="evil_.csv__X-Injected: 1"\r\n', 1, true))
    assert.is_nil(body:find("\r\nX-Injected", 1, true))
  end)

  it("keeps UTF-8 in names and filenames", function()
    local body = encode { { name = "liste_été", value = "x", file = true, filename = "contacts_ñ.csv" } }
    assert.truthy(body:find('name="liste_été"; filename="contacts_ñ.csv"\r\n', 1, true))
  end)

  it("makes the boundary from 16 random bytes, in hex", function()
    local bytes = "\0\1\2\3\4\5\6\7\8\9\10\11\12\13\254\255"
    local asked = with_random({ bytes }, function()
      local _, content_type = multipart.encode { { name = "a", value = "x" } }
      assert.equal("multipart/form-data; boundary=ctct-000102030405060708090a0b0c0dfeff", content_type)
    end)
    assert.same({ 16 }, asked)
  end)

  it("draws a new boundary while one appears in any part's value", function()
    local first, second, third = ("\1"):rep(16), ("\2"):rep(16), ("\3"):rep(16)
    local asked = with_random({ first, second, third }, function()
      local body, b = encode {
        { name = "a", value = "nothing here" },
        { name = "file", file = true, value = "x,ctct-" .. hex(first) .. ",y" },
        { name = "c", value = "and ctct-" .. hex(second) .. " too" },
      }
      assert.equal("ctct-" .. hex(third), b)
      assert.equal("--" .. b .. "\r\n", body:sub(1, #b + 4))
    end)
    assert.same({ 16, 16, 16 }, asked)
  end)

  it("draws a fresh boundary for every body", function()
    local _, b1 = encode { { name = "a", value = "x" } }
    local _, b2 = encode { { name = "a", value = "x" } }
    assert.are_not.equal(b1, b2)
  end)

  it("gives each delimiter on a line of its own, as a parser splits them", function()
    local values = { "alpha", "be\r\nta", "" }
    local body, b = encode {
      { name = "p1", value = values[1] },
      { name = "p2", value = values[2], file = true },
      { name = "p3", value = values[3] },
    }
    assert.equal("--" .. b, body:sub(1, #b + 2))
    assert.equal("\r\n--" .. b .. "--\r\n", body:sub(-(#b + 8)))
    local got, pos = {}, #b + 5 -- past the first delimiter and its CRLF
    while true do
      local head_end = assert(body:find("\r\n\r\n", pos, true))
      local next_delim = assert(body:find("\r\n--" .. b, head_end, true))
      got[#got + 1] = body:sub(head_end + 4, next_delim - 1)
      pos = next_delim + 4 + #b -- past CRLF "--" boundary
      if body:sub(pos, pos + 1) == "--" then break end
      pos = pos + 2 -- the CRLF after a delimiter
    end
    assert.same(values, got)
  end)
end)
