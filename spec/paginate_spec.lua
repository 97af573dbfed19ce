-- ctct.paginate alone, over a fake client (no transport, no server): following
-- _links.next.href, stopping, max_pages, cycles, page errors, the items of a
-- page and collect.
local paginate = require "ctct.paginate"
local errors = require "ctct.errors"

-- A page body: `items` under `key` (default "contacts"), and a next link when given.
local function page(items, next_href, key)
  local body = { [key or "contacts"] = items }
  if next_href then body._links = { next = { href = next_href } } end
  return body
end

-- A fake client: `request` answers from `script` (path -> page, or a function
-- of the request's options returning page | nil, err), and records every call;
-- `link_path` follows only "/v3/..." links, as Client:link_path does for a
-- client on https://api.example.test/v3; `call` stands in for an operation call.
local function fake_client(script)
  local c = { requests = {}, links = {}, calls = {} }
  function c:request(method, path, opts)
    self.requests[#self.requests + 1] = { method = method, path = path, opts = opts }
    local answer = script[path]
    if type(answer) == "function" then return answer(opts) end
    if answer == nil then
      return nil, errors.new { kind = "http", status = 404, method = method, path = path, message = "no such page" }
    end
    return answer
  end
  function c:link_path(href)
    self.links[#self.links + 1] = href
    if href:sub(1, 4) ~= "/v3/" then return nil, "link points to another host" end
    return href:sub(4)
  end
  function c:call(op, params)
    self.calls[#self.calls + 1] = { op = op, params = params }
    return script["op:" .. op]
  end
  return c
end

local function paths(c)
  local out = {}
  for i, r in ipairs(c.requests) do out[i] = r.path end
  return out
end

-- Every value an iterator yields until it ends.
local function drain(iter)
  local out = {}
  for v in iter do out[#out + 1] = v end
  return out
end

-- An endless chain /contacts -> ?cursor=2 -> ?cursor=3 -> ...
local function endless(n)
  local script = { ["/contacts"] = page({ { id = 1 } }, "/v3/contacts?cursor=2") }
  for i = 2, n do
    script["/contacts?cursor=" .. i] = page({ { id = i } }, "/v3/contacts?cursor=" .. (i + 1))
  end
  return script
end

local BAD_MAX = "ctct: bad option 'max_pages': must be a whole number >= 1"

describe("ctct.paginate", function()
  describe("next_href", function()
    it("returns the page's _links.next.href", function()
      assert.equal("/v3/contacts?cursor=abc", paginate.next_href(page({}, "/v3/contacts?cursor=abc")))
    end)

    it("returns nil for a last page and for anything that is not a link", function()
      assert.is_nil(paginate.next_href(page({})))
      assert.is_nil(paginate.next_href({ _links = { next = { href = "" } } }))
      assert.is_nil(paginate.next_href({ _links = { next = { href = 42 } } }))
      assert.is_nil(paginate.next_href({ _links = { next = "/v3/contacts?cursor=x" } }))
      assert.is_nil(paginate.next_href({ _links = "/v3/contacts?cursor=x" }))
      assert.is_nil(paginate.next_href({ _links = { self = { href = "/v3/contacts" } } }))
      assert.is_nil(paginate.next_href("not a page"))
      assert.is_nil(paginate.next_href(nil))
    end)
  end)

  describe("pages", function()
    it("fetches the first page with query and timeout, then follows the next links", function()
      local p1 = page({ { id = 1 } }, "/v3/contacts?cursor=B")
      local p2 = page({ { id = 2 } }, "/v3/contacts?cursor=C")
      local p3 = page({ { id = 3 } })
      local c = fake_client { ["/contacts"] = p1, ["/contacts?cursor=B"] = p2, ["/contacts?cursor=C"] = p3 }
      local got = drain(paginate.pages(c, "/contacts", { query = { limit = 1 }, timeout = 7 }))
      assert.equal(3, #got)
      assert.equal(p1, got[1])
      assert.equal(p2, got[2])
      assert.equal(p3, got[3])
      assert.same({ "/contacts", "/contacts?cursor=B", "/contacts?cursor=C" }, paths(c))
      assert.same({ "/v3/contacts?cursor=B", "/v3/contacts?cursor=C" }, c.links)
      for _, r in ipairs(c.requests) do assert.equal("GET", r.method) end
      -- the query goes on the first request only: the links carry their own cursor
      assert.same({ query = { limit = 1 }, timeout = 7 }, c.requests[1].opts)
      assert.same({ timeout = 7 }, c.requests[2].opts)
      assert.same({ timeout = 7 }, c.requests[3].opts)
    end)

    it("yields one page when the first has no next link, and nothing more after the end", function()
      local only = page({ { id = 1 } })
      local c = fake_client { ["/lists"] = only }
      local iter = paginate.pages(c, "/lists")
      assert.equal(only, iter())
      assert.is_nil(iter())
      assert.is_nil(iter())
      assert.equal(1, #c.requests)
      assert.same({}, c.links)
    end)

    it("fetches nothing until the iterator is first called", function()
      local c = fake_client { ["/lists"] = page({}) }
      local iter = paginate.pages(c, "/lists")
      assert.equal(0, #c.requests)
      iter()
      assert.equal(1, #c.requests)
    end)

    it("raises the first page's error itself", function()
      local c = fake_client {}
      local ok, err = pcall(drain, paginate.pages(c, "/contacts"))
      assert.is_false(ok)
      assert.is_true(errors.is(err))
      assert.equal("http", err.kind)
      assert.equal(404, err.status)
      assert.equal("/contacts", err.path)
    end)

    it("raises a later page's error, after yielding the pages before it", function()
      local boom = errors.new { kind = "timeout", message = "page 2 timed out" }
      local c = fake_client {
        ["/contacts"] = page({ { id = 1 } }, "/v3/contacts?cursor=2"),
        ["/contacts?cursor=2"] = function() return nil, boom end,
      }
      local iter = paginate.pages(c, "/contacts")
      assert.same(page({ { id = 1 } }, "/v3/contacts?cursor=2"), iter())
      local ok, err = pcall(iter)
      assert.is_false(ok)
      assert.equal(boom, err) -- the very error the request returned
    end)

    it("raises a next link it cannot follow as a protocol error and stops", function()
      local c = fake_client {
        ["/contacts"] = page({ { id = 1 } }, "/v3/contacts?cursor=2"),
        ["/contacts?cursor=2"] = page({ { id = 2 } }, "https://evil.example/v3/contacts?cursor=3"),
      }
      local iter = paginate.pages(c, "/contacts")
      iter()
      local ok, err = pcall(iter)
      assert.is_false(ok)
      assert.is_true(errors.is(err))
      assert.equal("protocol", err.kind)
      assert.equal("cannot follow the next-page link: link points to another host", err.message)
      assert.equal("GET", err.method)
      assert.equal("/contacts", err.path) -- the page holding the link, without its query
      assert.is_nil(iter())
      assert.same({ "/contacts", "/contacts?cursor=2" }, paths(c))
    end)

    it("refuses the first page's own unfollowable link without fetching more", function()
      local c = fake_client { ["/contacts"] = page({ { id = 1 } }, "https://evil.example/v3/contacts?cursor=2") }
      local iter = paginate.pages(c, "/contacts")
      local ok, err = pcall(iter)
      assert.is_false(ok)
      assert.equal("protocol", err.kind)
      assert.equal("cannot follow the next-page link: link points to another host", err.message)
      assert.is_nil(iter())
      assert.equal(1, #c.requests)
    end)

    it("ends an A -> B -> A cycle with a protocol error", function()
      local c = fake_client {
        ["/contacts"] = page({ { id = 0 } }, "/v3/contacts?cursor=A"),
        ["/contacts?cursor=A"] = page({ { id = 1 } }, "/v3/contacts?cursor=B"),
        ["/contacts?cursor=B"] = page({ { id = 2 } }, "/v3/contacts?cursor=A"),
      }
      local iter = paginate.pages(c, "/contacts")
      assert.equal(0, iter().contacts[1].id)
      assert.equal(1, iter().contacts[1].id)
      local ok, err = pcall(iter)
      assert.is_false(ok)
      assert.is_true(errors.is(err))
      assert.equal("protocol", err.kind)
      assert.equal("cannot follow the next-page link: it leads to a page already followed " ..
        "(the server's links go round in a cycle)", err.message)
      assert.equal("/contacts", err.path)
      assert.is_nil(iter()) -- the walk is over: no further request
      assert.same({ "/contacts", "/contacts?cursor=A", "/contacts?cursor=B" }, paths(c))
    end)

    it("ends a page linking to itself", function()
      local c = fake_client {
        ["/contacts"] = page({}, "/v3/contacts?cursor=same"),
        ["/contacts?cursor=same"] = page({}, "/v3/contacts?cursor=same"),
      }
      local ok, err = pcall(drain, paginate.pages(c, "/contacts"))
      assert.is_false(ok)
      assert.equal("protocol", err.kind)
      assert.matches("already followed", err.message, 1, true)
      assert.equal(2, #c.requests)
    end)

    it("walks a long chain of distinct links without taking one for a cycle", function()
      local script = endless(199)
      script["/contacts?cursor=200"] = page({ { id = 200 } })
      local c = fake_client(script)
      local got = drain(paginate.pages(c, "/contacts"))
      assert.equal(200, #got)
      assert.equal(200, got[200].contacts[1].id)
      assert.equal(200, #c.requests)
    end)

    it("max_pages: the page after the max_pages-th is a protocol error", function()
      local c = fake_client(endless(10))
      local iter = paginate.pages(c, "/contacts", { max_pages = 3 })
      for i = 1, 3 do assert.equal(i, iter().contacts[1].id) end
      local ok, err = pcall(iter)
      assert.is_false(ok)
      assert.is_true(errors.is(err))
      assert.equal("protocol", err.kind)
      assert.equal("stopped after max_pages (3) pages: the collection has more", err.message)
      assert.equal("GET", err.method)
      assert.equal("/contacts", err.path) -- the page it would have fetched, without the query
      assert.equal(3, #c.requests) -- the 4th page was never asked for
      assert.is_nil(iter())
      assert.equal(3, #c.requests)
    end)

    it("max_pages: exactly max_pages pages is no error", function()
      local c = fake_client {
        ["/contacts"] = page({ { id = 1 } }, "/v3/contacts?cursor=2"),
        ["/contacts?cursor=2"] = page({ { id = 2 } }),
      }
      assert.equal(2, #drain(paginate.pages(c, "/contacts", { max_pages = 2 })))
      local one = fake_client { ["/lists"] = page({}) }
      assert.equal(1, #drain(paginate.pages(one, "/lists", { max_pages = 1 })))
    end)

    it("refuses a max_pages that is not a whole number >= 1", function()
      local c = fake_client(endless(3))
      for _, bad in ipairs { 0, -1, 1.5, "2", true, 0 / 0, -math.huge } do
        local ok, err = pcall(paginate.pages, c, "/contacts", { max_pages = bad })
        assert.is_false(ok, tostring(bad))
        assert.matches(BAD_MAX, err, 1, true)
        ok, err = pcall(paginate.each, c, "/contacts", { max_pages = bad })
        assert.is_false(ok, tostring(bad))
        assert.matches(BAD_MAX, err, 1, true)
        ok, err = pcall(paginate.pages_from, c, function() end, nil, { max_pages = bad })
        assert.is_false(ok, tostring(bad))
        assert.matches(BAD_MAX, err, 1, true)
      end
      assert.equal(0, #c.requests) -- refused when made, before any fetch
    end)

    it("pages_from names the caller's line for a bad max_pages", function()
      local ok, err = pcall(function() paginate.pages_from(fake_client {}, function() end, nil, { max_pages = 0 }) end)
      assert.is_false(ok)
      assert.matches("paginate_spec%.lua:%d+: ctct: bad option 'max_pages'", err)
    end)
  end)

  describe("pages_from", function()
    it("gets the first page from `first` (once) and the rest with request and the timeout", function()
      local c = fake_client {
        ["op:getLists"] = page({ { id = "l1" } }, "/v3/contact_lists?cursor=2", "lists"),
        ["/contact_lists?cursor=2"] = page({ { id = "l2" } }, nil, "lists"),
      }
      local got = drain(paginate.pages_from(c, function() return c:call("getLists", { limit = 1 }) end, 3))
      assert.equal(2, #got)
      assert.equal("l1", got[1].lists[1].id)
      assert.equal("l2", got[2].lists[1].id)
      assert.same({ { op = "getLists", params = { limit = 1 } } }, c.calls)
      assert.same({ "/contact_lists?cursor=2" }, paths(c))
      assert.same({ timeout = 3 }, c.requests[1].opts)
    end)

    it("raises what `first` returned as its error, as it is", function()
      local ok, err = pcall(paginate.pages_from(fake_client {}, function() return nil, "boom" end))
      assert.is_false(ok)
      assert.equal("boom", err) -- level 0: no position added
    end)
  end)

  describe("items", function()
    local function pages_of(list)
      local i = 0
      return function() i = i + 1; return list[i] end
    end

    it("yields every item of every page in order, across empty pages", function()
      local iter = paginate.items(pages_of {
        page({ "a", "b" }, "x"), page({}, "y"), page({ "c" }, "z"), page({}), page({ "d", "e" }),
      })
      assert.same({ "a", "b", "c", "d", "e" }, drain(iter))
      assert.is_nil(iter())
    end)

    it("takes the named array when items_key is given, ignoring the others", function()
      local iter = paginate.items(pages_of {
        { contacts = { 1, 2 }, lists = { "no" }, _links = { next = { href = "/v3/x" } } },
        { contacts = { 3 }, lists = { "no" } },
      }, "contacts", "/contacts")
      assert.same({ 1, 2, 3 }, drain(iter))
    end)

    it("treats a page without the named array as empty", function()
      local iter = paginate.items(pages_of {
        { contacts = { 1 } }, { other = { 9 } }, { contacts = { 2 } },
      }, "contacts")
      assert.same({ 1, 2 }, drain(iter))
    end)

    it("raises a protocol error when the named field is not a table", function()
      local iter = paginate.items(pages_of { { contacts = "oops" } }, "contacts", "/contacts")
      local ok, err = pcall(iter)
      assert.is_false(ok)
      assert.is_true(errors.is(err))
      assert.equal("protocol", err.kind)
      assert.equal("page field 'contacts' is not an array", err.message)
      assert.equal("/contacts", err.path)
    end)

    it("finds the one table-valued field besides _links when no key is given", function()
      local iter = paginate.items(pages_of {
        { tags = { "t1", "t2" }, tags_count = 3, _links = { next = { href = "/v3/tags?cursor=2" } } },
        { segments = { "s1" }, note = "text" }, -- the array may be named differently on each page
      })
      assert.same({ "t1", "t2", "s1" }, drain(iter))
    end)

    it("yields nothing for pages without a table field, or that are not tables", function()
      assert.same({}, drain(paginate.items(pages_of { { count = 2, _links = { next = { href = "/v3/n" } } } })))
      assert.same({}, drain(paginate.items(pages_of { "text", 42, true })))
    end)

    it("refuses to guess between several arrays, naming the collection", function()
      local iter = paginate.items(pages_of { { contacts = { 1 }, lists = { 2 } } }, nil, "/contacts")
      local ok, err = pcall(iter)
      assert.is_false(ok)
      assert.equal("ctct: pages of /contacts hold several arrays: pass { items = '<name>' }", err)
    end)

    -- cli/raw.lua (`ctct api ... --paginate`) calls paginate.items(pages) with no label.
    it("refuses several arrays with no label given, with the same advice", function()
      local ok, err = pcall(paginate.items(pages_of { { contacts = { 1 }, lists = { 2 } } }))
      assert.is_false(ok)
      assert.equal("ctct: pages of the collection hold several arrays: pass { items = '<name>' }", err)
    end)

    it("stops pulling pages once the iterator has ended", function()
      local pulled = 0
      local iter = paginate.items(function()
        pulled = pulled + 1
        if pulled == 1 then return page({ 1 }) end
        return nil
      end)
      assert.same({ 1 }, drain(iter))
      assert.equal(2, pulled)
    end)

    it("lets a page error through", function()
      local boom = errors.new { kind = "network", message = "reset" }
      local n = 0
      local iter = paginate.items(function()
        n = n + 1
        if n == 1 then return page({ "a" }) end
        error(boom, 0)
      end, "contacts")
      assert.equal("a", iter())
      local ok, err = pcall(iter)
      assert.is_false(ok)
      assert.equal(boom, err)
    end)
  end)

  describe("each", function()
    it("iterates the items of every page, with the query on the first request", function()
      local c = fake_client {
        ["/contacts"] = { contacts = { { id = 1 }, { id = 2 } }, lists = {},
                          _links = { next = { href = "/v3/contacts?cursor=2" } } },
        ["/contacts?cursor=2"] = { contacts = { { id = 3 } }, lists = {} },
      }
      local ids = {}
      for item in paginate.each(c, "/contacts", { items = "contacts", query = { status = "all" }, timeout = 5 }) do
        ids[#ids + 1] = item.id
      end
      assert.same({ 1, 2, 3 }, ids)
      assert.same({ query = { status = "all" }, timeout = 5 }, c.requests[1].opts)
      assert.same({ timeout = 5 }, c.requests[2].opts)
    end)

    it("names the path in the several-arrays error", function()
      local c = fake_client { ["/contacts"] = { contacts = { 1 }, lists = { 2 } } }
      local ok, err = pcall(drain, paginate.each(c, "/contacts"))
      assert.is_false(ok)
      assert.equal("ctct: pages of /contacts hold several arrays: pass { items = '<name>' }", err)
    end)

    it("applies max_pages to the walk under the items", function()
      local c = fake_client(endless(10))
      local seen = {}
      local ok, err = pcall(function()
        for item in paginate.each(c, "/contacts", { max_pages = 2 }) do seen[#seen + 1] = item.id end
      end)
      assert.is_false(ok)
      assert.equal("protocol", err.kind)
      assert.equal("stopped after max_pages (2) pages: the collection has more", err.message)
      assert.same({ 1, 2 }, seen)
      assert.equal(2, #c.requests)
    end)
  end)

  describe("collect", function()
    local function list_iter(list)
      local i, pulled = 0, 0
      return function()
        pulled = pulled + 1
        i = i + 1
        return list[i]
      end, function() return pulled end
    end

    it("returns up to max items and whether more were left", function()
      local out, more = paginate.collect(list_iter { "a", "b", "c" }, 2)
      assert.same({ "a", "b" }, out)
      assert.is_true(more)

      out, more = paginate.collect(list_iter { "a", "b" }, 2)
      assert.same({ "a", "b" }, out)
      assert.is_false(more)

      out, more = paginate.collect(list_iter { "a" }, 10)
      assert.same({ "a" }, out)
      assert.is_false(more)

      out, more = paginate.collect(list_iter {}, 3)
      assert.same({}, out)
      assert.is_false(more)
    end)

    it("pulls one item past max to know there are more, and no further", function()
      local iter, pulled = list_iter { 1, 2, 3, 4, 5 }
      local out, more = paginate.collect(iter, 2)
      assert.same({ 1, 2 }, out)
      assert.is_true(more)
      assert.equal(3, pulled())
      assert.equal(4, iter()) -- the third was consumed, the rest left
    end)

    it("over each: stops fetching pages once max is passed", function()
      local c = fake_client(endless(10))
      local out, more = paginate.collect(paginate.each(c, "/contacts", { items = "contacts" }), 2)
      assert.same({ { id = 1 }, { id = 2 } }, out)
      assert.is_true(more)
      assert.equal(3, #c.requests) -- one item per page: the third page tells there is more
    end)

    it("lets a page error through", function()
      local c = fake_client { ["/contacts"] = page({ 1 }, "/v3/contacts?cursor=2") }
      local ok, err = pcall(paginate.collect, paginate.each(c, "/contacts", { items = "contacts" }), 10)
      assert.is_false(ok)
      assert.equal("http", err.kind)
      assert.equal("/contacts?cursor=2", err.path)
    end)
  end)
end)
