--- ctct.pipeline.token: the Authorization stage. The access token comes from the
-- client's token getter (a fixed token, a function, or a token source: anything
-- with get() and after_unauthorized(used), such as ctct.auth over a token store
-- or the partner's token); a 401 asks the source once for a new token.
local errors = require "ctct.errors"

local M = {}

--- Sets req's Authorization header; returns the token used, or nil and an `auth` error.
---@param state table the client
---@param req table the request (from ctct.pipeline.build)
---@param method string for the error
---@param path string for the error (no query)
---@return string|nil token
---@return ctct.Error? err
function M.authorize(state, req, method, path)
  local token, why, bearer = state.get_token()
  if not token then
    if errors.is(why) then
      why.method, why.path = method, path
      return nil, why
    end
    return nil, errors.new { kind = "auth", message = why, method = method, path = path }
  end
  req.headers["Authorization"] = bearer
  return token
end

--- After a 401 to `used`: a new token from the token source (and req re-authorized),
-- or nil when there is no source, or nil and the source's error.
---@param state table the client
---@param req table
---@param used string the token the server refused
---@param method string
---@param path string
---@return string|nil token
---@return ctct.Error? err
function M.reauthorize(state, req, used, method, path)
  local source = state.token_source
  if not source then return nil end
  local fresh, err = source:after_unauthorized(used)
  if not fresh then
    err = errors.is(err) and err or errors.new { kind = "auth", message = tostring(err) }
    err.method, err.path, err.status = method, path, 401
    return nil, err
  end
  req.headers["Authorization"] = "Bearer " .. fresh
  return fresh
end

return M
