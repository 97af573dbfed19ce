-- Cursor pagination shared by every collection endpoint.
--
-- Like the real API's, the cursor is opaque standard base64 (with '=' padding, and
-- '+' or '/' where they fall) of "limit=<n>&next=<position>", placed in the link as
-- is; it carries the page size, and the next link repeats the request's other
-- filters as ordinary query parameters.
local http = require "sandbox.http"

local _M = {}

local function bad(param, message)
  http.fail(400, "contacts.api.validation.error", message or (param .. " does not have a valid value"))
end

-- The page size from ?limit= (default, 1..max), or a 400 naming the parameter.
function _M.limit(args, default, max)
  local raw = args.limit
  if raw == nil then return default end
  local n = tonumber(raw)
  if n == nil or n ~= math.floor(n) or n < 1 or n > max then
    bad("limit", "limit must be an integer between 1 and " .. max .. ", got '" .. tostring(raw) .. "'")
  end
  return n
end

function _M.encode_cursor(limit, position)
  return ngx.encode_base64("limit=" .. limit .. "&next=" .. position)
end

-- Returns limit, position from ?cursor=, or nil when there is none; 400 when invalid.
function _M.decode_cursor(args, max)
  local raw = args.cursor
  if raw == nil then return nil end
  -- A '+' left unescaped in the query arrives as a space.
  local plain = type(raw) == "string" and ngx.decode_base64((raw:gsub(" ", "+")))
  local limit, position
  if plain then
    limit, position = plain:match("^limit=(%d+)&next=(%d+)$")
  end
  limit, position = tonumber(limit), tonumber(position)
  if not limit or limit < 1 or limit > max or position < 1 then
    bad("cursor", "cursor is not valid")
  end
  return limit, position
end

-- Where a page starts and how long it is: from the cursor if given, else from limit.
function _M.window(args, default, max)
  local limit, position = _M.decode_cursor(args, max)
  if limit then
    return limit, position
  end
  return _M.limit(args, default, max), 1
end

-- "/v3/contacts?cursor=...&status=all" keeping the filters named in `keep` (in order).
function _M.next_href(path, limit, position, args, keep)
  local parts = { "cursor=" .. _M.encode_cursor(limit, position) }
  for _, name in ipairs(keep or {}) do
    local v = args[name]
    if v ~= nil then
      if v == true then v = "true" end
      parts[#parts + 1] = name .. "=" .. ngx.escape_uri(tostring(v))
    end
  end
  return path .. "?" .. table.concat(parts, "&")
end

-- One page of an in-memory list (a small collection, filtered and sorted by the
-- caller): the cursor's position is an index into items. Returns the page and its
-- _links (nil on the last page).
function _M.slice(items, args, default, max, path, keep)
  local limit, from = _M.window(args, default, max)
  local page = {}
  for i = from, math.min(#items, from + limit - 1) do page[#page + 1] = items[i] end
  local next_position = from + limit <= #items and from + limit or nil
  return page, _M.links(path, limit, next_position, args, keep)
end

-- _links for a page: present only when there is a next page.
function _M.links(path, limit, next_position, args, keep)
  if not next_position then return nil end
  return { next = { href = _M.next_href(path, limit, next_position, args, keep) } }
end

return _M
