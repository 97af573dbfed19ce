-- luacheck: globals ngx
-- spec/support/hostile/client.lua: GET /run of spec/support/hostile/client.conf.
-- One ctct call (ctct.new inside nginx: the ngx transport) to base .. path,
-- answered as JSON: { elapsed (seconds, monotonic), kind, message, sent,
-- status, bytes (sink downloads), dup (the X-Dup header), body_len }.
-- Query: base, path, timeout, deadline, max (max_response_bytes), sink
-- (download to that file), retry=0 (no retries).
local M = {}

function M.run()
  local ctct = require "ctct"
  local core = require "ctct.core"
  local json = require "ctct.json"
  local hostile = require "spec.support.hostile.cases"
  local args = ngx.req.get_uri_args()
  local client = ctct.new(hostile.client_options(args.base, {
    timeout = tonumber(args.timeout), deadline = tonumber(args.deadline),
    max_response_bytes = tonumber(args.max), retry = args.retry ~= "0" and {} or false,
  }))
  local started = core.monotonic()
  local data, meta = client:request("GET", args.path, { raw = true, sink = args.sink })
  local elapsed = core.monotonic() - started
  local out = { elapsed = elapsed }
  if data == nil then
    out.kind, out.message, out.sent, out.status = meta.kind, meta.message, meta.sent, meta.status
  else
    out.status, out.bytes = meta.status, meta.bytes
    out.dup = meta.headers and meta.headers["x-dup"]
    out.body_len = type(data) == "string" and #data or nil
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(out))
end

return M
