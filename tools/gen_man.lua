-- Writes the man pages of the ctct command into DIR: ctct(1) and one page per
-- top-level command (ctct-contacts(1), ...), from the CLI's own --help and
-- --version through help2man (Debian's help2man), so they cannot drift from
-- the command table (lua/ctct/cli/parser.lua). Subcommands (contacts import)
-- are sections of their command's page.
--   lua5.4 tools/gen_man.lua DIR        (make man; tools/lua-env.sh paths)
local parser_mod = require "ctct.cli.parser"
local core = require "ctct.core"

local out_dir = assert(arg[1], "usage: gen_man.lua DIR")
if out_dir:sub(1, 1) ~= "/" then out_dir = assert(os.getenv("PWD")) .. "/" .. out_dir end
local repo = assert(os.getenv("CTCT_REPO"), "CTCT_REPO must name the checkout")
-- The date in every page: the release's (debian/changelog), not today's.
local epoch = assert(os.getenv("SOURCE_DATE_EPOCH"), "SOURCE_DATE_EPOCH must be set")

local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
end

-- roff: a line may not start with . or ', and \ is the escape character.
local function roff_text(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do
    line = line:gsub("\\", "\\e")
    if line:match("^[.']") then line = "\\&" .. line end
    lines[#lines + 1] = line
  end
  return table.concat(lines, "\n")
end

local _, commands = parser_mod.build()
local top = {}
for words in pairs(commands) do
  if not words:find(" ", 1, true) then top[#top + 1] = words end
end
table.sort(top)

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. sh(tmp)))

local function help2man(name, argv_prefix, description, include)
  local wrapper = tmp .. "/" .. name
  write(wrapper, "#!/bin/sh\nexec lua5.4 " .. sh(repo .. "/bin/ctct") .. argv_prefix .. ' "$@"\n')
  assert(os.execute("chmod +x " .. sh(wrapper)))
  local inc = tmp .. "/" .. name .. ".h2m"
  write(inc, include)
  local cmd = "cd " .. sh(tmp) .. " && SOURCE_DATE_EPOCH=" .. sh(epoch) .. " help2man --no-info" ..
    " --version-string=" .. sh(core.VERSION) .. " --source=" .. sh("ctct " .. core.VERSION) ..
    " --name=" .. sh(description) .. " --include=" .. sh(inc) ..
    " --output=" .. sh(out_dir .. "/" .. name .. ".1") .. " ./" .. name
  assert(os.execute(cmd), "help2man failed for " .. name)
end

local see_also = {}
for _, words in ipairs(top) do see_also[#see_also + 1] = "\\fBctct-" .. words .. "\\fR(1)" end

-- ctct(1): the whole tool.
help2man("ctct", "", "Constant Contact from the command line",
  "[SEE ALSO]\n" .. table.concat(see_also, ",\n") .. "\n")

-- ctct-COMMAND(1): the command, then each of its subcommands at any depth.
for _, words in ipairs(top) do
  local sub = {}
  for w in pairs(commands) do
    if w:sub(1, #words + 1) == words .. " " then sub[#sub + 1] = w end
  end
  table.sort(sub)
  local parts = {}
  if #sub > 0 then
    parts[#parts + 1] = "[SUBCOMMANDS]"
    for _, w in ipairs(sub) do
      parts[#parts + 1] = '.SS "ctct ' .. w .. '"\n.nf\n' .. roff_text(commands[w]:get_help()) .. "\n.fi"
    end
  end
  parts[#parts + 1] = "[SEE ALSO]\n\\fBctct\\fR(1)"
  local c = commands[words]
  help2man("ctct-" .. words, " " .. words, c._description or words, table.concat(parts, "\n") .. "\n")
end

assert(os.execute("rm -rf " .. sh(tmp)))
io.write("gen_man: ", #top + 1, " pages in ", out_dir, "\n")
