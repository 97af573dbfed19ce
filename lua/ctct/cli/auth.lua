--- ctct.cli.auth: login, logout, whoami, profiles.
--
-- ctct login             the device flow: prints the verification URI and user
--                        code on stderr, waits for the approval, stores the tokens
-- ctct login --browser   authorization code + PKCE with a loopback redirect
--                        (CTCT_OPEN: the command that opens the URL; default xdg-open)
-- ctct logout            revokes the refresh and access tokens, deletes them
-- ctct whoami            the token's claims, read locally (no network call)
local errors = require "ctct.errors"
local oauth = require "ctct.oauth"
local config = require "ctct.cli.config"
local exitcodes = require "ctct.cli.exitcodes"

local M = { auth = {} }
local H = M.auth

M.DEFAULT_SCOPES = { "account_read", "account_update", "contact_data", "campaign_data", "offline_access" }

local function iso(t)
  if not t then return nil end
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

function H.login(ctx, args)
  local s = config.settings(args)
  local client_id = args.client_id or s.client_id
  if not client_id then
    ctx:usage("login needs your application's API key", "give --client-id or set CTCT_CLIENT_ID")
  end
  ctx:add_secret(s.client_secret)
  local scope = args.scope and require("ctct.cli.output").split(args.scope) or M.DEFAULT_SCOPES
  local o = { client_id = client_id, client_secret = s.client_secret, scope = scope,
              authz_url = s.authz_url, transport = ctx:transport() }
  local token, err
  if args.browser then
    local opener = config.env("CTCT_OPEN") or "xdg-open"
    o.timeout = args.timeout or 600
    o.open = function(url)
      io.stderr:write("Opening the login page in your browser (or open it yourself):\n  ", url, "\n")
      io.stderr:flush()
      os.execute(opener .. " " .. shell_quote(url) .. " >/dev/null 2>&1 &")
    end
    token, err = oauth.login_pkce(o)
  else
    local device
    device, err = oauth.device(o)
    if not device then error(err, 0) end
    token, err = device:wait {
      timeout = args.timeout or 600,
      on_prompt = function(d)
        -- the authorization server's text: no control characters reach the terminal
        local p = errors.printable
        io.stderr:write(("To log in, open %s and enter the code %s\n"):format(p(d.verification_uri), p(d.user_code)))
        if d.verification_uri_complete then
          io.stderr:write("  (or open ", p(d.verification_uri_complete), ")\n")
        end
        io.stderr:write("Waiting for the approval...\n")
        io.stderr:flush()
      end,
    }
  end
  if not token then error(err, 0) end
  ctx:add_secret(token.access_token)
  ctx:add_secret(token.refresh_token)
  ctx:add_secret(token.id_token)
  local store = config.store()
  ctx:check(store:set(s.profile, token))
  local saved = { client_id = client_id, authz_url = s.authz_url, base_url = s.base_url }
  if s.client_secret and not config.env("CTCT_CLIENT_SECRET") then saved.client_secret = s.client_secret end
  if config.env("CTCT_CLIENT_SECRET") then saved.client_secret = config.env("CTCT_CLIENT_SECRET") end
  config.save_profile(s.profile, saved)
  ctx:note("Logged in (profile " .. s.profile .. "); tokens stored in " .. store.path)
  local info = require("ctct").new { access_token = token.access_token }:token_info()
  ctx.out:object({ profile = s.profile, scopes = info and table.concat(info.scopes or {}, " ") or token.scope,
                   expires_at = iso(token.expires_at), refresh = token.refresh_token ~= nil })
end

function H.logout(ctx, args)
  local s = config.settings(args)
  local store = config.store()
  local token = store:get(s.profile)
  if type(token) ~= "table" then
    ctx:note("profile " .. s.profile .. " is not logged in")
    ctx.out:object { profile = s.profile, logged_out = true, revoked = false }
    return 0
  end
  ctx:add_secret(token.access_token)
  ctx:add_secret(token.refresh_token)
  ctx:add_secret(s.client_secret)
  local revoked = true
  if s.client_id then
    for _, which in ipairs { "refresh_token", "access_token" } do
      if token[which] then
        local ok, err = oauth.revoke { client_id = s.client_id, client_secret = s.client_secret, token = token[which],
                                       token_type_hint = which, authz_url = s.authz_url, transport = ctx:transport() }
        if not ok then
          revoked = false
          ctx:note("could not revoke the " .. which:gsub("_", " ") .. ": " .. tostring(err))
        end
      end
    end
  else
    revoked = false
    ctx:note("no client id for profile " .. s.profile .. ": tokens deleted locally but not revoked")
  end
  ctx:check(store:delete(s.profile))
  ctx:note("Logged out (profile " .. s.profile .. ")")
  ctx.out:object { profile = s.profile, logged_out = true, revoked = revoked }
end

function H.whoami(ctx, args)
  local s = config.settings(args)
  local token, source = s.access_token, "CTCT_ACCESS_TOKEN"
  if not token then
    local stored = config.store():get(s.profile)
    if type(stored) ~= "table" or not stored.access_token then
      error(config.login_needed(s.profile, "profile '" .. s.profile .. "' is not logged in"), 0)
    end
    token, source = stored.access_token, "profile " .. s.profile
  end
  ctx:add_secret(token)
  local info, err = require("ctct").new { access_token = token }:token_info()
  if not info then
    err.kind = "auth"
    error(config.login_needed(s.profile, "the stored token cannot be read: " .. tostring(err.message)), 0)
  end
  ctx.out:object {
    source = source, profile = s.profile, scopes = table.concat(info.scopes or {}, " "),
    expires_at = iso(info.expires_at), expires_in = info.expires_in,
    expired = info.expires_in ~= nil and info.expires_in <= 0 or nil,
    platform_user_id = info.platform_user_id, client_id = info.client_id, user_id = info.user_id,
    subject = info.subject, issuer = info.issuer,
  }
end

function H.profiles_list(ctx)
  local doc = config.read()
  local tokens = config.store():read() or { accounts = {} }
  local names, seen = {}, {}
  for name in pairs(doc.profiles) do names[#names + 1] = name; seen[name] = true end
  for name in pairs(tokens.accounts or {}) do if not seen[name] then names[#names + 1] = name end end
  table.sort(names)
  local rows = {}
  for _, name in ipairs(names) do
    local p = doc.profiles[name] or {}
    local t = tokens.accounts[name]
    rows[#rows + 1] = { name = name, default = (doc.default or "default") == name,
                        logged_in = type(t) == "table", client_id = p.client_id, base_url = p.base_url,
                        expires_at = type(t) == "table" and iso(t.expires_at) or nil }
  end
  ctx.out:collection(require("ctct.cli.output").array_iter(rows),
    { "name", "default", "logged_in", "client_id", "expires_at" })
end

function H.profiles_use(ctx, args)
  local doc = config.read()
  if not doc.profiles[args.name] then
    ctx:usage("no profile '" .. args.name .. "'", "log in with ctct login --profile " .. args.name)
  end
  doc.default = args.name
  config.write(doc)
  ctx.out:object { default = args.name }
end

function H.profiles_delete(ctx, args)
  local doc = config.read()
  local existed = doc.profiles[args.name] ~= nil
  doc.profiles[args.name] = nil
  if doc.default == args.name then doc.default = nil end
  config.write(doc)
  local store = config.store()
  if store:get(args.name) then existed = true; ctx:check(store:delete(args.name)) end
  if not existed then error(exitcodes.usage("no profile '" .. args.name .. "'"), 0) end
  ctx.out:object { deleted = args.name }
end

return M
