--- ctct.pipeline.send: one exchange through the client's transport; a transport
-- failure (network, TLS, timeout) comes back as its ctct.Error, named by the
-- request's method and path.
local M = {}

--- The transport's response, or nil and its error (with method and path set).
---@param state table the client
---@param req table the request, its timeout set for this attempt
---@param method string
---@param path string
---@return table|nil response { status, headers, body, http_version, sink_bytes? }
---@return ctct.Error? err
function M.send(state, req, method, path)
  local res, err = state.transport:request(req)
  if res then return res end
  err.method, err.path = method, path
  return nil, err
end

return M
