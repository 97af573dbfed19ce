--- ctct.cli.config: profiles, the environment, and the clients built from them.
--
-- $XDG_CONFIG_HOME/ctct/ (else ~/.config/ctct/), directory 0700:
--   config.json   { version = 1, default = "<profile>", profiles = { <name> = {
--                   client_id, client_secret?, authz_url?, base_url? } } }   mode 0600
--   tokens.json   the library's file token store (ctct.store.file), one key per profile
--
-- The profile is --profile, else CTCT_PROFILE, else the config's default, else
-- "default". The environment wins over a profile: CTCT_ACCESS_TOKEN (no store,
-- no refresh: CI and cron), CTCT_CLIENT_ID, CTCT_CLIENT_SECRET, CTCT_BASE_URL,
-- CTCT_AUTHZ_URL. Partners: CTCT_PARTNER_CLIENT_ID, CTCT_PARTNER_SECRET,
-- CTCT_PARTNER_API_KEY, CTCT_PARTNER_TOKEN_URL.
local core = require "ctct.core"
local json = require "ctct.json"
local errors = require "ctct.errors"
local filestore = require "ctct.store.file"
local exitcodes = require "ctct.cli.exitcodes"

local M = {}

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  return v
end
M.env = env

--- The configuration directory.
function M.dir()
  local base = env("XDG_CONFIG_HOME")
  if not base then
    local home = env("HOME")
    if not home then error(exitcodes.usage("neither XDG_CONFIG_HOME nor HOME is set"), 0) end
    base = home .. "/.config"
  end
  return base .. "/ctct"
end

function M.config_path() return M.dir() .. "/config.json" end
function M.tokens_path() return M.dir() .. "/tokens.json" end

--- The config document (an empty one when there is no file).
function M.read()
  local f = io.open(M.config_path(), "rb")
  if not f then return { version = 1, profiles = {} } end
  local text = f:read("a")
  f:close()
  local doc = json.decode(text)
  if type(doc) ~= "table" or type(doc.profiles) ~= "table" then
    error(exitcodes.usage(M.config_path() .. " is not a ctct config file"), 0)
  end
  return doc
end

--- Write the config atomically, mode 0600, in a 0700 directory.
function M.write(doc)
  local ok, err = core.mkdirs(M.dir(), tonumber("700", 8))
  if not ok then error(exitcodes.usage("cannot create " .. M.dir() .. ": " .. tostring(err)), 0) end
  local text = assert(json.encode(doc))
  ok, err = core.write_file_atomic(M.config_path(), text, tonumber("600", 8))
  if not ok then error(exitcodes.usage("cannot write " .. M.config_path() .. ": " .. tostring(err)), 0) end
end

--- The profile name in use.
function M.profile_name(args)
  if args.profile then return args.profile end
  if env("CTCT_PROFILE") then return env("CTCT_PROFILE") end
  local ok, doc = pcall(M.read)
  if ok and type(doc.default) == "string" then return doc.default end
  return "default"
end

--- Settings of the profile, with the environment over them.
function M.settings(args)
  local name = M.profile_name(args)
  local doc = M.read()
  local p = doc.profiles[name] or {}
  return {
    profile = name,
    known = doc.profiles[name] ~= nil,
    client_id = env("CTCT_CLIENT_ID") or p.client_id,
    client_secret = env("CTCT_CLIENT_SECRET") or p.client_secret,
    authz_url = env("CTCT_AUTHZ_URL") or p.authz_url,
    base_url = args.base_url or env("CTCT_BASE_URL") or p.base_url,
    access_token = env("CTCT_ACCESS_TOKEN"),
  }
end

function M.store()
  return filestore.new { path = M.tokens_path() }
end

--- Save a profile's settings (after a login).
function M.save_profile(name, fields)
  local doc = M.read()
  local p = doc.profiles[name] or {}
  for k, v in pairs(fields) do p[k] = v end
  doc.profiles[name] = p
  if not doc.default then doc.default = name end
  M.write(doc)
end

local function login_needed(profile, message, no_hint)
  local e = errors.new { kind = "auth", error_key = "login_required", message = message }
  e.profile, e.no_hint = profile, no_hint
  return e
end
M.login_needed = login_needed

--- A ctct client for the profile (or the environment's token).
-- extra: more ctct.new options (transport, logger, rate_limit).
function M.client(args, extra)
  local ctct = require "ctct"
  local s = M.settings(args)
  local o = { base_url = s.base_url }
  for k, v in pairs(extra or {}) do o[k] = v end
  if s.access_token then
    o.access_token = s.access_token
    return ctct.new(o), s
  end
  local store = M.store()
  local token = store:get(s.profile)
  if type(token) ~= "table" then
    error(login_needed(s.profile, "profile '" .. s.profile .. "' is not logged in"), 0)
  end
  o.token_store, o.account = store, s.profile
  o.client_id, o.client_secret, o.authz_url = s.client_id, s.client_secret, s.authz_url
  return ctct.new(o), s
end

--- The partner credentials from the environment (all three are needed).
function M.partner_settings()
  local s = {
    client_id = env("CTCT_PARTNER_CLIENT_ID"), secret = env("CTCT_PARTNER_SECRET"),
    api_key = env("CTCT_PARTNER_API_KEY"), token_url = env("CTCT_PARTNER_TOKEN_URL"),
  }
  local missing = {}
  for _, k in ipairs { "CLIENT_ID", "SECRET", "API_KEY" } do
    if not s[k:lower()] then missing[#missing + 1] = "CTCT_PARTNER_" .. k end
  end
  return s, missing
end

--- A ctct.partner client from the environment.
function M.partner(args, extra)
  local s, missing = M.partner_settings()
  if #missing > 0 then
    error(login_needed(nil, "partner commands need " .. table.concat(missing, ", ") .. " in the environment", true), 0)
  end
  local o = { client_id = s.client_id, secret = s.secret, api_key = s.api_key, token_url = s.token_url,
              base_url = args.base_url or env("CTCT_BASE_URL") }
  for k, v in pairs(extra or {}) do o[k] = v end
  return require("ctct.partner").new(o), s
end

return M
