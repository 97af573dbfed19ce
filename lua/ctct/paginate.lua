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

--- Iterator over decoded pages: `first()` fetches the first page (returning
-- page | nil, err); the others follow `_links.next.href` on the client's host.
function M.pages_from(client, first, timeout)
  local current, started, done = nil, false, false
  return function()
    if done then return nil end
    local page, err
    if not started then
      started = true
      page, err = first()
    else
      page, err = client:request("GET", current, { timeout = timeout })
    end
    if not page then error(err, 0) end
    local href = next_href(page)
    if href then
      local following, why = client:link_path(href)
      if not following or following == current then
        error(errors.new { kind = "protocol", method = "GET", path = (current or ""):match("^[^?]*"),
                           message = "cannot follow the next-page link: " .. (why or "it repeats this page") }, 0)
      end
      current = following
    else
      done = true
    end
    return page
  end
end

--- Iterator over decoded pages of `path`. opts: { query = {...}, timeout = s }.
function M.pages(client, path, opts)
  opts = opts or {}
  return M.pages_from(client, function()
    return client:request("GET", path, { query = opts.query, timeout = opts.timeout })
  end, opts.timeout)
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

--- Iterator over the items of the pages `pages` yields (items_key names the
-- array, else it is found). `label` names the collection in errors.
function M.items(pages, items_key, label)
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
      items, i = items_of(page, items_key, label), 0
    end
  end
end

--- Iterator over items. opts: { items = "contacts", query = {...}, timeout = s }.
function M.each(client, path, opts)
  opts = opts or {}
  return M.items(M.pages(client, path, opts), opts.items, path)
end

--- Up to `max` items of an item iterator, and whether more were left.
function M.collect(iter, max)
  local out = {}
  for item in iter do
    if #out >= max then return out, true end
    out[#out + 1] = item
  end
  return out, false
end

return M
