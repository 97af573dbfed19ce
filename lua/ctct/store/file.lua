--- ctct.store.file: tokens in a JSON file, shared by processes.
--
--   local store = require("ctct.store.file").new{ path = "~/.config/ctct/tokens.json" }
--
-- The file holds { "version": 1, "accounts": { <key>: <token> } }, mode 0600,
-- in a 0700 directory. Every change is a read-modify-write under an exclusive
-- lock on "<path>.lock" (flock), written to a temp file, fsynced and renamed
-- over the old one: a process killed mid-write leaves the old or the new file,
-- never a torn one, and concurrent processes never lose each other's updates.
-- store:lock(key, fn) holds the same lock while fn runs (a refresh), so eight
-- processes finding one expired token refresh it once.
--
-- The directory must be private, as ssh's StrictModes wants ~/.ssh: owned by
-- you (or root) and writable by nobody else, the directories above it not
-- writable by others unless sticky (/tmp); otherwise new() raises, naming the
-- directory and the fix (chmod go-w DIR). A writer killed mid-save (kill -9)
-- leaves "<file>.tmp.<pid>.<random>"; new() removes such files when they are
-- older than a minute, or when their writer is gone and no one holds the lock.
local compat = require "ctct.compat"
local core = require "ctct.core"
local errors = require "ctct.errors"
local lock = require "ctct.lock"
local options = require "ctct.options"
local json = require "ctct.json"

---@class ctct.store.file
---@field STALE_TEMP_AGE integer seconds after which a temp file is stale whoever wrote it
---@field OPTIONS table<string, string> new's option names -> their types (ctct.options rules)
local M = {}

--- Tokens in a private JSON file, every change a locked read-modify-write.
---@class ctct.store.file.Store
---@field name 'file'
---@field path string the token file
---@field lock_path string the lock file ("<path>.lock")
---@field lock_timeout number seconds to wait for the lock
---@field held boolean whether this process holds the lock now
---@field sleep fun(seconds: number) how the lock is waited for
local Store = {}
Store.__index = Store

M.STALE_TEMP_AGE = 60 -- seconds after which a temp file is stale whoever wrote it

--- The default location: $XDG_CONFIG_HOME/ctct/tokens.json, else ~/.config/ctct/tokens.json.
---@return string|nil path nil when there is no HOME
function M.default_path()
  local base = os.getenv("XDG_CONFIG_HOME")
  if not base or base == "" then
    local home = os.getenv("HOME")
    if not home or home == "" then return nil end
    base = home .. "/.config"
  end
  return base .. "/ctct/tokens.json"
end

local function expand(path)
  if path:sub(1, 2) == "~/" then
    local home = os.getenv("HOME") or ""
    return home .. path:sub(2)
  end
  return path
end

--- new{ path = <file> (default M.default_path()), lock_timeout = 30, sleep = fn }
M.OPTIONS = { path = "string", sleep = "function", lock_timeout = "number" }

--- Open (and create the directory of) the token file; removes stale temp files.
--- Raises on a bad option, a directory that cannot be made or is not private, or no path.
---@param opts? ctct.store.file.Options
---@return ctct.store.file.Store
function M.new(opts)
  opts = options.check("ctct.store.file.new", opts, M.OPTIONS, 2)
  local path = opts.path and expand(opts.path) or M.default_path()
  if type(path) ~= "string" or path == "" then
    error("ctct.store.file: no path given and no HOME to put one under", 2)
  end
  local dir = path:match("^(.*)/[^/]+$") or "."
  if dir ~= "" then -- "" is the root directory
    local ok, err = core.mkdirs(dir, tonumber("700", 8))
    if not ok then error("ctct.store.file: " .. err, 2) end
  end
  local store = setmetatable({ path = path, lock_path = path .. ".lock", held = false, name = "file",
                               lock_timeout = opts.lock_timeout or 30, sleep = opts.sleep or core.sleep }, Store)
  store:remove_stale_temps()
  return store
end

--- Remove the temp files of writers killed mid-save. Holding the lock (one
--- non-blocking try: a writer at work is never waited for) no one is writing, so a
--- temp whose process is gone is stale; without it only those older than
--- STALE_TEMP_AGE are. Best effort: returns how many went (0 when it cannot look).
---@return integer removed
function Store:remove_stale_temps()
  local held
  local f = io.open(self.lock_path, "rb") -- no lock file: no write ever began here
  if f then
    f:close()
    held = core.try_lock(self.lock_path)
  end
  local removed = core.remove_stale_temps(self.path, M.STALE_TEMP_AGE, held ~= nil)
  if held then held:unlock() end
  return removed or 0
end

--- The whole document; a missing file is an empty one.
---@return {version: integer, accounts: table<string, ctct.TokenRecord>}|nil doc
---@return ctct.Error? err
function Store:read()
  local f = io.open(self.path, "rb")
  if not f then return { version = 1, accounts = {} } end
  local text = f:read("*a")
  f:close()
  local doc = json.decode(text)
  if type(doc) ~= "table" or type(doc.accounts) ~= "table" then
    return nil, errors.new { kind = "validation", message = "token file " .. self.path .. " is not a ctct token file" }
  end
  return doc
end

--- Replace the file with `doc` (temp file, fsync, rename; mode 0600). Call it holding the lock.
---@param doc {version: integer, accounts: table<string, ctct.TokenRecord>}
---@return true|nil ok
---@return ctct.Error? err
function Store:write(doc)
  local text, why = json.encode(doc)
  if not text then return nil, errors.new { kind = "validation", message = "cannot encode tokens: " .. why } end
  local ok, err = core.write_file_atomic(self.path, text, tonumber("600", 8))
  if not ok then return nil, errors.new { kind = "validation", message = err } end
  return true
end

-- The lock backend (ctct.lock) of a lock file: flock through ctct.core.
local FILE_LOCK = {
  try = function(_, path)
    local handle, err = core.try_lock(path)
    if handle then return handle end
    if err == "busy" then return false end
    return nil, errors.new { kind = "validation", message = err }
  end,
  release = function(_, _, handle) handle:unlock() end,
}

--- Run fn holding the file lock (reentrant within this process).
---@param fn fun(): ... runs holding the lock
---@return any ... fn's results (any values), or nil and a ctct.Error when the lock cannot be had
function Store:locked(fn)
  if self.held then return fn() end
  return lock.with_lock(FILE_LOCK, self.lock_path, function()
    self.held = true
    return compat.ensure(fn, function() self.held = false end)
  end, { timeout = self.lock_timeout, sleep = self.sleep, step = 0.02,
         message = "timed out waiting for the lock on " .. self.lock_path })
end

--- The token stored under `key`, or nil.
---@param key string the account
---@return ctct.TokenRecord|nil token
---@return ctct.Error? err the file cannot be read
function Store:get(key)
  local doc, err = self:read()
  if not doc then return nil, err end
  return doc.accounts[key]
end

--- Store `token` under `key` (a locked read-modify-write).
---@param key string the account
---@param token ctct.TokenRecord
---@return true|nil ok
---@return ctct.Error? err
function Store:set(key, token)
  return self:locked(function()
    local doc, err = self:read()
    if not doc then return nil, err end
    doc.accounts[key] = token
    return self:write(doc)
  end)
end

--- Forget the token of `key` (a locked read-modify-write).
---@param key string the account
---@return true|nil ok
---@return ctct.Error? err
function Store:delete(key)
  return self:locked(function()
    local doc, err = self:read()
    if not doc then return nil, err end
    doc.accounts[key] = nil
    return self:write(doc)
  end)
end

--- fn runs while this process holds the store's lock (the key is not needed:
--- one lock per file keeps the read-modify-writes of all accounts safe).
---@param _ string the account (unused)
---@param fn fun(): ... runs holding the lock
---@return any ... fn's results (any values), or nil and a ctct.Error when the lock cannot be had
function Store:lock(_, fn)
  return self:locked(fn)
end

return M
