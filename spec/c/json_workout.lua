-- Exercises ctct.core's JSON decoder and encoder (src/json.c over simdjson) for
-- valgrind and ASan runs (spec/run-asan): many documents round-tripped, every
-- decode failure with its offset, nesting to the limit and past it, the size
-- limit at its boundary (a small max_bytes, and the 64 MiB default refusing
-- without parsing), a body past the 8 MiB the parser keeps (its buffers are
-- given back), parsers left to the collector, ordered mode, and every encoder
-- refusal with its path, cycles included.
--   lua5.4 spec/c/json_workout.lua
local core = require "ctct.core"
local decode, encode, null, array_mt = core.json_decode, core.json_encode, core.json_null, core.json_array_mt

local function fails(text, opts, reason, at)
  local v, why, off = decode(text, opts)
  assert(v == nil, text)
  assert(type(why) == "string" and why:find(reason, 1, true), tostring(why) .. " for " .. text:sub(1, 60))
  if at then assert(off == at, ("offset %s, not %s, for %s: %s"):format(off, at, text:sub(1, 60), why)) end
  assert(off >= 0 and off <= #text or why:find("over the limit", 1, true), why)
  return why
end

local function round_trip(text, ordered)
  local opts = ordered and { ordered = true } or nil
  local v, why = decode(text, opts)
  assert(v ~= nil, why)
  local e1 = assert(encode(v))
  local v2, why2 = decode(e1, opts)
  assert(v2 ~= nil, why2)
  local e2 = assert(encode(v2))
  assert(#e1 == #e2, text)
  if ordered then assert(e1 == e2, e1 .. " / " .. e2) end
  return v, e1
end

local contact = '{"contact_id":"1618ae62-4752-11e9-9c8a-fa163e6b01c1","email_address":{"address":' ..
  '"a@example.com","permission_to_send":"implicit","created_at":"2026-11-24T10:00:00Z"},' ..
  '"first_name":"Ada","last_name":"L\\u00f6velace \\ud83d\\ude00","birthday_month":11,"score":0.5,' ..
  '"list_memberships":["07936f78-662a-11eb-af0a-fa163e56c9b0"],"taggings":[],"notes":[],' ..
  '"custom_fields":[{"custom_field_id":"x","value":null}],"sms_channel":{},"deleted":false}'
local docs = {
  contact, "[]", "{}", "[[],{},[[]],{\"a\":{\"b\":[]}}]", "0", "-0", "-0.0", "1e308", "-1e308", "5e-324",
  "9007199254740993", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
  "18446744073709551615", "123456789012345678901234567890", '"\\u0000\\u001f\\"\\\\\\/\\b\\f\\n\\r\\t"',
  '"\\ud834\\udd1e \\u00e9 \\u4e2d"', "true", "false", "null", '{"a":null,"b":[null,null]}',
  ' \t\r\n{ "spaced" : [ 1 , 2 ] }\n', '{"a":1,"a":2}', '{"":"empty key"}',
  "[1.5,-2.25e-3,1E2,1e+2,0.1,100,3.0]",
  '{"contacts":[' .. string.rep(contact .. ",", 50) .. contact .. '],"_links":{"next":{"href":"/v3/c"}}}',
}

for _ = 1, 3 do
  for _, text in ipairs(docs) do
    round_trip(text, false)
    round_trip(text, true)
  end
end

-- values: marks, integers, floats, null
do
  local v = assert(decode('{"a":[],"b":{},"i":3,"f":3.0,"z":-0.0,"n":null,"big":9223372036854775808}'))
  assert(getmetatable(v.a) == array_mt and getmetatable(v.b) == nil)
  assert(math.type(v.i) == "integer" and math.type(v.f) == "float" and math.type(v.big) == "float")
  assert(1 / v.z == -math.huge and v.n == null)
  assert(encode(v.a) == "[]" and encode(v.b) == "{}" and encode(v.f) == "3.0" and encode(v.z) == "-0.0")
  assert(decode('"\\ud83d\\ude00"') == "\240\159\152\128")
  assert(decode('{"a":1,"a":2}').a == 2)
end

-- ordered: the document's key order, then keys added later
do
  local text = '{"z":1,"a":{"y":2,"b":3},"m":[{"q":1,"c":2}],"":null}'
  local v, e = round_trip(text, true)
  assert(e == text, e)
  assert(getmetatable(v).__name == "ctct.object")
  v.new = true
  v.z = nil
  assert(assert(encode(v)) == '{"a":{"y":2,"b":3},"m":[{"q":1,"c":2}],"":null,"new":true}', encode(v))
end

-- decode failures, each with its byte offset
local failures = {
  { "", "empty document", 0 }, { "   ", "", nil }, { "<html>", "unexpected", 0 },
  { '{"a":1,}', "unexpected", 7 }, { "[1,2", "", 4 }, { '{"a":1} {"b":2}', "", nil },
  { "[tru]", "", nil }, { "nul", "", nil }, { "[1e999]", "invalid number", nil }, { "NaN", "", 0 },
  { "[01]", "", nil }, { "[-]", "", nil }, { '"\\ud800"', "", nil }, { '"\\x"', "", nil },
  { '"abc', "unclosed string", 4 }, { '["a\1b"]', "control character", 3 },
  { '["\255"]', "invalid UTF-8", 2 }, { '["ok","\237\160\128"]', "invalid UTF-8", 7 },
  { '{"\192\128":1}', "invalid UTF-8", 2 }, { '["\244\144\128\128"]', "invalid UTF-8", 2 },
  { "[1,2]]", "", nil }, { "{1:2}", "", nil }, { '{"a" 1}', "", nil },
  { "[123456789012345678901234567890,}", "", nil },
}
for _ = 1, 3 do
  for _, f in ipairs(failures) do
    fails(f[1], nil, f[2], f[3])
    fails(f[1], { ordered = true }, f[2], f[3])
  end
end

-- nesting: to the limit and one past it, arrays and objects, several bounds
local function nested(n, open, close) return string.rep(open, n) .. "1" .. string.rep(close, n) end
for _, depth in ipairs { 1, 2, 7, 64, 200 } do
  local opts = depth ~= 200 and { max_depth = depth } or nil
  assert(decode(nested(depth, "[", "]"), opts))
  assert(decode(nested(depth, '{"k":', "}"), opts))
  fails(nested(depth + 1, "[", "]"), opts, "nested deeper than " .. depth .. " levels", depth)
  fails(nested(depth + 1, '{"k":', "}"), opts, "nested deeper than " .. depth .. " levels", 5 * depth)
  local deep = assert(decode(nested(depth, "[", "]"), opts))
  assert(encode(deep, opts))
  assert(not encode({ deep }, opts))
end
assert(decode(nested(1000, "[", "]"), { max_depth = 1000 }))
fails(nested(10001, "[", "]"), { max_depth = 10000 }, "nested deeper than 10000 levels", 10000)
assert(not pcall(decode, "[]", { max_depth = 0 }))
assert(not pcall(decode, "[]", { max_depth = 10001 }))
assert(not pcall(decode, "[]", { max_bytes = 0.5 }))
assert(not pcall(decode, "[]", { ordered = "yes" }))
assert(not pcall(decode, "[]", 5))
assert(not pcall(decode))

-- size: the boundary with a small max_bytes, the default refusing 64 MiB + 1 unparsed
do
  local text = '{"a":"' .. string.rep("x", 93) .. '"}' -- 101 bytes
  assert(#text == 101)
  assert(decode(text, { max_bytes = 101 }))
  local v, why, at = decode(text, { max_bytes = 100 })
  assert(v == nil and at == 100 and why == "JSON body of 101 bytes is over the limit of 100 bytes", why)
  assert(decode("1", { max_bytes = 1 }))
  fails("12", { max_bytes = 1 }, "over the limit of 1 bytes", 1)
  local huge = string.rep(" ", 64 * 1024 * 1024 + 1)
  fails(huge, nil, "JSON body of 67108865 bytes is over the limit of 67108864 bytes", 67108864)
end

-- past the 8 MiB the parser keeps: it gives its buffers back after this
do
  local big = '["' .. string.rep("y", 9 * 1024 * 1024) .. '",1]'
  local v = assert(decode(big))
  assert(#v[1] == 9 * 1024 * 1024)
  fails('["' .. string.rep("y", 9 * 1024 * 1024) .. '",]', nil, "", nil)
  assert(decode("[1]")[1] == 1)
end

-- encoder refusals, each naming the path
local function refused(value, want, opts)
  local text, why = encode(value, opts)
  assert(text == nil and why == want, tostring(why) .. " (wanted " .. want .. ")")
end
for _ = 1, 3 do
  refused({ body = { x = 0 / 0 } }, "NaN is not JSON at value.body.x")
  refused({ n = math.huge }, "an infinity is not JSON at value.n")
  refused({ n = -math.huge }, "an infinity is not JSON at value.n")
  refused({ street_addresses = { { city = "x" }, { city = print } } },
    "a function cannot be JSON at value.street_addresses[2].city")
  refused({ list = { 1, nil, 3 } }, "a sparse array (items must be at 1..n with no holes) at value.list")
  refused({ mix = { 1, a = 2 } }, "a table that mixes array items and string keys at value.mix")
  refused({ s = "\255" }, "a string is not valid UTF-8 at value.s")
  refused({ ["\255"] = 1 }, "a string is not valid UTF-8 at value[<key>]")
  refused({ [true] = 1 }, "a key that is neither a string nor an array index at value")
  refused({ [1.5] = 1 }, "a key that is neither a string nor an array index at value")
  refused({ a = setmetatable({ x = 1 }, array_mt) }, "an array (ctct.array) with string keys at value.a")
  refused({ co = coroutine.create(print) }, "a thread cannot be JSON at value.co")
  refused({ u = io.stdout }, "a userdata cannot be JSON at value.u")
  refused({ x = { 0 / 0 } }, "NaN is not JSON at body.x[1]", { root = "body" })
  refused({ ["key with spaces"] = { f = print } }, "a function cannot be JSON at value[<key>].f")
  local cyclic = { a = {} }
  cyclic.a.back = cyclic
  refused(cyclic, "a cycle (a table inside itself) at value.a.back")
  local self = setmetatable({}, array_mt)
  self[1] = self
  refused(self, "a cycle (a table inside itself) at value[1]")
  local deep = {}
  local t = deep
  for _ = 1, 250 do
    t[1] = {}
    t = t[1]
  end
  local text, why = encode(deep)
  assert(text == nil and why:find("^nested deeper than 200 levels at value%[1%]"), why)
  assert(encode(deep, { max_depth = 300 }))
  local shared = { 1 }
  assert(encode { shared, shared } == "[[1],[1]]")
  assert(not pcall(encode))
  assert(not pcall(encode, {}, { max_depth = 0 }))
  assert(not pcall(encode, {}, { root = {} }))
end

-- big values through the encoder's buffer
do
  local list = {}
  for i = 1, 20000 do list[i] = { id = i, name = "n" .. i, score = i / 7, tags = setmetatable({}, array_mt) } end
  local text = assert(encode { contacts = list })
  local back = assert(decode(text))
  assert(#back.contacts == 20000 and back.contacts[20000].id == 20000)
  assert(math.type(back.contacts[7].score) == "float" and back.contacts[7].score == 1.0)
end

-- parsers left to the collector: a fresh ctct.core has its own
for _ = 1, 5 do
  package.loaded["ctct.core"] = nil
  local fresh = require "ctct.core"
  assert(fresh.json_decode('{"x":[1,2]}').x[2] == 2)
  assert(not fresh.json_decode("[1,"))
end
package.loaded["ctct.core"] = core
collectgarbage()
collectgarbage()
print("json workout: ok")
