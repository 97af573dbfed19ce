--- ctct.cli.partner: technology partner commands (CTCT_PARTNER_CLIENT_ID,
-- CTCT_PARTNER_SECRET, CTCT_PARTNER_API_KEY in the environment).
--
--   ctct partner accounts list|create|plan|cancel
--   ctct partner webhooks list|get|subscribe|unsubscribe|test-send
--   ctct partner as ACCOUNT <any ctct command>   (the same commands on a managed account)
local output = require "ctct.cli.output"

local M = { partner = {} }
local H = M.partner

local COLUMNS = { "encoded_account_id", "organization_name", "site_owner_name", "billing_status" }

function H.accounts_list(ctx, args)
  local opts = { account_type = args.account_type }
  if args.limit and args.limit >= 10 and args.limit <= 50 then opts.limit = args.limit end
  ctx.out:collection(ctx:partner().accounts:each(opts), COLUMNS)
end

-- name=value pairs into a table (numbers and booleans as such).
local function fields_of(ctx, list, into)
  into = into or {}
  for _, pair in ipairs(list or {}) do
    local k, v = pair:match("^([%w_%.%-]+)=(.*)$")
    if not k then ctx:usage("expected name=value, got '" .. pair .. "'") end
    if v == "true" then v = true elseif v == "false" then v = false end
    into[k] = v
  end
  return into
end
M.fields_of = fields_of

function H.accounts_create(ctx, args)
  local body = args.body and ctx:json_file(args.body) or {}
  fields_of(ctx, args.field, body)
  if body.password then ctx:add_secret(body.password) end
  ctx.out:object(ctx:check(ctx:partner().accounts:create(body)))
end

function H.accounts_plan(ctx, args)
  local p = ctx:partner()
  if args.set or args.billing_day then
    ctx:check(p.accounts:set_plan(args.account, { plan_type = args.set, billing_day_of_month = args.billing_day }))
  end
  ctx.out:object(ctx:check(p.accounts:plan(args.account)))
end

function H.accounts_cancel(ctx, args)
  ctx:check(ctx:partner().accounts:cancel(args.account, args.reason))
  ctx.out:object { cancelled = args.account }
end

function H.webhooks_list(ctx)
  local data = ctx:check(ctx:partner().webhooks:list())
  if type(data) == "table" and data[1] ~= nil then
    ctx.out:collection(output.array_iter(data), { "topic_id", "topic_name", "hook_uri" })
  else
    ctx.out:object(data)
  end
end

function H.webhooks_get(ctx, args)
  ctx.out:object(ctx:check(ctx:partner().webhooks:get(tonumber(args.topic) or args.topic)))
end

function H.webhooks_subscribe(ctx, args)
  ctx.out:object(ctx:check(ctx:partner().webhooks:subscribe(tonumber(args.topic) or args.topic, args.url)))
end

function H.webhooks_unsubscribe(ctx, args)
  ctx:check(ctx:partner().webhooks:unsubscribe(tonumber(args.topic) or args.topic))
  ctx.out:object { unsubscribed = tonumber(args.topic) or args.topic }
end

function H.webhooks_test_send(ctx, args)
  local res = ctx:check(ctx:partner().webhooks:test_send(tonumber(args.topic) or args.topic))
  ctx.out:object(type(res) == "table" and res or { sent = tonumber(args.topic) or args.topic })
end

--- partner as ACCOUNT <command...>: parse the rest as a whole command line
-- (options given before `partner as` still count), then run it with a client
-- acting for ACCOUNT.
function H.as(ctx, args)
  local cli = ctx.cli
  -- Options are not parsed here (they belong to the inner command): help by hand.
  if args.account == "-h" or args.account == "--help" then
    io.stdout:write(ctx.commands["partner as"]:get_help(), "\n")
    return 0
  end
  if #args.rest == 0 then
    ctx:usage("partner as " .. args.account .. " needs a command", "e.g. partner as ACCOUNT lists list")
  end
  local inner = cli.parse(ctx.parser, args.rest)
  if inner._leaf == "partner.as" or (inner._leaf or ""):match("^auth%.") or (inner._leaf or ""):match("^partner%.") then
    ctx:usage("partner as runs account commands (contacts, lists, campaigns, call, api, ...), not '" ..
      tostring(args.rest[1]) .. "'")
  end
  for k, v in pairs(args) do
    if inner[k] == nil or (type(inner[k]) == "boolean" and inner[k] == false and v == true) then inner[k] = v end
  end
  inner._leaf = inner._leaf
  ctx.args = inner
  ctx.as_account = args.account
  ctx.out = output.new { format = inner.output, fields = inner.fields and output.split(inner.fields),
                         limit = inner.limit }
  return cli.dispatch(ctx, inner)
end

return M
