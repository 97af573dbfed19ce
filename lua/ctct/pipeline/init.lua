--- ctct.pipeline: the one path every request takes, as small stages, each its own
-- module and testable alone:
--
--   build -> [ token -> limit -> deadline -> send -> decode ] -> retry (-> again)
--
-- `state` is the client (ctct.client): base_url, transport, token getter and source,
-- limiter, retry policy, clocks, decode options. Nothing here knows the resource
-- objects or the operations above it; client:call hands the operation down with
-- the request (req.operation) for transports that need it (ctct.partner.sync).
local build = require "ctct.pipeline.build"
local deadline = require "ctct.pipeline.deadline"
local decode = require "ctct.pipeline.decode"
local limit = require "ctct.pipeline.limit"
local retry = require "ctct.pipeline.retry"
local send = require "ctct.pipeline.send"
local token = require "ctct.pipeline.token"

local M = {}

local find = string.find

-- The attempts of one request (the token, then limit -> deadline -> send -> decode,
-- retried as the policy says). info, when given, gets attempts and waited.
local function run(state, req, opts, method, log_path, info)
  local used, err = token.authorize(state, req, method, log_path)
  if not used then return nil, err end
  local reauthorized = false
  local at = deadline.start(state)
  local per_attempt = opts.timeout or state.timeout
  local attempt = 0
  while true do
    attempt = attempt + 1
    if info then info.attempts = info.attempts + 1 end
    local waited, lerr = limit.wait(state, at, method, log_path)
    if not waited then return nil, lerr end
    if info then info.waited = info.waited + waited end
    local timeout, terr = deadline.attempt_timeout(state, at, per_attempt, method, log_path)
    if not timeout then return nil, terr end
    req.timeout = timeout

    local res
    res, err = send.send(state, req, method, log_path)
    if res then
      local data, meta_or_err = decode.finish(state, res, method, log_path, opts.raw)
      if data ~= nil then return data, meta_or_err end
      err = meta_or_err
    end

    -- A 401 may mean the token was revoked or aged out early: ask for a new one, once.
    local fresh, aerr
    if err.status == 401 and not reauthorized then
      reauthorized = true
      fresh, aerr = token.reauthorize(state, req, used, method, log_path)
      if aerr then return nil, aerr end
    end
    if fresh then
      used = fresh
      attempt = attempt - 1 -- the retry after a refresh is not a failed attempt
    else
      limit.observe(state, err)
      local delay = retry.delay(state, err, method, log_path, attempt, at)
      if not delay then return nil, err end
      state.sleep(delay)
    end
  end
end

-- The on_request hook gets what one call cost; a hook that raises is logged, never
-- passed on (watching must not break the calls it watches).
local function report(state, hook, info, started, data, res)
  info.duration = state.clock() - started
  info.status = type(res) == "table" and res.status or nil
  if data == nil and type(res) == "table" then info.error, info.error_key = res.kind, res.error_key end
  local ok, why = pcall(hook, info)
  if not ok then state:log("warn", "on_request hook failed: " .. tostring(why)) end
end

--- Send one request; data, response or nil, ctct.Error (see Client:request).
---@param state table the client
---@param method string
---@param path string
---@param opts? ctct.RequestOptions
---@param operation? table { id, template, path_params, query } from client:call
---@return table|string|true|nil data
---@return ctct.Response|ctct.Error response_or_err
function M.request(state, method, path, opts, operation)
  local req
  req, opts = build.build(state, method, path, opts, operation)
  -- never log the query (it may hold emails)
  local log_path = find(path, "?", 1, true) and path:match("^[^?]*") or path
  state.requests = (state.requests or 0) + 1
  local hook = state.on_request
  if not hook then return run(state, req, opts, method, log_path, nil) end
  local info = { method = method, path = log_path, operation = operation and operation.id, attempts = 0,
                 waited = 0 }
  local started = state.clock()
  local data, res = run(state, req, opts, method, log_path, info)
  report(state, hook, info, started, data, res)
  return data, res
end

return M
