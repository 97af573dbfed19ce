local url = require "ctct.url"

describe("ctct.url", function()
  it("escapes everything but unreserved characters", function()
    assert.equal("a-b._~%20%2F%3F%26%3D%C3%A9", url.escape("a-b._~ /?&=é"))
  end)

  it("builds a sorted query with csv arrays, booleans and integers", function()
    assert.equal("include=custom_fields,list_memberships&include_count=true&limit=50&status=all",
      url.query { status = "all", limit = 50, include_count = true, include = { "custom_fields", "list_memberships" } })
    assert.equal("email=a%2Bb%40example.com", url.query { email = "a+b@example.com" })
    assert.equal("n=2.5", url.query { n = 2.5 })
  end)

  it("names the parameter it cannot send", function()
    local ok, err = pcall(url.query, { bad = { nested = {} } })
    assert.is_false(ok)
    assert.matches("'bad'", err)
    ok, err = pcall(url.query, { f = function() end })
    assert.is_false(ok)
    assert.matches("'f'", err)
  end)

  it("splits a base URL into origin and path", function()
    assert.same({ "https://api.cc.email", "/v3" }, { url.split("https://api.cc.email/v3") })
    assert.same({ "http://127.0.0.1:8080", "" }, { url.split("http://127.0.0.1:8080") })
    assert.is_nil(url.split("ftp://x/y"))
    assert.is_nil(url.split("https://x/y?z=1"))
    assert.is_nil(url.split("api.cc.email/v3"))
  end)
end)
