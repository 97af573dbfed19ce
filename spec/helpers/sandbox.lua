-- Test helper: start, drive and stop a sandbox (sandbox/start, sandbox/stop).
--
--   local sandbox = require "spec.helpers.sandbox"
--   local sb = sandbox.start{ tls = false, workers = 1, token = nil }
--   sb:admin("GET", "/__sandbox/stats")  --> status, decoded JSON (or raw body)
--   sb:jwt{ claims = { exp = sandbox.null } }  --> signed access token (JWT) string
--   sb:webhook_signature(body, ts)       --> X-CTCT-WEBHOOK-SIG value, protected header
--   sb.oauth.token_url, sb:authorize{ ... }, sb:oauth_token({ grant_type = ... }, client)  (OAuth)
--   sb.partner, sb:partner_api("GET", "/partner/accounts"), sb:webhook_sink(name)  (partners)
--   sb:stop()
--
-- With CTCT_JSON_CAPTURE_DIR set, every sandbox started here captures the JSON bodies
-- it sends and decodes into a file of its own in that directory (sb.json_capture;
-- sandbox/start --json-capture), for spec/json_roundtrip_spec.lua.
--
-- With CTCT_PRISM_PROXY=1 (or opts.proxy = true), every sandbox started here also gets
-- a validating proxy in front (spec/helpers/prism.lua, `prism proxy` on the corrected
-- spec with its paths under /v3): sb.base_url and sb:api / sb:partner_api / sb:curl
-- with a /v3 path go through it, while sb.url (the sandbox itself: admin endpoints,
-- OAuth, partner token, webhook sinks) stays direct. sb:stop() writes what the proxy
-- forwarded, every violation Prism logged and every request the sandbox got directly
-- to a file of its own in CTCT_PRISM_REPORT_DIR (prism.* lines, see write_report);
-- tools/prism_report.lua totals them. Prism runs without --errors, so the sandbox's
-- answers reach the specs unchanged.
--
-- Talks to the sandbox with the curl CLI, never with the ctct library, so the sandbox
-- is checked independently of the code under test. Runs on Lua 5.4 and LuaJIT/5.1.
local cjson = require "cjson"

local sandbox = {}

-- JSON null, for sb:jwt claims and header members to remove.
sandbox.null = cjson.null

-- Debian's lua-cjson cannot tell [] from {}: the sandbox can, so the helper keeps
-- empty arrays apart itself. sandbox.array(t) marks a table as an array; decode marks
-- every empty array it reads, and encode writes marked empty tables as []. Non-empty
-- arrays are 1..n tables, which cjson reads and writes as arrays anyway.
local ARRAY_MT = { __name = "spec.sandbox.array" }
local EMPTY = "\1spec-empty-array\1"              -- the placeholder string, decoded
local EMPTY_JSON = '"\\u0001spec-empty-array\\u0001"'
local EMPTY_ENCODED = '"\\u0001spec%-empty%-array\\u0001"'

function sandbox.array(t) return setmetatable(t or {}, ARRAY_MT) end
function sandbox.is_array(t) return getmetatable(t) == ARRAY_MT end

-- Every "[]" outside strings of JSON text as the placeholder.
local function protect(text)
  local out, pos = {}, 1
  while pos <= #text do
    local q = text:find('"', pos, true) or #text + 1
    out[#out + 1] = (text:sub(pos, q - 1):gsub("%[%s*%]", EMPTY_JSON))
    if q > #text then break end
    local e = q + 1
    while true do   -- the closing quote, past escapes
      local c = text:find('["\\]', e)
      if not c then e = #text break end
      if text:sub(c, c) == '"' then e = c break end
      e = c + 2
    end
    out[#out + 1] = text:sub(q, e)
    pos = e + 1
  end
  return table.concat(out)
end

local function restore(v)
  if v == EMPTY then return sandbox.array() end
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = restore(x) end
  end
  return v
end

local function placeholders(v)
  if type(v) ~= "table" then return v end
  if getmetatable(v) == ARRAY_MT and next(v) == nil then return EMPTY end
  local out = {}
  for k, x in pairs(v) do out[k] = placeholders(x) end
  return out
end

-- JSON text of v (cjson, with marked empty tables as []).
function sandbox.encode(v)
  return (cjson.encode(placeholders(v)):gsub(EMPTY_ENCODED, "[]"))
end

local Sandbox = {}
Sandbox.__index = Sandbox

-- Single-quoted for /bin/sh.
local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
sandbox.quote = quote

-- Runs a shell command; returns its stdout and exit code. The code is echoed by the
-- shell because io.popen():close() reports it differently on 5.1 and 5.4. Under
-- `make test-asan` the sanitizer runtime is preloaded into the Lua process only:
-- the programs spawned here (nginx, curl) must not inherit it.
local function run(cmd)
  local p = assert(io.popen("unset LD_PRELOAD; { " .. cmd .. "\n} ; echo \"__exit=$?\""))
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.-)__exit=(%d+)%s*$")
  return body or out, tonumber(code) or -1
end
sandbox.run = run

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
sandbox.read_file = read_file

function sandbox.write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function tmpname()
  local name = os.tmpname()   -- creates the file on POSIX
  return name
end

local root_cache

-- Absolute path of the repository (from this file's location, resolved once).
function sandbox.repo_root()
  if root_cache then return root_cache end
  local source = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = source:match("^(.*)/spec/helpers/[^/]+$") or "."
  if dir == "" then dir = "/" end
  local out, code = run("cd " .. quote(dir) .. " && pwd -P")
  assert(code == 0, "cannot resolve the repository root from " .. source)
  root_cache = out:gsub("%s+$", "")
  return root_cache
end

-- The corrected spec with its paths under /v3, for the proxy: written once per
-- process (into CTCT_PRISM_REPORT_DIR when set, else into the first sandbox's
-- directory... which goes with it, so then once per sandbox).
local v3_spec_cache

local function v3_spec(sb, report_dir)
  if v3_spec_cache and read_file(v3_spec_cache) then return v3_spec_cache end
  local patch = require "spec.support.contract.patch"
  local path
  if report_dir then
    local name, made = run("mktemp -p " .. quote(report_dir) .. " spec-v3.XXXXXXXX")
    assert(made == 0, "cannot make a spec file in " .. report_dir .. ": " .. name)
    path = name:gsub("%s+$", "")
    os.remove(path)
    path = path .. ".json"
    v3_spec_cache = path
  else
    path = sb.dir .. "/spec-v3.json"
  end
  patch.write(nil, path, { base_path = true })
  return path
end

local function proxy_wanted(opts)
  if opts.proxy ~= nil then return opts.proxy end
  return os.getenv("CTCT_PRISM_PROXY") == "1"
end

local function report_dir()
  local dir = os.getenv("CTCT_PRISM_REPORT_DIR")
  if not dir or dir == "" then return nil end
  local out, code = run("mkdir -p " .. quote(dir))
  assert(code == 0, "cannot make " .. dir .. ": " .. out)
  return dir
end

-- Puts a Prism proxy in front of sb (see the header). A TLS sandbox is not proxied:
-- Prism would have to trust the sandbox's own CA; its requests are reported as such.
local function start_proxy(sb, opts)
  local dir = report_dir()
  sb.prism_report = dir and (dir .. "/sandbox-" .. sb.pid .. "-" .. sb.dir:match("([^.]+)$") .. ".prism") or nil
  if opts.tls then
    sb.not_proxied_reason = "TLS sandbox (Prism would have to trust the sandbox's CA)"
    return
  end
  local prism = require "spec.helpers.prism"
  local ok, why = prism.available()
  if not ok then error("CTCT_PRISM_PROXY=1: " .. why, 3) end
  assert(sb.upstream_url, "sandbox/start --access-log printed no SANDBOX_UPSTREAM_URL")
  local proxy = prism.proxy { spec = v3_spec(sb, dir), upstream = sb.upstream_url, errors = false }
  sb.proxy = proxy
  sb.api_url = proxy.url
  sb.base_url = proxy.url .. "/v3"
end

-- Starts a sandbox; raises with start's error output on failure.
-- opts: tls (bool), workers (n), token (string), port (n), json_capture (a file path:
-- sandbox/start --json-capture; default from CTCT_JSON_CAPTURE_DIR, false: none),
-- proxy (true/false: a Prism proxy in front, see the header; default from
-- CTCT_PRISM_PROXY).
function sandbox.start(opts)
  opts = opts or {}
  local root = sandbox.repo_root()
  local args = {}
  local proxied = proxy_wanted(opts)
  if proxied then args[#args + 1] = "--access-log" end
  if opts.tls then args[#args + 1] = "--tls" end
  if opts.port then args[#args + 1] = "--port " .. quote(opts.port) end
  if opts.workers then args[#args + 1] = "--workers " .. quote(opts.workers) end
  if opts.token then args[#args + 1] = "--token " .. quote(opts.token) end
  local capture = opts.json_capture
  local capture_dir = os.getenv("CTCT_JSON_CAPTURE_DIR")
  if capture == nil and capture_dir and capture_dir ~= "" then
    local name, made = run("mkdir -p " .. quote(capture_dir) .. " && mktemp -p " .. quote(capture_dir)
      .. " sandbox.XXXXXXXX")
    assert(made == 0, "cannot make a capture file in " .. capture_dir .. ": " .. name)
    capture = name:gsub("%s+$", "")
  end
  if capture then args[#args + 1] = "--json-capture " .. quote(capture) end
  local errfile = tmpname()
  local out, code = run(quote(root .. "/sandbox/start") .. " " .. table.concat(args, " ")
    .. " 2>" .. quote(errfile))
  local err = read_file(errfile) or ""
  os.remove(errfile)
  local vars = {}
  for k, v in out:gmatch("(SANDBOX_[%u_]+)=([^\n]*)") do vars[k] = v end
  if code ~= 0 or not vars.SANDBOX_URL then
    error("sandbox/start failed (exit " .. code .. "):\n" .. out .. err, 2)
  end
  local sb = setmetatable({
    url = vars.SANDBOX_URL,
    dir = vars.SANDBOX_DIR,
    pid = tonumber(vars.SANDBOX_PID),
    token = vars.SANDBOX_TOKEN,
    cafile = vars.SANDBOX_CAFILE,
    upstream_url = vars.SANDBOX_UPSTREAM_URL,   -- with --access-log: the proxy's upstream
    json_capture = capture or nil,
    root = root,
  }, Sandbox)
  sb.base_url = sb.url .. "/v3"
  -- The sandbox's stand-ins for the real issuer and JWKS hosts (sandbox/README.md).
  sb.issuer = sb.url .. "/oauth2/aus1lm3ry9mF7x2Ja0h8"
  sb.jwks_url = sb.issuer .. "/v1/keys"
  sb.webhook_jwks_url = sb.url .. "/.well-known/jwks.json"
  -- The authorization server (authz.constantcontact.com) and its default clients.
  local oauth = sb.url .. "/oauth2/default/v1"
  sb.oauth = {
    authorize_url = oauth .. "/authorize",
    token_url = oauth .. "/token",
    device_url = oauth .. "/device/authorize",
    revoke_url = oauth .. "/revoke",
    client_id = "sandbox-client",         -- confidential: HTTP Basic with client_secret
    client_secret = "sandbox-secret",
    public_client_id = "sandbox-public",  -- public: client_id in the body, PKCE
    redirect_uri = "https://app.example/callback",
  }
  -- The partner token endpoint (Cognito) and the default technology partner.
  sb.partner = {
    token_url = sb.url .. "/partner-auth/oauth2/token",
    client_id = "sandbox-partner",
    client_secret = "sandbox-partner-secret",
    api_key = "sandbox-partner-api-key",
  }
  if proxied then
    local ok, why = pcall(start_proxy, sb, opts)
    if not ok then
      sb:stop()
      error(why, 2)
    end
  end
  return sb
end

-- Where a request the sandbox got directly (not through the proxy) belongs; nil for
-- the admin API (never proxied, not counted).
local function direct_kind(method, uri)
  if uri:match("^/__sandbox/webhook%-sink/") and method == "POST" then
    return "webhook deliveries to the sandbox's sinks (not in the spec)"
  elseif uri:match("^/__sandbox/") then
    return nil
  elseif uri:match("^/oauth2/") or uri:match("^/%.well%-known/") or uri:match("^/activate") then
    return "OAuth/OIDC and device endpoints (not in the spec)"
  elseif uri:match("^/partner%-auth/") then
    return "partner token endpoint (not in the spec)"
  elseif uri:match("^/v3[/?]") or uri == "/v3" then
    return "/v3 requests sent to the sandbox URL itself"
  end
  return "other sandbox routes (not in the spec)"
end

-- operationId of a /v3 request (path and query), from the operation table; the
-- literal route wins over one with a {parameter} where both match.
local op_routes
local function operation_of(method, target)
  if not op_routes then
    local ops = require("ctct.api.operations")
    op_routes = {}
    for id, op in pairs(ops.operations) do
      local n = select(2, op.path:gsub("{", "{"))
      local pattern = "^" .. ops.base_path .. op.path:gsub("[%-%.]", "%%%0"):gsub("{[^}]+}", "[^/]+") .. "$"
      op_routes[#op_routes + 1] = { id = id, method = op.method, pattern = pattern, params = n }
    end
    table.sort(op_routes, function(a, b) return a.params < b.params or (a.params == b.params and a.id < b.id) end)
  end
  local path = target:match("^[^?]*")
  for _, r in ipairs(op_routes) do
    if r.method == method and path:match(r.pattern) then return r.id end
  end
  return "-"
end

local function field(s) return (tostring(s):gsub("[\t\r\n]", " ")) end

-- The report file: one tab-separated record a line,
--   proxied    METHOD  TARGET  STATUS  OPERATION
--   violation  SIDE    OPERATION  METHOD  TARGET  STATUS  SEVERITY  WHERE  MESSAGE
--   direct     KIND    METHOD  URI  STATUS
function Sandbox:write_report()
  if not self.prism_report then return end
  local lines = {}
  local upstream_port = self.upstream_url and self.upstream_url:match(":(%d+)$")
  if self.proxy then
    local prism = require "spec.helpers.prism"
    for i, x in ipairs(prism.exchanges(self.proxy:log())) do
      -- The first GET / is prism.proxy's own readiness probe, not a spec's request.
      local probe = i == 1 and x.method == "GET" and x.target == "/"
      local op = operation_of(x.method, x.target)
      if not probe then
        lines[#lines + 1] = table.concat({ "proxied", x.method, field(x.target), tostring(x.status or "-"), op }, "\t")
      end
      for _, v in ipairs(probe and {} or x.violations) do
        lines[#lines + 1] = table.concat({ "violation", v.side, op, x.method, field(x.target),
          tostring(x.status or "-"), v.severity, v.where ~= "" and v.where or "-", field(v.message) }, "\t")
      end
    end
  end
  for line in (read_file(self.dir .. "/logs/access.log") or ""):gmatch("[^\n]+") do
    local port, method, uri, status = line:match("^(%S+) (%S+) (%S+) (%d+)$")
    if port and port ~= upstream_port then
      local kind = direct_kind(method, uri)
      for i, r in ipairs(self.direct_reasons or {}) do
        if r.method == method and r.uri == uri then
          kind = r.why
          table.remove(self.direct_reasons, i)
          break
        end
      end
      if kind and self.not_proxied_reason and not uri:match("^/__sandbox/") then kind = self.not_proxied_reason end
      if kind then lines[#lines + 1] = table.concat({ "direct", kind, method, field(uri), status }, "\t") end
    end
  end
  local f = assert(io.open(self.prism_report, "wb"))
  f:write(table.concat(lines, "\n"), #lines > 0 and "\n" or "")
  f:close()
end

-- Stops the sandbox (idempotent); with a proxy, writes the report and stops it first.
function Sandbox:stop()
  if self.stopped then return end
  if self.prism_report and not self.reported then
    self.reported = true
    self:write_report()
  end
  if self.proxy then self.proxy:stop() end
  local _, code = run(quote(self.root .. "/sandbox/stop") .. " " .. quote(self.dir) .. " >/dev/null 2>&1")
  assert(code == 0, "sandbox/stop failed for " .. self.dir)
  self.stopped = true
end

-- True while the master process still exists.
function Sandbox:alive()
  local _, code = run("kill -0 " .. tonumber(self.pid) .. " 2>/dev/null")
  return code == 0
end

local function decode(body)
  if not body:match("^%s*[%[{]") then return body end
  local ok, value = pcall(cjson.decode, protect(body))
  if ok then return restore(value) end
  return body
end
sandbox.decode = decode

-- One request with curl. opts: method, path (or url), body (table -> JSON, string ->
-- raw), headers (list of "Name: value"), token (adds the bearer), content_type (false:
-- none), extra (list of raw curl arguments), direct (true: past the proxy, if any).
-- Redirects are not followed. Returns status, decoded body or raw body,
-- response headers (lowercased names), curl's exit code and the raw body text.
-- Why a /v3 exchange cannot go through the proxy, or nil: Prism answers a body that
-- is not JSON itself (400 {"error":{"code":"invalid_json"}}) instead of forwarding it.
local function unproxiable(opts)
  local ct = opts.content_type
  if type(opts.body) == "string" and (ct == nil or tostring(ct):match("json")) then
    if not pcall(cjson.decode, opts.body) then return "request bodies that are not JSON (Prism answers 400 itself)" end
  end
  return nil
end

function Sandbox:curl(opts)
  local base = self.url
  if self.api_url and not opts.direct and opts.path and (opts.path:match("^/v3[/?]") or opts.path == "/v3") then
    local why = unproxiable(opts)
    if why then
      self.direct_reasons = self.direct_reasons or {}
      table.insert(self.direct_reasons, { why = why, method = opts.method or "GET", uri = opts.path })
    else
      base = self.api_url
    end
  end
  local url = opts.url or (base .. opts.path)
  local parts = { "curl -sS --max-time " .. (opts.timeout or 20), "-X " .. quote(opts.method or "GET") }
  if self.cafile then parts[#parts + 1] = "--cacert " .. quote(self.cafile) end
  local bodyfile, headfile = nil, tmpname()
  parts[#parts + 1] = "-D " .. quote(headfile)
  if opts.token then parts[#parts + 1] = "-H " .. quote("Authorization: Bearer " .. opts.token) end
  for _, h in ipairs(opts.headers or {}) do parts[#parts + 1] = "-H " .. quote(h) end
  if opts.body ~= nil then
    local body = opts.body
    if type(body) == "table" then body = sandbox.encode(body) end
    bodyfile = tmpname()
    local f = assert(io.open(bodyfile, "wb"))
    f:write(body)
    f:close()
    -- content_type = false sends the body with no Content-Type at all.
    parts[#parts + 1] = "-H " .. quote(opts.content_type == false and "Content-Type:"
      or "Content-Type: " .. (opts.content_type or "application/json"))
    parts[#parts + 1] = "--data-binary @" .. quote(bodyfile)
  end
  for _, a in ipairs(opts.extra or {}) do parts[#parts + 1] = a end
  parts[#parts + 1] = "-w " .. quote("\n__status=%{http_code}")
  parts[#parts + 1] = quote(url)
  local out, code = run(table.concat(parts, " ") .. " 2>&1")
  if bodyfile then os.remove(bodyfile) end
  local head = read_file(headfile) or ""
  os.remove(headfile)
  local body, status = out:match("^(.*)\n__status=(%d+)%s*$")
  if not body or tonumber(status) == 0 then
    return nil, out, {}, code   -- curl failed (connection refused, dropped, ...)
  end
  local headers = {}
  for name, value in head:gmatch("([%w%-]+):%s*([^\r\n]*)") do headers[name:lower()] = value end
  return tonumber(status), decode(body), headers, code, body
end

-- Admin call: status, decoded JSON or raw body.
function Sandbox:admin(method, path, body)
  local status, decoded = self:curl{ method = method, path = path, body = body }
  return status, decoded
end

-- /v3 call with the default token (opts.token overrides, false sends none).
function Sandbox:api(method, path, body, opts)
  opts = opts or {}
  local token = opts.token
  if token == nil then token = self.token end
  return self:curl{ method = method, path = "/v3" .. path, body = body, token = token or nil,
                    headers = opts.headers, content_type = opts.content_type, extra = opts.extra }
end

-- expect(want, what, status, body): body when status is want, else raises.
local function expect(want, what, status, body)
  if status ~= want then
    error(what .. " answered " .. tostring(status) .. ": " .. (type(body) == "string" and body
      or cjson.encode(body)), 3)
  end
  return body
end

function Sandbox:reset() return expect(200, "reset", self:admin("POST", "/__sandbox/reset")) end
function Sandbox:config(changes)
  return expect(200, "config", self:admin("POST", "/__sandbox/config", changes))
end
function Sandbox:faults(rules)
  return expect(200, "faults", self:admin("POST", "/__sandbox/faults", { faults = rules }))
end
function Sandbox:clear_faults()
  return expect(204, "clear_faults", self:admin("DELETE", "/__sandbox/faults"))
end
function Sandbox:stats() return expect(200, "stats", self:admin("GET", "/__sandbox/stats")) end
function Sandbox:requests() return expect(200, "requests", self:admin("GET", "/__sandbox/requests")) end
function Sandbox:add_token(token, account)
  return expect(201, "add_token",
    self:admin("POST", "/__sandbox/tokens", { access_token = token, account = account }))
end

-- A JWT signed by the sandbox (POST /__sandbox/jwt). opts (all optional): claims and
-- header (tables merged over the defaults; sandbox.null removes a member), key ("rsa",
-- "ec", "webhook" or "hs256"), secret (for hs256), expires_in (seconds), payload (raw
-- payload string instead of claims).
function Sandbox:jwt(opts)
  local o = opts or {}
  local body = { claims = o.claims, header = o.header, key = o.key, secret = o.secret,
                 expires_in = o.expires_in, payload = o.payload }
  return expect(200, "jwt", self:admin("POST", "/__sandbox/jwt", body)).token
end

-- The X-CTCT-WEBHOOK-SIG value the sandbox computes for body (the exact raw request
-- body) at Unix time ts (default now); header changes the protected header.
-- Returns the signature and the protected header used.
function Sandbox:webhook_signature(body, ts, header)
  local got = expect(200, "webhook_signature",
    self:admin("POST", "/__sandbox/webhook-signature", { body = body, ts = ts, header = header }))
  return got.signature, got.header
end

---------------------------------------------------------------------------------------
-- OAuth (the authorization server at sb.oauth.*_url).

-- Form-urlencoding of one value (RFC 3986 unreserved characters stay as they are).
function sandbox.urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function sandbox.urldecode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- { name = value } -> "name=value&..." (names sorted, so the body is reproducible).
function sandbox.form(params)
  local names = {}
  for name in pairs(params) do names[#names + 1] = name end
  table.sort(names)
  local parts = {}
  for i, name in ipairs(names) do
    parts[i] = sandbox.urlencode(name) .. "=" .. sandbox.urlencode(params[name])
  end
  return table.concat(parts, "&")
end

-- The query parameters of a URL (or a query string) as a table.
function sandbox.parse_query(url)
  local out = {}
  local query = tostring(url):match("%?(.*)$") or tostring(url)
  for pair in query:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[sandbox.urldecode(k)] = sandbox.urldecode(v)
  end
  return out
end

-- curl arguments for HTTP Basic client authentication: id and secret are form-
-- urlencoded first (RFC 6749 2.3.1) unless raw is true; curl base64-encodes "id:secret".
local function basic_args(id, secret, raw)
  if not raw then id, secret = sandbox.urlencode(id), sandbox.urlencode(secret) end
  return { "-u " .. quote(id .. ":" .. secret) }
end
sandbox.basic_args = basic_args

-- POST params (a table, form-encoded; or a raw string) to url. opts: basic = { id,
-- secret, raw = bool } for HTTP Basic, content_type (default the form type; false:
-- none), headers. Returns status, decoded body, headers.
function Sandbox:form_post(url, params, opts)
  opts = opts or {}
  local body = type(params) == "table" and sandbox.form(params) or params
  local content_type = opts.content_type
  if content_type == nil then content_type = "application/x-www-form-urlencoded" end
  local extra = opts.basic and basic_args(opts.basic[1], opts.basic[2], opts.basic.raw) or nil
  return self:curl{ method = "POST", url = url, body = body, content_type = content_type,
                    headers = opts.headers, extra = extra }
end

-- POST to the token endpoint. client: "confidential" (default: HTTP Basic with
-- sb.oauth's client), "public" (client_id sandbox-public in the body), { id, secret }
-- for Basic with other credentials, or false for no client authentication.
function Sandbox:oauth_token(params, client, opts)
  local o = self.oauth
  local p, basic = {}, nil
  for k, v in pairs(params) do p[k] = v end
  if client == nil or client == "confidential" then
    basic = { o.client_id, o.client_secret }
  elseif client == "public" then
    p.client_id = p.client_id or o.public_client_id
  elseif client then
    basic = client
  end
  opts = opts or {}
  return self:form_post(opts.url or o.token_url, p, { basic = basic, headers = opts.headers })
end

-- GET the authorize endpoint with params (defaults: client sandbox-client,
-- redirect_uri https://app.example/callback, response_type code, scope
-- "account_read contact_data offline_access", state "st4te"; false leaves one out).
-- Returns status, the Location's query parameters (or nil), headers, body.
function Sandbox:authorize(params, opts)
  local p = {
    client_id = self.oauth.client_id, redirect_uri = self.oauth.redirect_uri, response_type = "code",
    scope = "account_read contact_data offline_access", state = "st4te",
  }
  for k, v in pairs(params or {}) do
    if v == false then p[k] = nil else p[k] = v end
  end
  local status, body, headers = self:curl{ url = self.oauth.authorize_url .. "?" .. sandbox.form(p),
                                           headers = opts and opts.headers }
  local query = headers and headers.location and sandbox.parse_query(headers.location) or nil
  return status, query, headers, body
end

-- GET/POST /__sandbox/oauth/config: the current config, after changes (if any).
function Sandbox:oauth_config(changes)
  if changes == nil then return expect(200, "oauth_config", self:admin("GET", "/__sandbox/oauth/config")) end
  return expect(200, "oauth_config", self:admin("POST", "/__sandbox/oauth/config", changes))
end

-- Approves or denies (action "approve" | "deny", default approve) a device user code,
-- for account (optional). Raises unless the sandbox answers 200.
function Sandbox:approve_device(user_code, action, account)
  return expect(200, "approve_device", self:admin("POST", "/__sandbox/oauth/device",
    { user_code = user_code, action = action or "approve", account = account }))
end

function Sandbox:oauth_stats() return self:stats().oauth end

-- Registers a client: { client_id, client_secret (nil: public), redirect_uris }.
function Sandbox:add_client(client)
  return expect(201, "add_client", self:admin("POST", "/__sandbox/oauth/clients", client))
end

---------------------------------------------------------------------------------------
-- Technology partners (sb.partner: token_url, client_id, client_secret, api_key).

-- A fresh partner access token (client credentials at sb.partner.token_url). partner:
-- { client_id, client_secret } other than the default. Raises unless it answers 200.
function Sandbox:partner_token(partner)
  local p = partner or self.partner
  local got = expect(200, "partner_token", self:form_post(self.partner.token_url,
    { grant_type = "client_credentials", scope = "v3api/general.partner" },
    { basic = { p.client_id, p.client_secret } }))
  return got.access_token, got
end

-- A /v3 partner call (path with or without the /v3 prefix) with a fresh partner token
-- and the partner's x-api-key. headers: extra "Name: value" strings; opts.partner:
-- another { client_id, client_secret, api_key }; opts.token: this token instead.
-- Returns status, decoded body, headers.
function Sandbox:partner_api(method, path, body, headers, opts)
  opts = opts or {}
  local p = opts.partner or self.partner
  local token = opts.token or self:partner_token(p)
  local h = { "x-api-key: " .. p.api_key }
  for _, x in ipairs(headers or {}) do h[#h + 1] = x end
  if path:sub(1, 4) ~= "/v3/" then path = "/v3" .. path end
  return self:curl{ method = method, path = path, body = body, token = token, headers = h,
                    content_type = opts.content_type }
end

-- {"token_requests": N, "api_requests": N} since the last reset.
function Sandbox:partner_stats()
  return expect(200, "partner_stats", self:admin("GET", "/__sandbox/partner/stats"))
end

-- Every partner token issued so far answers 401 from now on.
function Sandbox:partner_revoke()
  return expect(200, "partner_revoke", self:admin("POST", "/__sandbox/partner/revoke"))
end

-- Another technology partner: { client_id, client_secret, api_key }.
function Sandbox:add_partner(partner)
  return expect(201, "add_partner", self:admin("POST", "/__sandbox/partner/clients", partner))
end

-- The URL of the webhook sink `name` (POST there: kept), and what it received: a list
-- of { body = raw body, headers = { lower-case name = value } }, oldest first.
function Sandbox:webhook_sink_url(name)
  return self.url .. "/__sandbox/webhook-sink/" .. name
end

function Sandbox:webhook_sink(name)
  return expect(200, "webhook_sink", self:admin("GET", "/__sandbox/webhook-sink/" .. name)).requests
end

return sandbox
