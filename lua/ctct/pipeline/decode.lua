--- ctct.pipeline.decode: the last stage, the transport's response as the caller
-- gets it: data and { status, headers, http_version }, or nil and a ctct.Error.
local config = require "ctct.config"
local errors = require "ctct.errors"
local json = require "ctct.json"

local M = {}

--- A finished exchange as (data, response) or (nil, err): a non-2xx status is its
-- typed error; a 2xx body is decoded JSON (true when empty), the text with raw, or
-- true and response.bytes when it went to a sink.
---@param state table the client
---@param res table the transport's response
---@param method string
---@param path string
---@param raw? boolean
---@return table|string|true|nil data
---@return ctct.Response|ctct.Error response_or_err
function M.finish(state, res, method, path, raw)
  local meta = { status = res.status, headers = res.headers, http_version = res.http_version }
  if res.status < 200 or res.status > 299 then
    local err = errors.from_response(res, { method = method, path = path, now = state.time() })
    -- Every V3 path is under /v3: a base_url without it gets 404 for everything.
    if res.status == 404 and not state.base_path:match("/v3$") then
      err.message = err.message .. " (base_url has no /v3 at the end: the API's is " .. config.DEFAULT_BASE_URL .. ")"
    end
    return nil, err
  end
  if res.sink_bytes then -- the body went to the caller's file
    meta.bytes = res.sink_bytes
    return true, meta
  end
  if raw then return res.body, meta end
  if res.body == nil or res.body == "" then return true, meta end
  local data, why = json.decode(res.body, state.decode_options)
  if data == nil then
    if not res.body:find("%S") then return true, meta end -- only whitespace: empty
    return nil, errors.new {
      kind = "protocol",
      status = res.status,
      message = "expected a JSON body (" .. (res.headers["content-type"] or "no content type") ..
        "), got: " .. errors.snippet(res.body, 120) .. " [" .. tostring(why) .. "]",
      method = method,
      path = path,
    }
  end
  return data, meta
end

return M
