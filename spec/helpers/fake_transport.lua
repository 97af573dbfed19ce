-- A scripted transport for pipeline specs: each request takes the next answer
-- from the script and is recorded; sleep() advances a fake clock, so backoff
-- and rate limiting can be asserted exactly, without waiting.
local errors = require "ctct.errors"

local M = {}

-- script entries: { status = 200, headers = {...}, body = "..." }
--               | { error = { kind = "network", sent = false, message = "..." } }
--               | function(req) -> one of the above
function M.new(script)
  local t = { script = script or {}, requests = {}, sleeps = {}, clock_now = 0, epoch = 1700000000 }
  t.now = function() return t.clock_now end
  t.time = function() return t.epoch + t.clock_now end
  t.sleep = function(s)
    t.sleeps[#t.sleeps + 1] = s
    t.clock_now = t.clock_now + s
  end
  function t.request(_, req)
    local copy = {}
    for k, v in pairs(req) do copy[k] = v end
    copy.headers = {}
    for k, v in pairs(req.headers or {}) do copy.headers[k] = v end
    t.requests[#t.requests + 1] = copy
    local answer = table.remove(t.script, 1)
    if type(answer) == "function" then answer = answer(copy) end
    assert(answer, "fake transport: no scripted answer for request " .. #t.requests)
    if answer.error then
      local e = {}
      for k, v in pairs(answer.error) do e[k] = v end
      e.message = e.message or "scripted failure"
      return nil, errors.new(e)
    end
    return {
      status = answer.status,
      headers = answer.headers or { ["content-type"] = "application/json" },
      body = answer.body or "",
      http_version = "1.1",
    }
  end
  return t
end

return M
