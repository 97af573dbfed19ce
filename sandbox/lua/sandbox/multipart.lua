-- multipart/form-data request bodies (RFC 7578), for contactsCSVImport.
--   local parts = multipart.parse(body, content_type)
--   parts.file --> { name = "file", filename = "x.csv", content_type = "text/csv", data = "..." }
-- Returns a table of parts by field name (the first of a repeated name wins) and the
-- list of parts in order, or nil and a message.
local _M = {}

-- The boundary parameter of a multipart/form-data Content-Type, or nil.
function _M.boundary(content_type)
  if type(content_type) ~= "string" then return nil end
  if not content_type:lower():match("^%s*multipart/form%-data%s*;") then return nil end
  local b = content_type:match('[;%s][Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]="([^"]+)"')
    or content_type:match("[;%s][Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=([^;%s]+)")
  if not b or #b > 200 then return nil end
  return b
end

local function header_param(value, name)
  return value:match(";%s*" .. name .. '="([^"]*)"') or value:match(";%s*" .. name .. "=([^;%s]+)")
end

function _M.parse(body, content_type)
  local boundary = _M.boundary(content_type)
  if not boundary then return nil, "Content-Type must be multipart/form-data with a boundary" end
  local delimiter = "--" .. boundary
  local by_name, list = {}, {}
  -- The first delimiter may be the very start of the body or follow a preamble.
  local s, e = body:find(delimiter, 1, true)
  if not s or (s > 1 and body:sub(s - 2, s - 1) ~= "\r\n" and body:sub(s - 1, s - 1) ~= "\n") then
    return nil, "the multipart body has no opening boundary"
  end
  local pos = e + 1
  local next_delimiter = "\r\n" .. delimiter
  while true do
    if body:sub(pos, pos + 1) == "--" then break end   -- closing delimiter
    -- Skip transport padding and the line break after the delimiter.
    local eol = body:find("\r\n", pos, true)
    if not eol then return nil, "the multipart body ends inside a boundary line" end
    local head_end = body:find("\r\n\r\n", eol, true)
    local headers_raw
    if head_end then
      headers_raw = body:sub(eol + 2, head_end - 1)
    elseif body:sub(eol + 2, eol + 3) == "\r\n" then
      head_end, headers_raw = eol, ""
    else
      return nil, "a multipart part has no end of headers"
    end
    local data_start = head_end + 4
    local ds = body:find(next_delimiter, data_start, true)
    if not ds then return nil, "a multipart part has no closing boundary" end
    local part = { data = body:sub(data_start, ds - 1) }
    for line in (headers_raw .. "\r\n"):gmatch("(.-)\r\n") do
      local hname, hvalue = line:match("^([^:]+):%s*(.*)$")
      if hname then
        hname = hname:lower()
        if hname == "content-disposition" then
          part.name = header_param(hvalue, "name")
          part.filename = header_param(hvalue, "filename")
        elseif hname == "content-type" then
          part.content_type = hvalue
        end
      end
    end
    if part.name then
      list[#list + 1] = part
      if by_name[part.name] == nil then by_name[part.name] = part end
    end
    pos = ds + #next_delimiter
  end
  return by_name, list
end

return _M
