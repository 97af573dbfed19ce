-- Issue 17: a server whose next-page links go round in a cycle (A -> B -> A)
-- must not keep an iterator fetching forever. The iterators remember the links
-- they followed (as short hashes: bounded memory per page) and refuse one they
-- have seen; `max_pages` bounds a walk outright.
local ctct = require "ctct"
local errors = require "ctct.errors"
local paginate = require "ctct.paginate"
local fake = require "spec.helpers.fake_transport"
local cjson = require "cjson"

local function page(items, next_href)
  local body = { contacts = items }
  if next_href then body._links = { next = { href = next_href } } end
  return { status = 200, body = cjson.encode(body), headers = { ["content-type"] = "application/json" } }
end

local function client_with(script)
  local t = fake.new(script)
  return ctct.new { access_token = "token-for-specs", base_url = "https://api.example.test/v3", transport = t,
                    rate_limit = false, retry = false }, t
end

-- A server that answers A -> B -> A -> B ... for as long as it is asked.
local function cycling(limit)
  local script = {}
  for i = 1, limit do
    script[i] = function(req)
      if req.url:find("cursor=B", 1, true) then return page({ { id = "b" .. i } }, "/v3/contacts?cursor=A") end
      return page({ { id = "a" .. i } }, "/v3/contacts?cursor=B")
    end
  end
  return script
end

describe("security: pagination cycles", function()
  it("stops an A -> B -> A cycle with a protocol error instead of looping", function()
    local c, t = client_with(cycling(50))
    local seen = 0
    local ok, err = pcall(function()
      for _ in c:each("/contacts", { items = "contacts" }) do
        seen = seen + 1
        if seen > 40 then error("still looping after 40 items") end
      end
    end)
    assert.is_false(ok)
    assert.is_true(errors.is(err), tostring(err))
    assert.equal("protocol", err.kind)
    assert.matches("already followed", err.message)
    assert.is_true(#t.requests <= 4, #t.requests .. " requests")
  end)

  it("stops a cycle through the first page's own link too", function()
    -- first page /contacts -> ?cursor=B -> /contacts (the first page, by its link) -> ?cursor=B
    local c, t = client_with {
      page({ { id = 1 } }, "/v3/contacts?cursor=B"),
      page({ { id = 2 } }, "/v3/contacts"),
      page({ { id = 3 } }, "/v3/contacts?cursor=B"),
      page({ { id = 4 } }, "/v3/contacts"),
      page({ { id = 5 } }, "/v3/contacts?cursor=B"),
    }
    local ok, err = pcall(function() for _ in c:pages("/contacts") do end end)
    assert.is_false(ok)
    assert.equal("protocol", err.kind)
    assert.is_true(#t.requests <= 3, #t.requests .. " requests")
  end)

  it("max_pages bounds a walk of each and pages", function()
    local endless = {}
    for i = 1, 20 do endless[i] = page({ { id = i } }, "/v3/contacts?cursor=p" .. (i + 1)) end
    local c, t = client_with(endless)
    local ok, err = pcall(function() for _ in c:each("/contacts", { max_pages = 5 }) do end end)
    assert.is_false(ok)
    assert.equal("protocol", err.kind)
    assert.matches("max_pages %(5%)", err.message)
    assert.equal(5, #t.requests)

    local c2, t2 = client_with { page({ { id = 1 } }, "/v3/contacts?cursor=2"), page({ { id = 2 } }, nil) }
    local n = 0
    for _ in c2:pages("/contacts", { max_pages = 2 }) do n = n + 1 end -- exactly max_pages is fine
    assert.equal(2, n)
    assert.equal(2, #t2.requests)

    local c3, t3 = client_with(endless)
    ok = pcall(function() for _ in paginate.pages_from(c3, function() return c3:request("GET", "/contacts") end,
      nil, { max_pages = 3 }) do end end)
    assert.is_false(ok)
    assert.equal(3, #t3.requests)
  end)

  it("refuses a bad max_pages, naming it", function()
    local c = client_with {}
    assert.has_error(function() c:each("/contacts", { max_pages = 0 }) end)
    assert.has_error(function() c:pages("/contacts", { max_pages = "ten" }) end)
  end)

  it("still walks a long chain of distinct links", function()
    local script = {}
    for i = 1, 300 do script[i] = page({ { id = i } }, i < 300 and ("/v3/contacts?cursor=c" .. (i + 1)) or nil) end
    local c, t = client_with(script)
    local n = 0
    for _ in c:each("/contacts") do n = n + 1 end
    assert.equal(300, n)
    assert.equal(300, #t.requests)
  end)
end)
