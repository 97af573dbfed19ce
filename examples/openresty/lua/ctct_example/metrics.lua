--- ctct_example.metrics: what the site's calls to Constant Contact cost, as
-- Prometheus text on GET /metrics. Every client made by ctct_example.config hands
-- each call to on_request (operation, status, attempts, seconds waited for the API
-- key's rate budget, duration); the counts live in a lua_shared_dict, so the page
-- shows every worker's calls.
local M = {}

local DICT = "ctct_metrics"

local function dict() return ngx.shared[DICT] end

-- A label value as Prometheus text allows (\, " and newlines escaped).
local function label(v)
  return (tostring(v):gsub("[\\\"\n]", { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

--- The on_request hook (ctct.new{ on_request = ... }).
function M.on_request(info)
  local d = dict()
  local key = (info.operation or (info.method .. " " .. info.path)) .. "\t" .. tostring(info.status or info.error)
  d:incr("requests\t" .. key, 1, 0)
  d:incr("attempts", info.attempts, 0)
  d:incr("waited", info.waited, 0)
  d:incr("duration", info.duration, 0)
end

local HEAD = {
  { "ctct_requests_total", "counter", "Calls to the Constant Contact API, by operation and status." },
  { "ctct_request_attempts_total", "counter", "Attempts those calls made (retries included)." },
  { "ctct_budget_wait_seconds_total", "counter", "Seconds the calls waited for the API key's rate budget." },
  { "ctct_request_seconds_total", "counter", "Seconds the calls took, waits and retries included." },
}

--- GET /metrics.
function M.handle()
  local d = dict()
  local out = {}
  local function head(i) out[#out + 1] = ("# HELP %s %s\n# TYPE %s %s\n"):format(HEAD[i][1], HEAD[i][3], HEAD[i][1],
    HEAD[i][2]) end
  head(1)
  local keys = d:get_keys(0)
  table.sort(keys)
  for _, k in ipairs(keys) do
    local op, status = k:match("^requests\t([^\t]*)\t(.*)$")
    if op then
      out[#out + 1] = ('ctct_requests_total{operation="%s",status="%s"} %d\n'):format(label(op), label(status),
        d:get(k))
    end
  end
  for i, name in ipairs { "attempts", "waited", "duration" } do
    head(i + 1)
    out[#out + 1] = ("%s %s\n"):format(HEAD[i + 1][1], string.format("%.6g", d:get(name) or 0))
  end
  ngx.header["Content-Type"] = "text/plain; version=0.0.4"
  ngx.print(table.concat(out))
end

return M
