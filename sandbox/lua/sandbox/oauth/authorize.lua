-- The authorization endpoint (GET /oauth2/default/v1/authorize) and its consent form
-- (POST /oauth2/default/v1/authorize/decision).
--
-- As at the real server, a bad client_id or redirect_uri is shown as an error page and
-- never redirected (RFC 6749 4.1.2.1); every other error goes back to the redirect URI
-- as error, error_description and state.
--   oauth:consent:<id>       -> JSON of a validated request awaiting the consent form
--   oauth:consent:<id>:used  -> decisions posted (incr: the first one wins)
local store = require "sandbox.store"
local auth = require "sandbox.auth"
local common = require "sandbox.oauth.common"
local clients = require "sandbox.oauth.clients"
local settings = require "sandbox.oauth.settings"
local codes = require "sandbox.oauth.codes"
local pages = require "sandbox.oauth.pages"

local m = store.m

local _M = {}

_M.PATH = "/oauth2/default/v1/authorize"
_M.DECISION_PATH = _M.PATH .. "/decision"

local CONSENT_TTL = 600

-- 302 to uri with params ({ { name, value }, ... } in order; nil values left out)
-- added to its query.
local function redirect(uri, params)
  local parts = {}
  for _, p in ipairs(params) do
    if p[2] ~= nil then parts[#parts + 1] = ngx.escape_uri(p[1]) .. "=" .. ngx.escape_uri(p[2]) end
  end
  local sep = uri:find("?", 1, true) and "&" or "?"
  return 302, nil, { Location = uri .. sep .. table.concat(parts, "&"), ["Cache-Control"] = "no-store",
                     ["Content-Length"] = 0 }
end

local function error_redirect(uri, code, description, state)
  return redirect(uri, { { "error", code }, { "error_description", description }, { "state", state } })
end

local PROMPTS = { none = true, login = true, consent = true, select_account = true }

-- The request's parameters checked against client; returns the request to approve, or
-- nil, error code, description (answered at the redirect URI).
local function validate(client, raw)
  local args, repeated = common.single_values(raw)
  if not args then return nil, "invalid_request", "The '" .. repeated .. "' parameter is repeated." end
  if not args.response_type then return nil, "invalid_request", "The 'response_type' parameter is required." end
  if args.response_type ~= "code" then
    return nil, "unsupported_response_type",
      "The response type '" .. args.response_type .. "' is not supported by the sandbox: use 'code'."
  end
  if not args.state then return nil, "invalid_request", "The 'state' parameter is required." end
  local scopes, why = common.parse_scopes(args.scope)
  if not scopes then return nil, "invalid_scope", why end

  local challenge, method = args.code_challenge, args.code_challenge_method
  if challenge then
    -- Like the real server, only S256 (no "plain", and no default to it).
    if method ~= "S256" then return nil, "invalid_request", "The 'code_challenge_method' must be 'S256'." end
    if not common.valid_pkce(challenge) then
      return nil, "invalid_request", "The 'code_challenge' must be 43-128 characters of [A-Za-z0-9-._~]."
    end
  elseif method then
    return nil, "invalid_request", "'code_challenge_method' was sent without a 'code_challenge'."
  elseif clients.is_public(client) then
    return nil, "invalid_request",
      "PKCE code challenge is required when the token endpoint authentication method is 'NONE'."
  end

  if args.response_mode and args.response_mode ~= "query" then
    return nil, "invalid_request", "The sandbox supports only response_mode=query."
  end
  local prompt_none = false
  for p in (args.prompt or ""):gmatch("[^ ]+") do
    if not PROMPTS[p] then return nil, "invalid_request", "Unsupported 'prompt' value '" .. p .. "'." end
    prompt_none = prompt_none or p == "none"
  end
  -- login_hint names the sandbox account the user belongs to.
  if args.login_hint and not auth.valid_account_name(args.login_hint) then
    return nil, "invalid_request", "The sandbox reads 'login_hint' as an account name (letters, digits and _.-)."
  end
  return {
    cid = client.client_id, redirect_uri = args.redirect_uri, scopes = scopes, challenge = challenge,
    state = args.state, nonce = args.nonce, prompt_none = prompt_none, account = args.login_hint,
  }
end

local DENIED = "The resource owner or authorization server denied the request."

local function approve(r, account)
  return redirect(r.redirect_uri, { { "code", codes.issue(r, account) }, { "state", r.state } })
end

local function one(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

-- GET /oauth2/default/v1/authorize
function _M.authorize()
  local raw = ngx.req.get_uri_args(100)
  local client_id, redirect_uri = one(raw.client_id), one(raw.redirect_uri)
  if not client_id then pages.fail(400, "invalid_request", "The 'client_id' parameter is required, once.") end
  local client = clients.get(client_id)
  if not client then pages.fail(400, "invalid_client", "Invalid value for 'client_id' parameter.") end
  if not redirect_uri then pages.fail(400, "invalid_request", "The 'redirect_uri' parameter is required, once.") end
  if not clients.redirect_allowed(client, redirect_uri) then
    pages.fail(400, "invalid_request",
      "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.")
  end

  local r, code, why = validate(client, raw)
  if not r then return error_redirect(redirect_uri, code, why, one(raw.state)) end

  local cfg = settings.get()
  local account = r.account or cfg.account
  if cfg.auto_approve == "deny" then return error_redirect(redirect_uri, "access_denied", DENIED, r.state) end
  if cfg.auto_approve == true then return approve(r, account) end
  if r.prompt_none then
    return error_redirect(redirect_uri, "consent_required", "The user must approve this application.", r.state)
  end
  local id = common.random(24)
  m.set_json("oauth:consent:" .. id, r, CONSENT_TTL)
  return pages.consent(_M.DECISION_PATH, id, client_id, r.scopes, account)
end

-- POST /oauth2/default/v1/authorize/decision (the consent form): request_id,
-- decision=approve|deny, account (optional).
function _M.decision()
  local form = common.form()
  local key = "oauth:consent:" .. (form.request_id or "")
  local r = form.request_id and m.get_json(key)
  if not r then pages.fail(400, "invalid_request", "Unknown or expired authorization request.") end
  if form.decision ~= "approve" and form.decision ~= "deny" then
    pages.fail(400, "invalid_request", "decision must be 'approve' or 'deny'.")
  end
  local account = form.account or r.account or settings.get().account
  if not auth.valid_account_name(account) then
    pages.fail(400, "invalid_request", "account must be 1-64 of letters, digits and _.-")
  end
  if m.incr(key .. ":used", 1, 0, CONSENT_TTL) ~= 1 then
    pages.fail(400, "invalid_request", "This authorization request was already decided.")
  end
  if form.decision == "deny" then return error_redirect(r.redirect_uri, "access_denied", DENIED, r.state) end
  return approve(r, account)
end

return _M
