--- ctct.cli.parser: the one argparse definition of the command line (help on
-- every level, the completion scripts and the man pages are generated from it).
--
-- Each leaf command records its handler name ("contacts.list") in args._leaf.
-- build() returns the parser and every command by its words ("contacts import").
local argparse = require "argparse"
local core = require "ctct.core"
local exitcodes = require "ctct.cli.exitcodes"
local output = require "ctct.cli.output"

local M = {}

-- The commands of the parser being built, by their words; and each command's words.
local commands, words_of

local function command(parent, name, description)
  local c = parent:command(name, description)
  local parent_words = words_of[parent]
  local words = parent_words and parent_words .. " " .. name or name
  words_of[c] = words
  commands[words] = c
  return c
end

local function leaf(parent, name, description, handler)
  local c = command(parent, name, description)
  c:action(function(r) r._leaf = handler end)
  return c
end

local function group(parent, name, description)
  local g = command(parent, name, description)
  g:command_target("_sub_" .. name:gsub("%-", "_"))
  return g
end

-- The usual five for a simple collection: list, get, create, rename, delete.
local function crud(g, noun, id, handler_prefix, create_arg)
  leaf(g, "list", "List " .. noun .. "s (streams every page)", handler_prefix .. ".list")
  leaf(g, "get", "Show one " .. noun, handler_prefix .. ".get"):argument("id", id)
  local create = leaf(g, "create", "Create a " .. noun, handler_prefix .. ".create")
  create:argument("name", create_arg)
  local rename = leaf(g, "rename", "Rename a " .. noun, handler_prefix .. ".rename")
  rename:argument("id", id)
  rename:argument("name", "The new " .. create_arg:lower())
  leaf(g, "delete", "Delete a " .. noun, handler_prefix .. ".delete"):argument("id", id)
  return create
end

local function body_option(c)
  c:option("--body", "JSON body from FILE, or - for stdin"):argname("FILE")
end

function M.build()
  commands, words_of = {}, {}
  local p = argparse("ctct", "Constant Contact from the command line: contacts, lists, campaigns, reports, " ..
    "partner accounts, and any of the API's 128 operations.")
  p:epilog(exitcodes.HELP .. "\n\n" .. [[
Environment: CTCT_PROFILE, CTCT_ACCESS_TOKEN (CI and cron: no login, no refresh),
CTCT_CLIENT_ID, CTCT_CLIENT_SECRET, CTCT_BASE_URL, CTCT_AUTHZ_URL; partners:
CTCT_PARTNER_CLIENT_ID, CTCT_PARTNER_SECRET, CTCT_PARTNER_API_KEY, CTCT_PARTNER_TOKEN_URL.
Profiles and tokens live in $XDG_CONFIG_HOME/ctct/ (mode 0600).]])
  p:help_max_width(100)
  p:command_target("_command")
  -- Like argparse's own help flag: print, exit 0 (help2man reads it for the man page).
  p:flag("--version", "Show ctct's version and exit"):action(function()
    io.stdout:write("ctct ", core.VERSION, "\n")
    os.exit(0)
  end)
  -- `ctct help contacts import`: help at any depth (argparse's help command knows one level).
  leaf(p, "help", "Show help for a command, at any depth: ctct help contacts import", "raw.help")
    :argument("command", "The command's words"):args("*")

  p:option("-o --output", "Output format: table (default on a terminal), json (default otherwise), jsonl, csv")
    :choices(output.FORMATS):argname("FORMAT")
  p:option("--fields", "Columns or fields to show, comma-separated (dotted paths: email_address.address)")
    :argname("A,B,C")
  p:option("--limit", "Show at most N items of a collection"):argname("N"):convert(function(v)
    local n = tonumber(v)
    if not n or n < 0 or n ~= math.floor(n) then return nil, "--limit must be a whole number" end
    return n
  end)
  p:option("--profile", "Profile (account) to use; also CTCT_PROFILE"):argname("NAME")
  p:option("--base-url", "API base URL (also CTCT_BASE_URL)"):argname("URL")
  p:flag("-v --verbose", "Log requests (method, path, status, time) on stderr; never tokens or queries")
  p:flag("-q --quiet", "No progress bars or notes on stderr")

  -- Logging in -----------------------------------------------------------------------
  local login = leaf(p, "login", "Log in: the device flow (code to enter on any device), or --browser", "auth.login")
  login:flag("--browser", "Use the browser and a loopback redirect (authorization code + PKCE)")
  login:option("--client-id", "Your application's API key (also CTCT_CLIENT_ID)"):argname("ID")
  login:option("--scope", "Scopes, comma-separated (default: account_read,account_update,contact_data," ..
    "campaign_data,offline_access)"):argname("A,B")
  login:option("--timeout", "Seconds to wait for the approval (default 600)"):argname("S"):convert(tonumber)
  leaf(p, "logout", "Revoke the profile's tokens and forget them", "auth.logout")
  leaf(p, "whoami", "Show what the token says: scopes, expiry, user (no network call)", "auth.whoami")
  local profiles = group(p, "profiles", "Profiles (one per account)")
  leaf(profiles, "list", "List the profiles", "auth.profiles_list")
  leaf(profiles, "use", "Make a profile the default", "auth.profiles_use"):argument("name", "Profile")
  leaf(profiles, "delete", "Delete a profile and its tokens", "auth.profiles_delete"):argument("name", "Profile")

  -- Contacts ----------------------------------------------------------------------------
  local contacts = group(p, "contacts", "Contacts")
  local cl = leaf(contacts, "list", "List contacts (streams every page)", "contacts.list")
  cl:option("--status", "Status filter: all, active, deleted, not_set, pending_confirmation, temp_hold, " ..
    "unsubscribed"):count("*")
  cl:option("--email", "Exact email address")
  cl:option("--list", "List id (repeatable)"):count("*"):target("lists")
  cl:option("--tag", "Tag id (repeatable)"):count("*"):target("tags")
  cl:option("--segment", "Segment id"):target("segment_id")
  cl:option("--include", "Subresources: custom_fields,list_memberships,phone_numbers,street_addresses,taggings,notes")
  cl:option("--updated-after", "ISO 8601 date-time")
  cl:option("--created-after", "ISO 8601 date-time")
  local cg = leaf(contacts, "get", "Show one contact", "contacts.get")
  cg:argument("id", "contact_id")
  cg:option("--include", "Subresources, comma-separated")
  local function contact_fields(c)
    c:option("--email", "Email address")
    c:option("--first-name")
    c:option("--last-name")
    c:option("--job-title")
    c:option("--company-name")
    c:option("--list", "List id to add the contact to (repeatable)"):count("*"):target("lists")
    body_option(c)
  end
  contact_fields(leaf(contacts, "create", "Create a contact", "contacts.create"))
  local cu = leaf(contacts, "update", "Change a contact (fields given, or a whole --body)", "contacts.update")
  cu:argument("id", "contact_id")
  contact_fields(cu)
  leaf(contacts, "delete", "Delete a contact", "contacts.delete"):argument("id", "contact_id")
  local ci = leaf(contacts, "import", "Import a CSV file (a header with email and/or sms_number)", "contacts.import")
  ci:argument("file", "CSV file, or - for stdin")
  ci:option("--list", "List id to add the contacts to (repeatable; the API requires one)"):count("*"):target("lists")
  ci:flag("--no-wait", "Return when the import is accepted, without waiting")
  ci:option("--timeout", "Seconds to wait (default 600)"):convert(tonumber)
  local ce = leaf(contacts, "export", "Export contacts to a CSV file", "contacts.export")
  ce:argument("file", "Where to write the CSV")
  ce:option("--list", "Only these lists (repeatable)"):count("*"):target("lists")
  ce:option("--segment", "Only this segment"):target("segment_id")
  ce:option("--status", "Only this status (e.g. active)")
  ce:option("--columns", "Contact fields to export, comma-separated")
  ce:option("--timeout", "Seconds to wait (default 600)"):convert(tonumber)

  -- Lists, tags, custom fields, segments --------------------------------------------------
  local lists = group(p, "lists", "Contact lists")
  local lc = crud(lists, "list", "list_id", "lists", "Name")
  lc:option("--description")
  lc:flag("--favorite")
  local tags = group(p, "tags", "Tags")
  crud(tags, "tag", "tag_id", "tags", "Name")
  local cf = group(p, "custom-fields", "Custom contact fields")
  crud(cf, "custom field", "custom_field_id", "custom_fields", "Label")
    :option("--type", "string or date"):default("string")
  local seg = group(p, "segments", "Segments")
  crud(seg, "segment", "segment_id", "segments", "Name")
    :option("--criteria", "Segment criteria: JSON text, or @FILE"):args(1)

  -- Campaigns -----------------------------------------------------------------------------
  local camp = group(p, "campaigns", "Email campaigns")
  leaf(camp, "list", "List campaigns", "campaigns.list")
  leaf(camp, "get", "Show a campaign and its activities", "campaigns.get"):argument("id", "campaign_id")
  local cc = leaf(camp, "create", "Create a custom-code email campaign", "campaigns.create")
  cc:option("--name"):args(1)
  cc:option("--subject"):args(1)
  cc:option("--from-name"):args(1)
  cc:option("--from-email", "A confirmed account address"):args(1)
  cc:option("--reply-to", "Reply-to address (default: --from-email)")
  cc:option("--html", "HTML content: @FILE, or the text itself")
  body_option(cc)
  local cs = leaf(camp, "schedule", "Schedule a campaign activity", "campaigns.schedule")
  cs:argument("activity_id", "campaign_activity_id")
  cs:option("--at", "ISO 8601 date-time, or now"):args(1)
  cs:option("--list", "Send to this list (repeatable; sets the activity's contact_list_ids first)")
    :count("*"):target("lists")
  leaf(camp, "unschedule", "Unschedule a campaign activity", "campaigns.unschedule")
    :argument("activity_id", "campaign_activity_id")
  local ct = leaf(camp, "test-send", "Send a test of an activity (up to 5 addresses)", "campaigns.test_send")
  ct:argument("activity_id", "campaign_activity_id")
  ct:argument("emails", "Recipients"):args("+")
  ct:option("--message", "Personal message")
  leaf(camp, "preview", "The HTML preview of an activity", "campaigns.preview")
    :argument("activity_id", "campaign_activity_id")

  -- Reports -------------------------------------------------------------------------------
  local rep = group(p, "reports", "Reports: campaign stats, tracking reports, contact activity")
  leaf(rep, "campaign-stats", "Stats of campaigns", "reports.campaign_stats"):argument("ids", "campaign_id"):args("+")
  leaf(rep, "activity-stats", "Stats of campaign activities", "reports.activity_stats")
    :argument("ids", "campaign_activity_id"):args("+")
  leaf(rep, "summaries", "Summaries of every sent email campaign", "reports.summaries")
  local tr = leaf(rep, "tracking", "A tracking report of a campaign activity", "reports.tracking")
  tr:argument("kind", "Report"):choices { "sends", "opens", "unique-opens", "clicks", "forwards", "optouts",
    "bounces", "did-not-opens" }
  tr:argument("activity_id", "campaign_activity_id")
  leaf(rep, "links", "Clicks per link of a campaign activity", "reports.links")
    :argument("activity_id", "campaign_activity_id")
  leaf(rep, "contact-activity", "A contact's tracking activities", "reports.contact_activity")
    :argument("id", "contact_id")

  -- Bulk activities -----------------------------------------------------------------------
  local act = group(p, "activities", "Bulk activities (imports, exports, deletes)")
  local al = leaf(act, "list", "List activities", "activities.list")
  al:option("--state", "initialized, processing, completed, cancelled, failed, timed_out")
  leaf(act, "get", "Show an activity", "activities.get"):argument("id", "activity_id")
  local aw = leaf(act, "wait", "Wait until an activity ends (a progress bar on a terminal)", "activities.wait")
  aw:argument("id", "activity_id")
  aw:option("--timeout", "Seconds (default 600)"):convert(tonumber)

  -- Partners ------------------------------------------------------------------------------
  local partner = group(p, "partner", "Technology partners: client accounts, webhooks, acting as an account")
  local pacc = group(partner, "accounts", "Client accounts")
  local pal = leaf(pacc, "list", "List client accounts", "partner.accounts_list")
  pal:option("--type", "all, managed or unmanaged"):target("account_type")
  local pac = leaf(pacc, "create", "Provision a client account (fields of the spec's Provision)",
    "partner.accounts_create")
  body_option(pac)
  pac:option("-f --field", "A field, name=value (repeatable)"):count("*"):target("field")
  local pap = leaf(pacc, "plan", "Show, or with --set change, the billing plan", "partner.accounts_plan")
  pap:argument("account", "encoded_account_id")
  pap:option("--set", "Plan type: TRIAL, BRONZE, SILVER, GOLD, ...")
  pap:option("--billing-day", "Billing day of month"):convert(tonumber)
  local pcancel = leaf(pacc, "cancel", "Cancel a client account", "partner.accounts_cancel")
  pcancel:argument("account", "encoded_account_id")
  pcancel:option("--reason", "reason_id (1, 2, 3, 11, 12, 14, 21, 27, 30)"):convert(tonumber)
  local pwh = group(partner, "webhooks", "Partner webhook subscriptions (topics 1-4)")
  leaf(pwh, "list", "Every topic and its subscription", "partner.webhooks_list")
  leaf(pwh, "get", "One topic", "partner.webhooks_get"):argument("topic", "topic_id")
  local psub = leaf(pwh, "subscribe", "Subscribe a callback URL to a topic", "partner.webhooks_subscribe")
  psub:argument("topic", "topic_id")
  psub:argument("url", "Callback URL")
  leaf(pwh, "unsubscribe", "Delete a topic's subscription", "partner.webhooks_unsubscribe")
    :argument("topic", "topic_id")
  leaf(pwh, "test-send", "Have the API send a test notification", "partner.webhooks_test_send")
    :argument("topic", "topic_id")
  local pas = leaf(partner, "as", "Run any ctct command on a managed client account", "partner.as")
  pas:handle_options(false)
  pas:argument("account", "encoded_account_id")
  -- "*", not "+": `partner as --help` reaches the handler, which shows this help.
  pas:argument("rest", "The command and its arguments"):args("*")

  -- Escape hatches ------------------------------------------------------------------------
  local call = leaf(p, "call", "Call any of the 128 operations by operationId", "raw.call")
  call:argument("operation", "operationId, e.g. getContacts")
  call:argument("params", "Parameters name=value (repeat a name, or a,b, for arrays; name=@FILE reads a file)")
    :args("*")
  body_option(call)
  call:flag("--paginate", "Follow _links.next and stream the items of a collection")
  local api = leaf(p, "api", "Send any request to the API (like gh api)", "raw.api")
  api:argument("method", "GET, POST, PUT, PATCH, DELETE")
  api:argument("path", "Path under the API base, e.g. /contacts?limit=5")
  body_option(api)
  api:option("-f --raw-field", "name=value: a query parameter on GET and DELETE, a string field of the " ..
    "JSON body on POST, PUT and PATCH; name[]=value adds to an array (repeatable)"):count("*"):target("field")
  api:option("-F --field", "Like -f, with typed values: true, false, null, numbers; @FILE reads a file's text")
    :count("*"):target("typed_field")
  api:flag("--paginate", "Follow _links.next and stream the items of a collection")

  leaf(p, "quota", "The API key's rate budget: per second, today's use, the reset (shared: CTCT_REDIS)",
    "raw.quota")

  local comp = leaf(p, "completion", "Print a shell completion script", "raw.completion")
  comp:argument("shell", "Shell"):choices { "bash", "zsh", "fish" }
  local built = commands
  commands, words_of = nil, nil
  return p, built
end

return M
