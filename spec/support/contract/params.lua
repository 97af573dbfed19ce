-- Realistic parameters for each of the 128 V3 operations, for the contract test
-- (spec/contract_spec.lua): what an application would pass to client:call. Ids
-- are well-formed (uuids where the API uses uuids, numeric segment ids, the short
-- encoded account and track ids), dates are ISO 8601, bodies carry the fields the
-- API guide asks for. Multi-value parameters are given several values (include,
-- tags, lists, status, bounce codes, xref ids, list_ids of the CSV import, the
-- comma-separated ids of the stats reports).
--
--   local params = require "spec.support.contract.params"
--   params.for_operation("getContacts")   -- a fresh copy of its parameter table
--   params.calls("getContactTracking")    -- every call to make: { params, ... }
local M = {}

-- Ids used across the calls.
local ID = {
  contact = "1618ae62-4752-11e9-9c8a-fa163e6b01c1",
  contact2 = "2b4a8c3e-4752-11e9-9c8a-fa163e6b01c1",
  contact3 = "3c9d1e5f-4752-11e9-9c8a-fa163e6b01c1",
  list = "07936f78-662a-11eb-af0a-fa163e56c9b9",
  list2 = "a4e4d8a0-1f0b-11ef-9b5e-fa163e595591",
  tag = "d938260a-af1e-11e9-a540-fa163e595123",
  tag2 = "30c97dd0-332e-11eb-923c-fa163e595327",
  custom_field = "1a2b3c4d-5e6f-11ee-8c99-0242ac120002",
  custom_field2 = "2b3c4d5e-6f70-11ee-8c99-0242ac120002",
  campaign = "91569d46-00e4-4a4d-9a4c-d17d98740d04",
  campaign_activity = "8892baf9-970a-4de6-8400-fa4ec461987c",
  campaign_activity2 = "c8cdf384-15ca-4dcc-9b6f-4c91121fdc23",
  activity = "04fe9a5c-a579-43c5-bb1a-58ed29bf0a6a",
  file_export = "75e3e8e4-9c86-11ee-8c90-0242ac120002",
  automation_flow = "6e4f6a04-7d4e-4c4f-9a6e-1f4f0e1b2c3d",
  event = "1697732a-8664-4675-8415-c4aabaa17dae",
  track = "s8zabc",
  registration = "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
  account = "a07e1lxqqqo0",
  segment = 14,
  topic = "1",
}
M.ID = ID

local ADDRESS = {
  organization_name = "Bayside Bikes", address_line1 = "123 Harbor Street", address_line2 = "Suite 4",
  city = "Waltham", state_code = "MA", postal_code = "02451", country_code = "US",
}

local CONTACT_CSV = table.concat({
  "email,first_name,last_name,phone,job_title",
  "jane.doe@example.com,Jane,Doe,+1-617-555-0101,Owner",
  "sam.lee@example.com,Sam,Lee,+1-617-555-0102,Mechanic",
}, "\r\n") .. "\r\n"

local P = {}

-- ---- Account ------------------------------------------------------------------------
P.retrieveEmailAddresses = { confirm_status = "CONFIRMED", role_code = "CONTACT" }
P.addAccountEmailAddress = { body = { email_address = "news@baysidebikes.example" } }
P.getAccountById = { extra_fields = { "physical_address", "company_logo" } }
P.putCustomerById = { body = {
  contact_email = "owner@baysidebikes.example", contact_phone = "+1-617-555-0100",
  country_code = "US", state_code = "MA", first_name = "Jane", last_name = "Doe",
  organization_name = "Bayside Bikes", organization_phone = "+1-617-555-0199",
  time_zone_id = "US/Eastern", website = "https://baysidebikes.example",
} }
P.getPhysicalAddress = {}
P.addPhysicalAddress = { body = {
  address_line1 = ADDRESS.address_line1, address_line2 = ADDRESS.address_line2, city = ADDRESS.city,
  state_code = ADDRESS.state_code, postal_code = ADDRESS.postal_code, country_code = ADDRESS.country_code,
} }
P.putPhysicalAddress = { body = {
  address_line1 = "500 Main Street", city = "Boston", state_code = "MA", postal_code = "02118",
  country_code = "US",
} }
P.getUserPrivileges = {}

-- ---- Bulk activities ----------------------------------------------------------------
P.postListAddContact = { body = {
  source = { contact_ids = { ID.contact, ID.contact2, ID.contact3 } },
  list_ids = { ID.list, ID.list2 },
} }
P.postContactDelete = { body = { contact_ids = { ID.contact, ID.contact2 } } }
P.postContactsExport = { body = {
  list_ids = { ID.list, ID.list2 }, status = "active",
  fields = { "email_address", "first_name", "last_name", "list_memberships" },
} }
P.contactsCSVImport = { file = CONTACT_CSV, list_ids = { ID.list, ID.list2 }, sms_permission_to_send = "not_set" }
P.bulkImportContactsJSON = { body = {
  import_data = {
    { email = "jane.doe@example.com", first_name = "Jane", last_name = "Doe", job_title = "Owner",
      birthday_month = 4, birthday_day = 12, city = "Waltham", state = "MA", zip = "02451" },
    { email = "sam.lee@example.com", first_name = "Sam", last_name = "Lee", phone = "+1-617-555-0102" },
  },
  list_ids = { ID.list, ID.list2 },
} }
P.postTagAddContact = { body = {
  source = { contact_ids = { ID.contact, ID.contact2 } }, tag_ids = { ID.tag, ID.tag2 },
} }
P.postTagRemoveContact = { body = { source = { list_ids = { ID.list } }, tag_ids = { ID.tag, ID.tag2 } } }
P.postTagDelete = { body = { tag_ids = { ID.tag, ID.tag2 } } }
P.postCustomFieldDelete = { body = { custom_field_ids = { ID.custom_field, ID.custom_field2 } } }
P.postListDelete = { body = { list_ids = { ID.list, ID.list2 } } }
P.postListRemoveContact = { body = {
  source = { list_ids = { ID.list2 }, tag_ids = { ID.tag } },
  list_ids = { ID.list },
} }
P.getActivity = { activity_id = ID.activity }
P.getActivityStatusCollection = { limit = 50, state = "completed" }
P.getContactsExport = { file_export_id = ID.file_export }

-- ---- Automations --------------------------------------------------------------------
P.listAutomations = { channel = "email", sort_direction = "DESC", created_from = "TEMPLATE",
  goals = "post_purchase_followup", name = "Welcome series" }
P.retrieveAutomationCampaignUsingGet = { automation_flow_id = ID.automation_flow }
P.updateAutomationCampaignUsingPut = { automation_flow_id = ID.automation_flow, body = {
  automation_flow = { id = ID.automation_flow, name = "Welcome series", description = "Two emails to new subscribers",
    name_explicitly_set = true, status = "ACTIVE" },
} }
P.createAutomationCampaignUsingPost = { workflowName = "Welcome series", body = {
  type = "Action", action_name = "list_join",
  parameters = { { parameter_name = "list_id", type = "list", operator = "in", parameter_list_value = { ID.list } } },
} }

-- ---- Contact custom fields ----------------------------------------------------------
P.getCustomFields = { limit = 100 }
P.postCustomFields = { body = {
  label = "Favorite bike", type = "single_select", version = 2,
  choices = { { choice_label = "Road", display_order = 1 }, { choice_label = "Gravel", display_order = 2 } },
} }
P.getCustomField = { custom_field_id = ID.custom_field }
P.putCustomField = { custom_field_id = ID.custom_field, body = {
  label = "Favourite bike",
  choices = { { choice_id = 1, choice_label = "Road", display_order = 1 },
              { choice_label = "Mountain", display_order = 3 } },
} }
P.deleteCustomField = { custom_field_id = ID.custom_field }

-- ---- Contact lists ------------------------------------------------------------------
P.getLists = { limit = 100, include_count = true, include_membership_count = "active", status = "active",
  channel_type = "email" }
P.createList = { body = { name = "Spring riders 2026", favorite = true, description = "Signed up at the spring fair" } }
P.getList = { list_id = ID.list, include_membership_count = "all" }
P.putList = { list_id = ID.list, body = { name = "Spring riders", favorite = false, description = "Renamed" } }
P.deleteListActivity = { list_id = ID.list }
P.getListIdXrefs = { sequence_ids = { "1995998026", "1882999944", "1775099999" } }

-- ---- Contact tags -------------------------------------------------------------------
P.getTags = { limit = 100, include_count = true }
P.postTag = { body = { name = "Trade show 2026", tag_source = "Spring fair" } }
P.getTag = { tag_id = ID.tag, include_count = true }
P.putTag = { tag_id = ID.tag, body = { name = "Trade show leads" } }
P.deleteTag = { tag_id = ID.tag2 }

-- ---- Contacts -----------------------------------------------------------------------
P.getContacts = {
  status = { "active", "unsubscribed" },
  lists = { ID.list, ID.list2 },
  tags = { ID.tag, ID.tag2 },
  updated_after = "2026-01-01T00:00:00Z", updated_before = "2026-06-30T23:59:59Z",
  include = { "custom_fields", "list_memberships", "taggings" },
  sms_status = { "explicit", "pending_confirmation" },
  include_count = true, limit = 100,
}
P.createContact = { body = {
  email_address = { address = "jane.doe@example.com", permission_to_send = "implicit" },
  first_name = "Jane", last_name = "Doe", job_title = "Owner", company_name = "Bayside Bikes",
  create_source = "Account", birthday_month = 4, birthday_day = 12, anniversary = "2019-05-01",
  phone_numbers = { { phone_number = "+1-617-555-0101", kind = "mobile" } },
  street_addresses = { { kind = "home", street = "12 Elm Street", city = "Waltham", state = "MA",
                         postal_code = "02451", country = "United States" } },
  list_memberships = { ID.list, ID.list2 },
  taggings = { ID.tag },
  custom_fields = { { custom_field_id = ID.custom_field, value = "Road" } },
  notes = { { content = "Met at the spring fair", created_at = "2026-04-02T15:00:00Z" } },
} }
P.getContact = { contact_id = ID.contact, include = { "custom_fields", "list_memberships", "phone_numbers" } }
P.putContact = { contact_id = ID.contact, body = {
  email_address = { address = "jane.doe@example.com", permission_to_send = "explicit" },
  first_name = "Jane", last_name = "Doe-Smith", job_title = "Owner",
  update_source = "Account",
  list_memberships = { ID.list },
  phone_numbers = { { phone_number = "+1-617-555-0101", kind = "mobile" } },
  custom_fields = { { custom_field_id = ID.custom_field, value = "Gravel" } },
} }
P.deleteContact = { contact_id = ID.contact }
P.createOrUpdateContact = { body = {
  email_address = "sam.lee@example.com", first_name = "Sam", last_name = "Lee",
  phone_number = "+1-617-555-0102", job_title = "Mechanic", company_name = "Bayside Bikes",
  street_address = { kind = "work", street = "123 Harbor Street", city = "Waltham", state = "MA",
                     postal_code = "02451", country = "United States" },
  list_memberships = { ID.list, ID.list2 },
  custom_fields = { { custom_field_id = ID.custom_field, value = "Mountain" } },
} }
P.countContact = { include = "new_subscriber" }
P.getContactIdXrefs = { sequence_ids = { "1995998026", "1882999944", "1775099999" } }
P.resubscribeContact = { contact_id = ID.contact, body = { list_ids = { ID.list, ID.list2 } } }
P.getSmsEngagementHistory = { contact_id = ID.contact }

-- ---- Email campaigns ----------------------------------------------------------------
local EMAIL_HTML = "<html><body><p>Spring tune-ups are back: 20% off this month.</p>[[trackingImage]]</body></html>"

P.retrieveEmailCampaignsUsingGET = { limit = 50, after_date = "2026-01-01T00:00:00Z",
  before_date = "2026-06-30T23:59:59Z" }
P.createEmailCampaignUsingPOST = { body = {
  name = "Spring tune-up 2026",
  email_campaign_activities = { {
    format_type = 5, from_name = "Bayside Bikes", from_email = "news@baysidebikes.example",
    reply_to_email = "hello@baysidebikes.example", subject = "Spring tune-ups are back",
    preheader = "20% off this month", html_content = EMAIL_HTML,
    physical_address_in_footer = ADDRESS,
  } },
} }
P.retrieveEmailCampaignUsingGET = { campaign_id = ID.campaign }
P.renameEmailCampaignUsingPATCH = { campaign_id = ID.campaign, body = { name = "Spring tune-up 2026 (final)" } }
P.removeEmailCampaignUsingDELETE = { campaign_id = ID.campaign }
P.retrieveXrefMappingsUsingGET = { v2_email_campaign_ids = { "1100567546598", "1604567396117" } }
P.retrieveEmailCampaignActivityUsingGET = { campaign_activity_id = ID.campaign_activity,
  include = { "physical_address_in_footer", "permalink_url", "html_content" } }
P.updateEmailCampaignActivityUsingPUT = { campaign_activity_id = ID.campaign_activity, body = {
  campaign_activity_id = ID.campaign_activity, campaign_id = ID.campaign, role = "primary_email",
  from_name = "Bayside Bikes", from_email = "news@baysidebikes.example",
  reply_to_email = "hello@baysidebikes.example", subject = "Spring tune-ups: last week",
  preheader = "Ends Sunday", html_content = EMAIL_HTML,
  contact_list_ids = { ID.list, ID.list2 },
  physical_address_in_footer = ADDRESS,
} }
P.retrieveEmailCampaignActivityPreviewUsingGET = { campaign_activity_id = ID.campaign_activity }
P.retrieveEmailSendHistoryUsingGET = { campaign_activity_id = ID.campaign_activity }
P.retrieveEmailSchedulesUsingGET = { campaign_activity_id = ID.campaign_activity }
P.scheduleEmailCampaignActivityUsingPOST = { campaign_activity_id = ID.campaign_activity,
  body = { scheduled_date = "2026-05-01T13:00:00.000Z" } }
P.unscheduleEmailCampaignActivityUsingDELETE = { campaign_activity_id = ID.campaign_activity }
P.testSendCampaignActivityUsingPOST = { campaign_activity_id = ID.campaign_activity, body = {
  email_addresses = { "owner@baysidebikes.example", "staff@baysidebikes.example" },
  personal_message = "Please check the links before Friday.",
} }
P.retrieveEmailCampaignABTestUsingGET = { campaign_activity_id = ID.campaign_activity }
P.createEmailCampaignABTestUsingPOST = { campaign_activity_id = ID.campaign_activity, body = {
  alternative_subject = "Your bike wants a tune-up", test_size = 20, winner_wait_duration = 24,
} }
P.deleteEmailCampaignABTestUsingDELETE = { campaign_activity_id = ID.campaign_activity }
P.retrieveResendToNonOpenersUsingGET = { campaign_activity_id = ID.campaign_activity }
P.createResendToNonOpenersUsingPOST = { campaign_activity_id = ID.campaign_activity, body = {
  resend_subject = "In case you missed it: spring tune-ups", delay_days = 3,
} }
P.deleteResendToNonOpenersUsingDELETE = { campaign_activity_id = ID.campaign_activity, resend_request_id = "389093" }

-- ---- Events -------------------------------------------------------------------------
P.findEvents = { event_status = "ACTIVE", search_text = "tune-up", sort_by = "created_time", sort_order = "DESC",
  limit = "25" }
P.addDefaultEvent = { name = "Spring tune-up clinic", start_time = "2026-05-09T14:00:00Z",
  end_time = "2026-05-09T17:00:00Z" }
P.getEvent_2 = { event_id = ID.event, include = true }
P.patchEvent = { event_id = ID.event, body = {
  campaign_id = ID.campaign, name = "Spring tune-up clinic", title = "Free spring tune-up clinic",
  description = "Bring your bike, we check brakes and gears for free.",
  event_type = "CLASS_WORKSHOP", location_type = "PHYSICAL", time_zone = "US/Eastern",
  event_start = "2026-05-09T14:00:00Z", event_end = "2026-05-09T17:00:00Z",
  contact = { name = "Jane Doe", organization_name = "Bayside Bikes", email_address = "events@baysidebikes.example",
              phone_number = "+1-617-555-0100" },
  address = { address_type = "EVENT", location_name = "Bayside Bikes", line1 = "123 Harbor Street",
              city = "Waltham", state_code = "MA", postal_code = "02451", country_code = "US" },
  default_track = { campaign_activity_id = ID.campaign_activity, registration_type = "TICKET" },
} }
P.copyEvent = { event_id = ID.event, body = { target_event_name = "Autumn tune-up clinic",
  source_campaign_activities = { ID.campaign_activity, ID.campaign_activity2 } } }
P.checkInTickets = { event_id = ID.event, body = { order_ticket_keys = { "ORD-1001-T1", "ORD-1001-T2" } } }
P.undoCheckInTickets = { event_id = ID.event, body = { order_ticket_keys = { "ORD-1001-T2" } } }
P.findRegistrationsUsingGET = { event_id = ID.event, track_id = ID.track, registration_status = "REGISTERED",
  payment_status = "PAID", search_text = "jane.doe@example.com", sort_by = "last_name", sort_order = "ASC",
  limit = "50" }
P.getRegistrationInfo = { event_id = ID.event, track_id = ID.track, registration_id = ID.registration }
P.updateRegistrationStatusUsingPUT = { event_id = ID.event, track_id = ID.track, return_items_to_inventory = true,
  body = { registration_ids = { ID.registration, "b2c3d4e5-f6a7-8901-bcde-f12345678901" },
           registration_status = "CANCELED" } }
P.updateRegistrationPaymentStatusUsingPUT = { event_id = ID.event, track_id = ID.track,
  body = { registration_ids = { ID.registration }, payment_status = "PAID" } }

-- ---- Technology partners ------------------------------------------------------------
P.getPartnerSiteOwners = { limit = 50, offset = "0", account_type = "managed" }
P.provision = { body = {
  contact_email = "owner@riverside-cafe.example", contact_phone = "+1-617-555-0123",
  country_code = "US", state_code = "MA", organization_name = "Riverside Cafe",
  organization_phone = "+1-617-555-0124", website = "https://riverside-cafe.example",
  login_name = "riversidecafe", password = "Correct-Horse-9", first_name = "Ana", last_name = "Silva",
  time_zone_id = "US/Eastern", partner_account_id = "rc-20260401", billing_locale = "en_US",
} }
P.getPlan = { encoded_account_id = ID.account }
P.setPlan = { encoded_account_id = ID.account, body = { plan_type = "GOLD", billing_day_of_month = 15 } }
P.cancelAccount = { encoded_account_id = ID.account, body = { reason_id = 2, effective_date = "2026-06-30T00:00:00Z" } }
P.createSSOUser = { encoded_account_id = ID.account, body = {
  first_name = "Ana", last_name = "Silva", contact_email = "ana@riverside-cafe.example",
  login_name = "ana.silva", role_name = "campaign_creator",
  external_id = "okta|00u1abcd2EFGH3ijk4l5", external_provider = "okta",
} }
P.partnerUnsubscribeContacts = { encoded_account_id = ID.account, body = {
  update_source = "Account", email_addresses = { "former@example.com", "moved.away@example.com" },
  opt_out_reason = "Customer asked to be removed", delete_contacts = false,
} }
P.partnerAccountOperationsPostSync = { encoded_account_id = ID.account, body = {
  account_operation_url = "/contacts/{contact_id}", account_operation_method = "GET",
  account_operation_path_parameters = { { path_param_key = "contact_id", path_param_value = ID.contact } },
  account_operation_query_parameters = { { query_param_key = "include", query_param_value = "list_memberships" } },
} }
P.getWebhooksCollection = {}
P.getWebhooksTopic = { topic_id = ID.topic }
P.putWebhooksTopic = { topic_id = ID.topic, body = { hook_uri = "https://hooks.riverside-cafe.example/ctct/billing" } }
P.deleteWebhooksSubscriptions = { topic_id = ID.topic }
P.testSendWebhooksTopic = { topic_id = ID.topic }

-- ---- Reporting ----------------------------------------------------------------------
P.getContactTracking = { contact_id = ID.contact, tracking_activities_list = { "em_clicks", "em_opens" },
  include_campaign_activity_names = true, limit = 50 }
-- tracking_activity_type is the alternative to tracking_activities_list (the two
-- are mutually exclusive): a second call. Since 3.0.178 an email can also be created
-- as an email-editor email (format_type 4): a second createEmailCampaignUsingPOST.
local EXTRA = {
  getContactTracking = { { contact_id = ID.contact, tracking_activity_type = { "em_sends", "em_bounces" },
                           limit = 20 } },
  createEmailCampaignUsingPOST = { { body = {
    name = "Spring tune-up 2026 (editor)",
    email_campaign_activities = { {
      format_type = 4, from_name = "Bayside Bikes", from_email = "news@baysidebikes.example",
      reply_to_email = "hello@baysidebikes.example", subject = "Spring tune-ups are back",
      preheader = "20% off this month", html_content = EMAIL_HTML,
    } },
  } } },
}
P.getContactTrackingCount = { contact_id = ID.contact, start = "2026-01-01T00:00:00Z",
  ["end"] = "2026-03-31T23:59:59Z" }
P.getContactOpenClickRate = { contact_id = ID.contact, start = "2026-01-01T00:00:00Z",
  ["end"] = "2026-03-31T23:59:59Z" }
P.getCampaignActivityLinkStats = { campaign_activity_id = ID.campaign_activity, no_clicks = true }
P.getBounces = { campaign_activity_id = ID.campaign_activity, bounce_code = { "B", "D", "F" }, limit = 100 }
P.getClicks = { campaign_activity_id = ID.campaign_activity, url_id = 49920742166, limit = 100 }
P.getDidNotOpens = { campaign_activity_id = ID.campaign_activity, limit = 100 }
P.getForwards = { campaign_activity_id = ID.campaign_activity, limit = 100 }
P.getOpens = { campaign_activity_id = ID.campaign_activity, limit = 100 }
P.getOptouts = { campaign_activity_id = ID.campaign_activity, limit = 100 }
P.getSends = { campaign_activity_id = ID.campaign_activity, limit = 100 }
P.getUniqueOpens = { campaign_activity_id = ID.campaign_activity, limit = 100 }
for _, op in ipairs { "getContactOpens", "getContactAdds", "getUniqueContactClicks", "getUniqueContactOpens",
                      "getUniqueContactSMSOptIns", "getUniqueContactUpdates" } do
  P[op] = { campaign_activity_id = ID.campaign_activity, limit = "100", contacts_filter = "jane" }
end
P.getEmailCampaignActivitySummary = { campaign_activity_ids = { ID.campaign_activity, ID.campaign_activity2 } }
P.getEmailSummary = { campaign_ids = { ID.campaign, "5a2a3e5c-4f11-4b8e-9c2d-0e8f2a7b6c1d" } }
P.getAllBulkEmailCampaignSummaries = { limit = "50" }
P.getAllBulkSmsCampaignSummaries = { limit = "15", start_at = "2026-01-01T00:00:00.000Z",
  end_at = "2026-03-31T23:59:59.000Z" }

-- ---- Segments -----------------------------------------------------------------------
local SEGMENT_CRITERIA = '{"version":"1.0.0","criteria":{"type":"and","group":[{"source":"tracking",' ..
  '"field":"clicked","op":"contains-any","const_value":[{"type":"string","value":"' .. ID.campaign_activity ..
  '"}]}]}}'
P.getAccountSegments = { limit = "100", sort_by = "date" }
P.createSegment = { body = { name = "Clicked the spring campaign", segment_criteria = SEGMENT_CRITERIA } }
P.getSegmentDetail = { segment_id = ID.segment }
P.updateSegment = { segment_id = ID.segment, body = { name = "Clicked spring", segment_criteria = SEGMENT_CRITERIA } }
P.updateSegmentName = { segment_id = ID.segment, body = { name = "Spring clickers" } }
P.deleteSegment = { segment_id = ID.segment }

-- ---- Social -------------------------------------------------------------------------
P.getSocialConnectionsUsingGET = {}
P.getSocialProfilesUsingGET = { include = { "accessible" } }
P.getSocialHashtagGroupsUsingGET = { limit = 5, page = 0 }
P.createSocialPostUsingPOST = { body = {
  name = "Spring tune-up announcement", status = "SCHEDULED", scheduled_time = "2026-04-20T15:00:00Z",
  profile_posts = { {
    text = "Spring tune-ups are back at Bayside Bikes: 20% off all month! #cycling",
    profiles = { { profile_id = "17841400000000001", network = "INSTAGRAM" },
                 { profile_id = "104000000000002", network = "FACEBOOK" } },
    images = { { url = "https://baysidebikes.example/img/spring.jpg" } },
  } },
} }

M.params = P
M.extra = EXTRA

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end

--- A fresh copy of the parameters for op_id, or nil when there are none.
function M.for_operation(op_id)
  return P[op_id] and copy(P[op_id]) or nil
end

--- The calls to make for op_id: a list of fresh parameter tables (the main one,
-- then any extra ones), or nil.
function M.calls(op_id)
  if not P[op_id] then return nil end
  local out = { copy(P[op_id]) }
  for _, extra in ipairs(EXTRA[op_id] or {}) do out[#out + 1] = copy(extra) end
  return out
end

return M
