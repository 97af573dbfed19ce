--- client.social: social connections, profiles, hashtag groups and posts (thin).
local base = require "ctct.resources.base"

--- The client.social resource object (ctct.Client's `social` field).
---@class ctct.resources.social
---@field client ctct.Client
---@field NAME string the resource's name, "social"
---@field DECL table the base.define declaration (collection, methods, iterators)
---@field DOCS table<string, string> method name -> one-line description
---@field EXAMPLE string a short example, shown in docs/API.md
local Social = base.define {
  name = "social",
  methods = {
    connections = { op = "getSocialConnectionsUsingGET" },
    profiles = { op = "getSocialProfilesUsingGET" },                     -- {include = { "accessible" }}
    hashtag_groups = { op = "getSocialHashtagGroupsUsingGET" },          -- {limit, page}
    create_post = { op = "createSocialPostUsingPOST", body = true },
  },
}

Social.DOCS = {
  connections = "Connected social accounts.",
  profiles = "Social profiles; opts.include = { \"accessible\" }.",
  hashtag_groups = "Saved hashtag groups; opts: limit (1-5), page.",
  create_post = "Create a social post.",
}

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Social.EXAMPLE = [==[
local profiles = assert(client.social:profiles { include = { "accessible" } })
print(require("ctct.json").encode(profiles))
]==]

return Social
