-- ctct: Constant Contact V3 API for Lua, with a C core.
-- From a checkout:  luarocks --lua-version 5.4 make --deps-mode=none
-- The release archive (make rock): build/dist/ctct-0.1.0-1.src.rock.
-- The version is src/version.h's CTCT_VERSION (spec/install_spec.lua checks both agree).
rockspec_format = "3.0"
package = "ctct"
version = "0.1.0-1"
source = {
  url = "https://github.com/ctct-lua/ctct/archive/refs/tags/v0.1.0.tar.gz",
  file = "ctct-0.1.0.tar.gz", -- the name inside the .src.rock
  dir = "ctct-0.1.0",
}
description = {
  summary = "Constant Contact V3 API client for Lua and OpenResty, with a C core",
  detailed = [[
    ctct wraps the Constant Contact V3 API: a C module (ctct.core) does HTTP over
    libcurl and the security-sensitive work; a thin Lua layer gives a request
    pipeline with retries, rate limiting and typed errors.
  ]],
  license = "MIT",
  homepage = "https://github.com/ctct-lua/ctct",
  issues_url = "https://github.com/ctct-lua/ctct/issues",
  maintainer = "ctct developers",
  labels = { "constantcontact", "email", "api", "openresty", "oauth2" },
}
dependencies = {
  "lua >= 5.1",
  "argparse", -- bin/ctct (Debian: lua-argparse)
}
external_dependencies = {
  CURL = { library = "curl" },
  OPENSSL = { library = "crypto" },
  SIMDJSON = { header = "simdjson.h", library = "simdjson" }, -- Debian: libsimdjson-dev
  HIREDIS = { header = "hiredis/hiredis.h", library = "hiredis" }, -- Debian: libhiredis-dev
}
build = {
  type = "builtin",
  modules = {
    ["ctct.core"] = {
      sources = { "src/core.c", "src/clock.c", "src/http.c", "src/base64.c", "src/crypto.c", "src/jwt.c",
                  "src/oauth.c", "src/loopback.c", "src/fs.c", "src/json.c", "src/download.c",
                  "src/redis.c",
                  -- simdjson behind a C ABI: the one C++ file (g++ 12 compiles .cpp as C++17)
                  "src/json_simd.cpp" },
      libraries = { "curl", "ssl", "crypto", "simdjson", "hiredis", "stdc++" },
      incdirs = { "src", "$(CURL_INCDIR)", "$(OPENSSL_INCDIR)", "$(SIMDJSON_INCDIR)", "$(HIREDIS_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)", "$(SIMDJSON_LIBDIR)", "$(HIREDIS_LIBDIR)" },
    },
    ["ctct"] = "lua/ctct/init.lua",
    ["ctct.activity"] = "lua/ctct/activity.lua",
    ["ctct.api.call"] = "lua/ctct/api/call.lua",
    ["ctct.api.operations"] = "lua/ctct/api/operations.lua",
    ["ctct.api.schemas"] = "lua/ctct/api/schemas.lua",
    ["ctct.api.validate"] = "lua/ctct/api/validate.lua",
    ["ctct.auth"] = "lua/ctct/auth.lua",
    ["ctct.cli"] = "lua/ctct/cli/init.lua",
    ["ctct.cli.auth"] = "lua/ctct/cli/auth.lua",
    ["ctct.cli.config"] = "lua/ctct/cli/config.lua",
    ["ctct.cli.exitcodes"] = "lua/ctct/cli/exitcodes.lua",
    ["ctct.cli.output"] = "lua/ctct/cli/output.lua",
    ["ctct.cli.parser"] = "lua/ctct/cli/parser.lua",
    ["ctct.cli.partner"] = "lua/ctct/cli/partner.lua",
    ["ctct.cli.progress"] = "lua/ctct/cli/progress.lua",
    ["ctct.cli.raw"] = "lua/ctct/cli/raw.lua",
    ["ctct.cli.resources"] = "lua/ctct/cli/resources.lua",
    ["ctct.client"] = "lua/ctct/client.lua",
    ["ctct.compat"] = "lua/ctct/compat.lua",
    ["ctct.config"] = "lua/ctct/config.lua",
    ["ctct.csv"] = "lua/ctct/csv.lua",
    ["ctct.errors"] = "lua/ctct/errors.lua",
    ["ctct.json"] = "lua/ctct/json.lua",
    ["ctct.jwks"] = "lua/ctct/jwks.lua",
    ["ctct.jwt"] = "lua/ctct/jwt.lua",
    ["ctct.lock"] = "lua/ctct/lock.lua",
    ["ctct.multipart"] = "lua/ctct/multipart.lua",
    ["ctct.ngx.lock"] = "lua/ctct/ngx/lock.lua",
    ["ctct.ngx.partner_token"] = "lua/ctct/ngx/partner_token.lua",
    ["ctct.ngx.ratelimit"] = "lua/ctct/ngx/ratelimit.lua",
    ["ctct.ngx.shdict"] = "lua/ctct/ngx/shdict.lua",
    ["ctct.oauth"] = "lua/ctct/oauth.lua",
    ["ctct.oauth.code"] = "lua/ctct/oauth/code.lua",
    ["ctct.oauth.device"] = "lua/ctct/oauth/device.lua",
    ["ctct.oauth.loopback"] = "lua/ctct/oauth/loopback.lua",
    ["ctct.oauth.partner"] = "lua/ctct/oauth/partner.lua",
    ["ctct.oauth.request"] = "lua/ctct/oauth/request.lua",
    ["ctct.options"] = "lua/ctct/options.lua",
    ["ctct.paginate"] = "lua/ctct/paginate.lua",
    ["ctct.partner"] = "lua/ctct/partner.lua",
    ["ctct.partner.accounts"] = "lua/ctct/partner/accounts.lua",
    ["ctct.partner.sync"] = "lua/ctct/partner/sync.lua",
    ["ctct.partner.token"] = "lua/ctct/partner/token.lua",
    ["ctct.partner.validate"] = "lua/ctct/partner/validate.lua",
    ["ctct.partner.webhooks"] = "lua/ctct/partner/webhooks.lua",
    ["ctct.pipeline"] = "lua/ctct/pipeline/init.lua",
    ["ctct.pipeline.build"] = "lua/ctct/pipeline/build.lua",
    ["ctct.pipeline.deadline"] = "lua/ctct/pipeline/deadline.lua",
    ["ctct.pipeline.decode"] = "lua/ctct/pipeline/decode.lua",
    ["ctct.pipeline.limit"] = "lua/ctct/pipeline/limit.lua",
    ["ctct.pipeline.retry"] = "lua/ctct/pipeline/retry.lua",
    ["ctct.pipeline.send"] = "lua/ctct/pipeline/send.lua",
    ["ctct.pipeline.token"] = "lua/ctct/pipeline/token.lua",
    ["ctct.ratelimit"] = "lua/ctct/ratelimit.lua",
    ["ctct.ratelimit.bucket"] = "lua/ctct/ratelimit/bucket.lua",
    ["ctct.ratelimit.daily"] = "lua/ctct/ratelimit/daily.lua",
    ["ctct.ratelimit.redis"] = "lua/ctct/ratelimit/redis.lua",
    ["ctct.redis.connection"] = "lua/ctct/redis/connection.lua",
    ["ctct.redis.scripts"] = "lua/ctct/redis/scripts.lua",
    ["ctct.resources.account"] = "lua/ctct/resources/account.lua",
    ["ctct.resources.activities"] = "lua/ctct/resources/activities.lua",
    ["ctct.resources.automations"] = "lua/ctct/resources/automations.lua",
    ["ctct.resources.base"] = "lua/ctct/resources/base.lua",
    ["ctct.resources.campaigns"] = "lua/ctct/resources/campaigns.lua",
    ["ctct.resources.contacts"] = "lua/ctct/resources/contacts.lua",
    ["ctct.resources.custom_fields"] = "lua/ctct/resources/custom_fields.lua",
    ["ctct.resources.events"] = "lua/ctct/resources/events.lua",
    ["ctct.resources.lists"] = "lua/ctct/resources/lists.lua",
    ["ctct.resources.reports"] = "lua/ctct/resources/reports.lua",
    ["ctct.resources.segments"] = "lua/ctct/resources/segments.lua",
    ["ctct.resources.social"] = "lua/ctct/resources/social.lua",
    ["ctct.resources.tags"] = "lua/ctct/resources/tags.lua",
    ["ctct.retry"] = "lua/ctct/retry.lua",
    ["ctct.store.file"] = "lua/ctct/store/file.lua",
    ["ctct.store.memory"] = "lua/ctct/store/memory.lua",
    ["ctct.store.redis"] = "lua/ctct/store/redis.lua",
    ["ctct.store.shdict"] = "lua/ctct/store/shdict.lua",
    ["ctct.transport.curl"] = "lua/ctct/transport/curl.lua",
    ["ctct.transport.default"] = "lua/ctct/transport/default.lua",
    ["ctct.transport.ngx"] = "lua/ctct/transport/ngx.lua",
    ["ctct.url"] = "lua/ctct/url.lua",
    ["ctct.webhooks"] = "lua/ctct/webhooks.lua",
  },
  install = {
    bin = { ctct = "bin/ctct" },
  },
  -- Into the rock's own directory (luarocks doc ctct): the man page, the
  -- LuaLS stubs (an addon: types/), the guides.
  copy_directories = { "docs", "man", "types" },
}
-- `luarocks test`: the unit specs, offline, on the interpreter luarocks runs.
test = {
  type = "command",
  script = "spec/unit.lua",
}
