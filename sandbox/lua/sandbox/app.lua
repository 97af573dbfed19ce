-- Entry points called from nginx.conf, and the /v3 dispatcher.
--
-- Adding a route = a row in router.ROUTES naming sandbox/resources/<module>.lua and a
-- function of its `handlers` table. A handler gets a request (req.account, req.token,
-- req.params, req.args, req:json()) and returns status, body (table = JSON, string =
-- raw, nil = none), headers[, content_type].
local http = require "sandbox.http"
local util = require "sandbox.util"
local router = require "sandbox.router"
local auth = require "sandbox.auth"
local config = require "sandbox.config"
local faults = require "sandbox.faults"
local ratelimit = require "sandbox.ratelimit"
local grants = require "sandbox.oauth.grants"
local m = require("sandbox.store").m
local stats = require "sandbox.stats"
local admin = require "sandbox.admin"
local issuer = require "sandbox.issuer"
local oauth = require "sandbox.oauth"
local partner_auth = require "sandbox.partner.auth"
local partner_token = require "sandbox.partner.token"
local partner_counters = require "sandbox.partner.counters"
local partner_sync = require "sandbox.partner.sync"
local shape = require "sandbox.shape"

local ROUTES = router.compile("/v3")

-- Routes of the other Constant Contact hosts the sandbox stands in for, served on its
-- own origin without auth: the access-token issuer's JWKS (identity.constantcontact.com)
-- and the webhook-signing JWKS (developer.constantcontact.com). The authorization
-- server (authz.constantcontact.com) has its own table, oauth.ROUTES; the partner
-- token endpoint (Cognito) is partner_token.PATH.
local HOST_ROUTES = {
  [issuer.JWKS_PATH] = issuer.jwks,
  [issuer.WEBHOOK_JWKS_PATH] = issuer.webhook_jwks,
}

-- How a route's caller proves who it is (route option auth = "<name>", default bearer).
-- Each returns token, account, partner (nil token: 401) or raises its own answer.
local AUTHENTICATORS = {
  bearer = auth.authenticate,
  partner = partner_auth.authenticate,
}

local _M = {}

---------------------------------------------------------------------------------------
-- Start-up and reset.

-- init_by_lua (master, before the workers fork): fresh state with the default token,
-- and the signing keys start made (opts.url, opts.signing_keys).
function _M.init(opts)
  math.randomseed(os.time())
  config.DEFAULTS.json_capture = opts.json_capture or ""   -- survives resets
  admin.reset(opts.default_token)
  issuer.init({ url = opts.url, keys = opts.signing_keys })
end

function _M.init_worker()
  util.seed()
end

---------------------------------------------------------------------------------------
-- /v3

-- The configured latency, then the first matching fault rule. Returns true when the
-- fault produced the response. Every emulated host (the JWKS, OAuth, partner token) calls it.
local function emulate_faults(method, path)
  local cfg = config.get()
  ngx.ctx.config = cfg
  if cfg.latency_ms > 0 then ngx.sleep(cfg.latency_ms / 1000) end
  local rule = faults.take(method, path)
  return rule ~= nil and faults.apply(rule)
end

-- GET (or HEAD) of a HOST_ROUTES document; faults and latency apply as for /v3.
local function serve_host_route(method, path)
  if emulate_faults(method, path) then return end
  if method ~= "GET" and method ~= "HEAD" then
    http.fail(405, "method.not.allowed", method .. " is not allowed on " .. path, { Allow = "GET, HEAD" })
  end
  return http.send(200, HOST_ROUTES[path]())
end

-- The authorization server's endpoints (sandbox/oauth.lua); faults and latency apply
-- as for /v3 (a rule with match "/oauth2/" targets them).
local function serve_oauth(method, path)
  if emulate_faults(method, path) then return end
  return oauth.serve(method, path)
end

-- The partner token endpoint (Cognito's, sandbox/partner/token.lua); faults and
-- latency apply as for /v3 (a rule with match "/partner-auth/" targets it).
local function serve_partner_token(method, path)
  partner_counters.bump("token_requests")
  if emulate_faults(method, path) then return end
  return partner_token.serve(method)
end

local Request = {}
Request.__index = Request

-- The body as a JSON object, checked against the route's body definition first.
function Request:json()
  if self.body == nil then
    local schema = self.schema
    self.body = http.json_body(nil, schema and function(value) shape.check(value, schema) end)
  end
  return self.body
end

-- Runs a route's handler. A JSON body is checked against the route's definition
-- before the handler looks at anything, as the API validates bodies first; an empty
-- body or another media type is left to the handler (415, "body required" ...).
local function run(route, req)
  if route.schema and http.is_json_type(ngx.var.content_type) and not http.read_body():match("^%s*$") then
    req:json()
  end
  return route.handler(req)
end

-- A V3 call made for a partner's client account (account_operations/sync): the /v3
-- route's handler runs as that account on this request, whose query string, body and
-- headers are replaced by the operation's. An error it raises becomes the answer.
local function forward(account, op)
  local path = "/v3" .. op.path
  local route, found = router.find(ROUTES, op.method, path)
  if not route then
    if found then
      return 405, http.error_body("method.not.allowed", op.method .. " is not allowed on " .. op.path),
        { Allow = table.concat(found, ", ") }
    end
    return 404, http.error_body("not.found", "No resource at " .. op.path)
  end
  if route.auth ~= "bearer" then
    return 400, http.error_body("partner.api.validation.error",
      "account_operation_url must name a non-partner V3 operation")
  end
  ngx.req.set_uri_args(op.args)
  local content_type
  for _, h in ipairs(op.headers) do
    local name = h[1]:lower()
    if name == "content-type" then content_type = h[2] end
    if name ~= "authorization" and name ~= "x-api-key" and name ~= "host" and name ~= "content-length" then
      ngx.req.set_header(h[1], h[2])
    end
  end
  ngx.req.set_body_data(op.payload or "")
  ngx.req.set_header("Content-Type", content_type or (op.payload and "application/json") or nil)
  local req = setmetatable({
    method = op.method, path = path, params = found, args = http.query_args(), account = account,
    schema = route.schema,
  }, Request)
  local ok, status, body, headers, ctype = pcall(run, route, req)
  if ok then return status, body, headers, ctype end
  local err = status
  if not http.is_error(err) then error(err, 0) end
  if err.body ~= nil then return err.status, err.body, err.headers, err.content_type end
  return err.status, http.error_body(err.error_key, err.error_message), err.headers
end
partner_sync.dispatch = forward

-- Answers /v3 requests: latency and faults, then 404/405, bearer token (401), rate
-- limits (429), and the handler.
local function serve_api(method, path)
  local route, found = router.find(ROUTES, method, path)
  -- Stats name the route by its template, even when a fault answers for it.
  ngx.ctx.route = method .. " " .. (route and route.template or path)

  if emulate_faults(method, path) then return end

  if not route then
    if found then
      http.fail(405, "method.not.allowed", method .. " is not allowed on " .. path,
        { Allow = table.concat(found, ", ") })
    end
    http.fail(404, "not.found", "No resource at " .. path)
  end

  local token, account, partner = AUTHENTICATORS[route.auth]()
  if not token then
    -- AuthorizationErrorSchema: a single object, not an array; the API's AWS gateway
    -- adds x-amzn-ErrorType and WWW-Authenticate.
    return http.send(401, { error_key = "unauthorized", error_message = "Unauthorized" }, http.UNAUTHORIZED_HEADERS)
  end
  -- The real limits are per API key: a partner's, or (the sandbox's stand-in) the token,
  -- or with rate_limit_scope = "api_key" the OAuth client the token was issued to.
  local cfg = ngx.ctx.config
  local limit_key = partner and ("partner:" .. partner.api_key) or token
  if not partner and cfg.rate_limit_scope == "api_key" then
    limit_key = "client:" .. (grants.token_client(token) or token)
  end
  ratelimit.check(limit_key, cfg)
  -- Distinct access tokens put to use (a fleet refreshing twice for one expiry issues
  -- a token nobody uses: stats.access_tokens_used stays below the refresh count).
  if not partner and m.add("used_token:" .. token, true, 86400) then stats.bump("access_tokens_used") end

  local req = setmetatable({
    method = method, path = path, params = found, args = http.query_args(),
    token = token, account = account, partner = partner, schema = route.schema,
  }, Request)
  local status, body, headers, content_type = run(route, req)
  return http.send(status, body, headers, content_type)
end

local function on_error(err)
  if http.is_error(err) then return err end
  return debug.traceback(tostring(err), 2)
end

local function answer_error(err)
  if ngx.headers_sent then
    ngx.log(ngx.ERR, "error after the response started: ", tostring(err))
    return
  end
  if http.is_error(err) then
    if err.body ~= nil then return http.send(err.status, err.body, err.headers, err.content_type) end
    return http.send_error(err.status, err.error_key, err.error_message, err.headers)
  end
  ngx.log(ngx.ERR, "sandbox: ", err)
  return http.send_error(500, "server.error", "Internal error in the sandbox (see its error log)")
end

-- content_by_lua for every location.
function _M.serve()
  ngx.update_time()
  local method, path = ngx.req.get_method(), ngx.var.uri
  local ok, err = xpcall(function()
    if path == "/__sandbox" or path:sub(1, 11) == "/__sandbox/" then
      return admin.serve(method, path)
    elseif path == "/v3" or path:sub(1, 4) == "/v3/" then
      ngx.ctx.api = true   -- counted in stats, whatever answers it
      -- Read now, so the request log keeps the body whatever answers the request.
      if http.is_json_type(ngx.var.content_type) then http.read_body() end
      if path:sub(1, 12) == "/v3/partner/" then partner_counters.bump("api_requests") end
      return serve_api(method, path)
    elseif path == partner_token.PATH then
      return serve_partner_token(method, path)
    elseif HOST_ROUTES[path] then
      return serve_host_route(method, path)
    elseif oauth.ROUTES[path] then
      return serve_oauth(method, path)
    end
    http.fail(404, "not.found", "No resource at " .. path)
  end, on_error)
  if not ok then answer_error(err) end
end

-- log_by_lua: /v3 statistics (the status is final here).
function _M.log()
  if not ngx.ctx.api then return end
  local ok, err = pcall(stats.record, ngx.ctx.route)
  if not ok then ngx.log(ngx.ERR, "sandbox stats: ", err) end
end

return _M
