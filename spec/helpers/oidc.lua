-- Test helper: an independent OAuth 2.0 / OpenID authorization server (the npm package
-- oidc-provider, spec/support/oidc/server.mjs), started and stopped by the specs.
--
--   local oidc = require "spec.helpers.oidc"
--   local ok, why = oidc.available()           -- node >= 20.18 and the npm package?
--   local op = oidc.start{ access_token_ttl = 60, device_code_ttl = 5 }  -- OPTION_ENV
--   local a, b = oidc.start_many{ {...}, {...} }  -- several at once (parallel start)
--   op.issuer (= op.url), op.token_endpoint, op.device_endpoint,
--   op.authorization_endpoint, op.revocation_endpoint, op.introspection_endpoint,
--   op.jwks_uri, op.discovery, op.confidential.client_id/.client_secret (also
--   op.client_id/op.client_secret), op.public.client_id (op.public_client_id),
--   op.resource, op.verification_uri
--   op:token(form, "confidential"|"public"|false)  -- POST /token: status, body
--   op:client_credentials_token{ scope = ... }      -- a JWT access token, response
--   op:device_authorization{ scope = ... }; op:poll_device(device_code)
--   op:approve_device(user_code[, { deny = true, complete = true }])
--   op:authorization_url{ client, redirect_uri, scope, state, code_challenge, prompt }
--   op:authorize(url[, { deny = true }])         -- final redirect URL (code, state, iss)
--   op:stats(), op:reset_stats(), op:jwks(), op:verify_jwt(token), op:log()
--   op:stop(); oidc.stop_all()
--   oidc.pkce(), oidc.decode_jwt(token), oidc.parse_query(url)
--
-- Everything here talks to the server with the curl CLI (a cookie jar stands in for
-- the user's browser), never with the ctct library under test. Runs on Lua 5.4 and
-- LuaJIT/5.1.
--
-- The server process is not a child of this one (it is started in the background by
-- a shell that exits): stop() ends it by its own pid, and it also exits by itself
-- within 0.5 s once the Lua process that started it is gone. Until init reaps it, an
-- ended server can linger as a zombie ("[node] <defunct>"), which alive() ignores.
local cjson = require "cjson"
local sandbox = require "spec.helpers.sandbox"
local process = require "spec.helpers.process"
local b64url = require "spec.helpers.b64url"

local run, quote, decode = sandbox.run, sandbox.quote, sandbox.decode

local oidc = {}

oidc.VERSION = "9.13.3"            -- the oidc-provider version `make deps` installs
oidc.CONFIDENTIAL = "ctct-confidential"
oidc.PUBLIC = "ctct-public"
oidc.DEFAULT_SECRET = "ctct-confidential-secret"
oidc.RESOURCE = "https://api.cc.email/v3"
oidc.DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
oidc.TEST_USER = "test-user"

local OP = {}
OP.__index = OP

local read_file, write_file = sandbox.read_file, sandbox.write_file

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

function oidc.paths()
  local root = sandbox.repo_root()
  return {
    root = root,
    server = root .. "/spec/support/oidc/server.mjs",
    deps = root .. "/.deps/node/node_modules",
  }
end

-- Installed oidc-provider version, or nil.
function oidc.installed_version()
  local pkg = read_file(oidc.paths().deps .. "/oidc-provider/package.json")
  if not pkg then return nil end
  local ok, t = pcall(cjson.decode, pkg)
  return ok and t.version or nil
end

local available_cache

-- true, or false and why the server cannot run here (checked once per process).
function oidc.available()
  if available_cache then return available_cache[1], available_cache[2] end
  local ok, why = true, nil
  local out, code = run("node -p process.versions.node 2>/dev/null")
  local major, minor = trim(out):match("^(%d+)%.(%d+)")
  major, minor = tonumber(major), tonumber(minor)
  if code ~= 0 or not major then
    ok, why = false, "node is not on PATH"
  elseif major < 20 or (major == 20 and minor < 18) then
    -- oidc-provider 9 uses URL.parse and crypto.hash: Node.js >= 20.18.
    ok, why = false, "node " .. trim(out) .. " is too old for oidc-provider 9 (needs >= 20.18)"
  elseif not oidc.installed_version() then
    ok, why = false, "npm package oidc-provider is not installed in .deps/node (make deps)"
  end
  available_cache = { ok, why }
  return ok, why
end

-- ---- small encoders/decoders -------------------------------------------------------

-- base64url (or base64) to bytes, nil on a bad character; bytes to base64url.
oidc.b64url_decode = b64url.decode
oidc.b64url_encode = b64url.encode

-- header, payload (decoded tables) of a compact JWS; nil and a reason otherwise.
function oidc.decode_jwt(token)
  if type(token) ~= "string" then return nil, "not a string" end
  local h, p, s = token:match("^([%w_%-]+)%.([%w_%-]+)%.([%w_%-]*)$")
  if not h then return nil, "not three base64url segments" end
  local hj, pj = oidc.b64url_decode(h), oidc.b64url_decode(p)
  local ok1, header = pcall(cjson.decode, hj or "")
  local ok2, payload = pcall(cjson.decode, pj or "")
  if not (ok1 and ok2) then return nil, "segments are not JSON" end
  return header, payload, s
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end
oidc.urlencode = urlencode

local function urldecode(s)
  s = s:gsub("%+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- The query parameters of a URL (or of a bare query string) as a table.
function oidc.parse_query(url)
  local q = url:match("%?([^#]*)") or (url:find("^[^/?#]*=") and url) or ""
  local t = {}
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    t[urldecode(k)] = urldecode(v)
  end
  return t
end

-- Sorted "k=v&..." with urlencoded values.
local function encode_query(params)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(params[k]) end
  return table.concat(parts, "&")
end
oidc.encode_query = encode_query

-- A PKCE pair (RFC 7636): verifier (43-128 of [A-Za-z0-9-._~]; 64 random ones
-- unless given) and its S256 challenge (SHA-256 by coreutils' sha256sum).
function oidc.pkce(verifier)
  if not verifier then
    local f = assert(io.open("/dev/urandom", "rb"))
    verifier = oidc.b64url_encode(f:read(48))
    f:close()
  end
  local out, code = run("printf '%s' " .. quote(verifier) .. " | sha256sum")
  local hex = out:match("^(%x+)")
  assert(code == 0 and hex and #hex == 64, "sha256sum failed: " .. out)
  local digest = hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
  return verifier, oidc.b64url_encode(digest)
end

-- ---- curl ------------------------------------------------------------------------

-- One HTTP exchange with curl. opts: method, url, form (table: urlencoded body),
-- basic = { id, secret }, headers (list), jar (cookie file), timeout, and follow (a
-- port): follow redirects, with every connection sent to 127.0.0.1:<follow> whatever
-- host and port the URL names, so that a redirect to a client's redirect URI lands
-- on the server itself (a harmless 404; an https one fails its TLS handshake there,
-- which is as good: only the effective URL matters then) instead of anywhere else.
-- Returns status, raw
-- body, headers (lowercased names; the last response's), effective URL; or nil and
-- curl's message.
local function exchange(opts)
  local headfile = os.tmpname()
  local bodyfile
  local parts = { "curl -sS --max-time " .. (opts.timeout or 20), "-D " .. quote(headfile) }
  if opts.follow then
    -- No -X: it would stick to every redirect. curl POSTs a form, then GETs on 303.
    assert(opts.method == nil or opts.method == (opts.form and "POST" or "GET"), "follow: method")
    parts[#parts + 1] = "-L --max-redirs 20 --connect-to " .. quote("::127.0.0.1:" .. math.floor(opts.follow))
  else
    parts[#parts + 1] = "-X " .. quote(opts.method or "GET")
  end
  if opts.jar then parts[#parts + 1] = "-b " .. quote(opts.jar) .. " -c " .. quote(opts.jar) end
  if opts.basic then
    -- RFC 6749 2.3.1: id and secret are form-urlencoded before base64.
    parts[#parts + 1] = "-u " .. quote(urlencode(opts.basic[1]) .. ":" .. urlencode(opts.basic[2]))
  end
  for _, h in ipairs(opts.headers or {}) do parts[#parts + 1] = "-H " .. quote(h) end
  if opts.form then
    bodyfile = os.tmpname()
    write_file(bodyfile, encode_query(opts.form))
    parts[#parts + 1] = "-H 'Content-Type: application/x-www-form-urlencoded'"
    parts[#parts + 1] = "--data-binary @" .. quote(bodyfile)
  end
  parts[#parts + 1] = "-w " .. quote("\n__status=%{http_code} __url=%{url_effective}")
  parts[#parts + 1] = quote(opts.url)
  local out = run(table.concat(parts, " ") .. " 2>&1")
  if bodyfile then os.remove(bodyfile) end
  local head = read_file(headfile) or ""
  os.remove(headfile)
  local body, status, url = out:match("^(.*)\n__status=(%d+) __url=(%S*)%s*$")
  if not body or tonumber(status) == 0 then return nil, out end
  -- With redirects followed, the file holds every response's headers: keep the last.
  head = head:match(".*\r?\n\r?\n(HTTP/.-)$") or head
  local headers = {}
  for name, value in head:gmatch("([%w%-]+):[ \t]*([^\r\n]*)") do headers[name:lower()] = value end
  return tonumber(status), body, headers, url
end
oidc.exchange = exchange

-- ---- start / stop ------------------------------------------------------------------

local OPTION_ENV = {
  port = "OIDC_PORT",
  access_token_ttl = "OIDC_ACCESS_TOKEN_TTL",
  client_credentials_ttl = "OIDC_CLIENT_CREDENTIALS_TTL",
  refresh_token_ttl = "OIDC_REFRESH_TOKEN_TTL",
  auth_code_ttl = "OIDC_AUTH_CODE_TTL",
  device_code_ttl = "OIDC_DEVICE_CODE_TTL",
  id_token_ttl = "OIDC_ID_TOKEN_TTL",
  clock_tolerance = "OIDC_CLOCK_TOLERANCE",
  device_interval = "OIDC_DEVICE_INTERVAL",
  slow_down = "OIDC_SLOW_DOWN",                 -- boolean
  rotate_refresh = "OIDC_ROTATE_REFRESH",       -- boolean, default true
  secret_post = "OIDC_SECRET_POST",             -- boolean, default false
  offline_access = "OIDC_OFFLINE_ACCESS",       -- "cc" (default) or "strict"
  client_secret = "OIDC_CONFIDENTIAL_SECRET",
  redirect_uris = "OIDC_REDIRECT_URIS",         -- list of extra redirect URIs
  resource = "OIDC_RESOURCE",
  parent_pid = "OIDC_PARENT_PID",               -- default: the Lua process
}

local started = {}

local function launch_line(opts, i)
  local env = { "OIDC_DEPS_DIR=" .. quote(oidc.paths().deps) }
  for k, v in pairs(opts) do
    local name = OPTION_ENV[k]
    if not name then error("oidc.start: unknown option " .. tostring(k), 3) end
    if type(v) == "boolean" then v = v and "1" or "0" end
    if type(v) == "table" then v = table.concat(v, " ") end
    env[#env + 1] = name .. "=" .. quote(v)
  end
  -- $PPID of the shell io.popen runs is this Lua process: the server exits when it does.
  if opts.parent_pid == nil then env[#env + 1] = "OIDC_PARENT_PID=$PPID" end
  return table.concat({
    'd' .. i .. '=$(mktemp -d "${TMPDIR:-/tmp}/ctct-oidc.XXXXXX")',
    'echo "OIDC_DIR_' .. i .. '=$d' .. i .. '"',
    table.concat(env, " ") .. " node " .. quote(oidc.paths().server)
      .. ' </dev/null >"$d' .. i .. '/stdout" 2>"$d' .. i .. '/stderr" &',
    'p' .. i .. '=$!',
    'echo "OIDC_PID_' .. i .. '=$p' .. i .. '"',
  }, "\n")
end

local function finish_start(opts, out, i)
  local dir = out:match("OIDC_DIR_" .. i .. "=([^\n]+)")
  local pid = tonumber(out:match("OIDC_PID_" .. i .. "=(%d+)"))
  local op = setmetatable({ dir = dir, pid = pid }, OP)
  local ready = dir and read_file(dir .. "/stdout") or ""
  local port, issuer, version = ready:match("OIDC_READY port=(%d+) issuer=(%S+) pid=%d+ version=(%S+)")
  if not port then
    local err = dir and read_file(dir .. "/stderr") or ""
    op:stop()
    return nil, "oidc server did not start:\n" .. ready .. err
  end
  op.port, op.issuer, op.url, op.version = tonumber(port), issuer, issuer, version
  op.resource = opts.resource or oidc.RESOURCE
  op.confidential = { client_id = oidc.CONFIDENTIAL, client_secret = opts.client_secret or oidc.DEFAULT_SECRET }
  op.public = { client_id = oidc.PUBLIC }
  op.client_id, op.client_secret, op.public_client_id =
    op.confidential.client_id, op.confidential.client_secret, op.public.client_id
  op.verification_uri = issuer .. "/device"
  started[op] = true
  local status, body = exchange{ url = issuer .. "/.well-known/openid-configuration" }
  if status ~= 200 then
    op:stop()
    return nil, "oidc discovery failed: " .. tostring(status) .. " " .. tostring(body)
  end
  local d = cjson.decode(body)
  op.discovery = d
  op.jwks_uri = d.jwks_uri
  op.token_endpoint = d.token_endpoint
  op.device_endpoint = d.device_authorization_endpoint
  op.authorization_endpoint = d.authorization_endpoint
  op.revocation_endpoint = d.revocation_endpoint
  op.introspection_endpoint = d.introspection_endpoint
  return op
end

-- Starts several servers at once (they load in parallel): one option table each
-- (see OPTION_ENV); returns the servers in the same order. Raises (with the failing
-- server's stderr) if any does not start, after stopping them all.
function oidc.start_many(list)
  local ok, why = oidc.available()
  if not ok then error("oidc.start: " .. why, 2) end
  local lines, waits = {}, {}
  for i, opts in ipairs(list) do
    lines[#lines + 1] = launch_line(opts, i)
    waits[#waits + 1] = '{ grep -q "^OIDC_READY" "$d' .. i .. '/stdout" || ! kill -0 $p' .. i .. ' 2>/dev/null; }'
  end
  lines[#lines + 1] = table.concat({
    'i=0',
    'while [ $i -lt 300 ]; do',
    '  ' .. table.concat(waits, " && ") .. ' && break',
    '  sleep 0.05; i=$((i+1))',
    'done',
  }, "\n")
  local out = run(table.concat(lines, "\n"))
  local ops, err = {}, nil
  for i, opts in ipairs(list) do
    local op, e = finish_start(opts, out, i)
    ops[i] = op
    err = err or e
  end
  if err then
    for i = 1, #list do if ops[i] then ops[i]:stop() end end
    error(err, 2)
  end
  return (table.unpack or unpack)(ops, 1, #list)
end

-- Starts a server; raises (with its stderr) on failure. See OPTION_ENV for opts.
function oidc.start(opts)
  local ok, op = pcall(oidc.start_many, { opts or {} })
  if not ok then error(op, 2) end
  return op
end

-- Shell test: is pid $p still our server? A zombie (exited, not yet reaped by init)
-- has an empty cmdline and does not count; the cmdline check also guards against
-- pid reuse.
local IS_OURS = 'grep -qa server.mjs /proc/$p/cmdline 2>/dev/null'

-- True while the server process exists.
function OP:alive() return process.alive(self.pid, IS_OURS) end

-- The server's stderr so far (warnings, errors).
function OP:log()
  return self.dir and read_file(self.dir .. "/stderr") or ""
end

-- Stops the server by its own pid (TERM, then KILL after 5 s) and removes its
-- directory. Idempotent.
function OP:stop()
  if self.stopped then return end
  self.stopped = true
  started[self] = nil
  local stopped = process.stop(self.pid, IS_OURS, 2)
  if self.dir and self.dir:match("/ctct%-oidc%.[%w]+$") then run("rm -rf " .. quote(self.dir)) end
  assert(stopped, "oidc server " .. tostring(self.pid) .. " did not stop")
end

-- Stops every server this helper started and has not stopped yet.
function oidc.stop_all() process.stop_all(started) end

-- ---- plain requests ------------------------------------------------------------------

-- status, decoded JSON (or raw body), headers.
function OP:request(opts)
  if opts.path then opts.url = self.issuer .. opts.path end
  local status, body, headers = exchange(opts)
  if not status then error("curl failed: " .. tostring(body), 2) end
  return status, decode(body), headers
end

local function expect(want, what, status, body)
  if status ~= want then
    error(what .. " answered " .. tostring(status) .. ": "
      .. (type(body) == "string" and body or cjson.encode(body)), 3)
  end
  return body
end

-- Auth for the token-type endpoints. who: "confidential" (HTTP Basic), "public"
-- (client_id in the body), or false (the caller's form carries everything).
function OP:client_auth(who, form)
  form = form or {}
  local basic
  if who == nil or who == "confidential" then
    basic = { self.confidential.client_id, self.confidential.client_secret }
  elseif who == "public" then
    if form.client_id == nil then form.client_id = self.public.client_id end
  elseif who ~= false then
    error("unknown client " .. tostring(who), 3)
  end
  return form, basic
end

-- POST to the token endpoint: status, decoded body.
function OP:token(form, who)
  local basic
  form, basic = self:client_auth(who, form)
  local status, body = self:request{ method = "POST", url = self.token_endpoint, form = form, basic = basic }
  return status, body
end

-- A client_credentials JWT for the confidential client; also the whole response.
function OP:client_credentials_token(opts)
  opts = opts or {}
  local form = { grant_type = "client_credentials", scope = opts.scope, resource = opts.resource }
  local body = expect(200, "client_credentials", self:token(form, "confidential"))
  return body.access_token, body
end

-- RFC 8628 device authorization (public client by default): status, decoded body.
function OP:device_authorization(opts)
  opts = opts or {}
  local form, basic = self:client_auth(opts.client or "public",
    { scope = opts.scope or "offline_access contact_data account_read", resource = opts.resource })
  return self:request{ method = "POST", url = self.device_endpoint, form = form, basic = basic }
end

-- One device-code poll: status, decoded body.
function OP:poll_device(device_code, who)
  return self:token({ grant_type = oidc.DEVICE_GRANT, device_code = device_code }, who or "public")
end

-- An authorization URL. opts: client ("public" default, or "confidential"),
-- redirect_uri (default http://127.0.0.1/callback), scope, state, code_challenge
-- (S256), prompt, resource, extra (table of more parameters).
function OP:authorization_url(opts)
  opts = opts or {}
  local client = opts.client or "public"
  local params = {
    response_type = "code",
    client_id = client == "public" and self.public.client_id or self.confidential.client_id,
    redirect_uri = opts.redirect_uri or "http://127.0.0.1/callback",
    scope = opts.scope or "offline_access contact_data account_read",
    state = opts.state or "state-" .. tostring(os.time()),
    prompt = opts.prompt,
    resource = opts.resource,
  }
  if opts.code_challenge then
    params.code_challenge = opts.code_challenge
    params.code_challenge_method = "S256"
  end
  for k, v in pairs(opts.extra or {}) do params[k] = v end
  return self.authorization_endpoint .. "?" .. encode_query(params)
end

function OP:stats() return expect(200, "stats", self:request{ path = "/__test/stats" }) end
function OP:reset_stats() return expect(204, "reset", self:request{ method = "POST", path = "/__test/reset" }) end
function OP:jwks() return expect(200, "jwks", self:request{ url = self.jwks_uri }) end

-- Checks a JWT's RS256 signature against this server's JWKS with node's crypto
-- (an oracle independent of the library): true, or false and why.
function OP:verify_jwt(token)
  local header = oidc.decode_jwt(token)
  if not header then return false, "not a JWT" end
  local key
  for _, k in ipairs(self:jwks().keys or {}) do if k.kid == header.kid then key = k end end
  if not key then return false, "kid not in the JWKS" end
  local keyfile, tokfile = os.tmpname(), os.tmpname()
  write_file(keyfile, cjson.encode(key))
  write_file(tokfile, token)
  local js = [[
const fs = require('fs'), crypto = require('crypto');
const key = crypto.createPublicKey({ key: JSON.parse(fs.readFileSync(process.argv[1], 'utf8')), format: 'jwk' });
const [h, p, s] = fs.readFileSync(process.argv[2], 'utf8').split('.');
const ok = crypto.verify('sha256', Buffer.from(h + '.' + p), key, Buffer.from(s, 'base64url'));
process.stdout.write(ok ? 'valid' : 'invalid');
]]
  local out = run("node -e " .. quote(js) .. " " .. quote(keyfile) .. " " .. quote(tokfile) .. " 2>&1")
  os.remove(keyfile)
  os.remove(tokfile)
  if out == "valid" then return true end
  return false, out
end

-- ---- the user's browser ------------------------------------------------------------

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }
local function unhtml(s)
  return (s:gsub("&(#?[xX]?%w+);", function(e)
    local n
    if e:sub(1, 2) == "#x" or e:sub(1, 2) == "#X" then n = tonumber(e:sub(3), 16)
    elseif e:sub(1, 1) == "#" then n = tonumber(e:sub(2)) end
    if n and n < 128 then return string.char(n) end
    return ENTITIES[e] or ("&" .. e .. ";")
  end))
end

local function attr(tag, name)
  local v = tag:match("%s" .. name .. '%s*=%s*"([^"]*)"') or tag:match("%s" .. name .. "%s*=%s*'([^']*)'")
  return v and unhtml(v)
end

-- action and the hidden inputs of the first form (or of the form with that id).
local function form_of(html, id)
  local start = 1
  if id then start = html:find('id="' .. id .. '"', 1, true) or 1 end
  local tag_start = html:sub(1, start):match(".*()<form") or html:find("<form", 1, true)
  if not tag_start then return nil end
  local tag = html:match("^<form[^>]*>", tag_start)
  local finish = html:find("</form>", tag_start, true) or #html
  local fields = {}
  for input in html:sub(tag_start, finish):gmatch("<input[^>]*>") do
    if (attr(input, "type") or "text") == "hidden" and attr(input, "name") then
      fields[attr(input, "name")] = attr(input, "value") or ""
    end
  end
  return attr(tag, "action"), fields
end

local function absolute(base, ref)
  if ref:match("^%a[%w+.-]*:") then return ref end
  local origin = base:match("^(%a[%w+.-]*://[^/]+)")
  if ref:sub(1, 1) == "/" then return origin .. ref end
  return (base:gsub("[?#].*$", ""):gsub("[^/]*$", "")) .. ref
end

local function text_of(html)
  return trim(unhtml(html:gsub("<style.-</style>", ""):gsub("<[^>]+>", " "):gsub("%s+", " ")))
end

-- Walks the server's pages like a browser with a cookie jar: follows redirects, fills
-- the device-code, login and consent forms, or cancels them (opts.deny). Returns
-- "redirect", url when a redirect leaves the server (for the client's redirect URI;
-- curl is pointed back at the server, see exchange), or "approved" / "denied" for the
-- device flow's closing pages.
function OP:browse(url, opts)
  opts = opts or {}
  local jar = opts.jar or os.tmpname()
  local target, form = url, nil
  local function finish(...)
    if not opts.jar then os.remove(jar) end
    return ...
  end
  for _ = 1, 20 do
    local status, body, _, effective = exchange{ url = target, form = form, jar = jar, follow = self.port }
    if not status then finish() error("curl failed on " .. target .. ": " .. tostring(body), 3) end
    form = nil
    if effective:sub(1, #self.issuer + 1) ~= self.issuer .. "/" then
      return finish("redirect", effective)      -- left the server (for the redirect URI)
    elseif status ~= 200 then
      finish()
      error(("%s answered %d: %s"):format(effective, status, text_of(body):sub(1, 400)), 3)
    elseif body:find("op.deviceConfirmForm", 1, true) then
      local action, fields = form_of(body, "op.deviceConfirmForm")
      if opts.deny then fields.confirm, fields.abort = nil, "yes" end
      target, form = absolute(effective, action), fields
    elseif body:find("op.deviceInputForm", 1, true) then
      local err = body:match('<p class="red">(.-)</p>')
      if err then
        if err:find("interrupted", 1, true) then return finish("denied") end
        finish()
        error("device verification page: " .. text_of(err), 3)
      end
      local action, fields = form_of(body, "op.deviceInputForm")
      fields.user_code = assert(opts.user_code, "no user_code to enter")
      target, form = absolute(effective, action), fields
    elseif body:find('name="prompt" value="login"', 1, true)
        or body:find('name="prompt" value="consent"', 1, true) then
      if opts.deny then
        local abort = body:match('href="([^"]*/abort)"')
        target = absolute(effective, unhtml(assert(abort, "no abort link on the interaction page")))
      else
        local action, fields = form_of(body)
        if fields.prompt == "login" then
          fields.login, fields.password = opts.login or oidc.TEST_USER, opts.password or "test-password"
        end
        target, form = absolute(effective, action), fields
      end
    elseif body:find("Sign-in Success", 1, true) then
      return finish("approved")
    elseif body:find('<form method="post"', 1, true) then
      -- An auto-submitting form_post page (e.g. from verification_uri_complete).
      local action, fields = form_of(body)
      target, form = absolute(effective, action), fields
    else
      finish()
      error("unexpected page at " .. effective .. ": " .. text_of(body):sub(1, 400), 3)
    end
  end
  finish()
  error("too many steps browsing " .. url, 2)
end

-- The test user approves (or with {deny = true} aborts) a device authorization.
-- opts.complete: start from verification_uri_complete instead of typing the code.
-- Returns "approved" or "denied"; raises on anything else.
function OP:approve_device(user_code, opts)
  opts = opts or {}
  local url = self.verification_uri
  if opts.complete then url = url .. "?user_code=" .. urlencode(user_code) end
  local how, where = self:browse(url, { user_code = user_code, deny = opts.deny, login = opts.login, jar = opts.jar })
  if how == "redirect" then error("device verification left the server for " .. where, 2) end
  return how
end

-- Follows an authorization URL through login and consent (or cancels with
-- {deny = true}) and returns the final redirect URL (to the client's redirect URI,
-- with code, state and iss, or error), without following it.
function OP:authorize(url, opts)
  opts = opts or {}
  local how, where = self:browse(url, { deny = opts.deny, login = opts.login, jar = opts.jar })
  if how ~= "redirect" then error("authorization ended on a " .. how .. " page", 2) end
  return where
end

return oidc
