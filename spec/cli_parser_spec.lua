-- ctct.cli.parser alone: the argparse definition of the command line, parsed
-- in-process with pparse (no subprocess, no server). What each leaf records
-- (_leaf, the group targets, options with their targets and conversions), the
-- errors argparse gives for unknown or malformed input, and the help and usage
-- text at each depth (top, group, leaf, a group inside a group).
local parser = require "ctct.cli.parser"
local core = require "ctct.core"
local exitcodes = require "ctct.cli.exitcodes"

-- Parse argv; returns the result table, or raises the parse error text (for has_error).
local function parse(p, argv)
  local ok, res = p:pparse(argv)
  if not ok then error(res, 0) end
  return res
end

-- The parse error for argv (fails the test when argv parses).
local function parse_error(p, argv)
  local ok, res = p:pparse(argv)
  assert.is_false(ok, "parsed: " .. table.concat(argv, " "))
  return res
end

-- Run fn with print, io.stdout and os.exit captured (argparse's -h prints and
-- exits, --version writes to io.stdout and exits). Returns what was printed
-- and the exit code (nil when fn did not exit).
local function capture_exit(fn)
  local printed, code = {}, nil
  local saved_print, saved_exit, saved_stdout = _G.print, os.exit, io.stdout
  _G.print = function(...)
    local t = {}
    for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
    printed[#printed + 1] = table.concat(t, "\t") .. "\n"
  end
  io.stdout = { write = function(self, ...) -- luacheck: ignore 122
    for i = 1, select("#", ...) do printed[#printed + 1] = tostring((select(i, ...))) end
    return self
  end }
  os.exit = function(c) -- luacheck: ignore 122
    code = c
    error("spec: exit", 0)
  end
  local ok, err = pcall(fn)
  _G.print, os.exit, io.stdout = saved_print, saved_exit, saved_stdout -- luacheck: ignore 122
  if not ok and code == nil then error(err, 0) end
  return table.concat(printed), code
end

describe("ctct.cli.parser", function()
  local p, commands

  before_each(function()
    p, commands = parser.build()
  end)

  describe("build", function()
    it("returns the parser and every command by its words", function()
      assert.equal("ctct", p._name)
      local words = {}
      for w in pairs(commands) do words[#words + 1] = w end
      table.sort(words)
      assert.equal(76, #words)
      assert.equal("activities", words[1])
      assert.equal("whoami", words[#words])
      for _, w in ipairs { "help", "login", "contacts import", "partner accounts plan", "partner webhooks test-send",
        "partner as", "custom-fields rename", "reports tracking", "completion", "quota" } do
        assert.is_table(commands[w], w)
      end
      assert.is_nil(commands["contacts list list"])
      assert.is_nil(commands["partner accounts plan set"])
      -- Nested commands are the same objects as the parent's subcommands.
      assert.equal("plan", commands["partner accounts plan"]._name)
    end)

    it("builds a new, independent parser each time", function()
      local p2, commands2 = parser.build()
      assert.are_not.equal(p, p2)
      assert.are_not.equal(commands["contacts list"], commands2["contacts list"])
      local n1, n2 = 0, 0
      for _ in pairs(commands) do n1 = n1 + 1 end
      for _ in pairs(commands2) do n2 = n2 + 1 end
      assert.equal(n1, n2)
      -- Parsing with one leaves the other's results alone.
      assert.equal("contacts.list", parse(p2, { "contacts", "list" })._leaf)
      assert.equal("whoami", parse(p, { "whoami" })._command)
    end)
  end)

  describe("commands", function()
    it("a top-level leaf records its handler and the command", function()
      local r = parse(p, { "whoami" })
      assert.equal("auth.whoami", r._leaf)
      assert.equal("whoami", r._command)
      assert.is_true(r.whoami)
      assert.is_nil(r.output)
      assert.is_nil(r.verbose)
      assert.equal("auth.logout", parse(p, { "logout" })._leaf)
    end)

    it("a group's subcommand records the group target and the leaf", function()
      local r = parse(p, { "contacts", "get", "c-1", "--include", "taggings,notes" })
      assert.equal("contacts.get", r._leaf)
      assert.equal("contacts", r._command)
      assert.equal("get", r._sub_contacts)
      assert.equal("c-1", r.id)
      assert.equal("taggings,notes", r.include)
      r = parse(p, { "profiles", "use", "work" })
      assert.equal("auth.profiles_use", r._leaf)
      assert.equal("use", r._sub_profiles)
      assert.equal("work", r.name)
    end)

    it("dashes in group names become underscores in the target; handler names use underscores", function()
      local r = parse(p, { "custom-fields", "create", "Birthday" })
      assert.equal("custom_fields.create", r._leaf)
      assert.equal("custom-fields", r._command)
      assert.equal("create", r._sub_custom_fields)
      assert.equal("Birthday", r.name)
      assert.equal("string", r.type) -- the default
      assert.equal("date", parse(p, { "custom-fields", "create", "B", "--type", "date" }).type)
      r = parse(p, { "campaigns", "test-send", "a-1", "x@example.com", "y@example.com" })
      assert.equal("campaigns.test_send", r._leaf)
      assert.equal("test-send", r._sub_campaigns)
      assert.same({ "x@example.com", "y@example.com" }, r.emails)
    end)

    it("three levels: partner accounts plan", function()
      local r = parse(p, { "partner", "accounts", "plan", "acc-1", "--set", "GOLD", "--billing-day", "3" })
      assert.equal("partner.accounts_plan", r._leaf)
      assert.equal("partner", r._command)
      assert.equal("accounts", r._sub_partner)
      assert.equal("plan", r._sub_accounts)
      assert.equal("acc-1", r.account)
      assert.equal("GOLD", r.set)
      assert.equal(3, r.billing_day)
      r = parse(p, { "partner", "webhooks", "subscribe", "2", "https://example.com/hook" })
      assert.equal("partner.webhooks_subscribe", r._leaf)
      assert.equal("webhooks", r._sub_partner)
      assert.equal("subscribe", r._sub_webhooks)
      assert.equal("2", r.topic)
      assert.equal("https://example.com/hook", r.url)
    end)

    it("the crud groups: list, get, create, rename, delete with their arguments", function()
      for _, g in ipairs { { "lists", "lists" }, { "tags", "tags" }, { "custom-fields", "custom_fields" },
        { "segments", "segments" } } do
        assert.equal(g[2] .. ".list", parse(p, { g[1], "list" })._leaf)
        assert.equal("7", parse(p, { g[1], "get", "7" }).id)
        assert.equal("N", parse(p, { g[1], "create", "N" }).name)
        local r = parse(p, { g[1], "rename", "7", "New" })
        assert.equal(g[2] .. ".rename", r._leaf)
        assert.equal("7", r.id)
        assert.equal("New", r.name)
        assert.equal(g[2] .. ".delete", parse(p, { g[1], "delete", "7" })._leaf)
      end
      local r = parse(p, { "lists", "create", "News", "--description", "d", "--favorite" })
      assert.equal("d", r.description)
      assert.is_true(r.favorite)
      assert.equal("{}", parse(p, { "segments", "create", "S", "--criteria", "{}" }).criteria)
    end)

    it("repeatable options collect lists under their targets, in order", function()
      local r = parse(p, { "contacts", "list", "--status", "active", "--status", "deleted", "--list", "a",
        "--list", "b", "--tag", "t", "--segment", "s", "--updated-after", "2024-01-01" })
      assert.equal("contacts.list", r._leaf)
      assert.same({ "active", "deleted" }, r.status)
      assert.same({ "a", "b" }, r.lists)
      assert.same({ "t" }, r.tags)
      assert.equal("s", r.segment_id)
      assert.equal("2024-01-01", r.updated_after)
      assert.is_true(r.list) -- the subcommand's own name, not the option
      assert.is_nil(r.segment)
      -- Not given: an empty list.
      r = parse(p, { "contacts", "list" })
      assert.same({}, r.lists)
      assert.same({}, r.tags)
      assert.same({}, r.status)
    end)

    it("contacts import: the file, --list, --no-wait and --timeout (a number)", function()
      local r = parse(p, { "-v", "-q", "contacts", "import", "people.csv", "--no-wait", "--list", "L1",
        "--list", "L2", "--timeout", "9" })
      assert.equal("contacts.import", r._leaf)
      assert.equal("people.csv", r.file)
      assert.same({ "L1", "L2" }, r.lists)
      assert.is_true(r.no_wait)
      assert.equal(9, r.timeout)
      assert.is_true(r.verbose)
      assert.is_true(r.quiet)
      assert.equal("-", parse(p, { "contacts", "import", "-" }).file)
    end)

    it("api and call: -f/-F and parameters collect in order under their targets", function()
      local r = parse(p, { "api", "POST", "/contacts", "-f", "a=b", "--raw-field", "c=d", "-F", "n=1",
        "--field", "m=true", "--body", "-" })
      assert.equal("raw.api", r._leaf)
      assert.equal("POST", r.method)
      assert.equal("/contacts", r.path)
      assert.same({ "a=b", "c=d" }, r.field)
      assert.same({ "n=1", "m=true" }, r.typed_field)
      assert.equal("-", r.body)
      assert.is_nil(r.paginate)
      r = parse(p, { "call", "getContacts", "limit=5", "status=all", "--paginate" })
      assert.equal("raw.call", r._leaf)
      assert.equal("getContacts", r.operation)
      assert.same({ "limit=5", "status=all" }, r.params)
      assert.is_true(r.paginate)
      assert.same({}, parse(p, { "call", "getAccount" }).params)
    end)

    it("partner as keeps everything after the account unparsed, options included", function()
      local r = parse(p, { "partner", "as", "acc-9", "contacts", "list", "--limit", "3", "-o", "csv" })
      assert.equal("partner.as", r._leaf)
      assert.equal("acc-9", r.account)
      assert.same({ "contacts", "list", "--limit", "3", "-o", "csv" }, r.rest)
      assert.is_nil(r.limit)
      assert.is_nil(r.output)
      -- --help reaches the handler as the account (it shows the help itself).
      r = parse(p, { "partner", "as", "--help" })
      assert.equal("--help", r.account)
      assert.same({}, r.rest)
    end)

    it("help takes any number of words; completion one of three shells", function()
      local r = parse(p, { "help", "contacts", "import" })
      assert.equal("raw.help", r._leaf)
      assert.same({ "contacts", "import" }, r.command)
      assert.equal("help", r._command)
      assert.same({}, parse(p, { "help" }).command)
      assert.equal("zsh", parse(p, { "completion", "zsh" }).shell)
    end)

    it("reports tracking takes one of its report kinds", function()
      local r = parse(p, { "reports", "tracking", "unique-opens", "act-1" })
      assert.equal("reports.tracking", r._leaf)
      assert.equal("unique-opens", r.kind)
      assert.equal("act-1", r.activity_id)
      assert.same({ "a", "b" }, parse(p, { "reports", "campaign-stats", "a", "b" }).ids)
    end)

    it("partner accounts: list --type lands in account_type, create collects -f/--field", function()
      local r = parse(p, { "partner", "accounts", "list", "--type", "managed" })
      assert.equal("managed", r.account_type)
      assert.is_nil(r.type)
      r = parse(p, { "partner", "accounts", "create", "-f", "a=1", "--field", "b=2" })
      assert.equal("partner.accounts_create", r._leaf)
      assert.same({ "a=1", "b=2" }, r.field)
      assert.equal(12, parse(p, { "partner", "accounts", "cancel", "x", "--reason", "12" }).reason)
    end)
  end)

  describe("global options", function()
    it("-o/--output, --fields, --limit, --profile, --base-url, before the command", function()
      local r = parse(p, { "-o", "csv", "--fields", "a,b", "--limit", "5", "--profile", "work",
        "--base-url", "http://127.0.0.1:1/v3", "lists", "list" })
      assert.equal("csv", r.output)
      assert.equal("a,b", r.fields)
      assert.equal(5, r.limit)
      assert.equal("work", r.profile)
      assert.equal("http://127.0.0.1:1/v3", r.base_url)
      assert.equal("lists.list", r._leaf)
    end)

    it("are accepted after the command too, in every spelling", function()
      local r = parse(p, { "contacts", "list", "-o", "json", "--limit", "2" })
      assert.equal("json", r.output)
      assert.equal(2, r.limit)
      assert.equal("jsonl", parse(p, { "--output=jsonl", "whoami" }).output)
      assert.equal("csv", parse(p, { "-ocsv", "whoami" }).output)
      assert.equal("table", parse(p, { "whoami", "--output", "table" }).output)
    end)

    it("--limit is a whole number, 0 included", function()
      assert.equal(0, parse(p, { "--limit=0", "whoami" }).limit)
      assert.equal(100, parse(p, { "--limit", "100", "whoami" }).limit)
      assert.equal("--limit must be a whole number", parse_error(p, { "--limit", "1.5", "whoami" }))
      assert.equal("--limit must be a whole number", parse_error(p, { "--limit", "ten", "whoami" }))
      assert.equal("--limit must be a whole number", parse_error(p, { "--limit=-3", "whoami" }))
    end)

    it("-o takes only the output formats", function()
      assert.equal("argument for option '-o' must be one of 'table', 'json', 'jsonl', 'csv'",
        parse_error(p, { "-o", "xml", "whoami" }))
    end)

    it("--version writes ctct's version and exits 0", function()
      local out, code = capture_exit(function() p:pparse { "--version" } end)
      assert.equal("ctct " .. core.VERSION .. "\n", out)
      assert.equal(0, code)
    end)
  end)

  describe("errors", function()
    it("unknown options, at the top and inside a command", function()
      assert.equal("unknown option '--bogus'", parse_error(p, { "contacts", "list", "--bogus" }))
      assert.equal("unknown option '--colour'", parse_error(p, { "--colour", "whoami" }))
      -- No prefix matching: an abbreviation is unknown.
      assert.equal("unknown option '--lim'", parse_error(p, { "contacts", "list", "--lim", "2" }))
      -- An option of another command is unknown here.
      assert.equal("unknown option '--description'", parse_error(p, { "lists", "list", "--description", "x" }))
      assert.equal("unknown option '-x'\nDid you mean one of these: '-h' '-o' '-q' '-v'?",
        parse_error(p, { "contacts", "-x" }))
    end)

    it("unknown commands, with a suggestion when one is near", function()
      assert.equal("unknown command 'lst'\nDid you mean 'list'?", parse_error(p, { "contacts", "lst" }))
      assert.equal("unknown command 'nope'", parse_error(p, { "nope" }))
    end)

    it("missing commands and arguments, too many arguments", function()
      assert.equal("a command is required", parse_error(p, {}))
      assert.equal("a command is required", parse_error(p, { "contacts" }))
      assert.equal("a command is required", parse_error(p, { "partner", "accounts" }))
      assert.equal("missing argument 'id'", parse_error(p, { "lists", "get" }))
      assert.equal("missing argument 'file'", parse_error(p, { "contacts", "import" }))
      assert.equal("missing argument 'emails'", parse_error(p, { "campaigns", "test-send", "a-1" }))
      assert.equal("missing argument 'ids'", parse_error(p, { "reports", "campaign-stats" }))
      assert.equal("missing argument 'shell'", parse_error(p, { "completion" }))
      assert.equal("too many arguments", parse_error(p, { "whoami", "extra" }))
    end)

    it("options without their argument, bad choices, bad numbers", function()
      assert.equal("option '--status' requires an argument", parse_error(p, { "contacts", "list", "--status" }))
      assert.equal("option '--criteria' requires an argument", parse_error(p, { "segments", "create", "S",
        "--criteria" }))
      assert.equal("option '-o' requires an argument", parse_error(p, { "-o" }))
      assert.equal("argument 'shell' must be one of 'bash', 'zsh', 'fish'", parse_error(p, { "completion", "tcsh" }))
      assert.equal("argument 'kind' must be one of 'sends', 'opens', 'unique-opens', 'clicks', 'forwards', " ..
        "'optouts', 'bounces', 'did-not-opens'", parse_error(p, { "reports", "tracking", "nope", "a-1" }))
      assert.equal("malformed argument 'abc'", parse_error(p, { "login", "--timeout", "abc" }))
    end)

    it("parse errors reach ctct.cli.parse as usage errors (exit 2) with argparse's hint", function()
      local cli = require "ctct.cli"
      local ok, e = pcall(cli.parse, p, { "contacts", "lst" })
      assert.is_false(ok)
      assert.is_true(exitcodes.is_usage(e))
      assert.equal("unknown command 'lst'", e.message)
      assert.equal("Did you mean 'list'?", e.hint)
      assert.equal(exitcodes.USAGE, exitcodes.code(e))
      ok, e = pcall(cli.parse, p, { "nope" })
      assert.is_false(ok)
      assert.equal("see ctct --help", e.hint)
      assert.equal("contacts.get", cli.parse(p, { "contacts", "get", "1" })._leaf)
    end)
  end)

  describe("help", function()
    it("top level: usage, description, every option and command, exit codes and environment", function()
      local h = p:get_help()
      assert.equal("Usage: ctct [-h] [--version] [-o FORMAT] [--fields A,B,C] [--limit N]\n" ..
        "       [--profile NAME] [--base-url URL] [-v] [-q] <command> ...", p:get_usage())
      assert.equal(1, h:find(p:get_usage(), 1, true))
      assert.truthy(h:find("\n\nConstant Contact from the command line: contacts, lists, campaigns, reports, " ..
        "partner accounts, and\nany of the API's 128 operations.\n", 1, true))
      for _, line in ipairs {
        "   -h, --help            Show this help message and exit.",
        "   --version             Show ctct's version and exit",
        "   --limit N             Show at most N items of a collection",
        "   --profile NAME        Profile (account) to use; also CTCT_PROFILE",
        "   -q, --quiet           No progress bars or notes on stderr",
        "   help                  Show help for a command, at any depth: ctct help contacts import",
        "   contacts              Contacts",
        "   custom-fields         Custom contact fields",
        "   partner               Technology partners: client accounts, webhooks, acting as an account",
        "   completion            Print a shell completion script",
      } do
        assert.truthy(h:find("\n" .. line .. "\n", 1, true), line)
      end
      -- Subcommands of groups are not listed at the top.
      assert.is_nil(h:find("   import ", 1, true))
      assert.is_nil(h:find("Import a CSV file", 1, true))
      -- The epilog: the exit codes, then the environment.
      assert.truthy(h:find("\n\n" .. exitcodes.HELP .. "\n\nEnvironment: CTCT_PROFILE, CTCT_ACCESS_TOKEN", 1, true))
      assert.equal("Profiles and tokens live in $XDG_CONFIG_HOME/ctct/ (mode 0600).", h:match("[^\n]+$"))
      -- help_max_width(100): no line longer.
      for line in h:gmatch("[^\n]+") do assert.is_true(#line <= 100, line) end
    end)

    it("a group: its own usage and its subcommands only", function()
      local h = commands["contacts"]:get_help()
      assert.equal("Usage: ctct contacts [-h] <command> ...\n\nContacts\n\nOptions:\n" ..
        "   -h, --help            Show this help message and exit.\n\nCommands:\n" ..
        "   list                  List contacts (streams every page)\n" ..
        "   get                   Show one contact\n" ..
        "   create                Create a contact\n" ..
        "   update                Change a contact (fields given, or a whole --body)\n" ..
        "   delete                Delete a contact\n" ..
        "   import                Import a CSV file (a header with email and/or sms_number)\n" ..
        "   export                Export contacts to a CSV file", h)
      h = commands["partner"]:get_help()
      assert.equal("Usage: ctct partner [-h] <command> ...", commands["partner"]:get_usage())
      assert.truthy(h:find("\n   accounts              Client accounts\n", 1, true))
      assert.truthy(h:find("\n   webhooks              Partner webhook subscriptions (topics 1-4)\n", 1, true))
      assert.truthy(h:find("\n   as                    Run any ctct command on a managed client account", 1, true))
      assert.is_nil(h:find("plan", 1, true))
    end)

    it("a leaf: usage with its options and arguments, then each described", function()
      assert.equal("Usage: ctct contacts import [-h] [--list <list>] [--no-wait]\n" ..
        "       [--timeout <timeout>] <file>\n\n" ..
        "Import a CSV file (a header with email and/or sms_number)\n\n" ..
        "Arguments:\n" ..
        "   file                  CSV file, or - for stdin\n\n" ..
        "Options:\n" ..
        "   -h, --help            Show this help message and exit.\n" ..
        "   --list <list>         List id to add the contacts to (repeatable; the API requires one)\n" ..
        "   --no-wait             Return when the import is accepted, without waiting\n" ..
        "   --timeout <timeout>   Seconds to wait (default 600)", commands["contacts import"]:get_help())
      assert.equal("Usage: ctct completion [-h] {bash,zsh,fish}", commands["completion"]:get_usage())
      assert.equal("Usage: ctct help [-h] [<command>] ...", commands["help"]:get_usage())
      assert.equal("Usage: ctct partner as [-h] <account> [<rest>] ...", commands["partner as"]:get_usage())
      local api = commands["api"]:get_help()
      assert.truthy(api:find("\n   --body FILE           JSON body from FILE, or - for stdin\n", 1, true))
      assert.truthy(api:find("\n   method                GET, POST, PUT, PATCH, DELETE\n", 1, true))
    end)

    it("a leaf two groups deep", function()
      local h = commands["partner accounts plan"]:get_help()
      assert.equal("Usage: ctct partner accounts plan [-h] [--set <set>]\n" ..
        "       [--billing-day <billing_day>] <account>", commands["partner accounts plan"]:get_usage())
      assert.truthy(h:find("\n\nShow, or with --set change, the billing plan\n\n", 1, true))
      assert.truthy(h:find("\nArguments:\n   account               encoded_account_id\n", 1, true))
      assert.truthy(h:find("\n   --set <set>           Plan type: TRIAL, BRONZE, SILVER, GOLD, ...\n", 1, true))
      assert.truthy(h:find("\n   --billing-day <billing_day>\n                         Billing day of month", 1,
        true))
      assert.equal("Usage: ctct partner accounts [-h] <command> ...", commands["partner accounts"]:get_usage())
    end)

    it("-h at each depth prints that command's help and exits 0", function()
      for _, argv in ipairs { { "-h" }, { "contacts", "-h" }, { "contacts", "import", "--help" },
        { "partner", "accounts", "-h" }, { "partner", "accounts", "plan", "-h" } } do
        local words = table.concat(argv, " ", 1, #argv - 1)
        local want = words == "" and p or commands[words]
        local out, code = capture_exit(function() p:pparse(argv) end)
        assert.equal(0, code, words)
        assert.equal(want:get_help() .. "\n", out)
      end
    end)
  end)
end)
