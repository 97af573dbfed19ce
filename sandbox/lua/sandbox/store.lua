-- All sandbox state, in two lua_shared_dicts so every worker sees the same sandbox:
--   sandbox_data  accounts and their resources, keys "a:<account>:..."
--   sandbox_meta  tokens, OAuth state, config, faults, stats, rate counters
--
-- Writes use safe_set/safe_add: a full dict answers 507 instead of silently evicting
-- someone's contacts.
local http = require "sandbox.http"

local data = ngx.shared.sandbox_data
local meta = ngx.shared.sandbox_meta

local _M = { data = data, meta = meta }

local function check_write(ok, err)
  if not ok and err == "no memory" then
    http.fail(507, "sandbox.store.full", "The sandbox's shared dict is full; reset it or raise its size")
  end
  return ok, err
end

-- Generic helpers over one dict.
local function wrap(dict)
  local d = {}

  function d.get(key) return (dict:get(key)) end

  function d.get_json(key)
    local raw = dict:get(key)
    if raw == nil then return nil end
    return (http.decode(raw))
  end

  function d.set(key, value, ttl)
    return check_write(dict:safe_set(key, value, ttl or 0))
  end

  function d.set_json(key, value, ttl)
    return d.set(key, http.encode(value), ttl)
  end

  -- true if added, false if the key already existed.
  function d.add(key, value, ttl)
    local ok, err = dict:safe_add(key, value, ttl or 0)
    if ok then return true end
    if err == "exists" then return false end
    check_write(ok, err)
    error("shared dict add failed: " .. tostring(err))
  end

  function d.delete(key) dict:delete(key) end

  -- Atomic counter; init makes a missing key start there.
  function d.incr(key, by, init, ttl)
    local v, err = dict:incr(key, by or 1, init, ttl)
    if v == nil and err ~= "not found" then check_write(nil, err) end
    return v
  end

  function d.flush()
    dict:flush_all()
    dict:flush_expired(0)   -- frees the memory now, not on later writes
  end

  return d
end

_M.d = wrap(data)
_M.m = wrap(meta)

-- Key of an account's item: a:<account>:<part>[:<part>...]
function _M.key(account, ...)
  return "a:" .. account .. ":" .. table.concat({ ... }, ":")
end

-- Reset everything (admin /reset); the caller re-seeds what must survive.
function _M.flush_all()
  _M.d.flush()
  _M.m.flush()
end

return _M
