# warden — build, test, install.
#
#   make              build ./warden
#   make setup        install Debian packages and fetch the pinned grammars (sh .ci/setup)
#   make demo         run the bundled example end to end (replay model, no API key)
#   make check        unit + integration tests (Check), last line "N passed, N failed"
#   make check-asan   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz         run every fuzz target for FUZZ_TIME seconds (clang + libFuzzer)
#   make lint         cppcheck + clang-tidy on src/ and sandbox/
#   make install      PREFIX=/usr/local DESTDIR=

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
SAN      ?=
FUZZ_TIME ?= 30

PKGS      := libgit2 libcurl jansson tree-sitter libseccomp sqlite3
TEST_PKGS := check libmicrohttpd

# Recursive (=) on purpose: `make setup demo` installs the packages after the
# Makefile is read, so the flags must be looked up when they are used.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS_PKG = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS_PKG   = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter
OPT      ?= -O2 -g
CFLAGS   ?=
CPPFLAGS += -D_GNU_SOURCE -Iinclude -I$(GRAMMAR_DIR)
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(PKG_CFLAGS) -pthread -MMD -MP $(CFLAGS)
LDLIBS   += $(PKG_LIBS) -pthread -lm

ifeq ($(SAN),1)
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS    += -fsanitize=address,undefined
endif

# --- tree-sitter grammars: fetched from npm, pinned, ABI 14, never committed ---
GRAMMAR_DIR := build/grammars
GRAMMARS    := c python go javascript rust
GRAMMAR_c_VERSION      := 0.23.6
GRAMMAR_c_SHA256       := 88175d4425037ec0026233a44f82064a676573b1fd748fc709ae607332151243
GRAMMAR_python_VERSION := 0.23.6
GRAMMAR_python_SHA256  := aab5b860d93dbf84b37fed532f7dacc0468ede5387d0c74911d68f964287662a
GRAMMAR_go_VERSION     := 0.23.4
GRAMMAR_go_SHA256      := 8779d20d322b4319ad8c833ea72ecb6d109cf1fec8979bdcdb5315a2e511dd2c
GRAMMAR_javascript_VERSION := 0.23.1
GRAMMAR_javascript_SHA256  := 90e80b25a67517a4daf6ad751557bee21efbda7b7a5a554897933245d1734398
GRAMMAR_rust_VERSION   := 0.23.2
GRAMMAR_rust_SHA256    := 085f2e9cedb916c466b53180d6e4287148e309593e61ea92e2c4b01904d193bb
GRAMMAR_STAMPS := $(foreach g,$(GRAMMARS),$(GRAMMAR_DIR)/tree-sitter-$(g)/.ok)
GRAMMAR_SRCS   := $(GRAMMAR_DIR)/tree-sitter-c/src/parser.c \
                  $(GRAMMAR_DIR)/tree-sitter-python/src/parser.c \
                  $(GRAMMAR_DIR)/tree-sitter-python/src/scanner.c \
                  $(GRAMMAR_DIR)/tree-sitter-go/src/parser.c \
                  $(GRAMMAR_DIR)/tree-sitter-javascript/src/parser.c \
                  $(GRAMMAR_DIR)/tree-sitter-javascript/src/scanner.c \
                  $(GRAMMAR_DIR)/tree-sitter-rust/src/parser.c \
                  $(GRAMMAR_DIR)/tree-sitter-rust/src/scanner.c
GRAMMAR_OBJS   := $(patsubst $(GRAMMAR_DIR)/%.c,$(BUILD)/grammar-obj/%.o,$(GRAMMAR_SRCS))

# --- sources ---
LIB_SRCS  := $(filter-out src/cli/% src/front/%,$(wildcard src/*/*.c)) $(wildcard sandbox/*.c)
CLI_SRCS  := $(wildcard src/cli/*.c)
LIB_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
CLI_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
LIB       := $(BUILD)/libwarden.a
# `warden` is a small front end that runs `sandbox` itself and execs
# warden-core (every command) for the rest; see src/front/front.c.
FRONT_SRCS := src/front/front.c src/cli/cmd_sandbox.c src/cli/common.c
FRONT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(FRONT_SRCS))
FRONT_LIBS  = $(shell pkg-config --libs jansson libseccomp 2>/dev/null) -pthread
BIN       := $(BUILD)/warden
CORE_BIN  := $(BUILD)/warden-core
# `warden map` runs warden-map: the map command without libcurl, whose
# twenty shared libraries were a quarter of a warm map (src/front/map_main.c).
MAP_SRCS  := src/front/map_main.c src/cli/cmd_map.c src/cli/common.c
MAP_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(MAP_SRCS))
MAP_LIBS   = $(shell pkg-config --libs libgit2 jansson tree-sitter libseccomp sqlite3 2>/dev/null) \
             -pthread -lm
MAP_BIN   := $(BUILD)/warden-map
LIBEXECDIR ?= $(PREFIX)/libexec/warden

TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TESTLIB_SRCS))
TEST_SRCS    := $(wildcard tests/unit/test_*.c)
TEST_BINS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TOOL_SRCS    := $(wildcard tests/tools/*.c)
TOOL_BINS    := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))

# Keep every intermediate object (make would delete tests/lib objects otherwise).
.SECONDARY:

.PHONY: all setup grammars demo check check-asan tests fuzz fuzz-build lint install clean distclean

all: warden

warden: $(BIN) $(CORE_BIN) $(MAP_BIN)
ifeq ($(BUILD),build)
	cp $(BIN) warden
	cp $(CORE_BIN) warden-core
	cp $(MAP_BIN) warden-map
endif

$(CORE_BIN): $(CLI_OBJS) $(LIB) $(GRAMMAR_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(GRAMMAR_OBJS) $(LDLIBS)

# Linked without libcurl on purpose: if the map ever pulls it in, this link
# fails instead of a warm map getting slow.
$(MAP_BIN): $(MAP_OBJS) $(LIB) $(GRAMMAR_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(MAP_OBJS) $(LIB) $(GRAMMAR_OBJS) $(MAP_LIBS)

# Linked without libgit2, libcurl and tree-sitter on purpose: if the sandbox
# ever pulls them in, this link fails instead of the start-up getting slow.
$(BIN): $(FRONT_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(FRONT_OBJS) $(LIB) $(FRONT_LIBS)

$(BUILD)/obj/src/front/front.o: CPPFLAGS += -DWD_LIBEXEC_DIR='"$(LIBEXECDIR)"'

# Where prompts are found when they are not beside the executable: the
# configured install location, then this source tree (test binaries, a copied
# warden-core). Never the current directory (see src/core/prompt.c).
$(BUILD)/obj/src/core/prompt.o: CPPFLAGS += -DWD_PROMPTS_SHARE_DIR='"$(PREFIX)/share/warden/prompts"' \
                                            -DWD_PROMPTS_SRC_DIR='"$(CURDIR)/prompts"'


$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c | $(GRAMMAR_STAMPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# Generated parser code: compiled without our warning set, never edited.
$(BUILD)/grammar-obj/%.o: $(GRAMMAR_DIR)/%.c | $(GRAMMAR_STAMPS)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(OPT) -w -I$(dir $<) $(filter -fsanitize%,$(ALL_CFLAGS)) -c -o $@ $<

$(GRAMMAR_SRCS): | $(GRAMMAR_STAMPS)

grammars: $(GRAMMAR_STAMPS)

$(GRAMMAR_DIR)/tree-sitter-%/.ok:
	sh .ci/fetch-grammar $* $(GRAMMAR_$*_VERSION) $(GRAMMAR_$*_SHA256) $(GRAMMAR_DIR)

# --- tests ---
$(BUILD)/tests/%: tests/unit/%.c $(TESTLIB_OBJS) $(LIB) $(GRAMMAR_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/lib $(ALL_CFLAGS) $(TEST_CFLAGS_PKG) $(LDFLAGS) -o $@ $< \
	    $(TESTLIB_OBJS) $(LIB) $(GRAMMAR_OBJS) $(TEST_LIBS_PKG) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(TESTLIB_OBJS) $(LIB) $(GRAMMAR_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/lib $(ALL_CFLAGS) $(TEST_CFLAGS_PKG) $(LDFLAGS) -o $@ $< \
	    $(TESTLIB_OBJS) $(LIB) $(GRAMMAR_OBJS) $(TEST_LIBS_PKG) $(LDLIBS)

$(BUILD)/obj/tests/lib/%.o: tests/lib/%.c | $(GRAMMAR_STAMPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/lib $(ALL_CFLAGS) $(TEST_CFLAGS_PKG) -c -o $@ $<

tests: $(BIN) $(CORE_BIN) $(MAP_BIN) $(TEST_BINS) $(TOOL_BINS) $(BUILD)/tools/kill_at_rename.so

# A preloaded fault (kill -9 at a chosen rename) for tests of what a killed run leaves.
$(BUILD)/tools/kill_at_rename.so: tests/preload/kill_at_rename.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 $(WARN) -fPIC -shared -o $@ $< -ldl

check: tests
	WARDEN_BIN=$(abspath $(BIN)) WARDEN_TOOLS=$(abspath $(BUILD)/tools) \
	WARDEN_SRC=$(CURDIR) sh tests/run.sh $(BUILD)/tests

check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT="-O1 -g" check

# --- fuzzing (clang + libFuzzer) ---
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))

# One set of flags for both steps, so an object rebuilt in the second step
# keeps the fuzzer instrumentation; UB stops the run like a crash does.
FUZZ_SAN   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_MAKE  := $(MAKE) BUILD=build-fuzz CC=clang SAN= OPT="-O1 -g" CFLAGS="$(FUZZ_SAN)"

fuzz-build:
	$(FUZZ_MAKE) build-fuzz/libwarden.a $(GRAMMAR_OBJS:$(BUILD)/%=build-fuzz/%)
	$(FUZZ_MAKE) fuzz-bins

.PHONY: fuzz-bins
fuzz-bins: $(FUZZ_BINS)

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libwarden.a
	clang $(CPPFLAGS) -std=c11 -O1 -g $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -o $@ $< \
	    build-fuzz/libwarden.a $(GRAMMAR_OBJS:$(BUILD)/%=build-fuzz/%) $(LDLIBS)

fuzz: fuzz-build
	@for f in $(FUZZ_BINS); do \
	    n=$$(basename $$f); corpus=tests/fuzz/corpus/$${n#fuzz_}; \
	    mkdir -p build-fuzz/corpus/$$n; \
	    echo "== $$n for $(FUZZ_TIME)s"; \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $$f -max_total_time=$(FUZZ_TIME) -max_len=65536 build-fuzz/corpus/$$n $$corpus || exit 1; \
	done

# --- set-up, demo, lint, install ---
setup:
	sh .ci/setup

demo: warden $(BUILD)/tools/mkrepo
	sh examples/demo.sh

# the tests are code too (the fuzz targets and the test library parse
# untrusted input): held to the same checks
LINT_TEST_SRCS := $(wildcard tests/fuzz/*.c) $(wildcard tests/lib/*.c) $(wildcard tests/unit/*.c)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --std=c11 -D_GNU_SOURCE -Iinclude -Itests/lib \
	    --suppress=missingIncludeSystem src sandbox tests/fuzz tests/lib tests/unit
	printf '%s\n' $(LIB_SRCS) $(CLI_SRCS) | xargs -P2 -n4 sh -c \
	    'clang-tidy --quiet "$$@" -- $(CPPFLAGS) -std=c11 $(PKG_CFLAGS)' sh
	printf '%s\n' $(LINT_TEST_SRCS) | xargs -P2 -n4 sh -c \
	    'clang-tidy --quiet "$$@" -- $(CPPFLAGS) -Itests/lib -std=c11 $(PKG_CFLAGS) $(TEST_CFLAGS_PKG)' sh

install: warden
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(PREFIX)/share/warden/prompts
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/warden
	install -m 0755 $(CORE_BIN) $(DESTDIR)$(LIBEXECDIR)/warden-core
	install -m 0755 $(MAP_BIN) $(DESTDIR)$(LIBEXECDIR)/warden-map
	install -m 0644 prompts/* $(DESTDIR)$(PREFIX)/share/warden/prompts/

clean:
	rm -rf build/obj build/grammar-obj build/tests build/tools build/libwarden.a build/warden \
	    build/warden-core build/warden-map build-asan build-fuzz warden warden-core warden-map

distclean: clean
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
