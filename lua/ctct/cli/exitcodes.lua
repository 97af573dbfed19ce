--- ctct.cli.exitcodes: errors to exit codes and to one line on stderr.
--
--   0 success   1 API error   2 usage error   3 login needed
--   4 rate limited or daily quota reached   5 network or TLS error
--
-- What reaches the terminal is cleaned: control characters in a message (the
-- API's error_message, a file name, a raised string) are shown as visible
-- escapes (errors.printable: \x1b, \u009b), never written raw, and the line
-- stays one line. The JSON object escapes them too (JSON's own \u escapes, plus
-- DEL and C1, which JSON allows raw): its fields decode to the server's text.
local errors = require "ctct.errors"

local M = {}

M.OK, M.API, M.USAGE, M.LOGIN, M.RATE, M.NETWORK = 0, 1, 2, 3, 4, 5

M.HELP = [[
Exit codes:
  0  success
  1  API error (the API answered with an error)
  2  usage error (unknown command or option, bad parameter, unreadable file)
  3  login needed (no token, or it expired and cannot be refreshed: run `ctct login`)
  4  rate limited, or the daily request quota is used up
  5  network or TLS error (cannot connect, timeout, certificate)]]

--- A usage error (exit 2), raised with error() and caught by the main loop.
local Usage = {}
Usage.__index = Usage
Usage.__tostring = function(self) return "ctct: " .. self.message end
M.Usage = Usage

function M.usage(message, hint)
  return setmetatable({ message = message, hint = hint }, Usage)
end

function M.is_usage(v) return getmetatable(v) == Usage end

--- The exit code for a ctct.Error.
function M.code(err)
  if M.is_usage(err) then return M.USAGE end
  if not errors.is(err) then return M.API end
  local kind = err.kind
  if kind == "validation" then return M.USAGE end
  if kind == "rate_limited" then return M.RATE end
  if kind == "network" or kind == "timeout" or kind == "tls" then return M.NETWORK end
  if kind == "auth" then
    if err.error_key == "login_required" or err.status == 401 or err.status == nil then return M.LOGIN end
    return M.API -- 403: logged in, but not allowed
  end
  return M.API
end

-- A hint after the message for the codes a person can act on.
local function hint(code, err)
  if code == M.LOGIN and not (err and err.no_hint) then
    return "run `ctct login`" .. (err and err.profile and err.profile ~= "default"
      and (" --profile " .. err.profile) or "")
  end
  return nil
end

--- Remove every registered secret from text.
function M.redact(text, secrets)
  text = tostring(text)
  for _, s in ipairs(secrets or {}) do
    if type(s) == "string" and #s >= 6 then
      local at = 1
      while true do
        local i, j = text:find(s, at, true)
        if not i then break end
        text = text:sub(1, i - 1) .. "[redacted]" .. text:sub(j + 1)
        at = i + 10
      end
    end
  end
  return text
end

-- JSON text with DEL and the C1 controls escaped as well (cjson leaves them raw;
-- a terminal reads U+009B as CSI). Decodes to the same strings.
local function json_for_terminal(text)
  return (text:gsub("\127", "\\u007f"):gsub("\194([\128-\159])", function(c)
    return ("\\u%04x"):format(c:byte())
  end))
end

--- Write the error on stderr: one line, or a JSON object when as_json.
-- Returns the exit code.
function M.report(err, opts)
  opts = opts or {}
  local code = opts.code or M.code(err)
  local message
  if M.is_usage(err) then
    message = "ctct: " .. err.message
  elseif errors.is(err) then
    message = tostring(err)
  else
    message = "ctct: " .. tostring(err)
  end
  -- Redact first (a secret is matched as it is), then make it safe to print.
  message = errors.printable(M.redact(message, opts.secrets))
  local h = (M.is_usage(err) and err.hint) or hint(code, errors.is(err) and err or nil)
  if h then h = errors.printable(M.redact(h, opts.secrets)) end
  if opts.json then
    local obj = { error = {
      exit_code = code, message = message, hint = h,
      kind = errors.is(err) and err.kind or (M.is_usage(err) and "usage" or "internal"),
      status = errors.is(err) and err.status or nil,
      error_key = errors.is(err) and err.error_key or nil,
      param = errors.is(err) and err.param or nil,
      request_id = errors.is(err) and err.request_id or nil,
      retry_after = errors.is(err) and err.retry_after or nil,
      suggestions = errors.is(err) and err.suggestions or nil,
    } }
    io.stderr:write(json_for_terminal(M.redact(require("ctct.cli.output").encode(obj), opts.secrets)), "\n")
  else
    if h then message = message .. " (" .. h .. ")" end
    io.stderr:write(message, "\n")
  end
  return code
end

return M
