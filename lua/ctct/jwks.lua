--- ctct.jwks: a JSON Web Key Set, fetched over HTTP and cached by key id.
--
--   local keys = jwks.new{ url = "https://.../keys", ttl = 300 }
--   local key, err = keys:key(kid)
--
-- Keys are cached for `ttl` seconds. An unknown kid triggers one refetch (the
-- issuer may have rotated its keys), but at most one fetch per
-- `min_refetch_interval` seconds whatever kids arrive, so a flood of tokens
-- with made-up kids cannot hammer the key endpoint. When a refetch fails,
-- the keys already known keep working.
--
-- Everything is bounded: at most MAX_KEYS keys per set (the rest of a larger
-- set is ignored), a key set answer of at most MAX_BYTES, at most MAX_SETS sets
-- cached by URL (jwks.from; the least recently used goes first), and inside
-- nginx one shared dict entry per URL of at most MAX_SHARED_BYTES, written with
-- safe_set so it never evicts other entries (tokens). The per-URL cache holds
-- its sets strongly: a garbage collection must not turn every token into a fetch.
local core = require "ctct.core"
local errors = require "ctct.errors"
local options = require "ctct.options"
local json = require "ctct.json"

---@class ctct.jwks
---@field MAX_KEYS integer keys imported from one set (64)
---@field MAX_SETS integer sets kept by jwks.from (per URL and shared dict; 32)
---@field MAX_BYTES integer a key set answer larger than this is refused (1 MiB)
---@field MAX_SHARED_BYTES integer larger sets are not copied to the shared dict (65536)
---@field OPTIONS table<string, string> jwks.new's option names -> their types (ctct.options rules)
---@field Jwks ctct.jwks.Jwks the class of key sets
---@field import fun(doc: table): table<string, userdata>|nil, integer, string[] JWKS -> keys by kid, count, skipped
local M = {}

M.MAX_KEYS = 64            -- keys imported from one set
M.MAX_SETS = 32            -- sets kept by jwks.from (per URL and shared dict)
M.MAX_BYTES = 1024 * 1024  -- a key set answer larger than this is refused
M.MAX_SHARED_BYTES = 65536 -- larger sets are not copied to the shared dict

---@class ctct.jwks.Jwks
---@field url? string where the set is fetched (nil for a set made from a JWKS table)
---@field ttl number seconds the keys are cached (default 300)
---@field min_refetch_interval number at most one fetch per this many seconds (default 30)
---@field timeout number seconds per fetch (default 5)
---@field transport? table the ctct transport fetches go through (made on first fetch)
---@field clock fun(): number monotonic seconds (default core.monotonic)
---@field keys table<string, userdata> kid -> key (a core.jwk key)
---@field fetched_at? number clock() of the last successful fetch
---@field attempted_at? number clock() of the last fetch attempt
---@field fetches integer HTTP fetches made
---@field static? boolean true for a set made from a JWKS table (never fetched)
---@field shared? table the lua_shared_dict the set is shared through (opts.shared_dict)
local Jwks = {}
Jwks.__index = Jwks

local function failure(reason, message)
  return nil, errors.new { kind = "auth", reason = reason, message = message }
end

-- Import every usable key of a decoded JWKS; returns the map kid -> key, how
-- many, and why the others were skipped.
local function import(doc)
  if type(doc) ~= "table" or type(doc.keys) ~= "table" then
    return nil, 0, { "not a JWKS (no 'keys' array)" }
  end
  local keys, count, skipped = {}, 0, {}
  for i, jwk in ipairs(doc.keys) do
    if count >= M.MAX_KEYS then
      skipped[#skipped + 1] = "more than " .. M.MAX_KEYS .. " keys: key " .. i .. " and after ignored"
      break
    end
    local label = "key " .. i .. (type(jwk) == "table" and type(jwk.kid) == "string" and (" (" .. jwk.kid .. ")") or "")
    if type(jwk) ~= "table" then
      skipped[#skipped + 1] = label .. ": not an object"
    elseif jwk.use ~= nil and jwk.use ~= "sig" then
      skipped[#skipped + 1] = label .. ": use '" .. tostring(jwk.use) .. "'"
    elseif type(jwk.kid) ~= "string" or jwk.kid == "" then
      skipped[#skipped + 1] = label .. ": no kid"
    else
      local key, why = core.jwk(jwk)
      if key then
        keys[jwk.kid] = key
        count = count + 1
      else
        skipped[#skipped + 1] = label .. ": " .. why
      end
    end
  end
  return keys, count, skipped
end
M.import = import

-- jwks.new's options (see M.new) and their types (ctct.options rules).
local NEW_OPTIONS = { url = "string", ttl = "number", min_refetch_interval = "number", timeout = "number",
                      transport = "table", clock = "function", keys = "table", shared_dict = "string" }

M.OPTIONS = NEW_OPTIONS

--- new{ url = ..., ttl = 300, min_refetch_interval = 30, timeout = 5,
---       transport = <ctct transport>, clock = fn, keys = <a JWKS table, no fetching>,
---       shared_dict = <lua_shared_dict name: inside nginx, one fetch per TTL for all workers> }
--- Raises on a bad option, without url and keys, or when keys has no usable key.
---@param opts ctct.jwks.Options
---@return ctct.jwks.Jwks
function M.new(opts)
  opts = options.check("ctct.jwks.new", opts, NEW_OPTIONS, 2)
  if opts.url == nil and opts.keys == nil then error("ctct.jwks.new: give url or keys", 2) end
  if opts.url ~= nil and (type(opts.url) ~= "string" or not opts.url:match("^https?://")) then
    error("ctct.jwks.new: url must be an http(s) URL", 2)
  end
  local self = setmetatable({
    url = opts.url,
    ttl = opts.ttl or 300,
    min_refetch_interval = opts.min_refetch_interval or 30,
    timeout = opts.timeout or 5,
    transport = opts.transport,
    clock = opts.clock or core.monotonic,
    keys = {},
    fetched_at = nil,
    attempted_at = nil,
    fetches = 0,
  }, Jwks)
  if opts.shared_dict ~= nil then
    self.shared = require("ctct.ngx.shdict").get(opts.shared_dict, "ctct.jwks", 2)
  end
  if opts.keys then
    local keys, count, skipped = import(opts.keys)
    if not keys or count == 0 then
      error("ctct.jwks.new: the JWKS has no usable keys: " .. table.concat(skipped, "; "), 2)
    end
    self.keys, self.static = keys, true
  end
  return self
end

--- The key set another worker fetched (shared_dict), if it has `kid`: true when
--- it was taken as this set's keys.
---@param kid? string
---@return boolean
function Jwks:from_shared(kid)
  local text = self.shared:get("jwks:" .. self.url)
  if not text then return false end
  local keys, count = import(json.decode(text))
  if not keys or count == 0 or (kid ~= nil and keys[kid] == nil) then return false end
  -- As old as the shared copy: it is replaced when that one expires.
  local left = self.shared.ttl and self.shared:ttl("jwks:" .. self.url)
  self.keys, self.fetched_at = keys, self.clock() - (left and math.max(0, self.ttl - left) or 0)
  return true
end

--- GET the key set; on success replace the cache (a failure keeps the known keys).
---@param kid? string the key wanted (a shared copy without it is not used)
---@return boolean|nil ok
---@return ctct.Error? err an `auth` error, reason jwks_unavailable
function Jwks:fetch(kid)
  self.attempted_at = self.clock()
  if self.shared and self:from_shared(kid) then return true end
  self.fetches = self.fetches + 1
  if not self.transport then
    self.transport = require("ctct.config").transport { timeout = self.timeout, max_response_bytes = M.MAX_BYTES }
  end
  local res, err = self.transport:request {
    method = "GET", url = self.url, headers = { Accept = "application/json" }, timeout = self.timeout,
  }
  if not res then return failure("jwks_unavailable", "cannot fetch the JWKS: " .. err.message) end
  if res.status ~= 200 then
    return failure("jwks_unavailable", "the JWKS endpoint answered HTTP " .. res.status)
  end
  local keys, count, skipped = import(json.decode(res.body))
  if not keys or count == 0 then
    return failure("jwks_unavailable", "the JWKS has no usable keys: " .. table.concat(skipped, "; "))
  end
  self.keys, self.fetched_at = keys, self.clock()
  -- safe_set: a full dict refuses the copy instead of evicting someone's token.
  if self.shared and #res.body <= M.MAX_SHARED_BYTES then
    self.shared:safe_set("jwks:" .. self.url, res.body, self.ttl)
  end
  return true
end

--- The key for `kid`, or nil and an error (reason kid_unknown or jwks_unavailable).
---@param kid string
---@return userdata|nil key a core.jwk key
---@return ctct.Error? err an `auth` error, reason kid_unknown or jwks_unavailable
function Jwks:key(kid)
  local now = self.clock()
  if not self.static then
    local stale = not self.fetched_at or now - self.fetched_at >= self.ttl
    local unknown = self.keys[kid] == nil
    local may_fetch = not self.attempted_at or now - self.attempted_at >= self.min_refetch_interval
    -- Even before the first success, fetches are spaced: an endpoint that is
    -- down is not hit once per incoming token.
    if (stale or unknown) and may_fetch then
      local ok, err = self:fetch(kid)
      -- A failed refresh keeps the known keys; fail only if this kid is not among them.
      if not ok and self.keys[kid] == nil then return nil, err end
    end
  end
  local key = self.keys[kid]
  if not key then
    return failure("kid_unknown", "no key with kid '" .. tostring(kid) .. "' in the key set")
  end
  return key
end

-- Sets made from URLs are shared per URL (and shared dict), so each process
-- fetches a URL once per TTL. The cache is strong (a weak one lost its sets at
-- every collection) and bounded: MAX_SETS entries, least recently used out.
-- Sets made from a JWKS table are imported once per table, kept as long as the
-- caller keeps the table (weak keys: the table is the only way to ask again).
local by_url, url_count, uses = {}, 0, 0
local by_table = setmetatable({}, { __mode = "k" })

local function cached_url_set(url, shared_dict)
  local id = url .. "\0" .. (shared_dict or "")
  uses = uses + 1
  local entry = by_url[id]
  if entry then
    entry.used = uses
    return entry.set
  end
  local set = M.new { url = url, shared_dict = shared_dict }
  if url_count >= M.MAX_SETS then
    local oldest, at
    for k, e in pairs(by_url) do
      if not at or e.used < at then oldest, at = k, e.used end
    end
    by_url[oldest], url_count = nil, url_count - 1
  end
  by_url[id], url_count = { set = set, used = uses }, url_count + 1
  return set
end

--- How many sets jwks.from keeps by URL (at most MAX_SETS).
---@return integer
function M.cached_sets() return url_count end

--- A key set from what a caller passed as `jwks`: a Jwks object, a JWKS table,
--- or a URL (cached per URL). nil when `spec` is nil. opts.shared_dict: for a
--- URL inside nginx, the lua_shared_dict that shares the fetched set between
--- workers (as jwks.new's shared_dict). Raises for any other `spec`.
---@param spec? ctct.jwks.Jwks|table|string a key set, a JWKS table { keys = {...} } or its URL
---@param opts? {shared_dict?: string}
---@return ctct.jwks.Jwks|nil set
function M.from(spec, opts)
  if spec == nil then return nil end
  if getmetatable(spec) == Jwks then return spec end
  if type(spec) == "string" then
    local shared_dict = opts and opts.shared_dict
    if shared_dict ~= nil and type(shared_dict) ~= "string" then
      error("ctct.jwks: shared_dict must be the name of a lua_shared_dict", 3)
    end
    return cached_url_set(spec, shared_dict)
  end
  if type(spec) == "table" then
    local set = by_table[spec]
    if not set then
      set = M.new { keys = spec }
      by_table[spec] = set
    end
    return set
  end
  error("ctct.jwks: expected a ctct.jwks object, a JWKS table or a URL, got " .. type(spec), 3)
end

M.Jwks = Jwks
return M
