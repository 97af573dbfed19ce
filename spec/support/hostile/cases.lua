-- spec/support/hostile/cases.lua: the shared list of hostile servers and what
-- a client must make of each, for the curl and the ngx transport specs
-- (spec/hostile_curl_spec.lua, spec/hostile_ngx_spec.lua).
--
--   local hostile = require "spec.support.hostile.cases"
--   local srv = hostile.start()                -- the hostile nginx (server.conf + server.lua)
--   ctct.new(hostile.client_options(srv.url))  -- timeout 2 s, deadline 3 s, 8 MiB body cap
--   hostile.reset_peak(pid) / hostile.peak(pid) -- peak RSS of a process, in bytes
--   hostile.check(case, result), hostile.summary("curl", results)
--
-- Every case is a GET of `path` on the hostile server. A client passes a case
-- when the call returns within the deadline plus SLACK with the error `kind`
-- (and a message matching `message`, when given), and the peak RSS of the
-- process that made the call grew by less than MEMORY_CAP meanwhile.
-- client_options and CASES are plain data, also used inside nginx.
local M = {}

M.TIMEOUT = 2             -- per attempt (seconds)
M.DEADLINE = 3            -- the whole call, retries included
M.SLACK = 0.75            -- scheduling, process start-up of the probes
M.MAX_RESPONSE = 8 * 1024 * 1024
M.MEMORY_CAP = 64 * 1024 * 1024

M.CASES = {
  { name = "slow drip body", path = "/case/drip_body", kind = "timeout" },
  { name = "slow drip head", path = "/case/drip_head", kind = "timeout" },
  { name = "endless body without length", path = "/case/endless_body", kind = "protocol",
    message = "larger than max_response_bytes" },
  { name = "huge Content-Length body", path = "/case/huge_length", kind = "protocol",
    message = "larger than max_response_bytes" },
  { name = "endless 100 Continue", path = "/case/endless_continue", kind = "protocol",
    message = "more than 10 interim %(1xx%) responses" },
  { name = "20,000 headers", path = "/case/many_headers", kind = "protocol",
    message = "more than 1000 header fields" },
  { name = "an endless header line", path = "/case/endless_line", kind = "protocol",
    message = "header line over 100 KiB" },
  { name = "a head over 256 KiB", path = "/case/big_head", kind = "protocol",
    message = "response head over 256 KiB" },
  { name = "a body over the cap", path = "/case/over_cap", kind = "protocol",
    message = "larger than max_response_bytes" },
  { name = "a truncated chunked body", path = "/case/truncated_chunked", kind = "network" },
  { name = "a garbage status line", path = "/case/garbage_status", kind = "protocol",
    message = "status line" },
}

--- Options for ctct.new against the hostile server at base_url.
function M.client_options(base_url, extra)
  local o = {
    access_token = "hostile-test-token", base_url = base_url, timeout = M.TIMEOUT,
    deadline = M.DEADLINE, rate_limit = false, max_response_bytes = M.MAX_RESPONSE,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

--- Start the hostile server (one nginx worker on a free loopback port).
function M.start()
  local sandbox = require "spec.helpers.sandbox"
  local nginx = require "spec.helpers.nginx"
  return nginx.start { template = sandbox.repo_root() .. "/spec/support/hostile/server.conf", workers = 1 }
end

local function status_kb(pid, field)
  local f = io.open("/proc/" .. pid .. "/status", "r")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+) kB"))
end

--- Reset the peak RSS of process `pid` ("self" for this one) to its current
-- RSS (Linux clear_refs 5); returns that RSS in bytes.
function M.reset_peak(pid)
  local f = assert(io.open("/proc/" .. pid .. "/clear_refs", "w"))
  f:write("5")
  f:close()
  return (assert(status_kb(pid, "VmRSS"), "no VmRSS for " .. pid)) * 1024
end

--- The peak RSS of `pid` since the last reset, in bytes.
function M.peak(pid)
  return (assert(status_kb(pid, "VmHWM"), "no VmHWM for " .. pid)) * 1024
end

--- What went wrong with a result { elapsed, kind, message, growth } for `case`,
-- as a list of strings (empty: passed).
function M.problems(case, r)
  local out = {}
  if r.elapsed > M.DEADLINE + M.SLACK then
    out[#out + 1] = string.format("took %.2f s (deadline %d s)", r.elapsed, M.DEADLINE)
  end
  if r.growth and r.growth > M.MEMORY_CAP then
    out[#out + 1] = string.format("peak RSS grew by %.0f MiB (cap %d MiB)", r.growth / 1048576,
      math.floor(M.MEMORY_CAP / 1048576))
  end
  if r.kind ~= case.kind then
    out[#out + 1] = "error kind " .. tostring(r.kind) .. ", expected " .. case.kind
  elseif case.message and not tostring(r.message):find(case.message) then
    out[#out + 1] = "message '" .. tostring(r.message) .. "' does not say '" .. case.message .. "'"
  end
  return out
end

--- The summary line over results { { elapsed, growth, ... }, ... }.
function M.summary(transport, results)
  local hung, fat = 0, 0
  for _, r in ipairs(results) do
    if r.elapsed > M.DEADLINE + M.SLACK then hung = hung + 1 end
    if r.growth and r.growth > M.MEMORY_CAP then fat = fat + 1 end
  end
  return string.format("hostile servers (%s): %d cases, %d hung past the deadline, %d over the memory cap",
    transport, #results, hung, fat)
end

return M
