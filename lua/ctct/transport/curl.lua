--- ctct.transport.curl: HTTP through ctct.core's libcurl session.
--
-- The transport interface (the ngx transport implements the same):
--   t:request{ method, url, headers = { name = value }, body, timeout }
--     -> { status, headers (lower-case names), body, http_version }
--      | nil, ctct.Error (kind network|timeout|tls|protocol|validation; field
--        `sent` false when the request provably never reached the server)
--   t:request_many({ req, ... }, { concurrency = n }) -> { { res } | { nil, err }, ... }
--   t.now() monotonic seconds, t.time() Unix seconds, t.sleep(seconds)
--   t:close()
local core = require "ctct.core"
local errors = require "ctct.errors"

local M = {}

local Transport = {}
Transport.__index = Transport

Transport.now = core.monotonic
Transport.time = core.time
Transport.sleep = core.sleep

--- new{ connect_timeout, timeout, cafile, insecure, proxy, http2, user_agent,
--       max_response_bytes }
-- TLS is verified unless `insecure = true` is given by name.
function M.new(opts)
  opts = opts or {}
  local session = core.session {
    connect_timeout = opts.connect_timeout,
    timeout = opts.timeout,
    cafile = opts.cafile,
    verify = not opts.insecure,
    proxy = opts.proxy,
    http2 = opts.http2,
    user_agent = opts.user_agent,
    max_response_bytes = opts.max_response_bytes,
  }
  return setmetatable({ session = session, name = "curl" }, Transport)
end

local function wrap_error(e)
  return errors.new {
    kind = e.kind,
    message = e.message,
    sent = e.sent,
    curl_code = e.curl_code,
  }
end

function Transport:request(req)
  local res, e = self.session:request(req)
  if not res then return nil, wrap_error(e) end
  return res
end

function Transport:request_many(reqs, opts)
  local out = {}
  for i, r in ipairs(self.session:request_many(reqs, opts)) do
    if r.error then out[i] = { nil, wrap_error(r.error) } else out[i] = { r } end
  end
  return out
end

function Transport:close()
  self.session:close()
end

return M
