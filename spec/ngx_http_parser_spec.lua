-- The HTTP/1.1 client inside ctct.transport.ngx without nginx: a fake global
-- `ngx` (get_phase, socket.tcp) hands out fake cosockets that record what is
-- sent and serve scripted byte chunks, so the response parser (status line,
-- header fields, Content-Length, chunked bodies and trailers, read-until-close,
-- the M.LIMITS bounds, the deadline) is driven byte by byte, split at awkward
-- places. The Reader and the read_* functions are locals of the module: they
-- are reached through Transport:request (and so Transport:exchange), which is
-- all they serve. The module reads `ngx` only at call time; the fake is set in
-- setup and removed in teardown.
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"

local WHERE = "h.test:8080"
local URL = "http://" .. WHERE .. "/x"

-- A fake cosocket. script: chunks (strings served one per receiveany, or
-- functions returning what receiveany returns), after (what receiveany returns
-- once they are used up: "closed" by default), reused (getreusedtimes),
-- connect_err, send_err = { at = n, err = "..." } (the n-th send fails),
-- handshake = function(sock, session, name, verify) -> session | nil, err.
local function fake_socket(script)
  local chunks = {}
  for i, c in ipairs(script.chunks or {}) do chunks[i] = c end
  local s = { sent = {}, timeouts = {}, settimeouts_calls = {}, receives = 0, closed = 0 }
  function s.settimeouts(self, c, w, r) self.settimeouts_calls[#self.settimeouts_calls + 1] = { c, w, r } end
  function s.settimeout(self, ms) self.timeouts[#self.timeouts + 1] = ms end
  function s.connect(self, host, port, opts)
    self.connected = { host = host, port = port, pool = opts and opts.pool }
    if script.connect_err then return nil, script.connect_err end
    return 1
  end
  function s.getreusedtimes() return script.reused or 0 end
  function s.sslhandshake(self, session, name, verify)
    self.handshake = { session = session, name = name, verify = verify }
    if script.handshake then return script.handshake(self, session, name, verify) end
    return true
  end
  function s.send(self, data)
    self.sent[#self.sent + 1] = data
    local e = script.send_err
    if e and e.at == #self.sent then return nil, e.err end
    return #data
  end
  function s.receiveany(self, max)
    self.receives = self.receives + 1
    self.max = max
    local c = table.remove(chunks, 1)
    if c == nil then return nil, script.after or "closed" end
    if type(c) == "function" then return c() end
    if #c > max then
      table.insert(chunks, 1, c:sub(max + 1))
      c = c:sub(1, max)
    end
    return c
  end
  function s.close(self) self.closed = self.closed + 1 return 1 end
  function s.setkeepalive(self, ms, size) self.keepalive = { ms, size } return 1 end
  return s
end

-- text cut into pieces of n bytes (n = 1: a byte at a time).
local function pieces(text, n)
  local out = {}
  for i = 1, #text, n do out[#out + 1] = text:sub(i, i + n - 1) end
  return out
end

describe("ctct.transport.ngx HTTP/1.1 client (fake cosockets)", function()
  local ngx_mod, phase, queue, made

  setup(function()
    phase = "content"
    queue, made = {}, {}
    rawset(_G, "ngx", {
      get_phase = function() return phase end,
      socket = { tcp = function()
        local s = assert(table.remove(queue, 1), "the transport asked for more sockets than the test gave")
        made[#made + 1] = s
        return s
      end },
      update_time = function() end,
      now = function() return 1700000000.5 end,
    })
    ngx_mod = require "ctct.transport.ngx"
  end)

  teardown(function()
    rawset(_G, "ngx", nil)
    package.loaded["ctct.transport.ngx"] = nil
  end)

  before_each(function()
    phase = "content"
    queue, made = {}, {}
  end)

  -- One request over fake sockets (scripts, one per connection the transport opens).
  -- Returns res, err, the first socket.
  local function call(scripts, req, topts)
    for i in pairs(made) do made[i] = nil end
    for i, sc in ipairs(scripts) do queue[i] = fake_socket(sc) end
    local first = queue[1]
    local t = ngx_mod.new(topts)
    req = req or {}
    req.method = req.method or "GET"
    req.url = req.url or URL
    local res, err = t:request(req)
    assert.equal(0, #queue, "sockets left unused")
    return res, err, first
  end

  -- One request over one socket serving `chunks`.
  local function get(chunks, req, topts, extra)
    local sc = { chunks = chunks }
    for k, v in pairs(extra or {}) do sc[k] = v end
    return call({ sc }, req, topts)
  end

  local function fails(kind, message, res, err)
    assert.is_nil(res)
    assert.equal(kind, err.kind)
    assert.equal(message, err.message)
  end

  describe("outside a cosocket phase", function()
    it("in_nginx and phase_ok read the fake ngx; request raises naming the phase", function()
      assert.is_true(ngx_mod.in_nginx())
      assert.same({ true, "content" }, { ngx_mod.phase_ok() })
      phase = "log"
      assert.same({ false, "log" }, { ngx_mod.phase_ok() })
      local t = ngx_mod.new()
      local ok, err = pcall(t.request, t, { method = "GET", url = URL })
      assert.is_false(ok)
      assert.truthy(err:find("ctct: no HTTP possible in nginx's 'log' phase (no cosockets there", 1, true), err)
      assert.equal(0, #made)
    end)

    it("without ngx at all it names the curl transport", function()
      local saved = rawget(_G, "ngx")
      rawset(_G, "ngx", nil)
      local in_nginx, phase_ok = ngx_mod.in_nginx(), { ngx_mod.phase_ok() }
      local ok, err = pcall(ngx_mod.check_phase)
      rawset(_G, "ngx", saved)
      assert.is_false(in_nginx)
      assert.same({ false, "no nginx" }, phase_ok)
      assert.is_false(ok)
      assert.truthy(err:find("ctct.transport.ngx works only inside nginx (ngx_lua); elsewhere use " ..
        "ctct.transport.curl", 1, true), err)
    end)
  end)

  describe("split_url", function()
    it("scheme, host, port, target and Host header", function()
      assert.same({ "https", "api.cc.email", 443, "/v3/contacts?limit=5", "api.cc.email" },
        { ngx_mod.split_url("HTTPS://api.cc.email/v3/contacts?limit=5#frag") })
      assert.same({ "http", "127.0.0.1", 8080, "/", "127.0.0.1:8080" }, { ngx_mod.split_url("http://127.0.0.1:8080") })
      assert.same({ "http", "h", 80, "/?a=1", "h" }, { ngx_mod.split_url("http://h?a=1") })
      assert.same({ "https", "::1", 8443, "/p", "[::1]:8443" }, { ngx_mod.split_url("https://[::1]:8443/p") })
      assert.is_nil(ngx_mod.split_url("ftp://h/x"))
      assert.is_nil(ngx_mod.split_url("/relative"))
      assert.is_nil(ngx_mod.split_url("http://user@h/x"))
    end)

    it("a URL it cannot take is a validation error, before any socket", function()
      local res, err = call({}, { url = "ftp://h/x" })
      fails("validation", "not an absolute http(s) URL: ftp://h/x", res, err)
      assert.is_false(err.sent)
    end)
  end)

  describe("the request", function()
    it("GET: request line, Host, User-Agent, Accept-Encoding identity, keep-alive, no body", function()
      local _, _, s = get({ "HTTP/1.1 204 No Content\r\n\r\n" }, { url = URL .. "?a=b" })
      assert.same({ "GET /x?a=b HTTP/1.1\r\nHost: h.test:8080\r\nUser-Agent: ctct-lua/" .. core.VERSION ..
        "\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n" }, s.sent)
      assert.same({ host = "h.test", port = 8080, pool = "http://h.test:8080" }, s.connected)
    end)

    it("POST: the body with its Content-Length; the caller's framing headers dropped, its User-Agent kept", function()
      local _, _, s = get({ "HTTP/1.1 204 No Content\r\n\r\n" }, { method = "POST", body = "{}",
        headers = { ["user-agent"] = "me/1", Host = "evil", ["Content-Length"] = "99", Connection = "close",
                    ["Transfer-Encoding"] = "chunked" } })
      assert.same({ "POST /x HTTP/1.1\r\nHost: h.test:8080\r\nuser-agent: me/1\r\nAccept-Encoding: identity\r\n" ..
        "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}" }, s.sent)
      _, _, s = get({ "HTTP/1.1 204 No Content\r\n\r\n" }, { method = "PUT" })
      assert.truthy(s.sent[1]:find("\r\nContent-Length: 0\r\n", 1, true))
    end)

    it("a large request goes out in 64 KiB pieces", function()
      local body = ("b"):rep(100000)
      local _, _, s = get({ "HTTP/1.1 204 No Content\r\n\r\n" }, { method = "POST", body = body })
      assert.equal(2, #s.sent)
      assert.equal(65536, #s.sent[1])
      assert.equal(body, (table.concat(s.sent):match("\r\n\r\n(.*)$")))
    end)

    it("the connect timeout, then what is left of the request's time, bound the socket", function()
      local _, _, s = get({ "HTTP/1.1 204 No Content\r\n\r\n" }, { timeout = 5 }, { connect_timeout = 2 })
      local c = s.settimeouts_calls[1]
      assert.equal(2000, c[1])
      assert.is_true(c[2] > 4800 and c[2] <= 5000, tostring(c[2]))
      assert.equal(c[2], c[3])
      for _, ms in ipairs(s.timeouts) do assert.is_true(ms > 4800 and ms <= 5000, tostring(ms)) end
      assert.equal(65536, s.max) -- receiveany asks for at most 64 KiB
    end)
  end)

  describe("status line and header fields", function()
    local RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: r-1\r\n" ..
      "Content-Length: 11\r\n\r\n{\"ok\":true}"

    it("one chunk: status, lower-case field names, body, version; the connection is pooled", function()
      local res, err, s = get({ RESPONSE }, nil, { keepalive_timeout = 7, pool_size = 3 })
      assert.is_nil(err)
      assert.equal(200, res.status)
      assert.equal("1.1", res.http_version)
      assert.same({ ["content-type"] = "application/json", ["x-request-id"] = "r-1", ["content-length"] = "11" },
        res.headers)
      assert.equal('{"ok":true}', res.body)
      assert.same({ 7000, 3 }, s.keepalive)
      assert.equal(0, s.closed)
    end)

    it("the same answer a byte at a time, and in every two-piece split", function()
      local res, _, s = get(pieces(RESPONSE, 1))
      assert.equal(200, res.status)
      assert.equal("r-1", res.headers["x-request-id"])
      assert.equal('{"ok":true}', res.body)
      assert.equal(#RESPONSE, s.receives)
      for cut = 1, #RESPONSE - 1 do
        res = get({ RESPONSE:sub(1, cut), RESPONSE:sub(cut + 1) })
        assert.equal('{"ok":true}', res.body, "cut at " .. cut)
        assert.equal("application/json", res.headers["content-type"], "cut at " .. cut)
      end
    end)

    it("bare LF line ends, and a CR split from its LF", function()
      local res = get({ "HTTP/1.1 200 OK\nA: 1\nContent-Length: 2\n\nok" })
      assert.equal("1", res.headers.a)
      assert.equal("ok", res.body)
      res = get({ "HTTP/1.1 201 Created\r", "\nA: 1\r", "\n\r", "\n" }, { method = "HEAD" })
      assert.equal(201, res.status)
      assert.same({ a = "1" }, res.headers)
    end)

    it("values trimmed of blanks; blanks before the colon allowed; repeated fields joined with ', '", function()
      local res = get({ "HTTP/1.1 200 OK\r\nX-A: \t v  w \t\r\nX-B :  b\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n" ..
        "SET-COOKIE: c=3\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n" })
      assert.equal("v  w", res.headers["x-a"])
      assert.equal("b", res.headers["x-b"])
      assert.equal("a=1, b=2, c=3", res.headers["set-cookie"])
      assert.equal("", res.headers["x-empty"])
      assert.equal("", res.body)
    end)

    it("lines that are not fields are skipped: no colon, leading colon, folded, blank inside the name", function()
      local res = get({ "HTTP/1.1 200 OK\r\nno colon here\r\n: v\r\nX-A: 1\r\n  folded: 2\r\n\tfolded\r\n" ..
        "Bad Name: 3\r\nContent-Length: 0\r\n\r\n" })
      assert.same({ ["x-a"] = "1", ["content-length"] = "0" }, res.headers)
    end)

    it("interim 1xx answers (with fields) are skipped, up to 10", function()
      local head = ("HTTP/1.1 100 Continue\r\n\r\n"):rep(9) .. "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      local res = get({ head .. "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx" })
      assert.equal(200, res.status)
      assert.is_nil(res.headers.link)
      assert.equal("x", res.body)
      local err
      res, err = get({ ("HTTP/1.1 100 Continue\r\n\r\n"):rep(11) .. "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" })
      fails("protocol", "more than 10 interim (1xx) responses (from h.test:8080)", res, err)
      assert.is_true(err.sent)
    end)

    it("101 is taken as the final answer, without a body", function()
      local res = get({ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n" })
      assert.equal(101, res.status)
      assert.equal("", res.body)
    end)

    it("HTTP/1.0 and Connection: close are not pooled; HTTP/2 gives its version", function()
      local res, _, s = get({ "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok" })
      assert.equal("1.0", res.http_version)
      assert.equal("ok", res.body)
      assert.is_nil(s.keepalive)
      assert.equal(1, s.closed)
      res, _, s = get({ "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 2\r\n\r\nok" })
      assert.equal("ok", res.body)
      assert.is_nil(s.keepalive)
      assert.equal(1, s.closed)
      res = get({ "HTTP/2 404 Not Found\r\nContent-Length: 0\r\n\r\n" })
      assert.equal("2", res.http_version)
      assert.equal(404, res.status)
    end)

    it("a bad status line is a protocol error showing its start, control bytes as ?", function()
      local res, err = get({ "SSH-2.0-OpenSSH_9\r\n" })
      fails("protocol", "not an HTTP response (bad status line: SSH-2.0-OpenSSH_9) (from h.test:8080)", res, err)
      res, err = get({ "HTTP/1.1 20 OK\r\n\r\n" })
      fails("protocol", "not an HTTP response (bad status line: HTTP/1.1 20 OK) (from h.test:8080)", res, err)
      res, err = get({ "\27[2J" .. ("y"):rep(100) .. "\255\n" })
      fails("protocol", "not an HTTP response (bad status line: ?[2J" .. ("y"):rep(56) .. ") (from h.test:8080)",
        res, err)
    end)

    it("a line of 100 KiB (its CR counted) is taken; a byte more is a protocol error", function()
      local max = ngx_mod.LIMITS.line
      assert.equal(100 * 1024, max)
      local value = ("v"):rep(max - #"X-Big: " - 1)
      local res = get(pieces("HTTP/1.1 200 OK\r\nX-Big: " .. value .. "\r\nContent-Length: 0\r\n\r\n", 30000))
      assert.equal(#value, #res.headers["x-big"])
      local err
      res, err = get(pieces("HTTP/1.1 200 OK\r\nX-Big: " .. value .. "v\r\nContent-Length: 0\r\n\r\n", 30000))
      fails("protocol", "response header line over 100 KiB (from h.test:8080)", res, err)
      res, err = get(pieces("HTTP/1.1 200 " .. ("O"):rep(max) .. "\r\n\r\n", 40000))
      fails("protocol", "response header line over 100 KiB (from h.test:8080)", res, err)
      -- A line without an end is over the limit as soon as it is: nothing more is read.
      local s
      res, err, s = get(pieces("HTTP/1.1 200 OK\r\nX-Big: " .. ("v"):rep(max + 10), 1000) , nil, nil,
        { after = "timeout" })
      fails("protocol", "response header line over 100 KiB (from h.test:8080)", res, err)
      assert.equal(103, s.receives)
    end)

    it("a head over 256 KiB is a protocol error", function()
      assert.equal(256 * 1024, ngx_mod.LIMITS.head)
      local field = "X-F: " .. ("f"):rep(60000) .. "\r\n"
      local res, err = get(pieces("HTTP/1.1 200 OK\r\n" .. field:rep(5) .. "Content-Length: 0\r\n\r\n", 65536))
      fails("protocol", "response head over 256 KiB (from h.test:8080)", res, err)
      res = get(pieces("HTTP/1.1 200 OK\r\n" .. field:rep(4) .. "Content-Length: 0\r\n\r\n", 65536))
      assert.equal(200, res.status)
      assert.equal(60000 * 4 + 3 * 2, #res.headers["x-f"])
    end)

    it("more than 1000 header fields is a protocol error; 1000 are taken", function()
      assert.equal(1000, ngx_mod.LIMITS.fields)
      local res = get({ "HTTP/1.1 200 OK\r\n" .. ("A: b\r\n"):rep(999) .. "Content-Length: 0\r\n\r\n" })
      assert.equal(("b, "):rep(998) .. "b", res.headers.a)
      local err
      res, err = get({ "HTTP/1.1 200 OK\r\n" .. ("A: b\r\n"):rep(1000) .. "Content-Length: 0\r\n\r\n" })
      fails("protocol", "response head has more than 1000 header fields (from h.test:8080)", res, err)
    end)
  end)

  describe("bodies", function()
    it("Content-Length: exactly that many bytes, however they arrive", function()
      local res, _, s = get({ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01", "234", "5", "6789" })
      assert.equal("0123456789", res.body)
      assert.same({ 60000, 32 }, s.keepalive)
      assert.equal(4, s.receives)
    end)

    it("bytes after the body: the answer is complete, the connection is not pooled", function()
      local res, _, s = get({ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n" })
      assert.equal("ok", res.body)
      assert.is_nil(s.keepalive)
      assert.equal(1, s.closed)
    end)

    it("repeated equal Content-Length values are one; different or non-numeric ones are errors", function()
      local res = get({ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc" })
      assert.equal("abc", res.body)
      res = get({ "HTTP/1.1 200 OK\r\nContent-Length: 3 , 3\r\n\r\nabc" })
      assert.equal("abc", res.body)
      local err
      res, err = get({ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd" })
      fails("protocol", "bad Content-Length: 3, 4 (from h.test:8080)", res, err)
      res, err = get({ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n" })
      fails("protocol", "bad Content-Length: -1 (from h.test:8080)", res, err)
      res, err = get({ "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n" })
      fails("protocol", "bad Content-Length: 0x10 (from h.test:8080)", res, err)
    end)

    it("a Content-Length over max_response_bytes fails before the body is read", function()
      local res, err, s = get({ "HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n", "x" }, nil,
        { max_response_bytes = 1024 * 1024 })
      fails("protocol", "response larger than max_response_bytes (1 MiB)", res, err)
      assert.equal(1, s.receives)
      assert.equal(1, s.closed)
      res = get({ "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd" }, nil, { max_response_bytes = 4 })
      assert.equal("abcd", res.body)
    end)

    it("chunked: sizes in any case of hex, extensions ignored, trailers read and dropped; pooled", function()
      local res, err, s = get({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" ..
        "5;name=value\r\nhello\r\n  1 ; x\r\n \r\nA\r\n0123456789\r\na\r\nabcdefghij\r\n" ..
        "0;last\r\nX-Trailer: t\r\nX-Other: o\r\n\r\n" })
      assert.is_nil(err)
      assert.equal("hello 0123456789abcdefghij", res.body)
      assert.is_nil(res.headers["x-trailer"])
      assert.equal("chunked", res.headers["transfer-encoding"])
      assert.same({ 60000, 32 }, s.keepalive)
    end)

    it("chunked, a byte at a time and split everywhere", function()
      local text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nWiki\r\n5\r\npedia\r\n" ..
        "E\r\n in\r\n\r\nchunks.\r\n0\r\nT: v\r\n\r\n"
      local res = get(pieces(text, 1))
      assert.equal("Wikipedia in\r\n\r\nchunks.", res.body)
      for n = 2, 9 do
        assert.equal("Wikipedia in\r\n\r\nchunks.", get(pieces(text, n)).body, "pieces of " .. n)
      end
    end)

    it("chunked wins over Content-Length, and is found in a list of codings", function()
      local res = get({ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n" ..
        "3\r\nabc\r\n0\r\n\r\n" })
      assert.equal("abc", res.body)
    end)

    it("chunked errors: bad size line, too many digits, size line over 4096 bytes, bad terminator", function()
      local head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      local res, err = get({ head .. "zz\r\n" })
      fails("protocol", "bad chunk size line: zz (from h.test:8080)", res, err)
      res, err = get({ head .. ";x\r\n" })
      fails("protocol", "bad chunk size line: ;x (from h.test:8080)", res, err)
      res, err = get({ head .. "10000000000000\r\n" }) -- 14 hex digits
      fails("protocol", "bad chunk size line: 10000000000000 (from h.test:8080)", res, err)
      assert.equal(4096, ngx_mod.LIMITS.chunk_line)
      res, err = get({ head .. "5;" .. ("e"):rep(4100) .. "\r\nhello\r\n0\r\n\r\n" })
      fails("protocol", "chunk size line over 4096 bytes (from h.test:8080)", res, err)
      res, err = get({ head .. "3\r\nabcd\r\n0\r\n\r\n" })
      fails("protocol", "bad chunk terminator (from h.test:8080)", res, err)
      res, err = get({ head .. "3\r\nabcX\n0\r\n\r\n" })
      fails("protocol", "bad chunk terminator (from h.test:8080)", res, err)
      -- The terminator may be a bare LF.
      res = get({ head .. "3\r\nabc\n0\r\n\r\n" })
      assert.equal("abc", res.body)
    end)

    it("chunked trailers are bounded like a head", function()
      local head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n"
      local res, err = get(pieces(head .. "T: " .. ("t"):rep(102400) .. "\r\n\r\n", 50000))
      fails("protocol", "response header line over 100 KiB (from h.test:8080)", res, err)
      res, err = get({ head .. ("T: t\r\n"):rep(1001) .. "\r\n" })
      fails("protocol", "response head has more than 1000 header fields (from h.test:8080)", res, err)
    end)

    it("a chunked body over max_response_bytes is stopped as it arrives", function()
      -- A 2 MiB chunk served 64 KiB a read: the 17th read passes the 1 MiB cap
      -- (17 * 65536 - 8 bytes of data), the rest is never asked for.
      local res, err, s = get({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "200000\r\n" .. ("x"):rep(2 * 1024 * 1024) .. "\r\n0\r\n\r\n" }, nil, { max_response_bytes = 1024 * 1024 })
      fails("protocol", "response larger than max_response_bytes (1 MiB)", res, err)
      assert.equal(1 + 17, s.receives)
      assert.equal(1, s.closed)
    end)

    it("no Content-Length and no chunked: the body is everything up to the close; not pooled", function()
      local res, err, s = get({ "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n\r\na,b", "\r\n1,2", "\r\n" })
      assert.is_nil(err)
      assert.equal("a,b\r\n1,2\r\n", res.body)
      assert.is_nil(s.keepalive)
      assert.equal(1, s.closed)
      -- Another coding than chunked: Content-Length is not used, the close ends the body.
      res = get({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nabc" })
      assert.equal("abc", res.body)
      -- An empty one.
      res = get({ "HTTP/1.1 200 OK\r\n\r\n" })
      assert.equal("", res.body)
    end)

    it("a read-until-close body over max_response_bytes is stopped as it arrives", function()
      -- 17 reads of 64 KiB (the first with the 19 bytes of head) pass 1 MiB of body.
      local res, err, s = get({ "HTTP/1.1 200 OK\r\n\r\n" .. ("x"):rep(2 * 1024 * 1024) }, nil,
        { max_response_bytes = 1024 * 1024 })
      fails("protocol", "response larger than max_response_bytes (1 MiB)", res, err)
      assert.equal(17, s.receives)
      assert.equal(1, s.closed)
      -- The cap itself is allowed; a byte more is not.
      local cap = 1024 * 1024
      res = get({ "HTTP/1.1 200 OK\r\n\r\n" .. ("y"):rep(cap) }, nil, { max_response_bytes = cap })
      assert.equal(cap, #res.body)
      res, err = get({ "HTTP/1.1 200 OK\r\n\r\n" .. ("y"):rep(cap + 1) }, nil, { max_response_bytes = cap })
      fails("protocol", "response larger than max_response_bytes (1 MiB)", res, err)
    end)

    it("HEAD, 204 and 304 have no body, whatever their fields say; the connection is pooled", function()
      local res, _, s = get({ "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" }, { method = "HEAD" })
      assert.equal("", res.body)
      assert.equal("500", res.headers["content-length"])
      assert.same({ 60000, 32 }, s.keepalive)
      res, _, s = get({ "HTTP/1.1 304 Not Modified\r\nContent-Length: 500\r\n\r\n" })
      assert.equal(304, res.status)
      assert.equal("", res.body)
      assert.same({ 60000, 32 }, s.keepalive)
      res = get({ "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n" })
      assert.equal("", res.body)
    end)
  end)

  describe("a connection that ends early or fails", function()
    it("closed in the head or in the body: a network error counting the bytes received", function()
      local function closed_after(n)
        return "connection closed by h.test:8080 after " .. n .. " bytes of the answer"
      end
      local res, err = get({ "HTTP/1.1 200 OK\r\nContent-Le" })
      fails("network", closed_after(27), res, err)
      assert.is_true(err.sent)
      res, err = get({ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "abcd" })
      fails("network", closed_after(39 + 4), res, err)
      local chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      assert.equal(47, #chunked)
      res, err = get({ chunked .. "5\r\nab" })
      fails("network", closed_after(47 + 5), res, err)
      res, err = get({ chunked .. "5\r\nabcde\r\n" })
      fails("network", closed_after(47 + 10), res, err)
      res, err = get({})
      fails("network", "connection closed by h.test:8080 after 0 bytes of the answer", res, err)
    end)

    it("a socket error while reading: its text; a read timeout: the request's time", function()
      local res, err, s = get({ "HTTP/1.1 200" }, { timeout = 5 }, nil, { after = "connection reset by peer" })
      fails("network", "reading the answer of h.test:8080 failed: connection reset by peer", res, err)
      assert.equal(1, s.closed)
      res, err = get({ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab" }, { timeout = 5 }, nil,
        { after = "timeout" })
      fails("timeout", "the answer from h.test:8080 did not complete within 5000 ms", res, err)
      assert.is_true(err.sent)
    end)

    it("the request's timeout bounds all the reads together, not each one", function()
      local function slow(text)
        return function()
          core.sleep(0.03)
          return text
        end
      end
      -- Each read is well within a per-read timeout; together they pass the deadline.
      local res, err, s = get({ slow("HTTP/1.1 200 OK\r\n"), slow("A: 1\r\n"), slow("B: 2\r\n"), slow("\r\n") },
        { timeout = 0.05 })
      fails("timeout", "the answer from h.test:8080 did not complete within 50 ms", res, err)
      assert.equal(2, s.receives)
      for _, ms in ipairs(s.timeouts) do assert.is_true(ms >= 1 and ms <= 50, tostring(ms)) end
    end)

    it("no time left before connecting: a timeout, nothing sent", function()
      local t = ngx_mod.new()
      local res, err = t:exchange({ method = "GET" }, "http", "h.test", 8080, "/x", WHERE, core.monotonic() - 1, 10)
      assert.is_nil(res)
      assert.same({ kind = "timeout", sent = false, message = "no time left to connect to h.test:8080" }, err)
      assert.equal(0, #made)
    end)

    it("connect failures: refused (network) and timed out, nothing sent", function()
      local res, err, s = get({}, nil, nil, { connect_err = "connection refused" })
      fails("network", "cannot connect to h.test:8080: connection refused", res, err)
      assert.is_false(err.sent)
      assert.equal(1, s.closed)
      assert.same({}, s.sent)
      res, err = get({}, { timeout = 5 }, { connect_timeout = 1.5 }, { connect_err = "timeout" })
      fails("timeout", "connecting to h.test:8080 timed out after 1500 ms", res, err)
      assert.is_false(err.sent)
    end)

    it("a send failure on a new connection: a network error, not sent when it was the first piece", function()
      local res, err = get({}, nil, nil, { send_err = { at = 1, err = "broken pipe" } })
      fails("network", "sending to h.test:8080 failed: broken pipe", res, err)
      assert.is_false(err.sent)
      res, err = get({}, { method = "POST", body = ("b"):rep(70000) }, nil, { send_err = { at = 2, err = "reset" } })
      fails("network", "sending to h.test:8080 failed: reset", res, err)
      assert.is_true(err.sent)
      res, err = get({}, nil, nil, { send_err = { at = 1, err = "timeout" } })
      fails("timeout", "sending to h.test:8080 failed: timeout", res, err)
      assert.is_true(err.sent)
    end)

    it("a pooled connection the server had closed is replaced once: at the send or before any byte", function()
      local ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
      local res, err = call({ { reused = 1, send_err = { at = 1, err = "closed" } }, { chunks = { ok } } })
      assert.is_nil(err)
      assert.equal("ok", res.body)
      assert.equal(2, #made)
      assert.equal(1, made[1].closed)
      res, err = call({ { reused = 3, chunks = {} }, { chunks = { ok } } })
      assert.is_nil(err)
      assert.equal("ok", res.body)
      assert.equal(2, #made)
      -- Once only: a second stale connection is an error.
      res, err = call({ { reused = 1, chunks = {} }, { reused = 1, chunks = {} } })
      fails("network", "connection closed by h.test", res, err)
      assert.is_false(err.sent)
      -- After some bytes of the answer it is not stale: no second try.
      res, err = call({ { reused = 1, chunks = { "HTTP/1.1 2" } } })
      fails("network", "connection closed by h.test:8080 after 10 bytes of the answer", res, err)
    end)
  end)

  describe("TLS", function()
    it("https: a handshake naming the host and verifying, on new connections only", function()
      local res, _, s = get({ "HTTP/1.1 204 No Content\r\n\r\n" }, { url = "https://h.test/x" })
      assert.equal(204, res.status)
      assert.same({ name = "h.test", verify = true }, s.handshake)
      assert.equal("https://h.test:443", s.connected.pool)
      assert.truthy(s.sent[1]:find("\r\nHost: h.test\r\n", 1, true))
      _, _, s = get({ "HTTP/1.1 204 No Content\r\n\r\n" }, { url = "https://h.test/x" }, nil, { reused = 1 })
      assert.is_nil(s.handshake)
      _, _, s = get({ "HTTP/1.1 204 No Content\r\n\r\n" }, { url = "https://h.test/x" }, { insecure = true })
      assert.same({ name = "h.test", verify = false }, s.handshake)
      assert.equal("https://h.test:443#insecure", s.connected.pool)
    end)

    it("handshake failures: tls errors, with the trusted certificates hint for certificate problems", function()
      local res, err = get({}, { url = "https://h.test/x" }, nil,
        { handshake = function() return nil, "20: unable to get local issuer certificate" end })
      fails("tls", "TLS handshake with h.test failed: 20: unable to get local issuer certificate (certificates " ..
        "are checked against nginx's lua_ssl_trusted_certificate, e.g. /etc/ssl/certs/ca-certificates.crt on Debian)",
        res, err)
      assert.is_false(err.sent)
      res, err = get({}, { url = "https://h.test/x" }, nil,
        { handshake = function() return nil, "handshake reset" end })
      fails("tls", "TLS handshake with h.test failed: handshake reset", res, err)
      res, err = get({}, { url = "https://h.test/x" }, nil, { handshake = function() error("assertion failed!") end })
      -- (lua-resty-core 0.1.25 raises instead of returning the error): the hint too.
      fails("tls", "TLS handshake with h.test failed: the handshake failed (certificate verification or protocol " ..
        "error) (certificates are checked against nginx's lua_ssl_trusted_certificate, e.g. " ..
        "/etc/ssl/certs/ca-certificates.crt on Debian)", res, err)
      res, err = get({}, { url = "https://h.test/x" }, nil, { handshake = function() return nil, "timeout" end })
      fails("timeout", "TLS handshake with h.test timed out", res, err)
    end)
  end)

  describe("downloads to a sink", function()
    local dir

    before_each(function()
      dir = sandbox.run("mktemp -d /tmp/ctct-ngx-parser.XXXXXXXX"):gsub("%s+$", "")
      assert(dir:match("^/tmp/ctct%-ngx%-parser%."), "mktemp failed")
    end)

    after_each(function()
      sandbox.run("rm -rf " .. sandbox.quote(dir))
    end)

    it("a 2xx body goes to the file (chunked here), not to memory", function()
      local path = dir .. "/out.csv"
      local res, err = get({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na,b\n\r\n",
        "4\r\n1,2\n\r\n0\r\n\r\n" }, { sink = path }, { max_response_bytes = 4 })
      assert.is_nil(err)
      assert.equal("", res.body)
      assert.equal(8, res.sink_bytes)
      assert.equal("a,b\n1,2\n", sandbox.read_file(path))
      assert.is_nil(sandbox.read_file(path .. ".part"))
    end)

    it("an error answer stays in memory; a body cut short leaves no file", function()
      local path = dir .. "/out.csv"
      local res = get({ "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found" }, { sink = path })
      assert.equal(404, res.status)
      assert.equal("not found", res.body)
      assert.is_nil(res.sink_bytes)
      assert.is_nil(sandbox.read_file(path))
      local err
      res, err = get({ "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhalf" }, { sink = path })
      fails("network", "connection closed by h.test:8080 after " .. (38 + 4) .. " bytes of the answer", res, err)
      assert.is_nil(sandbox.read_file(path))
      assert.is_nil(sandbox.read_file(path .. ".part"))
    end)
  end)
end)
