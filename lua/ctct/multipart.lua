--- ctct.multipart: multipart/form-data bodies (RFC 7578), for the CSV import.
local core = require "ctct.core"

local M = {}

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function quoted(name)
  return '"' .. name:gsub('[%c"\\]', "_") .. '"'
end

--- parts: { { name = "file", value = "<bytes>", file = true, filename = "contacts.csv",
--             content_type = "text/csv" }, { name = "list_ids", value = "a,b" } }
-- Returns the body and its Content-Type header value.
function M.encode(parts)
  local boundary
  repeat -- 128 random bits; checked anyway, since the content is arbitrary
    boundary = "ctct-" .. hex(core.random_bytes(16))
    local clash = false
    for _, p in ipairs(parts) do
      if p.value:find(boundary, 1, true) then clash = true end
    end
  until not clash
  local out = {}
  for _, p in ipairs(parts) do
    out[#out + 1] = "--" .. boundary .. "\r\n"
    out[#out + 1] = "Content-Disposition: form-data; name=" .. quoted(p.name)
    if p.file then
      out[#out + 1] = "; filename=" .. quoted(p.filename or "contacts.csv") .. "\r\n"
      out[#out + 1] = "Content-Type: " .. (p.content_type or "text/csv")
    end
    out[#out + 1] = "\r\n\r\n"
    out[#out + 1] = p.value
    out[#out + 1] = "\r\n"
  end
  out[#out + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(out), "multipart/form-data; boundary=" .. boundary
end

return M
