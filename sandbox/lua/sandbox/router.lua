-- Every emulated /v3 route, in one table, and the matcher.
--
-- A row: { METHOD, "/path/{param}", "<module>", "<handler>" } where the handler is
-- require("sandbox.resources.<module>").handlers[<handler>]. A literal segment beats a
-- parameter ("/contacts/counts" is not contact "counts"), whatever the order here.
-- auth = "partner" marks a Technology Partner route: a partner token and the partner's
-- x-api-key instead of an account's bearer token (app.lua's AUTHENTICATORS).
-- A route's body definition comes from the spec's operation with the same method and
-- path (lua/ctct/api/operations.lua); app.lua checks bodies against it (shape.lua).
local operations = require("ctct.api.operations").operations

local _M = {}

_M.ROUTES = {
  -- Account
  { "GET", "/account/summary", "account", "get_summary" },
  { "PUT", "/account/summary", "account", "put_summary" },
  { "GET", "/account/summary/physical_address", "account", "get_address" },
  { "POST", "/account/summary/physical_address", "account", "post_address" },
  { "PUT", "/account/summary/physical_address", "account", "put_address" },
  { "GET", "/account/user/privileges", "account", "privileges" },
  { "GET", "/account/emails", "account_emails", "list" },
  { "POST", "/account/emails", "account_emails", "create" },

  -- Contacts
  { "GET", "/contacts", "contacts", "list" },
  { "POST", "/contacts", "contacts", "create" },
  { "GET", "/contacts/counts", "contacts", "counts" },
  { "GET", "/contacts/contact_id_xrefs", "contacts", "xrefs" },
  { "POST", "/contacts/sign_up_form", "contacts", "sign_up_form" },
  { "PUT", "/contacts/resubscribe/{contact_id}", "contacts", "resubscribe" },
  { "GET", "/contacts/sms_engagement_history/{contact_id}", "contacts", "sms_history" },
  { "GET", "/contacts/{contact_id}", "contacts", "get" },
  { "PUT", "/contacts/{contact_id}", "contacts", "put" },
  { "DELETE", "/contacts/{contact_id}", "contacts", "delete" },

  -- Contact lists
  { "GET", "/contact_lists", "lists", "list" },
  { "POST", "/contact_lists", "lists", "create" },
  { "GET", "/contact_lists/list_id_xrefs", "lists", "xrefs" },
  { "GET", "/contact_lists/{list_id}", "lists", "get" },
  { "PUT", "/contact_lists/{list_id}", "lists", "put" },
  { "DELETE", "/contact_lists/{list_id}", "lists", "delete" },

  -- Tags
  { "GET", "/contact_tags", "tags", "list" },
  { "POST", "/contact_tags", "tags", "create" },
  { "GET", "/contact_tags/{tag_id}", "tags", "get" },
  { "PUT", "/contact_tags/{tag_id}", "tags", "put" },
  { "DELETE", "/contact_tags/{tag_id}", "tags", "delete" },

  -- Custom fields
  { "GET", "/contact_custom_fields", "custom_fields", "list" },
  { "POST", "/contact_custom_fields", "custom_fields", "create" },
  { "GET", "/contact_custom_fields/{custom_field_id}", "custom_fields", "get" },
  { "PUT", "/contact_custom_fields/{custom_field_id}", "custom_fields", "put" },
  { "DELETE", "/contact_custom_fields/{custom_field_id}", "custom_fields", "delete" },

  -- Segments
  { "GET", "/segments", "segments", "list" },
  { "POST", "/segments", "segments", "create" },
  { "GET", "/segments/{segment_id}", "segments", "get" },
  { "PUT", "/segments/{segment_id}", "segments", "put" },
  { "DELETE", "/segments/{segment_id}", "segments", "delete" },
  { "PATCH", "/segments/{segment_id}/name", "segments", "rename" },

  -- Email campaigns
  { "GET", "/emails", "emails", "list" },
  { "POST", "/emails", "emails", "create" },
  { "GET", "/emails/campaign_id_xrefs", "emails", "xrefs" },
  { "GET", "/emails/{campaign_id}", "emails", "get" },
  { "PATCH", "/emails/{campaign_id}", "emails", "rename" },
  { "DELETE", "/emails/{campaign_id}", "emails", "delete" },

  -- Email campaign activities, scheduling, A/B tests, resends
  { "GET", "/emails/activities/{campaign_activity_id}", "email_activities", "get" },
  { "PUT", "/emails/activities/{campaign_activity_id}", "email_activities", "put" },
  { "GET", "/emails/activities/{campaign_activity_id}/schedules", "email_activities", "get_schedules" },
  { "POST", "/emails/activities/{campaign_activity_id}/schedules", "email_activities", "schedule" },
  { "DELETE", "/emails/activities/{campaign_activity_id}/schedules", "email_activities", "unschedule" },
  { "POST", "/emails/activities/{campaign_activity_id}/tests", "email_activities", "test_send" },
  { "GET", "/emails/activities/{campaign_activity_id}/previews", "email_activities", "preview" },
  { "GET", "/emails/activities/{campaign_activity_id}/send_history", "email_activities", "send_history" },
  { "GET", "/emails/activities/{campaign_activity_id}/abtest", "email_activities", "get_abtest" },
  { "POST", "/emails/activities/{campaign_activity_id}/abtest", "email_activities", "create_abtest" },
  { "DELETE", "/emails/activities/{campaign_activity_id}/abtest", "email_activities", "delete_abtest" },
  { "GET", "/emails/activities/{campaign_activity_id}/non_opener_resends", "email_activities", "get_resends" },
  { "POST", "/emails/activities/{campaign_activity_id}/non_opener_resends", "email_activities", "create_resend" },
  { "DELETE", "/emails/activities/{campaign_activity_id}/non_opener_resends/{resend_request_id}",
    "email_activities", "delete_resend" },

  -- Bulk activities
  { "GET", "/activities", "activities", "list" },
  { "GET", "/activities/{activity_id}", "activities", "get" },
  { "POST", "/activities/add_list_memberships", "activities", "add_list_memberships" },
  { "POST", "/activities/remove_list_memberships", "activities", "remove_list_memberships" },
  { "POST", "/activities/contact_delete", "activities", "contact_delete" },
  { "POST", "/activities/contact_exports", "activities", "contact_exports" },
  { "POST", "/activities/contacts_file_import", "activities", "contacts_file_import" },
  { "POST", "/activities/contacts_json_import", "activities", "contacts_json_import" },
  { "POST", "/activities/contacts_taggings_add", "activities", "contacts_taggings_add" },
  { "POST", "/activities/contacts_taggings_remove", "activities", "contacts_taggings_remove" },
  { "POST", "/activities/contacts_tags_delete", "activities", "contacts_tags_delete" },
  { "POST", "/activities/custom_fields_delete", "activities", "custom_fields_delete" },
  { "POST", "/activities/list_delete", "activities", "list_delete" },
  { "GET", "/contact_exports/{file_export_id}", "activities", "export_file" },

  -- Email reporting
  { "GET", "/reports/stats/email_campaigns/{campaign_ids}", "reports", "campaign_stats" },
  { "GET", "/reports/stats/email_campaign_activities/{campaign_activity_ids}", "reports", "activity_stats" },
  { "GET", "/reports/summary_reports/email_campaign_summaries", "reports", "campaign_summaries" },
  { "GET", "/reports/summary_reports/sms_campaign_summaries", "reports", "sms_summaries" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/links", "reports", "links" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/tracking/sends", "reports", "sends" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/tracking/opens", "reports", "opens" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/tracking/unique_opens", "reports", "unique_opens" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/tracking/clicks", "reports", "clicks" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/tracking/didnotopens", "reports", "didnotopens" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/tracking/forwards", "reports", "forwards" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/tracking/optouts", "reports", "optouts" },
  { "GET", "/reports/email_reports/{campaign_activity_id}/tracking/bounces", "reports", "bounces" },

  -- Contact reporting
  { "GET", "/reports/contact_reports/{contact_id}/activity_details", "contact_reports", "activity_details" },
  { "GET", "/reports/contact_reports/{contact_id}/activity_summary", "contact_reports", "activity_summary" },
  { "GET", "/reports/contact_reports/{contact_id}/open_and_click_rates", "contact_reports", "rates" },

  -- Landing page reporting
  { "GET", "/reports/landing_pages/campaign_details/{campaign_activity_id}/p_contact_opens",
    "landing_page_reports", "contact_opens" },
  { "GET", "/reports/landing_pages/campaign_details/{campaign_activity_id}/p_unique_contact_opens",
    "landing_page_reports", "unique_contact_opens" },
  { "GET", "/reports/landing_pages/campaign_details/{campaign_activity_id}/p_unique_contact_clicks",
    "landing_page_reports", "unique_contact_clicks" },
  { "GET", "/reports/landing_pages/campaign_details/{campaign_activity_id}/p_unique_contact_adds",
    "landing_page_reports", "unique_contact_adds" },
  { "GET", "/reports/landing_pages/campaign_details/{campaign_activity_id}/p_unique_contact_updates",
    "landing_page_reports", "unique_contact_updates" },
  { "GET", "/reports/landing_pages/campaign_details/{campaign_activity_id}/p_unique_contact_sms_optins",
    "landing_page_reports", "unique_contact_sms_optins" },

  -- Events
  { "GET", "/events", "events", "list" },
  { "POST", "/events/default", "events", "create_default" },
  { "GET", "/events/{event_id}", "events", "get" },
  { "PATCH", "/events/{event_id}", "events", "patch" },
  { "POST", "/events/{event_id}/copy", "events", "copy" },
  { "POST", "/events/{event_id}/check_in/tickets", "events", "check_in" },
  { "POST", "/events/{event_id}/undo_check_in/tickets", "events", "undo_check_in" },
  { "GET", "/events/{event_id}/tracks/{track_id}/registrations", "events", "registrations" },
  { "PUT", "/events/{event_id}/tracks/{track_id}/registrations", "events", "registration_status" },
  { "PUT", "/events/{event_id}/tracks/{track_id}/registrations/payment_status", "events", "payment_status" },
  { "GET", "/events/{event_id}/tracks/{track_id}/registrations/{registration_id}", "events", "registration" },

  -- Automations
  { "GET", "/automations/workflows", "automations", "list" },
  { "POST", "/automations/workflows", "automations", "create" },
  { "GET", "/automations/workflows/{automation_flow_id}", "automations", "get" },
  { "PUT", "/automations/workflows/{automation_flow_id}", "automations", "put" },

  -- Social
  { "GET", "/social/profiles", "social", "profiles" },
  { "GET", "/social/connections", "social", "connections" },
  { "GET", "/social/hashtags/groups", "social", "hashtag_groups" },
  { "POST", "/social/posts", "social", "create_post" },

  -- Technology partners (partner token + x-api-key; handlers get req.partner)
  { "GET", "/partner/accounts", "partner_accounts", "list", auth = "partner" },
  { "POST", "/partner/accounts", "partner_accounts", "provision", auth = "partner" },
  { "POST", "/partner/accounts/{encoded_account_id}/account_operations/sync", "partner_accounts", "sync",
    auth = "partner" },
  { "POST", "/partner/accounts/{encoded_account_id}/contacts/unsubscribe", "partner_accounts", "unsubscribe",
    auth = "partner" },
  { "GET", "/partner/accounts/{encoded_account_id}/plan", "partner_accounts", "get_plan", auth = "partner" },
  { "PUT", "/partner/accounts/{encoded_account_id}/plan", "partner_accounts", "set_plan", auth = "partner" },
  { "PUT", "/partner/accounts/{encoded_account_id}/status/cancel", "partner_accounts", "cancel", auth = "partner" },
  { "POST", "/partner/accounts/{encoded_account_id}/users/sso", "partner_accounts", "sso_user", auth = "partner" },

  -- Technology partner webhooks
  { "GET", "/partner/webhooks/subscriptions", "partner_webhooks", "list", auth = "partner" },
  { "GET", "/partner/webhooks/subscriptions/{topic_id}", "partner_webhooks", "get", auth = "partner" },
  { "PUT", "/partner/webhooks/subscriptions/{topic_id}", "partner_webhooks", "put", auth = "partner" },
  { "DELETE", "/partner/webhooks/subscriptions/{topic_id}", "partner_webhooks", "delete", auth = "partner" },
  { "POST", "/partner/webhooks/subscriptions/{topic_id}/tests", "partner_webhooks", "test", auth = "partner" },
}

local function op_key(method, path)
  return method .. " " .. (path:gsub("{[^}]*}", "{}"))
end

-- "PUT /contacts/{}" -> the body definition of that operation ("ContactPutRequest").
local BODY_SCHEMAS = {}
for _, op in pairs(operations) do
  for _, p in ipairs(op.params) do
    if p["in"] == "body" then BODY_SCHEMAS[op_key(op.method, op.path)] = p.schema end
  end
end

-- The body definition of a route (METHOD, "/path/{param}" under the base path), or nil.
function _M.body_schema(method, path)
  return BODY_SCHEMAS[op_key(method, path)]
end

local function split(path)
  local segments = {}
  for segment in path:gmatch("[^/]+") do segments[#segments + 1] = segment end
  return segments
end

-- Compiles ROUTES under base ("/v3"): routes indexed by segment count, each with its
-- handler resolved (a missing handler stops nginx from starting).
function _M.compile(base, rows)
  local by_length = {}
  for _, r in ipairs(rows or _M.ROUTES) do
    local template = base .. r[2]
    local handlers = require("sandbox.resources." .. r[3]).handlers
    local handler = handlers and handlers[r[4]]
    if type(handler) ~= "function" then
      error("router: no handler " .. r[3] .. "." .. r[4] .. " for " .. r[1] .. " " .. r[2])
    end
    local segments = split(template)
    local literals = 0
    for _, s in ipairs(segments) do
      if not s:match("^{.+}$") then literals = literals + 1 end
    end
    local route = {
      method = r[1], template = template, handler = handler, auth = r.auth or "bearer",
      segments = segments, literals = literals, schema = _M.body_schema(r[1], r[2]),
    }
    local bucket = by_length[#segments] or {}
    by_length[#segments] = bucket
    bucket[#bucket + 1] = route
  end
  return by_length
end

local function match_segments(route, segments)
  local params = {}
  for i, w in ipairs(route.segments) do
    local name = w:match("^{(.+)}$")
    if name then
      params[name] = segments[i]   -- ngx.var.uri is already decoded
    elseif w ~= segments[i] then
      return nil
    end
  end
  return params
end

-- Returns route, params for a match (the one with the most literal segments); nil,
-- allowed_methods when only the method is wrong; nil when no route has this path.
function _M.find(routes, method, path)
  if path:sub(-1) == "/" and #path > 1 then return nil end
  local segments = split(path)
  local best, best_params
  local allowed, seen
  for _, route in ipairs(routes[#segments] or {}) do
    local params = match_segments(route, segments)
    if params then
      if route.method == method then
        if not best or route.literals > best.literals then best, best_params = route, params end
      else
        allowed, seen = allowed or {}, seen or {}
        if not seen[route.method] then
          seen[route.method] = true
          allowed[#allowed + 1] = route.method
        end
      end
    end
  end
  if best then return best, best_params end
  return nil, allowed
end

return _M
