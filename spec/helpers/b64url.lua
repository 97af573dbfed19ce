-- Test helper: base64url written out in plain Lua, so specs check the library's
-- and the servers' encodings independently of ctct.core. Arithmetic only (no bit
-- ops, no integer division): runs on Lua 5.4 and LuaJIT alike.
--
--   b64url.encode(bytes)          --> unpadded base64url
--   b64url.decode(s)              --> bytes, or nil on a bad character (padding and +/ accepted)
--   b64url.decode_strict(s)       --> bytes; raises unless s is unpadded base64url of a possible length
local b64url = {}

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local INDEX = {}
for i = 1, #ALPHABET do INDEX[ALPHABET:sub(i, i)] = i - 1 end
INDEX["+"], INDEX["/"] = 62, 63

function b64url.decode(s)
  s = s:gsub("=+$", "")
  local out, acc, nbits = {}, 0, 0
  for i = 1, #s do
    local v = INDEX[s:sub(i, i)]
    if not v then return nil end
    acc = acc * 64 + v
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      local p = 2 ^ nbits
      local byte = math.floor(acc / p)
      out[#out + 1] = string.char(byte)
      acc = acc - byte * p
    end
  end
  return table.concat(out)
end

function b64url.decode_strict(s)
  assert(s:match("^[%w_-]*$"), "not unpadded base64url: " .. s)
  assert(#s % 4 ~= 1, "impossible base64url length: " .. s)
  return b64url.decode(s)
end

function b64url.encode(bytes)
  local out = {}
  for i = 1, #bytes, 3 do
    local a, b, c = bytes:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for j = 1, chars do
      local v = math.floor(n / 2 ^ (6 * (4 - j))) % 64
      out[#out + 1] = ALPHABET:sub(v + 1, v + 1)
    end
  end
  return table.concat(out)
end

return b64url
