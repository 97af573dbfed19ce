-- The `ctct` command line tool: the real bin/ctct run as a subprocess (lua5.4)
-- against a sandbox, with HOME and XDG_CONFIG_HOME in a temporary directory.
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"
local core = require "ctct.core"
local run, quote = sandbox.run, sandbox.quote

describe("ctct command line #once", function()
  local root = sandbox.repo_root()
  local sb, home, env, partner_env
  local outputs = {} -- every stdout and stderr, for the no-secrets check
  local list_id, account_id

  -- Runs bin/ctct with args (a shell-quoted string); returns stdout, exit code, stderr.
  local function ctct(args, extra_env, stdin)
    local errfile = home .. "/stderr"
    local cmd = "cd " .. quote(root) .. " && env " .. env .. " " .. (extra_env or "") .. " lua5.4 bin/ctct " ..
      args .. " 2>" .. quote(errfile)
    if stdin then cmd = cmd .. " <" .. quote(stdin) end
    local out, code = run(cmd)
    local err = sandbox.read_file(errfile) or ""
    outputs[#outputs + 1] = out .. err
    return out, code, err
  end

  local function json_of(text)
    local ok, v = pcall(cjson.decode, text)
    assert(ok, "not JSON: " .. tostring(text))
    return v
  end

  local function lines(text)
    local n = 0
    for _ in text:gmatch("[^\n]+") do n = n + 1 end
    return n
  end

  lazy_setup(function()
    sb = sandbox.start()
    sb:config { rate_limit_per_second = 0, token_rate_limit_per_second = 0, daily_quota = 0, activity_polls = 1 }
    sb:oauth_config { device_interval = 1 }
    home = run("mktemp -d"):gsub("%s+$", "")
    env = table.concat({
      "HOME=" .. quote(home), "XDG_CONFIG_HOME=" .. quote(home .. "/cfg"),
      "CTCT_BASE_URL=" .. quote(sb.base_url), "CTCT_AUTHZ_URL=" .. quote(sb.url .. "/oauth2/default/v1"),
      "CTCT_CLIENT_ID=" .. quote(sb.oauth.client_id), "CTCT_CLIENT_SECRET=" .. quote(sb.oauth.client_secret),
      "CTCT_RATE_LIMIT=0", "CTCT_PROFILE=", "CTCT_ACCESS_TOKEN=",
    }, " ")
    partner_env = table.concat({
      "CTCT_PARTNER_CLIENT_ID=" .. quote(sb.partner.client_id),
      "CTCT_PARTNER_SECRET=" .. quote(sb.partner.client_secret),
      "CTCT_PARTNER_API_KEY=" .. quote(sb.partner.api_key),
      "CTCT_PARTNER_TOKEN_URL=" .. quote(sb.partner.token_url),
    }, " ")
  end)

  lazy_teardown(function()
    if home then run("rm -rf " .. quote(home)) end
    if sb then sb:stop() end
  end)

  it("logs in with the device flow (approval automated) and whoami reads the token", function()
    local out = home .. "/login.out"
    local pid = run("cd " .. quote(root) .. " && env " .. env .. " lua5.4 bin/ctct --verbose -o json login > " ..
      quote(out) .. " 2>&1 & echo $!"):match("%d+")
    local user_code
    for _ = 1, 200 do
      user_code = (sandbox.read_file(out) or ""):match("enter the code (%S+)")
      if user_code then break end
      core.sleep(0.05)
    end
    assert.is_string(user_code, sandbox.read_file(out))
    sb:approve_device(user_code)
    run("while kill -0 " .. pid .. " 2>/dev/null && ! grep -q ') Z ' /proc/" .. pid .. "/stat; do sleep 0.05; done")
    local text = sandbox.read_file(out)
    outputs[#outputs + 1] = text
    assert.matches("Logged in %(profile default%)", text)
    assert.matches('"profile":"default"', text)
    assert.equal("600", (run("stat -c %a " .. quote(home .. "/cfg/ctct/tokens.json")):gsub("%s", "")))
    assert.equal("600", (run("stat -c %a " .. quote(home .. "/cfg/ctct/config.json")):gsub("%s", "")))

    local who, code = ctct("-o json whoami")
    assert.equal(0, code)
    local info = json_of(who)
    assert.equal("default", info.profile)
    assert.matches("contact_data", info.scopes)
    assert.is_number(info.expires_in)

    local profiles = json_of((ctct("-o json profiles list")))
    assert.equal("default", profiles[1].name)
    assert.is_true(profiles[1].logged_in)
  end)

  it("logs in with --browser: code + PKCE through the loopback redirect, in another profile", function()
    -- The "browser" is curl following the sandbox's auto-approved authorize redirect
    -- to the CLI's loopback listener.
    local out, code, err = ctct("--profile browser -o json login --browser",
      "CTCT_OPEN='curl -s -L -o /dev/null --max-time 10' CTCT_CLIENT_ID=" .. quote(sb.oauth.public_client_id) ..
      " CTCT_CLIENT_SECRET=")
    assert.equal(0, code, err)
    assert.equal("browser", json_of(out).profile)
    local who = json_of((ctct("--profile browser -o json whoami")))
    assert.equal("browser", who.profile)
    assert.matches("contact_data", who.scopes)
    local profiles = json_of((ctct("-o json profiles list")))
    local names = {}
    for _, p in ipairs(profiles) do names[p.name] = p.logged_in end
    assert.is_true(names.browser)
    assert.is_true(names.default)
  end)

  it("contacts, lists, tags, custom fields and segments through the stored login", function()
    local out, code, err = ctct("-v -o json lists create CLI-list --description 'from the CLI'")
    assert.equal(0, code, err)
    list_id = json_of(out).list_id
    assert.matches("http: POST /v3/contact_lists %-> 201 %(%d+ ms%)", err)

    out, code, err = ctct("-v -o json contacts create --email ada@example.com --first-name Ada --list " .. list_id)
    assert.equal(0, code, err)
    local contact = json_of(out)
    out, code = ctct("-o json contacts update " .. contact.contact_id .. " --last-name Lovelace")
    assert.equal(0, code, out)
    assert.equal("Lovelace", json_of(out).last_name)
    out = ctct("-o json contacts get " .. contact.contact_id .. " --include list_memberships")
    assert.equal(list_id, json_of(out).list_memberships[1])
    out, code = ctct("-o csv --fields contact_id,email_address.address,last_name contacts list --list " .. list_id)
    assert.equal(0, code)
    assert.equal("contact_id,email_address.address,last_name\n" .. contact.contact_id ..
      ",ada@example.com,Lovelace\n", out)
    out = ctct("-o table contacts list")
    assert.matches("EMAIL_ADDRESS.ADDRESS", out)
    assert.matches("ada@example.com", out)
    assert.equal(0, select(2, ctct("contacts delete " .. contact.contact_id)))

    out, code = ctct("-o json tags create Early")
    assert.equal(0, code, out)
    local tag = json_of(out)
    assert.equal(0, select(2, ctct("tags rename " .. tag.tag_id .. " Earlier")))
    assert.matches("Earlier", (ctct("-o jsonl tags list")))
    assert.equal(0, select(2, ctct("-q tags delete " .. tag.tag_id)))

    out, code = ctct("-o json custom-fields create Shoe")
    assert.equal(0, code, out)
    local field = json_of(out)
    assert.matches("Shoe", (ctct("-o csv custom-fields list")))
    assert.equal(0, select(2, ctct("custom-fields delete " .. field.custom_field_id)))

    local criteria = '{"version":"1.0.0","criteria":{"type":"and","group":[{"source":"contact",' ..
      '"field":"first_name","op":"eq","value":"Ada"}]}}'
    out, code = ctct("-o json segments create Adas --criteria " .. quote(criteria))
    assert.equal(0, code, out)
    local segment = json_of(out)
    assert.matches("Adas", (ctct("-o jsonl segments list")))
    assert.equal(0, select(2, ctct("segments delete " .. math.floor(segment.segment_id))))
  end)

  it("campaigns, reports and activities", function()
    local out, code, err = ctct("-o json campaigns create --name Autumn --subject News --from-name Shop " ..
      "--from-email owner@default.example.com --html '<p>Hi</p>[[trackingImage]]'")
    assert.equal(0, code, err)
    local campaign = json_of(out)
    local activity = campaign.campaign_activity_id
    assert.is_string(activity)
    assert.equal(0, select(2, ctct("-o json campaigns get " .. campaign.campaign_id)))
    code, err = select(2, ctct("-o json campaigns schedule " .. activity .. " --at 2030-01-01T10:00:00.000Z --list " ..
      list_id))
    assert.equal(0, code, err)
    assert.equal(0, select(2, ctct("campaigns unschedule " .. activity)))
    assert.equal(0, select(2, ctct("campaigns test-send " .. activity .. " test@example.com")))
    assert.equal(0, select(2, ctct("-o json campaigns preview " .. activity)))
    assert.equal(1, lines((ctct("-o jsonl campaigns list --limit 1"))))

    code, err = select(2, ctct("-o json reports campaign-stats " .. campaign.campaign_id))
    assert.equal(0, code, err)
    out, code, err = ctct("-o jsonl --limit 3 reports tracking opens " .. activity)
    assert.equal(0, code, err)
    assert.is_true(lines(out) <= 3)
    assert.equal(0, select(2, ctct("-o json reports links " .. activity)))
    assert.equal(0, select(2, ctct("-o json --limit 2 reports summaries")))
    assert.equal(0, select(2, ctct("-o json reports contact-activity 5f0e3b7c-1c43-4a38-9d6b-2f6f0c8e4a11")))

    out, code, err = ctct("-o jsonl --limit 1 activities list")
    assert.equal(0, code, err)
    local act = json_of(out)
    assert.equal(0, select(2, ctct("-o json activities get " .. act.activity_id)))
    out, code = ctct("-o json activities wait " .. act.activity_id)
    assert.equal(0, code, out)
    assert.equal("completed", json_of(out).state)
  end)

  it("streams 10,000 contacts to jsonl and csv with exact row counts", function()
    local list = json_of((ctct("-o json lists create Ten-thousand"))).list_id
    local import = { list_ids = { list }, import_data = {} }
    for i = 1, 10000 do import.import_data[i] = { email = ("bulk%05d@example.com"):format(i), first_name = "B" } end
    local body = home .. "/bulk.json"
    sandbox.write_file(body, cjson.encode(import))
    local out, code, err = ctct("-o json call bulkImportContactsJSON --body -", nil, body)
    assert.equal(0, code, err)
    code, err = select(2, ctct("-o json activities wait " .. json_of(out).activity_id))
    assert.equal(0, code, err)
    local started = core.monotonic()
    local file = home .. "/all.jsonl"
    code, err = select(2, ctct("-o jsonl contacts list --list " .. list .. " > " .. quote(file)))
    assert.equal(0, code, err)
    assert.equal("10000", (run("wc -l < " .. quote(file)):gsub("%s", "")))
    file = home .. "/all.csv"
    code, err = select(2, ctct("-o csv contacts list --list " .. list .. " > " .. quote(file)))
    assert.equal(0, code, err)
    assert.equal("10001", (run("wc -l < " .. quote(file)):gsub("%s", "")))
    assert.equal("10000", (run("grep -c '@example.com' " .. quote(file)):gsub("%s", "")))
    out = ctct("-o jsonl --limit 7 contacts list --list " .. list)
    assert.equal(7, lines(out))
    print(("cli: streamed 2 x 10,000 contacts in %.1f s"):format(core.monotonic() - started))

    -- Memory stays flat: the peak RSS of the whole process (GNU time) for 10,000
    -- contacts is that of 2,000 (one page of 500 held at a time).
    local function peak_kib(limit, format)
      local _, c, e = ctct("-o " .. format .. " --limit " .. limit .. " contacts list --list " .. list .. " >/dev/null",
        "/usr/bin/time -f 'PEAK_RSS_KIB %M'")
      assert.equal(0, c, e)
      return assert(tonumber(e:match("PEAK_RSS_KIB (%d+)")), e)
    end
    for _, format in ipairs { "jsonl", "csv" } do
      local small, big = peak_kib(2000, format), peak_kib(10000, format)
      print(("cli: %s peak RSS 10,000/2,000 contacts = %.2f (%d / %d KiB)"):format(format, big / small, big, small))
      assert.is_true(big / small <= 1.10, format .. ": " .. big .. " KiB vs " .. small .. " KiB")
    end
  end)

  it("draws the import progress bar in a terminal (tmux) and not when piped", function()
    local csv = home .. "/people.csv"
    local rows = { "email,first_name" }
    for i = 1, 50 do rows[#rows + 1] = ("tty%02d@example.com,T"):format(i) end
    sandbox.write_file(csv, table.concat(rows, "\n") .. "\n")
    sb:config { activity_polls = 3 }
    local socket = "ctct-cli-spec-" .. tostring(core.monotonic()):gsub("%D", "")
    local tmux = "tmux -L " .. quote(socket)
    finally(function() run(tmux .. " kill-server 2>/dev/null") end)
    local cmd = "cd " .. quote(root) .. " && env " .. env .. " lua5.4 bin/ctct -o json contacts import " ..
      quote(csv) .. " --list " .. list_id .. "; echo EXIT=$?; sleep 30"
    local _, code = run(tmux .. " new-session -d -s cli -x 160 -y 20 " .. quote(cmd))
    assert.equal(0, code)
    local pane = ""
    for _ = 1, 200 do
      pane = run(tmux .. " capture-pane -p -t cli")
      if pane:find("EXIT=") then break end
      core.sleep(0.05)
    end
    assert.matches("EXIT=0", pane)
    assert.matches("import %[##############################%] 100%%", pane)

    local out, err
    out, code, err = ctct("-o json contacts import " .. quote(csv) .. " --list " .. list_id)
    assert.equal(0, code, err)
    assert.equal("completed", json_of(out).state)
    assert.not_matches("%[#", err)
    sb:config { activity_polls = 1 }
  end)

  it("reaches operations with no dedicated command through call and api", function()
    local out, code, err = ctct("-o json call getUserPrivileges")
    assert.equal(0, code, err)
    assert.is_table(json_of(out)[1])
    out, code = ctct("-o json call getAccountById extra_fields=physical_address,company_logo")
    assert.equal(0, code)
    assert.is_table(json_of(out).physical_address)
    out, code = ctct("-o json call getContacts limit=1 status=active status=unsubscribed --paginate")
    assert.equal(0, code, out)
    out, code = ctct("-o json api GET /account/emails")
    assert.equal(0, code)
    assert.equal("owner@default.example.com", json_of(out)[1].email_address)
    out, code = ctct("-o csv --fields email_address.address api GET /v3/contacts -f limit=2 --paginate")
    assert.equal(0, code)
    assert.matches("^email_address.address\n", out)
    local body = home .. "/signup.json"
    sandbox.write_file(body, '{"email_address":"signup@example.com","list_memberships":["' .. list_id .. '"]}')
    out, code, err = ctct("-o json api POST /contacts/sign_up_form --body " .. quote(body))
    assert.equal(0, code, err)
    assert.is_string(json_of(out).contact_id)
  end)

  it("api -f/-F build the JSON body of a POST, the query of a GET (as gh api)", function()
    local out, code, err = ctct("-o json api POST /contact_lists -f name=Fields -F favorite=true " ..
      "-f description=42")
    assert.equal(0, code, err)
    local made = json_of(out)
    assert.equal("Fields", made.name)
    assert.is_true(made.favorite)        -- -F: typed
    assert.equal("42", made.description) -- -f: a string, always
    local log = sb:requests()
    local sent = log[#log]
    assert.equal("application/json", sent.content_type)
    assert.same({ name = "Fields", favorite = true, description = "42" }, json_of(sent.body))
    out, code, err = ctct("-o json api GET /contact_lists -F limit=1 -f include_count=true")
    assert.equal(0, code, err)
    assert.equal(1, #json_of(out).lists)
    log = sb:requests()
    assert.matches("limit=1", log[#log].uri, 1, true)
    -- A POST with no body at all sends no Content-Type (it was libcurl's form type).
    local _
    _, code = ctct("api POST /contact_lists")
    assert.are_not.equal(0, code)
    log = sb:requests()
    assert.equal("POST", log[#log].method)
    assert.equal(cjson.null, log[#log].content_type)
    _, code, err = ctct("api POST /contact_lists -f name=A --body " .. quote(home .. "/signup.json"))
    assert.equal(2, code)
    assert.matches("not both", err, 1, true)
  end)

  it("--version, and help at every depth (help COMMAND..., partner as --help)", function()
    local out, code = ctct("--version")
    assert.equal(0, code)
    assert.equal("ctct " .. core.VERSION .. "\n", out)
    out, code = ctct("help contacts import")
    assert.equal(0, code)
    assert.matches("^Usage: ctct contacts import", out)
    out, code = ctct("help partner accounts create")
    assert.equal(0, code)
    assert.matches("^Usage: ctct partner accounts create", out)
    out, code = ctct("partner as --help")
    assert.equal(0, code)
    assert.matches("^Usage: ctct partner as", out)
    local _, err
    _, code, err = ctct("help contacts nosuch")
    assert.equal(2, code)
    assert.matches("no command 'contacts nosuch'", err, 1, true)
  end)

  it("-o json prints what the API sent: its key order, empty arrays, integers", function()
    local include = "custom_fields,list_memberships,phone_numbers,street_addresses,taggings,notes"
    for _, path in ipairs { "/contacts?include=" .. include .. "&limit=3", "/account/emails",
                            "/contact_lists?include_count=true&limit=5" } do
      local raw = run("curl -sS -H " .. quote("Authorization: Bearer " .. sb.token) .. " " ..
        quote(sb.base_url .. path))
      local args = { "-o json api GET", quote(path:match("^[^?]+")) }
      for pair in (path:match("%?(.*)$") or ""):gmatch("[^&]+") do args[#args + 1] = "-f " .. quote(pair) end
      local out, code, err = ctct(table.concat(args, " "), "CTCT_ACCESS_TOKEN=" .. quote(sb.token))
      assert.equal(0, code, err)
      assert.equal(raw, (out:gsub("\n$", "")))
    end
  end)

  it("partner accounts, webhooks, and partner as ACCOUNT <command>", function()
    local out, code, err = ctct("-v -o json partner accounts create -f contact_email=owner@example.com " ..
      "-f login_name=cli_owner_1 -f password=Correct-Horse-42 -f country_code=US -f state_code=MA " ..
      "-f organization_name=Fruit -f first_name=Hank -f last_name=Smith", partner_env)
    assert.equal(0, code, err)
    account_id = json_of(out).encoded_account_id
    out = ctct("-o jsonl partner accounts list", partner_env)
    assert.matches(account_id, out)
    out, code = ctct("-o json partner accounts plan " .. account_id .. " --set GOLD --billing-day 15", partner_env)
    assert.equal(0, code, out)
    assert.equal("GOLD", json_of(out).plan_type)
    code, err = select(2, ctct("-v -o json partner as " .. account_id .. " lists create Managed", partner_env))
    assert.equal(0, code, err)
    out = ctct("partner as " .. account_id .. " -o jsonl lists list", partner_env)
    assert.matches("Managed", out)
    out, code = ctct("-o json partner as " .. account_id .. " call getUserPrivileges", partner_env)
    assert.equal(0, code, out)
    assert.equal(0, select(2, ctct("partner webhooks subscribe 3 https://example.com/hook", partner_env)))
    assert.matches("https://example.com/hook", (ctct("-o json partner webhooks get 3", partner_env)))
    assert.matches("https://example.com/hook", (ctct("-o csv partner webhooks list", partner_env)))
    assert.equal(0, select(2, ctct("partner webhooks unsubscribe 3", partner_env)))
    assert.equal(0, select(2, ctct("-v partner accounts cancel " .. account_id .. " --reason 1", partner_env)))
    local _, code2, err2 = ctct("partner accounts list")
    assert.equal(3, code2)
    assert.matches("CTCT_PARTNER_CLIENT_ID", err2)
  end)

  it("exits with the documented codes and one line on stderr", function()
    -- 2: usage
    local _, code, err = ctct("contcts list")
    assert.equal(2, code)
    assert.matches("unknown command 'contcts'.*contacts", err)
    assert.equal(1, lines(err))
    _, code, err = ctct("call getContatcs")
    assert.equal(2, code)
    assert.matches("did you mean getContact", err)
    _, code, err = ctct("call getContact")
    assert.equal(2, code)
    assert.matches("contact_id", err)
    _, code, err = ctct("contacts import /nonexistent/people.csv --list " .. list_id)
    assert.equal(2, code)
    assert.matches("cannot read /nonexistent/people.csv", err)
    local bad = home .. "/bad.csv"
    sandbox.write_file(bad, "first_name\nBob\n")
    _, code, err = ctct("contacts import " .. quote(bad) .. " --list " .. list_id)
    assert.equal(2, code)
    assert.matches("email", err)
    _, code, err = ctct("-o json call getContact")
    assert.equal(2, code)
    assert.equal(2, json_of(err).error.exit_code)
    assert.equal("contact_id", json_of(err).error.param)
    -- 1: API error
    _, code, err = ctct("contacts get 00000000-0000-4000-8000-000000000000")
    assert.equal(1, code)
    assert.matches("404", err)
    assert.equal(1, lines(err))
    -- 3: login needed (a profile never logged in; an expired login with no refresh token)
    _, code, err = ctct("--profile nobody contacts list")
    assert.equal(3, code)
    assert.matches("run `ctct login` %-%-profile nobody", err)
    local expired = sb:jwt { expires_in = -60 }
    local store_path = home .. "/cfg/ctct/tokens.json"
    local doc = json_of(sandbox.read_file(store_path))
    doc.accounts.stale = { access_token = expired, token_type = "Bearer", expires_at = core.time() - 60 }
    sandbox.write_file(store_path, cjson.encode(doc))
    _, code, err = ctct("--profile stale contacts list")
    assert.equal(3, code, err)
    assert.matches("ctct login", err)
    -- 4: the daily quota
    sb:faults { { match = "GET /v3/contact_lists", status = 429, error_key = "quota_exceeded" } }
    _, code, err = ctct("lists list")
    assert.equal(4, code, err)
    assert.matches("quota_exceeded", err)
    sb:clear_faults()
    -- 5: network
    _, code, err = ctct("lists list", "CTCT_BASE_URL=http://127.0.0.1:9/v3")
    assert.equal(5, code, err)
    assert.matches("network", err)
    -- 0, and no traceback anywhere
    assert.equal(0, select(2, ctct("--help")))
    assert.equal(0, select(2, ctct("contacts --help")))
    for _, o in ipairs(outputs) do assert.not_matches("stack traceback", o) end
  end)

  it("generates bash completion from the same definition", function()
    local out, code = ctct("completion bash")
    assert.equal(0, code)
    assert.matches("complete %-F", out)
    assert.matches("custom%-fields", out)
  end)

  it("logs out (revoking), then needs a login again; no secret ever appeared in any output", function()
    local doc = json_of(sandbox.read_file(home .. "/cfg/ctct/tokens.json"))
    local token = doc.accounts.default
    local out, code, err = ctct("-v -o json logout")
    assert.equal(0, code, err)
    assert.is_true(json_of(out).revoked)
    assert.equal(3, select(2, ctct("contacts list")))
    local secrets = { token.access_token, token.refresh_token, sb.oauth.client_secret, sb.partner.client_secret,
                      sb.partner.api_key }
    assert.is_true(#outputs > 40)
    for _, o in ipairs(outputs) do
      for _, s in ipairs(secrets) do
        assert.is_nil(o:find(s, 1, true), "a secret appeared in: " .. o:sub(1, 300))
      end
    end
  end)
end)
