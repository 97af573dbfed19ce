--- ctct.csv: reading CSV (RFC 4180: quoted fields, "" for a quote, fields over
-- several lines, CRLF or LF), keeping where each record starts so a large
-- file can be cut into valid pieces and problems named by line number.
local M = {}

--- Parse `text`. Returns the records, each { fields = {...}, line = <line where
-- the record starts>, from = <byte>, to = <byte> }, or nil and
-- { line = n, message = "..." } for text that is not CSV. Blank lines are skipped.
-- A UTF-8 byte order mark (Excel's "CSV UTF-8") is not part of the first field: the
-- first record starts after it (from = 4).
function M.parse(text)
  local records, pos, line, n = {}, (text:sub(1, 3) == "\239\187\191") and 4 or 1, 1, #text
  while pos <= n do
    local c = text:sub(pos, pos)
    if c == "\n" or c == "\r" then -- a blank line
      pos = pos + (text:sub(pos, pos + 1) == "\r\n" and 2 or 1)
      line = line + 1
    else
      local start, start_line, fields = pos, line, {}
      while true do
        if text:sub(pos, pos) == '"' then
          local parts = {}
          pos = pos + 1
          while true do
            local q = text:find('"', pos, true)
            if not q then return nil, { line = start_line, message = "a quoted field is never closed" } end
            local chunk = text:sub(pos, q - 1)
            local _, newlines = chunk:gsub("\n", "")
            line = line + newlines
            parts[#parts + 1] = chunk
            if text:sub(q + 1, q + 1) == '"' then
              parts[#parts + 1] = '"'
              pos = q + 2
            else
              pos = q + 1
              break
            end
          end
          fields[#fields + 1] = table.concat(parts)
          local after = text:sub(pos, pos)
          if after ~= "," and after ~= "\n" and after ~= "\r" and after ~= "" then
            return nil, { line = start_line, message = "characters after a closing quote" }
          end
        else
          local e = text:find('[,\r\n"]', pos) or n + 1
          if text:sub(e, e) == '"' then
            return nil, { line = start_line, message = "a quote inside an unquoted field" }
          end
          fields[#fields + 1] = text:sub(pos, e - 1)
          pos = e
        end
        if text:sub(pos, pos) == "," then pos = pos + 1 else break end
      end
      local stop = pos - 1
      if text:sub(pos, pos + 1) == "\r\n" then pos = pos + 2 elseif pos <= n then pos = pos + 1 end
      line = line + 1
      records[#records + 1] = { fields = fields, line = start_line, from = start, to = stop }
    end
  end
  return records
end

return M
