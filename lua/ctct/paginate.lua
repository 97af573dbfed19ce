--- ctct.paginate: one way through every cursor-paged collection.
--
-- A page carries `_links.next.href` (e.g. "/v3/contacts?cursor=...") until the
-- last one. Iterators hold their own cursor, fetch one page at a time (memory
-- stays flat however long the collection), and raise the ctct.Error when a
-- page cannot be fetched, since a `for` loop has no other way to report it.
local errors = require "ctct.errors"

local M = {}

local function next_href(page)
  local links = type(page) == "table" and page._links
  local nxt = type(links) == "table" and links.next
  local href = type(nxt) == "table" and nxt.href
  if type(href) == "string" and href ~= "" then return href end
  return nil
end
M.next_href = next_href

--- Iterator over decoded pages. opts: { query = {...}, timeout = s }.
function M.pages(client, path, opts)
  opts = opts or {}
  local current, first = path, true
  return function()
    if not current then return nil end
    local request_opts = { timeout = opts.timeout }
    if first then request_opts.query = opts.query end
    local page, err = client:request("GET", current, request_opts)
    if not page then error(err, 0) end
    first = false
    local href = next_href(page)
    if href then
      local following, why = client:link_path(href)
      if not following or following == current then
        error(errors.new { kind = "protocol", method = "GET", path = current:match("^[^?]*"),
                           message = "cannot follow the next-page link: " .. (why or "it repeats this page") }, 0)
      end
      current = following
    else
      current = nil
    end
    return page
  end
end

-- The array of items in a page: `key` when given, else the one table-valued
-- field besides _links (contacts, lists, tags, ...).
local function items_of(page, key, path)
  if type(page) ~= "table" then return {} end
  if key then
    local items = page[key]
    if items == nil then return {} end
    if type(items) ~= "table" then
      error(errors.new { kind = "protocol", message = "page field '" .. key .. "' is not an array", path = path }, 0)
    end
    return items
  end
  local found, count = nil, 0
  for k, v in pairs(page) do
    if k ~= "_links" and type(v) == "table" then found, count = v, count + 1 end
  end
  if count > 1 then
    error("ctct: pages of " .. path .. " hold several arrays: pass { items = '<name>' }", 0)
  end
  return found or {}
end

--- Iterator over items. opts: { items = "contacts", query = {...}, timeout = s }.
function M.each(client, path, opts)
  opts = opts or {}
  local pages = M.pages(client, path, opts)
  local items, i = nil, 0
  return function()
    while true do
      if items then
        i = i + 1
        local item = items[i]
        if item ~= nil then return item end
      end
      local page = pages()
      if page == nil then return nil end
      items, i = items_of(page, opts.items, path), 0
    end
  end
end

return M
