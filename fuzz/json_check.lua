-- json_check.lua - the properties fuzz/json_fuzz.c checks for every input, run
-- in the fuzzer's embedded Lua 5.4 with ctct.core's JSON functions. Loaded once
-- with that table as its argument; returns check(text), which returns nothing
-- when every property holds and a description of the first one that does not
-- (the harness then aborts, so libFuzzer keeps the input as a crash).
--
--   decode fails   -> "invalid JSON at byte N: ..." with 0 <= N <= #text, N also
--                     returned third; the ordered decode fails the same way
--   decode works   -> encode, decode again, encode again: the second value equals
--                     the first (array marks, math.type, float bits, null), and
--                     the two texts are byte-identical with `ordered` (plain
--                     tables iterate in an order that depends on how they were
--                     filled, so without it only the lengths must agree)
--   ordered        -> the same value as the plain decode, and its encoding has
--                     the input's key order whenever no object repeats a key
--   limits         -> a small max_depth accepts exactly what is that shallow and
--                     refuses the rest at an opening bracket; max_bytes = #text
--                     accepts, #text - 1 refuses; encode's max_depth agrees
local core = ...
local decode, encode, null = core.json_decode, core.json_encode, core.json_null
local array_mt = core.json_array_mt

local function is_ordered_mt(mt)
  return type(mt) == "table" and rawget(mt, "__name") == "ctct.object"
end

-- Deep equality of two decoded values. With ordered, objects must also carry
-- the same key list; without it they must carry no metatable at all.
local function same(a, b, ordered, path)
  local ta, tb = math.type(a) or type(a), math.type(b) or type(b)
  if ta ~= tb then return path .. ": " .. ta .. " vs " .. tb end
  if ta == "float" then
    if string.pack("<d", a) ~= string.pack("<d", b) then
      return path .. string.format(": float %a vs %a", a, b)
    end
    return nil
  end
  if ta == "userdata" then
    if a ~= null or b ~= null then return path .. ": a userdata that is not json_null" end
    return nil
  end
  if ta ~= "table" then
    if a ~= b then return path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return nil
  end
  local ma, mb = getmetatable(a), getmetatable(b)
  if (ma == array_mt) ~= (mb == array_mt) then return path .. ": array mark differs" end
  if ma == array_mt then
    if #a ~= #b then return path .. ": array lengths " .. #a .. " vs " .. #b end
    for i = 1, #a do
      local why = same(a[i], b[i], ordered, path .. "[" .. i .. "]")
      if why then return why end
    end
    for k in pairs(a) do
      if math.type(k) ~= "integer" or k < 1 or k > #a then return path .. ": an array with a stray key" end
    end
    return nil
  end
  if ordered then
    if not is_ordered_mt(ma) or not is_ordered_mt(mb) then return path .. ": ordered object without its key list" end
    if #ma ~= #mb then return path .. ": key lists of " .. #ma .. " and " .. #mb end
    for i = 1, #ma do
      if ma[i] ~= mb[i] then return path .. ": key lists differ at " .. i end
    end
  elseif ma ~= nil or mb ~= nil then
    return path .. ": a plain object with a metatable"
  end
  local n = 0
  for k, v in pairs(a) do
    n = n + 1
    if type(k) ~= "string" then return path .. ": an object key of type " .. type(k) end
    if b[k] == nil then return path .. ": key missing on the right" end
    local why = same(v, b[k], ordered, path .. "." .. k)
    if why then return why end
  end
  for _ in pairs(b) do n = n - 1 end
  if n ~= 0 then return path .. ": key counts differ" end
  return nil
end

-- The nesting of a decoded value: scalars 0, [] and {} 1.
local function depth_of(v)
  if type(v) ~= "table" then return 0 end
  local d = 0
  for _, x in pairs(v) do
    local dx = depth_of(x)
    if dx > d then d = dx end
  end
  return d + 1
end

-- The nesting of a valid JSON text: brackets outside strings. It can exceed the
-- decoded value's (a repeated key's deeper first value is dropped, not unread).
local function text_depth(s)
  local d, most, i, n = 0, 0, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c == '"' then
      i = i + 1
      while s:sub(i, i) ~= '"' do i = i + (s:sub(i, i) == "\\" and 2 or 1) end
    elseif c == "[" or c == "{" then
      d = d + 1
      if d > most then most = d end
    elseif c == "]" or c == "}" then
      d = d - 1
    end
    i = i + 1
  end
  return most
end

-- The keys of every object of a valid JSON text in document order (decoded),
-- or nil when some object repeats a key.
local function keys_in_order(s)
  local out, stack, pos = {}, {}, 1
  while true do
    local i, _, c = s:find('(["{}%[%]])', pos)
    if not i then return out end
    if c == '"' then
      local j = i + 1
      while true do
        local k, _, q = s:find('(["\\])', j)
        if q == "\\" then
          j = k + 2
        else
          j = k
          break
        end
      end
      if s:find("^[ \t\r\n]*:", j + 1) then
        local key = assert(decode(s:sub(i, j)))
        local seen = stack[#stack]
        if seen[key] then return nil end
        seen[key] = true
        out[#out + 1] = key
      end
      pos = j + 1
    else
      if c == "{" then
        stack[#stack + 1] = {}
      elseif c == "[" then
        stack[#stack + 1] = false
      else
        stack[#stack] = nil
      end
      pos = i + 1
    end
  end
end

local function check_error(text, opts, v, why, at)
  if v ~= nil then return "a failed decode returned a value" end
  if type(why) ~= "string" then return "a failed decode without a message" end
  local n = why:match("^invalid JSON at byte (%d+): ")
  if not n then return "error message without 'at byte N': " .. why end
  n = tonumber(n)
  if n < 0 or n > #text then return "error offset " .. n .. " outside 0.." .. #text end
  if at ~= n then return "third value " .. tostring(at) .. " is not the offset " .. n .. " of " .. why end
  local v2, why2 = decode(text, opts)
  if v2 ~= nil or why2 ~= why then return "the ordered decode disagrees: " .. tostring(why2) .. " vs " .. why end
  return nil
end

-- encode, decode, encode: the second value equals the first, the texts agree.
local function round_trip(v, ordered)
  local opts = ordered and { ordered = true } or nil
  local e1, why = encode(v)
  if not e1 then return "encode refused a decoded value: " .. tostring(why) end
  local v2, why2 = decode(e1, opts)
  if v2 == nil then return "the encoding does not decode: " .. tostring(why2) .. " in " .. e1 end
  local diff = same(v, v2, ordered, "value")
  if diff then return "the decoded encoding differs at " .. diff end
  local e2, why3 = encode(v2)
  if not e2 then return "second encode refused: " .. tostring(why3) end
  if ordered and e1 ~= e2 then return "ordered encodings differ:\n" .. e1 .. "\n" .. e2 end
  if #e1 ~= #e2 then return "encodings differ in length:\n" .. e1 .. "\n" .. e2 end
  return nil, e1
end

local ORDERED = { ordered = true }

return function(text)
  local v, why, at = decode(text)
  if v == nil then return check_error(text, ORDERED, v, why, at) end

  local fail = round_trip(v, false)
  if fail then return "plain: " .. fail end

  local ov = decode(text, ORDERED)
  if ov == nil then return "the ordered decode refused what the plain one took" end
  local ordered_text
  fail, ordered_text = round_trip(ov, true)
  if fail then return "ordered: " .. fail end
  local pv, pwhy = decode(ordered_text) -- the same value as the plain decode
  if pv == nil then return "the ordered encoding does not decode plainly: " .. tostring(pwhy) end
  fail = same(v, pv, false, "value")
  if fail then return "ordered encoding, decoded plain: " .. fail end
  local want = keys_in_order(text)
  if want then
    local got = keys_in_order(ordered_text)
    if not got or #got ~= #want then return "ordered encoding has other keys" end
    for i = 1, #want do
      if got[i] ~= want[i] then return "ordered encoding changed the key order at key " .. i end
    end
  end

  -- limits: a depth bound from the input's length, and max_bytes at #text
  -- (decode judges the text's nesting, encode the value's: see text_depth)
  local depth, vdepth, limit = text_depth(text), depth_of(v), #text % 6 + 1
  local lv, lwhy, lat = decode(text, { max_depth = limit, max_bytes = #text })
  if depth <= limit then
    if lv == nil then return "max_depth " .. limit .. " refused depth " .. depth .. ": " .. tostring(lwhy) end
    fail = same(v, lv, false, "value")
    if fail then return "max_depth decode: " .. fail end
  else
    if lv ~= nil then return "max_depth " .. limit .. " accepted depth " .. depth end
    local n = lwhy:match("^invalid JSON at byte (%d+): nested deeper than " .. limit .. " levels$")
    if not n or tonumber(n) ~= lat then return "max_depth refusal: " .. lwhy end
    local c = text:sub(lat + 1, lat + 1)
    if c ~= "[" and c ~= "{" then return "max_depth refusal points at " .. c .. ": " .. lwhy end
  end
  local e, ewhy = encode(v, { max_depth = limit })
  if vdepth <= limit then
    if not e then return "encode max_depth " .. limit .. " refused depth " .. vdepth end
  elseif e or not ewhy:find("^nested deeper than " .. limit .. " levels at value") then
    return "encode max_depth " .. limit .. " of depth " .. vdepth .. ": " .. tostring(ewhy)
  end
  if #text > 1 then
    local bv, bwhy, bat = decode(text, { max_bytes = #text - 1 })
    if bv ~= nil or bat ~= #text - 1 or
       bwhy ~= ("JSON body of %d bytes is over the limit of %d bytes"):format(#text, #text - 1) then
      return "max_bytes " .. (#text - 1) .. ": " .. tostring(bwhy)
    end
  end
  return nil
end
