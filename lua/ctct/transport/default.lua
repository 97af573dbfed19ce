--- ctct.transport.default: the transport to use when the caller gave none.
--
-- Inside nginx (ngx_lua: OpenResty or Debian's nginx with libnginx-mod-http-lua)
-- it is ctct.transport.ngx, so nothing ever blocks a worker; elsewhere it is
-- ctct.transport.curl. ctct.new, the OAuth flows (ctct.oauth), the JWKS fetch
-- (ctct.jwks) and the partner client all get their default transport here.
--
-- A client may be made in any phase (init_by_lua* too); requests are only
-- possible where nginx has cosockets, and elsewhere raise an error naming the
-- phase (see ctct.transport.ngx).
local M = {}

--- True inside nginx with the Lua module.
function M.in_nginx()
  return require("ctct.transport.ngx").in_nginx()
end

--- new(opts): the curl or ngx transport with the same options
-- (connect_timeout, timeout, cafile, insecure, proxy, http2, user_agent, max_response_bytes).
function M.new(opts)
  if M.in_nginx() then return require("ctct.transport.ngx").new(opts) end
  return require("ctct.transport.curl").new(opts)
end

return M
