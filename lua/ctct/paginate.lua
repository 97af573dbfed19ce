--- ctct.paginate: one way through every cursor-paged collection.
--
-- A page carries `_links.next.href` (e.g. "/v3/contacts?cursor=...") until the
-- last one. Iterators hold their own cursor, fetch one page at a time (memory
-- stays flat however long the collection), and raise the ctct.Error when a
-- page cannot be fetched, since a `for` loop has no other way to report it.
--
-- A server whose links go round (A -> B -> A) must not keep a loop fetching
-- forever: every link followed is remembered as a 12-byte hash (a few dozen
-- bytes per page, never the page) and a link seen before ends the walk with a
-- `protocol` error. `max_pages` (each/pages/pages_from option) bounds a walk
-- outright: asking for the page after the max_pages-th raises a `protocol` error.
local core = require "ctct.core"
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

local function check_max_pages(v, level)
  if v ~= nil and (type(v) ~= "number" or not (v >= 1) or v % 1 ~= 0) then
    error("ctct: bad option 'max_pages': must be a whole number >= 1", level + 1)
  end
  return v
end

local function walk_error(current, message)
  return errors.new { kind = "protocol", method = "GET", path = (current or ""):match("^[^?]*"),
                      message = message }
end

--- Iterator over decoded pages: `first()` fetches the first page (returning
-- page | nil, err); the others follow `_links.next.href` on the client's host.
-- limits: { max_pages = n } (optional).
function M.pages_from(client, first, timeout, limits)
  local max_pages = check_max_pages(limits and limits.max_pages, 2)
  local current, started, done, fetched = nil, false, false, 0
  local seen = {} -- hashes of the links followed: a cycle ends the walk
  return function()
    if done then return nil end
    if max_pages and fetched >= max_pages then
      done = true
      error(walk_error(current, ("stopped after max_pages (%d) pages: the collection has more"):format(max_pages)), 0)
    end
    local page, err
    if not started then
      started = true
      page, err = first()
    else
      page, err = client:request("GET", current, { timeout = timeout })
    end
    if not page then error(err, 0) end
    fetched = fetched + 1
    local href = next_href(page)
    if href then
      local following, why = client:link_path(href)
      if not following then
        done = true
        error(walk_error(current, "cannot follow the next-page link: " .. why), 0)
      end
      local id = core.sha256(following):sub(1, 12)
      if seen[id] then
        done = true
        error(walk_error(current, "cannot follow the next-page link: it leads to a page already followed " ..
          "(the server's links go round in a cycle)"), 0)
      end
      seen[id] = true
      current = following
    else
      done = true
    end
    return page
  end
end

--- Iterator over decoded pages of `path`. opts: { query = {...}, timeout = s,
-- max_pages = n (raise a protocol error rather than fetch page n + 1) }.
function M.pages(client, path, opts)
  opts = opts or {}
  check_max_pages(opts.max_pages, 3)
  return M.pages_from(client, function()
    return client:request("GET", path, { query = opts.query, timeout = opts.timeout })
  end, opts.timeout, { max_pages = opts.max_pages })
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
    error("ctct: pages of " .. (path or "the collection") .. " hold several arrays: pass { items = '<name>' }", 0)
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

--- Iterator over items. opts: { items = "contacts", query = {...}, timeout = s, max_pages = n }.
function M.each(client, path, opts)
  opts = opts or {}
  check_max_pages(opts.max_pages, 3)
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
