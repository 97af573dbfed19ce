--- ctct_example.signup: POST /signup (a sign-up form) adds or updates a contact
-- with contacts:create_or_update, in the account the site owner connected
-- (token store key settings.signup_account).
local config = require "ctct_example.config"

local M = {}

function M.handle()
  if ngx.req.get_method() ~= "POST" then return ngx.exit(405) end
  ngx.req.read_body()
  local args = ngx.req.get_post_args(20)
  local email = type(args.email) == "string" and args.email or nil
  if not email or not email:match("^[^@%s]+@[^@%s]+%.[^@%s]+$") then
    return config.json(400, { error = "validation", message = "a valid email is required" })
  end
  local s = config.settings
  local client = config.client_for(s.signup_account)
  local contact = {
    email_address = email,   -- sign_up_form takes the address itself
    first_name = type(args.first_name) == "string" and args.first_name or nil,
    last_name = type(args.last_name) == "string" and args.last_name or nil,
    list_memberships = s.signup_list_ids,
  }
  local data, err = client.contacts:create_or_update(contact)
  if not data then return config.fail(err, "sign-up of a contact") end
  return config.json(200, { contact_id = data.contact_id, action = data.action })
end

return M
