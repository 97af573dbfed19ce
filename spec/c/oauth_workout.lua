-- Exercises ctct.core's OAuth, loopback and file functions for valgrind and
-- ASan runs: request builders, token parsing, the device state machine, the
-- loopback listener with a real client, atomic writes and locks, bad input.
--   lua5.4 spec/c/oauth_workout.lua
local core = require "ctct.core"

local client = { id = "id+1", secret = "s:e/c%" }
for i = 1, 20 do
  assert(core.oauth_pkce())
  assert(core.oauth_pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
  assert(not core.oauth_pkce("short"))
  assert(#core.oauth_state() == 43)
  local params = { response_type = "code", client_id = "c", scope = "a b", state = "s" .. i, extra = i, n = 1.5 }
  for k = 1, 40 do params["p" .. k] = ("v"):rep(k * 10) end -- grows the buffer past its first block
  assert(core.oauth_authorize_url("https://x.example/authorize?q=1", params))
  local req = core.oauth_form_request("https://x.example/token", { grant_type = "refresh_token", refresh_token = "r" },
    client)
  assert(req.headers.Authorization and req.body)
  assert(core.oauth_form_request("https://x.example/token", {}, { id = "pub" }).body == "client_id=pub")
  assert(not pcall(core.oauth_form_request, "ftp://x", {}))
  assert(not pcall(core.oauth_form_request, "https://x", { a = {} }))
  local cc = core.oauth_client_credentials_request("https://x.example/oauth2/token", "id+1", ("s:e/c%"):rep(i * 50))
  assert(cc.body == "grant_type=client_credentials&scope=v3api/general.partner" and cc.headers.Authorization)
  assert(core.oauth_client_credentials_request("https://x/t", "id", "s", "a b/c").body:find("a%20b/c", 1, true))
  assert(not pcall(core.oauth_client_credentials_request, "https://x/t", "id", ""))
  assert(not pcall(core.oauth_client_credentials_request, "https://x/t", "", "s"))
  assert(not pcall(core.oauth_client_credentials_request, "https://x/t", "id", "s", "a\nb"))
  assert(not pcall(core.oauth_client_credentials_request, "ftp://x", "id", "s"))
  assert(core.oauth_token(200, { access_token = "a", expires_in = "60", refresh_token = "r", scope = "s" }, 1))
  assert(not core.oauth_token(200, { token_type = "Bearer" }, 1))
  assert(not core.oauth_token(400, { error = "invalid_grant" }, 1))
  assert(not core.oauth_token(500, nil, 1))
  local d = assert(core.oauth_device({ device_code = "dc", user_code = "UC", verification_uri = "https://v",
                                       expires_in = 100, interval = 2 }, 0))
  assert(d:info().user_code == "UC")
  assert(d:wait_time(0) == 2)
  assert(d:poll_request("https://x/token", { id = "pub" }).body:find("device_code=dc", 1, true))
  assert(d:handle(400, { error = "authorization_pending" }, 2) == "pending")
  assert(d:handle(400, { error = "slow_down" }, 4) == "slow_down")
  assert(not d:handle(400, { error = "access_denied" }, 5))
  assert(d:handle(200, { access_token = "t" }, 6) == "token")
  assert(not pcall(d.info, d)) -- used up
  assert(not core.oauth_device({ user_code = "x" }, 0))
  assert(not select(1, core.oauth_device({ device_code = "dc", user_code = "UC", verification_uri = "v",
                                           expires_in = 1 }, 0)):wait_time(5))
end

-- The loopback listener answering a real client.
local l = assert(core.loopback_listen(0))
local port = l:port()
-- (without a sanitizer preload: under make test-asan only the Lua process is instrumented)
local p = io.popen("env -u LD_PRELOAD curl -s --max-time 5 'http://127.0.0.1:" .. port .. "/callback?code=c&state=s' &")
local method, target = l:accept(5)
assert(method == "GET" and target == "/callback?code=c&state=s", tostring(target))
assert(l:respond(200, "text/plain", "done"))
p:close()
assert(l:accept(0.05) == nil) -- times out
l:close()
l:close()

-- Atomic writes and locks.
local dir = os.tmpname()
os.remove(dir)
assert(core.mkdirs(dir .. "/a/b"))
for i = 1, 20 do assert(core.write_file_atomic(dir .. "/a/b/f.json", ("x"):rep(i * 100))) end
assert(not core.write_file_atomic(dir .. "/missing/f", "x"))
local lock = assert(core.try_lock(dir .. "/a/b/f.lock"))
local _, why = core.try_lock(dir .. "/a/b/f.lock")
assert(why == "busy")
lock:unlock()
assert(core.try_lock(dir .. "/a/b/f.lock")) -- left to the collector
os.execute("rm -rf '" .. dir .. "'")
collectgarbage()
collectgarbage()
print("oauth workout: ok")
