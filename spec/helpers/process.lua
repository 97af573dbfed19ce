-- Test helper: background servers the specs start (Prism, oidc-provider), stopped
-- by their own pid, never by name.
--
--   local process = require "spec.helpers.process"
--   process.alive(pid, is_ours)           -- is_ours: a shell test on $p (cmdline check)
--   process.stop(pid, is_ours, seconds)   -- TERM, then KILL after `seconds`; true when gone
--   process.stop_all(started)             -- calls :stop() on every key of the set
--
-- is_ours guards against pid reuse and treats a zombie (exited, not yet reaped by a
-- slow init; its cmdline is empty) as gone.
local sandbox = require "spec.helpers.sandbox"

local run = sandbox.run

local process = {}

function process.alive(pid, is_ours)
  if not pid then return false end
  local _, code = run("p=" .. math.floor(pid) .. "; " .. is_ours)
  return code == 0
end

function process.stop(pid, is_ours, seconds)
  if not pid then return true end
  local ticks = math.floor((seconds or 5) / 0.02)
  local _, code = run(table.concat({
    "p=" .. math.floor(pid),
    "if " .. is_ours .. "; then",
    "  kill -TERM $p 2>/dev/null",
    "  i=0; while " .. is_ours .. " && [ $i -lt " .. ticks .. " ]; do sleep 0.02; i=$((i+1)); done",
    "  if " .. is_ours .. "; then kill -KILL $p 2>/dev/null; sleep 0.1; fi",
    "fi",
    "! " .. is_ours,
  }, "\n"))
  return code == 0
end

function process.stop_all(started)
  local list = {}
  for server in pairs(started) do list[#list + 1] = server end
  for _, server in ipairs(list) do server:stop() end
end

return process
