-- The few HTML pages of the authorization server: error page, consent page and the
-- device activation page. Plain forms, so tests can post them with curl.
local http = require "sandbox.http"

local _M = {}

local ENTITIES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

local function esc(s) return (tostring(s):gsub("[&<>\"']", ENTITIES)) end

local function page(title, body)
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" .. esc(title)
    .. "</title></head>\n<body>\n<h1>" .. esc(title) .. "</h1>\n" .. body .. "</body></html>\n"
end

local HTML = "text/html; charset=utf-8"

-- Whether the client asked for JSON (Accept: application/json) rather than a page.
local function wants_json()
  local accept = ngx.var.http_accept or ""
  return accept:find("application/json", 1, true) ~= nil
end

-- Raises an error shown to the user (never redirected: the redirect URI is not
-- trusted yet): an HTML page, or {"error", "error_description"} for JSON clients.
function _M.fail(status, code, description)
  local headers = { ["Cache-Control"] = "no-store" }
  if wants_json() then
    http.fail_body(status, { error = code, error_description = description }, headers)
  end
  http.fail_body(status, page("Error: " .. code,
    '<p id="error">' .. esc(code) .. '</p>\n<p id="error_description">' .. esc(description) .. "</p>\n"),
    headers, HTML)
end

-- A page answer: status, body, headers, content type (as handlers return them).
function _M.answer(status, title, body)
  return status, page(title, body), { ["Cache-Control"] = "no-store" }, HTML
end

local function hidden(name, value)
  return '<input type="hidden" name="' .. esc(name) .. '" value="' .. esc(value) .. '">\n'
end

-- The consent page: posts request_id, account and decision=approve|deny to action.
function _M.consent(action, request_id, client_id, scopes, account)
  local items = {}
  for _, s in ipairs(scopes) do items[#items + 1] = "<li>" .. esc(s) .. "</li>" end
  return _M.answer(200, "Authorize " .. client_id,
    "<p>The application <b>" .. esc(client_id) .. "</b> asks for:</p>\n<ul>" .. table.concat(items)
    .. "</ul>\n<form method=\"post\" action=\"" .. esc(action) .. "\">\n" .. hidden("request_id", request_id)
    .. '<label>Account <input name="account" value="' .. esc(account) .. '"></label>\n'
    .. '<button type="submit" name="decision" value="approve">Allow</button>\n'
    .. '<button type="submit" name="decision" value="deny">Deny</button>\n</form>\n')
end

-- The device activation page (verification_uri): user_code, account, decision.
function _M.activate(action, user_code, account)
  return _M.answer(200, "Activate your device",
    "<form method=\"post\" action=\"" .. esc(action) .. "\">\n"
    .. '<label>Code <input name="user_code" value="' .. esc(user_code or "") .. '"></label>\n'
    .. '<label>Account <input name="account" value="' .. esc(account) .. '"></label>\n'
    .. '<button type="submit" name="decision" value="approve">Allow</button>\n'
    .. '<button type="submit" name="decision" value="deny">Deny</button>\n</form>\n')
end

_M.esc = esc

return _M
