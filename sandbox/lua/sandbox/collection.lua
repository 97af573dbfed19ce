-- An account's ordered collection of JSON records (contacts, lists, later tags ...).
--
-- Each record gets a sequence number at creation; the record is stored under that
-- number, so listing in creation order reads consecutive keys and a page costs
-- O(page size) however large the collection is:
--   a:<account>:<kind>:<seq>            the record (JSON, has record.seq)
--   a:<account>:<kind>:last             highest seq handed out
--   a:<account>:<kind>:count            records present
--   a:<account>:<kind>#<id>             id -> seq
--   a:<account>:<kind>@<index>:<value>  unique index value -> id (emails, names)
local store = require "sandbox.store"
local util = require "sandbox.util"

local d = store.d

local Collection = {}
Collection.__index = Collection

local _M = {}

-- kind: the key word ("contact"); id_field: the record's id property ("contact_id").
-- opts.numeric_ids: the id is the sequence number (segments have integer ids).
function _M.new(kind, id_field, opts)
  return setmetatable({ kind = kind, id_field = id_field, numeric_ids = opts and opts.numeric_ids },
    Collection)
end

function Collection:k(account, part)
  return store.key(account, self.kind, part)
end

function Collection:id_key(account, id)
  return store.key(account, self.kind) .. "#" .. id
end

-- Stores a new record under a fresh uuid (unless record already has an id) and
-- returns it with its id and seq set.
function Collection:insert(account, record)
  local id = record[self.id_field]
  if id == nil and not self.numeric_ids then
    repeat id = util.uuid() until not d.get(self:id_key(account, id))
  end
  local seq = d.incr(self:k(account, "last"), 1, 0)
  if self.numeric_ids then id = seq end
  if not d.add(self:id_key(account, id), seq) then
    error("duplicate " .. self.kind .. " id " .. id)
  end
  record[self.id_field] = id
  record.seq = seq
  d.set_json(self:k(account, seq), record)
  d.incr(self:k(account, "count"), 1, 0)
  return record
end

-- The record with this id, or nil.
function Collection:get(account, id)
  if type(id) == "number" then id = string.format("%d", id) end
  if type(id) ~= "string" then return nil end
  local seq = d.get(self:id_key(account, id))
  if not seq then return nil end
  return d.get_json(self:k(account, seq))
end

-- Whether a record with this id exists (no decoding).
function Collection:has(account, id)
  if type(id) == "number" then id = string.format("%d", id) end
  return type(id) == "string" and d.get(self:id_key(account, id)) ~= nil
end

-- Writes back a record previously read (keeps its id and seq).
function Collection:update(account, record)
  d.set_json(self:k(account, record.seq), record)
  return record
end

function Collection:remove(account, record)
  d.delete(self:k(account, record.seq))
  d.delete(self:id_key(account, record[self.id_field]))
  d.incr(self:k(account, "count"), -1)
end

function Collection:count(account)
  return d.get(self:k(account, "count")) or 0
end

-- Unique index: claims value for id. Returns true, or false and the current owner.
function Collection:claim(account, index, value, id)
  local key = store.key(account, self.kind) .. "@" .. index .. ":" .. value
  if d.add(key, id) then return true end
  local owner = d.get(key)
  if owner == id then return true end
  return false, owner
end

function Collection:release(account, index, value, id)
  local key = store.key(account, self.kind) .. "@" .. index .. ":" .. value
  if d.get(key) == id then d.delete(key) end
end

function Collection:lookup(account, index, value)
  return d.get(store.key(account, self.kind) .. "@" .. index .. ":" .. value)
end

-- Records in creation order starting at seq `from`, keeping those match() accepts,
-- at most `limit`. Returns the records and the seq where the next page starts (nil
-- when nothing after them matches), so a page never ends with an empty next page.
-- stop(record), optional, ends the scan at the first record it accepts (records
-- created after a bound, when seq order is creation order).
function Collection:page(account, from, limit, match, stop)
  local last = d.get(self:k(account, "last")) or 0
  local out = {}
  local seq = from
  while seq <= last do
    local record = d.get_json(self:k(account, seq))
    if record and stop and stop(record) then return out, nil end
    if record and (match == nil or match(record)) then
      if #out == limit then return out, seq end
      out[#out + 1] = record
    end
    seq = seq + 1
  end
  return out, nil
end

-- The first seq >= from whose record is not before(record), by binary search: for a
-- property that grows with seq (created_at). Missing seqs are skipped forward.
function Collection:seek(account, from, before)
  local lo, hi = from, self:last_seq(account) + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local probe, record = mid, nil
    while probe < hi do
      record = d.get_json(self:k(account, probe))
      if record then break end
      probe = probe + 1
    end
    if not record then
      hi = mid
    elseif before(record) then
      lo = probe + 1
    else
      hi = mid
    end
  end
  return lo
end

-- The record stored under seq, or nil.
function Collection:at(account, seq)
  return d.get_json(self:k(account, seq))
end

function Collection:last_seq(account)
  return d.get(self:k(account, "last")) or 0
end

-- Every record match() accepts (all when nil), in creation order: for the small
-- collections (lists, tags, campaigns ...), never for contacts in a request.
function Collection:all(account, match)
  local out = {}
  for seq = 1, self:last_seq(account) do
    local record = d.get_json(self:k(account, seq))
    if record and (match == nil or match(record)) then out[#out + 1] = record end
  end
  return out
end

-- Counts the records match() accepts (a full scan: only for filtered counts).
function Collection:count_matching(account, match)
  local last = d.get(self:k(account, "last")) or 0
  local n = 0
  for seq = 1, last do
    local record = d.get_json(self:k(account, seq))
    if record and match(record) then n = n + 1 end
  end
  return n
end

return _M
