-- `ctct completion bash|zsh|fish`: each script loaded into the real shell, which
-- is asked to complete partial command lines at every depth (bash: the completion
-- function with COMP_WORDS set; zsh: an interactive zsh in a zpty, sent a Tab;
-- fish: `complete -C`).
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

local CASES = {
  { line = "ctct con", want = "contacts" },
  { line = "ctct contacts im", want = "import" },
  { line = "ctct partner acc", want = "accounts" },
  { line = "ctct contacts import --no-w", want = "--no-wait" },
}

describe("shell completion #once", function()
  local root = sandbox.repo_root()
  local dir

  local function script(shell, file)
    local out, code = run("cd " .. quote(root) .. " && lua5.4 bin/ctct completion " .. shell .. " > " ..
      quote(dir .. "/" .. file) .. " 2>&1")
    assert.equal(0, code, out)
  end

  setup(function()
    dir = run("mktemp -d"):gsub("%s+$", "")
  end)
  teardown(function() if dir then run("rm -rf " .. quote(dir)) end end)

  it("bash completes commands, subcommands and options", function()
    script("bash", "ctct.bash")
    for _, c in ipairs(CASES) do
      local prog = 'source ' .. quote(dir .. "/ctct.bash") .. '\n' ..
        'f=$(complete -p ctct | sed -n "s/.*-F \\([^ ]*\\).*/\\1/p")\n' ..
        'line=' .. quote(c.line) .. '\n' ..
        'read -ra COMP_WORDS <<< "$line"\n' ..
        'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$line"; COMP_POINT=${#line}; COMPREPLY=()\n' ..
        '"$f" ctct "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"\n' ..
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
      sandbox.write_file(dir .. "/run.bash", prog)
      local out, code = run("bash " .. quote(dir .. "/run.bash") .. " 2>&1")
      assert.equal(0, code, out)
      assert.matches("\n?" .. c.want:gsub("%-", "%%-") .. "\n", out, 1, false)
    end
  end)

  it("zsh completes them in an interactive shell (zpty, Tab)", function()
    script("zsh", "_ctct")
    for _, c in ipairs(CASES) do
      local prog = table.concat({
        "zmodload zsh/zpty",
        "zpty z zsh -f -i",
        "zpty -w z 'PS1=\"P> \"; fpath=(" .. dir .. " $fpath); autoload -U compinit; compinit -u -D; print RE\"\"ADY'",
        "zpty -r -m z out '*READY*' || { print 'zsh did not start'; exit 1 }",
        "zpty -w -n z " .. quote(c.line) .. "$'\\t'",
        "sleep 1",
        "all=''",
        "while zpty -r -t z chunk; do all+=$chunk; done",
        "print -r -- \"$all\"",
        "zpty -d z",
      }, "\n") .. "\n"
      sandbox.write_file(dir .. "/run.zsh", prog)
      local out, code = run("timeout 20 zsh -f " .. quote(dir .. "/run.zsh") .. " 2>&1")
      assert.equal(0, code, out)
      local plain = out:gsub("\27%[[%d;?]*[%a]", ""):gsub("[\r\b]", "")
      local prefix = c.line:match("^(.* )")
      assert.matches(prefix:gsub("%p", "%%%0") .. c.want:gsub("%p", "%%%0"), plain)
    end
  end)

  it("fish completes them (complete -C)", function()
    script("fish", "ctct.fish")
    for _, c in ipairs(CASES) do
      local out, code = run("fish -c " .. quote("source " .. dir .. "/ctct.fish; complete -C " .. quote(c.line)) ..
        " 2>&1")
      assert.equal(0, code, out)
      assert.matches("\n?" .. c.want:gsub("%-", "%%-") .. "\t", out)
    end
  end)
end)
