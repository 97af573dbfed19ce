--- ctct.cli.progress: a progress bar on stderr, drawn only when stderr is a
-- terminal (and --quiet is not given), so pipes and log files stay clean.
--
--   local bar = progress.new{ label = "import", enabled = true }
--   bar:update(40)   -- percent
--   bar:finish("completed")
local M = {}

local Bar = {}
Bar.__index = Bar

M.WIDTH = 30

function M.new(opts)
  return setmetatable({ label = opts.label or "", enabled = opts.enabled and true or false,
                        out = opts.out or io.stderr, last = nil }, Bar)
end

function Bar:draw(percent, note)
  if not self.enabled then return end
  percent = math.max(0, math.min(100, math.floor(tonumber(percent) or 0)))
  local filled = math.floor(percent * M.WIDTH / 100)
  local line = ("%s [%s%s] %3d%%%s"):format(self.label, string.rep("#", filled),
    string.rep("-", M.WIDTH - filled), percent, note and ("  " .. note) or "")
  self.out:write("\r", line, "\027[K")
  self.out:flush()
  self.last = percent
end

function Bar:update(percent, note)
  self:draw(percent, note)
end

function Bar:finish(note)
  if not self.enabled then return end
  self:draw(self.last or 100, note)
  self.out:write("\n")
  self.out:flush()
end

return M
