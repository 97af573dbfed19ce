# ctct - Constant Contact V3 API for Lua, with a C core.
#
#   make            build ctct/core.so for Lua 5.4       (build/5.4/ctct/core.so)
#   make luajit     build it for LuaJIT 2.1 / ngx_lua    (build/jit/ctct/core.so)
#   make deps       install every Debian package the build, tests and demo need
#   make test       deps + both builds + lint + the whole suite on both runtimes
#   make demo       the quick start against a local sandbox
#   make bench      benchmarks (ratios against plain libcurl, cjson, node; bench/README.md)
#   make bench-npm  the npm peers of make bench, into .deps/node-bench
#   make test-asan  the C-facing specs under AddressSanitizer + UBSan
#   make test-contract  sandbox-backed specs through a validating Prism proxy
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make clean

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wmissing-prototypes \
            -Wstrict-prototypes -Wpointer-arith -Wcast-qual
SRC      := src/core.c src/clock.c src/http.c src/base64.c src/crypto.c src/jwt.c src/oauth.c \
            src/loopback.c src/fs.c src/json.c src/download.c src/redis.c
HDR      := $(wildcard src/*.h)
# The one C++ file: simdjson behind a C ABI (src/json_simd.h). It includes no
# Lua header, so both builds link the same object.
CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXWARN  := -std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti
SIMD_OBJ := build/obj/json_simd.o
C_LIBS    = $(shell pkg-config --libs libcurl openssl simdjson hiredis) -lstdc++
LUA54_INC = $(shell pkg-config --cflags lua5.4)
JIT_INC   = $(shell pkg-config --cflags luajit)

# `make LUA=luajit` is the same as `make luajit`.
LUA ?= lua5.4
ifeq ($(LUA),luajit)
DEFAULT_BUILD := build/jit/ctct/core.so
else
DEFAULT_BUILD := build/5.4/ctct/core.so
endif

DEB_PACKAGES := build-essential pkg-config curl openssl valgrind iproute2 procps \
  lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev libcurl4-openssl-dev libssl-dev \
  lua-cjson libsimdjson-dev g++ lua-busted lua-check luarocks nginx-core libnginx-mod-http-lua lua-argparse tmux python3 \
  python3-yaml libhiredis-dev redis-server redis-sentinel lua-nginx-redis lua-nginx-redis-connector \
  zip unzip debhelper lintian help2man fakeroot zsh fish
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install operations docs all luajit deps deps-debian deps-npm deps-fuzz test test-contract lint demo bench test-asan fuzz clean embed print-src

all: $(DEFAULT_BUILD)

luajit: build/jit/ctct/core.so

$(SIMD_OBJ): src/json_simd.cpp src/json_simd.h
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(CXXWARN) -fPIC -c -o $@ $<

build/5.4/ctct/core.so: $(SRC) $(HDR) $(SIMD_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared $(LDFLAGS) $(LUA54_INC) -o $@ $(SRC) $(SIMD_OBJ) $(C_LIBS)

build/jit/ctct/core.so: $(SRC) $(HDR) $(SIMD_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared $(LDFLAGS) $(JIT_INC) -o $@ $(SRC) $(SIMD_OBJ) $(C_LIBS)

# Static library + a small C host that embeds Lua 5.4 and opens ctct.core
# through package.preload (examples/embed/).
build/5.4/libctct.a: $(SRC) $(HDR) $(SIMD_OBJ)
	@mkdir -p build/5.4/obj
	for f in $(SRC); do \
	  $(CC) $(CFLAGS) $(WARN) -fPIC $(LUA54_INC) -c $$f -o build/5.4/obj/$$(basename $$f .c).o || exit 1; \
	done
	ar rcs $@ build/5.4/obj/*.o $(SIMD_OBJ)

build/embed-host: examples/embed/host.c build/5.4/libctct.a
	$(CC) $(CFLAGS) $(WARN) $(LUA54_INC) -o $@ $< build/5.4/libctct.a \
	  $(shell pkg-config --libs lua5.4) $(C_LIBS) -lm

embed: build/embed-host

# Idempotent: installs only what is missing (apt-get update only then), and the
# npm test servers (tools/npm, pinned by its lockfile) into the gitignored .deps/node.
NPM_DIR := .deps/node

deps: deps-debian deps-npm

deps-npm: deps-debian
	@if cmp -s tools/npm/package-lock.json $(NPM_DIR)/package-lock.json && \
	    [ -d $(NPM_DIR)/node_modules/oidc-provider ]; then \
	  echo "make deps: npm packages present"; \
	else \
	  echo "make deps: installing npm packages into $(NPM_DIR)"; \
	  mkdir -p $(NPM_DIR) && cp tools/npm/package.json tools/npm/package-lock.json $(NPM_DIR)/ && \
	  (cd $(NPM_DIR) && npm ci --no-audit --no-fund --loglevel=error); \
	fi

# The peers `make bench` measures against (tools/npm-bench, pinned by its own
# lockfile) in their own gitignored folder, so the test servers' stay untouched.
# --ignore-scripts: nothing in there needs an install script.
NPM_BENCH_DIR := .deps/node-bench

.PHONY: bench-npm
bench-npm: deps-debian
	@if cmp -s tools/npm-bench/package-lock.json $(NPM_BENCH_DIR)/package-lock.json && \
	    [ -d $(NPM_BENCH_DIR)/node_modules/ctct-api-client ]; then \
	  echo "make bench-npm: npm packages present"; \
	else \
	  echo "make bench-npm: installing npm packages into $(NPM_BENCH_DIR)"; \
	  mkdir -p $(NPM_BENCH_DIR) && cp tools/npm-bench/package.json tools/npm-bench/package-lock.json $(NPM_BENCH_DIR)/ && \
	  (cd $(NPM_BENCH_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); \
	fi

deps-debian:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make deps: all Debian packages present"; fi

# Fuzzing needs clang and its libFuzzer runtime (not needed by `make test`).
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_CFLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# json_simd.cpp is instrumented like the C (simdjson's inline header code with it);
# libsimdjson.so itself is Debian's uninstrumented build (see fuzz/json_fuzz.c).
FUZZ_CXXFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS  ?= 60
FUZZ_TARGETS  ?= b64 jws json

deps-fuzz:
	@$(MAKE) --no-print-directory deps-debian DEB_PACKAGES="$(FUZZ_PACKAGES)"

build/fuzz/b64_fuzz: fuzz/b64_fuzz.c src/base64.c src/base64.h
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ fuzz/b64_fuzz.c src/base64.c

build/fuzz/jws_fuzz: fuzz/jws_fuzz.c src/jwt.c src/crypto.c src/base64.c $(HDR)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $(LUA54_INC) -o $@ fuzz/jws_fuzz.c src/jwt.c src/crypto.c src/base64.c \
	  $(C_LIBS) $(shell pkg-config --libs lua5.4)

build/fuzz/json_simd.o: src/json_simd.cpp src/json_simd.h
	@mkdir -p $(@D)
	clang++ $(FUZZ_CXXFLAGS) $(CXXWARN) -c -o $@ $<

# Linked by clang++: the C++ parts of the sanitizer runtimes come with it.
build/fuzz/json_fuzz: fuzz/json_fuzz.c src/json.c build/fuzz/json_simd.o $(HDR)
	@mkdir -p $(@D)
	clang++ $(FUZZ_CFLAGS) -x c $(WARN) $(LUA54_INC) -DJSON_CHECK_LUA='"$(CURDIR)/fuzz/json_check.lua"' \
	  -o $@ fuzz/json_fuzz.c src/json.c -x none build/fuzz/json_simd.o \
	  $(shell pkg-config --libs simdjson lua5.4) -lm

fuzz: deps-fuzz $(FUZZ_TARGETS:%=build/fuzz/%_fuzz)
	@FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz/run $(FUZZ_SECONDS)

# make install [PREFIX=/usr/local] [DESTDIR=...]: the Lua modules, ctct.core, bin/ctct and
# its man page, for Lua 5.4 (luarocks --lua-version 5.4 make does the same through the
# rockspec). make install-luajit adds ctct.core built for LuaJIT, under Lua 5.1's paths.
# Debian's layout (make deb): LUA_LIBDIR=/usr/lib/x86_64-linux-gnu/lua.
PREFIX     ?= /usr/local
LUA_DATADIR ?= $(PREFIX)/share/lua
LUA_LIBDIR  ?= $(PREFIX)/lib/lua
MANDIR      ?= $(PREFIX)/share/man
# The LuaLS addon (types/): workspace.library = <TYPESDIR>/library
TYPESDIR    ?= $(PREFIX)/share/ctct/types

install: build/5.4/ctct/core.so
	install -d $(DESTDIR)$(LUA_DATADIR)/5.4 $(DESTDIR)$(LUA_LIBDIR)/5.4/ctct $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(MANDIR)/man1
	cd lua && find ctct -name '*.lua' | sort | while read -r f; do \
	  install -D -m 644 "$$f" "$(DESTDIR)$(LUA_DATADIR)/5.4/$$f" || exit 1; done
	install -m 644 build/5.4/ctct/core.so $(DESTDIR)$(LUA_LIBDIR)/5.4/ctct/core.so
	install -m 755 bin/ctct $(DESTDIR)$(PREFIX)/bin/ctct
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	cd types && find . -type f | sort | while read -r f; do \
	  install -D -m 644 "$$f" "$(DESTDIR)$(TYPESDIR)/$$f" || exit 1; done

# The Lua files are the same for both runtimes: LuaJIT's path gets a link to them.
install-luajit: build/jit/ctct/core.so
	install -d $(DESTDIR)$(LUA_DATADIR)/5.1 $(DESTDIR)$(LUA_LIBDIR)/5.1/ctct
	ln -sfn ../5.4/ctct $(DESTDIR)$(LUA_DATADIR)/5.1/ctct
	install -m 644 build/jit/ctct/core.so $(DESTDIR)$(LUA_LIBDIR)/5.1/ctct/core.so

# Release archives, into build/dist/: the source tarball (the files git tracks, as
# they are in this tree), the .src.rock and the Debian package. VERSION is
# src/version.h's, the one place it is written.
VERSION  := $(shell sed -n 's/^\#define CTCT_VERSION "\(.*\)"/\1/p' src/version.h)
ROCKSPEC := ctct-$(VERSION)-1.rockspec
DIST     := build/dist

.PHONY: dist rock deb install-luajit man
dist:
	@tools/release dist $(VERSION)

rock: dist
	@tools/release rock $(VERSION) $(ROCKSPEC)

deb: deps-debian dist
	@tools/release deb $(VERSION)

# The man pages, from the CLI's own --help (help2man); committed, checked by a spec.
man: build/5.4/ctct/core.so
	mkdir -p man && rm -f man/*.1
	bash -c '. tools/lua-env.sh && ctct_lua_env "$$PWD" && CTCT_REPO="$$PWD" \
	  SOURCE_DATE_EPOCH=$$(dpkg-parsechangelog -l debian/changelog -S Timestamp) lua5.4 tools/gen_man.lua man'

lint:
	luacheck -q $(wildcard lua spec sandbox examples bench tools bin)

test: deps build/5.4/ctct/core.so build/jit/ctct/core.so build/embed-host
	@spec/run

demo: deps build/5.4/ctct/core.so build/jit/ctct/core.so
	@examples/run-demo

bench: deps bench-npm build/5.4/ctct/core.so build/jit/ctct/core.so
	@bench/run

test-asan: deps
	@spec/run-asan

# Not part of `make test` (proxying roughly doubles these specs' time): SPECS picks
# other spec files, CTCT_CONTRACT_LUAJIT=1 adds the LuaJIT pass.
test-contract: deps deps-npm build/5.4/ctct/core.so build/jit/ctct/core.so
	@spec/run-contract $(SPECS)

# The official spec the generated tables come from: YAML, as the API serves it, read
# as JSON through tools/spec_json.py (python3-yaml); only at generation and test time.
CTCT_SPEC := ../shared/newer-spec/ctct-v3-swagger-3.0.178.yaml

# Regenerate the operation table from the official spec.
operations:
	lua5.4 tools/gen_operations.lua $(CTCT_SPEC) lua/ctct/api/operations.lua

# Regenerate the body shapes of the spec's definitions (lua/ctct/api/schemas.lua).
.PHONY: schemas
schemas:
	lua5.4 tools/gen_schemas.lua $(CTCT_SPEC) lua/ctct/api/schemas.lua

# Regenerate docs/API.md and the LuaLS addon (types/: config.json, library/) from the code.
docs: build/5.4/ctct/core.so
	lua5.4 tools/gen_docs.lua docs/API.md
	rm -rf types/library
	lua5.4 tools/gen_types.lua types

# The C sources, for scripts that build their own variants (spec/run-asan).
print-src:
	@echo $(SRC)

clean:
	rm -rf build
