-- RFC 4180 CSV: reading import files row by row from a byte offset (so a bulk import
-- resumes where the previous step stopped) and writing export rows.
local find, sub, byte = string.find, string.sub, string.byte

local _M = {}

local QUOTE, COMMA, CR, LF = byte('"'), byte(","), byte("\r"), byte("\n")

-- Physical lines of s: a last line without a line break counts, a final line break
-- does not start another line.
function _M.count_lines(s)
  local n, pos = 0, 1
  while true do
    local nl = find(s, "\n", pos, true)
    if not nl then break end
    n, pos = n + 1, nl + 1
  end
  if pos <= #s then n = n + 1 end
  return n
end

-- A record with quoted fields, scanned byte by byte from pos.
local function read_quoted(s, pos)
  local fields, buf, lines = {}, {}, 1
  local len = #s
  local i, in_quotes = pos, false
  while i <= len do
    local c = byte(s, i)
    if in_quotes then
      if c == QUOTE then
        if byte(s, i + 1) == QUOTE then
          buf[#buf + 1] = '"'
          i = i + 1
        else
          in_quotes = false
        end
      else
        if c == LF then lines = lines + 1 end
        buf[#buf + 1] = string.char(c)
      end
    elseif c == QUOTE then
      in_quotes = true
    elseif c == COMMA then
      fields[#fields + 1] = table.concat(buf)
      buf = {}
    elseif c == LF then
      fields[#fields + 1] = table.concat(buf)
      return fields, i + 1, lines
    elseif c ~= CR then
      buf[#buf + 1] = string.char(c)
    end
    i = i + 1
  end
  fields[#fields + 1] = table.concat(buf)
  return fields, len + 1, lines
end

-- The record starting at byte pos: fields, the position after it, and how many
-- physical lines it took (a quoted field may hold line breaks). nil at the end.
function _M.read(s, pos)
  if pos > #s then return nil end
  local nl = find(s, "\n", pos, true)
  local line = sub(s, pos, (nl or #s + 1) - 1)
  if find(line, '"', 1, true) then return read_quoted(s, pos) end
  if byte(line, -1) == CR then line = sub(line, 1, -2) end
  local fields, n = {}, 0
  local start = 1
  while true do
    local comma = find(line, ",", start, true)
    n = n + 1
    if not comma then
      fields[n] = sub(line, start)
      break
    end
    fields[n] = sub(line, start, comma - 1)
    start = comma + 1
  end
  return fields, (nl or #s) + 1, 1
end

-- One value for a CSV cell: quoted when it holds a comma, quote or line break.
function _M.escape(v)
  if v == nil then return "" end
  v = tostring(v)
  if find(v, '[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

-- A CSV line (with CRLF) of values (nil -> empty).
function _M.line(values, n)
  local out = {}
  for i = 1, n or #values do out[i] = _M.escape(values[i]) end
  return table.concat(out, ",") .. "\r\n"
end

return _M
