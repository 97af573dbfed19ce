-- json_replay.lua - run fuzz/json_check.lua over files (a corpus, seeds, a
-- crash) with a regular ctct.core, outside libFuzzer: under valgrind it checks
-- what ASan cannot, the reads of the uninstrumented libsimdjson.so.
--   valgrind -q lua5.4 -e "package.cpath='build/5.4/?.so;'..package.cpath" \
--     fuzz/json_replay.lua build/fuzz/corpus/json/* fuzz/seeds/json/*
local core = require "ctct.core"
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local check = assert(loadfile(here .. "/json_check.lua"))(core)
local failed = 0
for i = 1, #arg do
  local f = assert(io.open(arg[i], "rb"))
  local text = f:read("a")
  f:close()
  local ok, why = pcall(check, text)
  if not ok or why then
    failed = failed + 1
    io.stderr:write(arg[i], ": ", tostring(why), "\n")
  end
end
print(("json replay: %d inputs, %d failed"):format(#arg, failed))
os.exit(failed == 0 and 0 or 1, true) -- close the state: nothing left for valgrind to call lost
