-- json_capture (config knob, a file path; "" = off): every JSON body the sandbox
-- sends, and every JSON request body it decodes, appended to that file one document
-- per line, for the JSON round-trip spec. Our own encoder never writes a raw
-- newline; a body that has one (a pretty-printed request) is skipped and counted.
--   capture:lines, capture:skipped   counters in the meta dict (GET /__sandbox/stats)
local json = require "sandbox.json"

local _M = {}

local files = {}   -- path -> file, per worker: one open per path, not per body

-- The file path when capture is on, else nil. Read once per request.
local function path()
  local ctx = ngx.ctx
  local p = ctx.capture_path
  if p == nil then
    p = (ctx.config or require("sandbox.config").get()).json_capture   -- lazy: config needs http
    ctx.capture_path = p
  end
  return p ~= "" and p or nil
end

function _M.on() return path() ~= nil end

local function bump(name)
  ngx.shared.sandbox_meta:incr("capture:" .. name, 1, 0)
end

-- Appends text (a JSON document) as one line.
function _M.write(text)
  local p = path()
  if not p then return end
  if text:find("\n", 1, true) then return bump("skipped") end
  local f = files[p]
  if not f then
    local err
    f, err = io.open(p, "a")
    if not f then
      ngx.log(ngx.ERR, "sandbox: json_capture: ", err)
      return
    end
    -- Unbuffered, and one write per line: O_APPEND keeps workers' lines whole.
    f:setvbuf("no")
    files[p] = f
  end
  f:write(text .. "\n")
  bump("lines")
end

-- A body that claims to be JSON but was not encoded here: only when it decodes.
function _M.write_if_json(text)
  if json.decode(text) ~= nil then _M.write(text) end
end

function _M.counts()
  local meta = ngx.shared.sandbox_meta
  return { lines = meta:get("capture:lines") or 0, skipped = meta:get("capture:skipped") or 0 }
end

return _M
