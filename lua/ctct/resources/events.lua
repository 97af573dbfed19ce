--- client.events: events and their registrations (thin objects over the
-- Events operations; anything else through client:call).
local base = require "ctct.resources.base"

local ET = { "event_id", "track_id" }

--- The client.events resource object (ctct.Client's `events` field).
---@class ctct.resources.events
---@field client ctct.Client
---@field NAME string the resource's name, "events"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Events = base.define {
  name = "events",
  collection = { op = "findEvents", items = "records" },
  methods = {
    get = { op = "getEvent_2", args = { "event_id" } },
    create_default = { op = "addDefaultEvent" },
    update = { op = "patchEvent", args = { "event_id" }, body = true },
    copy = { op = "copyEvent", args = { "event_id" }, body = true },
    registration = { op = "getRegistrationInfo", args = { "event_id", "track_id", "registration_id" } },
    update_registrations = { op = "updateRegistrationStatusUsingPUT", args = ET, body = true },
    update_payment_status = { op = "updateRegistrationPaymentStatusUsingPUT", args = ET, body = true },
    check_in = { op = "checkInTickets", args = { "event_id" }, body = true },
    undo_check_in = { op = "undoCheckInTickets", args = { "event_id" }, body = true },
  },
  iterators = {
    registrations = { op = "findRegistrationsUsingGET", args = ET, items = "records" },
  },
}

Events.DOCS = {
  list = "One page of events.",
  each = "Every event, one at a time.",
  all = "All events (opts.max, default 10,000).",
  get = "One event.",
  create_default = "Create an event with the account's defaults.",
  update = "Change an event (PATCH).",
  copy = "Copy an event.",
  registrations = "Iterator: the registrations of an event's track.",
  registration = "One registration.",
  update_registrations = "Change the status of registrations.",
  update_payment_status = "Change the payment status of registrations.",
  check_in = "Check tickets in.",
  undo_check_in = "Undo a check-in.",
}

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Events.EXAMPLE = [==[
local created = assert(client.events:create_default())
print("created event", created.event_id)
for event in client.events:each { limit = 10 } do print(event.event_id, event.name) end
]==]

return Events
