-- Busted output handler: the usual terminal report, plus this run's counts
-- appended to $CTCT_COUNTS_FILE ("passed failed errors pending") so spec/run
-- can add up the Lua 5.4 and LuaJIT runs into one final line.
return function(options)
  local busted = require "busted"
  local handler = require("busted.outputHandlers.utfTerminal")(options)
  busted.subscribe({ "suite", "end" }, function()
    local path = os.getenv("CTCT_COUNTS_FILE")
    if path then
      local f = assert(io.open(path, "a"))
      f:write(string.format("%d %d %d %d\n", handler.successesCount, handler.failuresCount,
        handler.errorsCount, handler.pendingsCount))
      f:close()
    end
    return nil, true
  end)
  return handler
end
