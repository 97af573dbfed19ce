-- JSON round trip: every example of the official spec, every body the sandbox sent
-- or received in this test run (spec/run collects them in $CTCT_JSON_CAPTURE_DIR and
-- runs this file last), and edge cases. Each document must decode, encode and
-- decode again to an identical value (array marks, integer/float, null included),
-- and what ctct decoded must match an independent reading by Python's json module
-- (spec/support/json_oracle.py). Prints
--   json round-trip: N documents, D differences
--   json oracle (python3): N documents, K disagreements
local json = require "ctct.json"

local IS_JIT = math.type == nil
local ORACLE = "/usr/bin/python3 spec/support/json_oracle.py"
local SPEC_JSON = "../shared/spec/ctct-v3-swagger.json"

local function say(line)
  io.stdout:write("\n", line, "\n")
  io.stdout:flush()
end

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

-- Run the oracle with hex lines on stdin; its lines back.
local function oracle(args, lines)
  local input = os.tmpname()
  local f = assert(io.open(input, "wb"))
  for _, l in ipairs(lines or {}) do f:write(l, "\n") end
  f:close()
  local p = assert(io.popen(ORACLE .. " " .. args .. " < " .. input))
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  local ok = p:close()
  os.remove(input)
  assert(ok, "json_oracle.py failed")
  return out
end

-- The same skeleton as json_oracle.py, of a value ctct decoded.
local function skeleton(v)
  local t = type(v)
  if v == json.null then return "N" end
  if t == "boolean" then return v and "T" or "B" end
  if t == "number" then
    if not IS_JIT and math.type(v) == "integer" then return string.format("I%d", v) end
    return string.format("F%.17g", v)
  end
  if t == "string" then return "S" .. hex(v) end
  assert(t == "table", "unexpected decoded type " .. t)
  local parts = {}
  if json.is_array(v) then
    for i = 1, #v do parts[i] = skeleton(v[i]) end
    return "A" .. #v .. "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do parts[i] = "K" .. hex(k) .. ":" .. skeleton(v[k]) .. ";" end
  return "O" .. #keys .. "{" .. table.concat(parts) .. "}"
end

-- Identical values: same types (math.type too), same marks, same members.
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if not IS_JIT and math.type(a) ~= math.type(b) then return false end
    return a == b or (a ~= a and b ~= b)
  end
  if type(a) ~= "table" then return a == b end
  if json.is_array(a) ~= json.is_array(b) then return false end
  for k, x in pairs(a) do
    if not same(x, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- decode -> encode -> decode: nil when identical, else what differed.
local function round_trip(text)
  local v, why = json.decode(text)
  if v == nil then return "decode: " .. why end
  local t2, why2 = json.encode(v)
  if not t2 then return "encode: " .. why2 end
  local v2, why3 = json.decode(t2)
  if v2 == nil then return "decode of our own text: " .. why3 end
  if not same(v, v2) then return "values differ after a round trip: " .. t2:sub(1, 200) end
  -- With key order kept, the text itself must come back the same.
  local o1 = json.encode(json.decode(text, { ordered = true }))
  if json.encode(json.decode(o1, { ordered = true })) ~= o1 then return "ordered encoding is not stable" end
  return nil, v
end

local function edge_cases()
  local docs = {
    "[]", "{}", "[[]]", "[{}]", '{"a":[]}', '{"a":{}}', '{"a":[[],{},[{}],{"b":[]}]}',
    '{"list_memberships":[],"taggings":[],"notes":[],"phone_numbers":[],"custom_fields":[]}',
    string.rep("[", 199) .. string.rep("]", 199), -- at the depth limit (200 with the root)
    string.rep('{"a":', 150) .. "[]" .. string.rep("}", 150),
    "0", "-0", "1", "-1", "2147483647", "2147483648", "-2147483648", "-2147483649",
    "9007199254740992", "9007199254740993", "-9007199254740993",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615",
    "1.0", "-0.0", "0.1", "1e-7", "1.5e300", "-2.5E-300", "1E2", "123456789012345678901234567890",
    "5e-324", "1.7976931348623157e308", "0.30000000000000004", "[1,1.0,-1,-1.0]",
    '"\\u00e9\\u4e2d\\ud83d\\ude00"', '"\\ud834\\udd1e"', '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f"',
    '"caf\195\169 \226\130\172 \240\159\152\128"', '""', '" "', "true", "false", "null",
    '[null,true,false,"",0,[],{}]', '{"":1,"a b":2,"\\u0000":3}', '{"a":1,"a":2}',
    ' \t\r\n{ "a" : [ 1 , 2 ] }\n',
    '{"contacts":[{"contact_id":"0b6f1a78-1a0e-11ed-bd3f-fa163e56c9b8","email_address":{"address":' ..
      '"ada@example.com","permission_to_send":"implicit"},"list_memberships":[],"custom_fields":[],' ..
      '"birthday_month":11,"score":3.0}],"contacts_count":1,"_links":{"next":{"href":"/v3/contacts?cursor=x"}}}',
  }
  return docs
end

-- Documents that must be refused, each with the reason the message must name.
local INVALID = {
  { "[1,2", "at byte 4" }, { "{} x", "at byte 3" }, { "NaN", "at byte 0" }, { "[Infinity]", "at byte" },
  { "[-Infinity]", "at byte" }, { "1e999", "invalid number" }, { "[1e999]", "invalid number" },
  { '"\255"', "invalid UTF-8" }, { '"\237\160\128"', "invalid UTF-8" }, -- an encoded surrogate
  { '"\192\175"', "invalid UTF-8" }, { '"\\ud800"', "at byte" }, { '"a\tb"', "control character" },
  { '{"a" 1}', "at byte 5" }, { "[1,]", "at byte 3" }, { "", "empty" }, { "tru", "invalid literal" },
  { string.rep("[", 201) .. string.rep("]", 201), "nested deeper than 200 levels" },
}

local function read_lines(path)
  local out = {}
  local f = io.open(path, "rb")
  if not f then return out end
  for line in f:lines() do if line ~= "" then out[#out + 1] = line end end
  f:close()
  return out
end

-- Bodies the sandboxes of this run sent and received (one document per line).
local function captured()
  local dir = os.getenv("CTCT_JSON_CAPTURE_DIR")
  local out = {}
  if not dir or dir == "" then return out end
  local p = io.popen("ls -1 " .. ("'" .. dir:gsub("'", "'\\''") .. "'") .. " 2>/dev/null")
  for name in p:lines() do
    for _, l in ipairs(read_lines(dir .. "/" .. name)) do out[#out + 1] = l end
  end
  p:close()
  return out
end

describe("JSON round trip #roundtrip", function()
  local documents, seen = {}, {}
  local function add(text, source)
    if seen[text] then return end
    seen[text] = true
    documents[#documents + 1] = { text = text, source = source }
  end

  setup(function()
    for _, h in ipairs(oracle("examples " .. SPEC_JSON)) do add(unhex(h), "spec example") end
    for _, d in ipairs(edge_cases()) do add(d, "edge case") end
    for _, d in ipairs(captured()) do add(d, "sandbox body") end
  end)

  it("finds the spec's examples and the edge cases", function()
    local n = 0
    for _, d in ipairs(documents) do if d.source == "spec example" then n = n + 1 end end
    assert.is_true(n > 200, "only " .. n .. " examples found in the spec")
  end)

  it("round-trips every document to an identical value", function()
    local diffs, first = 0, {}
    for _, d in ipairs(documents) do
      local why = round_trip(d.text)
      if why then
        diffs = diffs + 1
        if #first < 5 then first[#first + 1] = d.source .. ": " .. why .. " <- " .. d.text:sub(1, 120) end
      end
    end
    say(("json round-trip: %d documents, %d differences"):format(#documents, diffs))
    assert.are.equal(0, diffs, table.concat(first, "\n"))
  end)

  it("decodes every document as Python's json module reads it", function()
    local lines = {}
    for i, d in ipairs(documents) do lines[i] = hex(d.text) end
    local expect = oracle("skeleton" .. (IS_JIT and " --jit" or ""), lines)
    assert.are.equal(#documents, #expect)
    local bad, first = 0, {}
    for i, d in ipairs(documents) do
      local v = json.decode(d.text)
      local mine = v == nil and "INVALID" or skeleton(v)
      if mine ~= expect[i] then
        bad = bad + 1
        if #first < 5 then first[#first + 1] = d.source .. ": " .. d.text:sub(1, 120) end
      end
    end
    say(("json oracle (python3): %d documents, %d disagreements"):format(#documents, bad))
    assert.are.equal(0, bad, table.concat(first, "\n"))
  end)

  it("refuses invalid documents with a reason and a byte offset", function()
    for _, case in ipairs(INVALID) do
      local v, why, offset = json.decode(case[1])
      assert.is_nil(v, case[1])
      assert.is_truthy(why:find(case[2], 1, true), case[1] .. " -> " .. tostring(why))
      assert.is_truthy(why:find("at byte " .. offset, 1, true) or why:find("over the limit"), why)
      assert.is_true(offset >= 0 and offset <= #case[1])
    end
  end)

  it("agrees with the oracle that the invalid documents are invalid", function()
    local lines = {}
    for i, case in ipairs(INVALID) do lines[i] = hex(case[1]) end
    local expect = oracle("skeleton", lines)
    for i, case in ipairs(INVALID) do
      -- Python accepts deeper nesting than ctct's limit of 200: only that one differs.
      if not case[2]:find("nested") then assert.are.equal("INVALID", expect[i], case[1]) end
    end
  end)
end)
