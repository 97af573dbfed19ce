--- ctct.cli.output: what the command line prints on stdout.
--
-- Formats: table (people), json, jsonl, csv (programs). The default is a table
-- when stdout is a terminal and JSON otherwise. Collections stream: jsonl and
-- csv write each item as it arrives (one page held at a time, following
-- pagination), json writes one array incrementally, and a table is drawn in
-- blocks. `fields` (a list of dotted paths such as email_address.address)
-- picks columns; `limit` caps the number of items.
local errors = require "ctct.errors"
local json = require "ctct.json"

local M = {}

M.FORMATS = { "table", "json", "jsonl", "csv" }

local Writer = {}
Writer.__index = Writer

--- True when file descriptor `fd` (1 stdout, 2 stderr) is a terminal.
function M.isatty(fd)
  local forced = os.getenv("CTCT_FORCE_TTY") -- tests: "1", "2" or "1,2"
  if forced and forced ~= "" then return forced:find(tostring(fd), 1, true) ~= nil end
  local ok = os.execute("test -t " .. math.floor(fd))
  return ok == true or ok == 0
end

--- Split "a,b,c" into a list (empty parts dropped).
function M.split(s)
  local out = {}
  for part in tostring(s or ""):gmatch("[^,]+") do
    part = part:match("^%s*(.-)%s*$")
    if part ~= "" then out[#out + 1] = part end
  end
  return out
end

--- The value at a dotted path (numeric parts index arrays: list_memberships.1).
function M.get(obj, path)
  local v = obj
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    local n = tonumber(part)
    if n and v[n] ~= nil then v = v[n] else v = v[part] end
  end
  return v
end

-- Objects decoded by the CLI's client keep the API's key order (ordered_json),
-- arrays their marks and integers their type: this prints what the API sent.
local function encode(v)
  return json.encode(v) or "null"
end
M.encode = encode

--- One cell as text: scalars as they are, tables as compact JSON.
local function cell(v)
  if v == nil or v == json.null then return "" end
  if type(v) == "table" then return encode(v) end
  -- integral floats (every number on LuaJIT) print as integers
  if type(v) == "number" and (not math.type or math.type(v) == "float") and v == math.floor(v)
      and v > -2^53 and v < 2^53 then
    return string.format("%d", v)
  end
  return tostring(v)
end
M.cell = cell

local function csv_field(s)
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- new{ format, fields = { ... } | nil, limit = n | nil, stdout = file }
function M.new(opts)
  return setmetatable({
    format = opts.format or (M.isatty(1) and "table" or "json"),
    fields = opts.fields and #opts.fields > 0 and opts.fields or nil,
    limit = opts.limit,
    out = opts.stdout or io.stdout,
    count = 0,
  }, Writer)
end

function Writer:write(...)
  self.out:write(...)
end

-- Keep only the chosen fields (json/jsonl with --fields), in the order given.
local function project(obj, fields)
  if not fields or type(obj) ~= "table" then return obj end
  local out = {}
  for _, f in ipairs(fields) do
    local v = M.get(obj, f)
    if v ~= nil then out[f] = v end
  end
  return json.ordered(out, fields)
end

-- Columns for a table/csv: --fields, else the command's defaults, else the
-- first item's scalar keys (sorted).
local function columns_for(self, first, defaults)
  if self.fields then return self.fields end
  if defaults and #defaults > 0 then return defaults end
  local cols = {}
  if type(first) == "table" then
    for k, v in pairs(first) do
      if type(k) == "string" and type(v) ~= "table" and k ~= "_links" then cols[#cols + 1] = k end
    end
  end
  table.sort(cols)
  if #cols == 0 then cols = { "value" } end
  return cols
end

local function row_of(item, cols)
  local row = {}
  for i, c in ipairs(cols) do
    if c == "value" and type(item) ~= "table" then row[i] = cell(item) else row[i] = cell(M.get(item, c)) end
  end
  return row
end

-- Table cells go to a person's terminal: control characters never reach it raw
-- (errors.printable, as for error text). json, jsonl and csv stay what the API sent.
local function table_row(item, cols)
  local row = row_of(item, cols)
  for i, c in ipairs(row) do row[i] = errors.printable(c) end
  return row
end

local function draw_rows(self, rows, widths, header)
  local lines = {}
  local function line(cells)
    local parts = {}
    for i, c in ipairs(cells) do
      c = c:gsub("[\r\n\t]", " ")
      parts[i] = i < #cells and (c .. string.rep(" ", widths[i] - #c)) or c
    end
    lines[#lines + 1] = table.concat(parts, "  ")
  end
  if header then line(header) end
  for _, r in ipairs(rows) do line(r) end
  self:write(table.concat(lines, "\n"), "\n")
end

--- Print one result (an object, a string, true).
function Writer:object(obj, defaults)
  local f = self.format
  if type(obj) == "string" then -- raw answers (CSV exports, HTML previews)
    self:write(obj)
    if obj:sub(-1) ~= "\n" then self:write("\n") end
    return
  end
  if type(obj) ~= "table" then obj = { ok = obj } end
  if f == "json" or f == "jsonl" then
    self:write(encode(project(obj, self.fields)), "\n")
  elseif f == "csv" then
    local cols = columns_for(self, obj, defaults)
    local head = {}
    for i, c in ipairs(cols) do head[i] = csv_field(c) end
    self:write(table.concat(head, ","), "\n")
    local row = row_of(obj, cols)
    for i, c in ipairs(row) do row[i] = csv_field(c) end
    self:write(table.concat(row, ","), "\n")
  else -- a two-column table: field, value
    local keys = {}
    if self.fields then keys = self.fields else
      for k in pairs(obj) do if type(k) == "string" and k ~= "_links" then keys[#keys + 1] = k end end
      table.sort(keys)
      for i = 1, #obj do keys[#keys + 1] = tostring(i) end
    end
    local rows, width = {}, 0
    for _, k in ipairs(keys) do
      rows[#rows + 1] = { errors.printable(k), errors.printable(cell(M.get(obj, k))) }
      width = math.max(width, #rows[#rows][1]) -- as printed (escapes are longer)
    end
    if #rows == 0 then self:write("(empty)\n") return end
    draw_rows(self, rows, { width, 0 })
  end
end

--- Stream a collection: `iter` yields items (it may raise a ctct.Error).
-- Returns the number of items written.
function Writer:collection(iter, defaults)
  local f, limit, n = self.format, self.limit, 0
  local cols, block, widths = nil, {}, nil
  local function flush_table(final)
    if #block == 0 then
      if final and n == 0 then self:write("(none)\n") end
      return
    end
    local header = nil
    if not widths then
      -- Column names are the API's keys (or --fields): escaped like every cell.
      widths, header = {}, {}
      for i, c in ipairs(cols) do
        header[i] = errors.printable(c:upper())
        widths[i] = #header[i]
      end
    end
    for _, r in ipairs(block) do
      for i, c in ipairs(r) do widths[i] = math.min(math.max(widths[i], #c), 60) end
    end
    draw_rows(self, block, widths, header)
    block = {}
  end
  -- Never ask for an item past the limit: that may fetch (and fail on) another page.
  while not (limit and n >= limit) do
    local item = iter()
    if item == nil then break end
    n = n + 1
    if f == "json" then
      self:write(n > 1 and ",\n" or "[\n", encode(project(item, self.fields)))
    elseif f == "jsonl" then
      self:write(encode(project(item, self.fields)), "\n")
    elseif f == "csv" then
      if not cols then
        cols = columns_for(self, item, defaults)
        local head = {}
        for i, c in ipairs(cols) do head[i] = csv_field(c) end
        self:write(table.concat(head, ","), "\n")
      end
      local row = row_of(item, cols)
      for i, c in ipairs(row) do row[i] = csv_field(c) end
      self:write(table.concat(row, ","), "\n")
    else
      cols = cols or columns_for(self, item, defaults)
      block[#block + 1] = table_row(item, cols)
      if #block >= 200 then flush_table(false) end
    end
  end
  if f == "json" then self:write(n > 0 and "\n]\n" or "[]\n")
  elseif f == "table" then flush_table(true)
  elseif f == "csv" and n == 0 then
    cols = columns_for(self, nil, defaults)
    local head = {}
    for i, c in ipairs(cols) do head[i] = csv_field(c) end
    self:write(table.concat(head, ","), "\n")
  end
  self.count = n
  return n
end

--- An iterator over an array.
function M.array_iter(list)
  local i = 0
  return function()
    i = i + 1
    return list and list[i]
  end
end

return M
