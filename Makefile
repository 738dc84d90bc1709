# SPDX-License-Identifier: GPL-2.0-only OR MIT
#
# pcpbuddy: plain GNU make.  MODE=release|debug|asan|tsan builds into
# build/$(MODE)/; the flavour targets (test, check, bench, run) re-invoke make
# with the MODE they need.  Missing Debian packages are installed (or the
# exact command printed) by scripts/deps.sh, once, before the first run or
# test; plain `make` only checks that the library's headers are there.

MODE ?= release
BUILD := build/$(MODE)
CC ?= gcc
CXX ?= g++
WERROR ?= 1

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wold-style-definition -Wpointer-arith -Wwrite-strings -Wundef -Wvla \
	-Wformat=2 -Wimplicit-fallthrough -Wcast-align
ifeq ($(WERROR),1)
WARN += -Werror
endif
ifeq ($(EXTRA_WARN),1)
WARN += -Wconversion -Wsign-conversion
endif

mode_release := -O2 -g -DPCPB_DEBUG=0
mode_debug := -O1 -g -DPCPB_DEBUG=2
mode_asan := -O1 -g -fno-omit-frame-pointer -DPCPB_DEBUG=1 \
	-fsanitize=address,undefined -fno-sanitize-recover=all
mode_tsan := -O1 -g -DPCPB_DEBUG=1 -fsanitize=thread
# clang only (CC=clang, as the fuzz target sets): libFuzzer instrumentation.
mode_fuzz := -O1 -g -fno-omit-frame-pointer -DPCPB_DEBUG=1 \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
ifeq ($(origin mode_$(MODE)),undefined)
$(error MODE must be release, debug, asan, tsan or fuzz)
endif
SAN := $(filter -fsanitize=%,$(mode_$(MODE)))

CPPFLAGS := -Iinclude -D_GNU_SOURCE
# tracefs.h and trace-cmd.h include event-parse.h and tracefs.h by their
# bare names (tools/capture.c, trace/dat.c).
CPPFLAGS += -I/usr/include/traceevent -I/usr/include/tracefs
CFLAGS := -std=gnu11 -fPIC -fvisibility=hidden -pthread $(WARN) \
	$(mode_$(MODE)) -MMD -MP
LDFLAGS := -pthread $(SAN)
LDLIBS := -lurcu-cds -lurcu-common -lnuma -lm
# The CLI and drivers only (GSL: tools/stats.c; jansson: JSON output;
# zlib and libzstd: compressed traces in trace/import.c; libtracecmd:
# trace-cmd .dat files in trace/dat.c; libtracefs and libtraceevent: pcpbuddy
# capture): the library itself needs none.
TOOL_LIBS := -lgsl -lgslcblas -ljansson -lz -lzstd -ltracecmd -ltracefs -ltraceevent

LIB_SRC := $(wildcard util/*.c common/*.c zone/*.c pcp/*.c alloc/*.c)
TRACE_SRC := $(wildcard trace/*.c)
WL_SRC := $(wildcard workloads/*.c)
# The CLI's commands; tools/pcpbuddy.c (main, the command table) apart.
CMD_SRC := $(filter-out tools/pcpbuddy.c,$(wildcard tools/*.c))
UNIT_SRC := $(wildcard tests/unit/*.c)
STRESS_SRC := $(wildcard tests/stress/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJ := $(call obj,$(LIB_SRC))
TRACE_OBJ := $(call obj,$(TRACE_SRC))
WL_OBJ := $(call obj,$(WL_SRC)) $(TRACE_OBJ)
CMD_OBJ := $(call obj,$(CMD_SRC))
UNIT_BIN := $(BUILD)/tests/unit
STRESS_BIN := $(patsubst tests/stress/%.c,$(BUILD)/tests/stress-%,$(STRESS_SRC))
DEPS_STAMP := build/.deps-ok
# Plain `make` only checks the library's headers; the targets that run
# things (run, test, check, bench, fuzz) install what is missing first.
HEADERS_STAMP := build/.headers-ok

.PHONY: all run test check bench bench-trace bench-preload format format-check tidy clean deps \
	install uninstall \
	unit stress run-unit run-stress fuzz preload-tests
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BUILD)/libpcpbuddy.a $(BUILD)/libpcpbuddy.so $(BUILD)/pcpbuddy \
	$(BUILD)/libpcpbuddy-preload.so

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@sh scripts/deps.sh
	@mkdir -p build && touch $@

$(HEADERS_STAMP): scripts/deps.sh
	@sh scripts/deps.sh --headers
	@mkdir -p build && touch $@

$(BUILD)/obj/%.o: %.c | $(HEADERS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libpcpbuddy.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The shared library carries its SONAME (libpcpbuddy.so.0) and is
# installed as libpcpbuddy.so.$(VERSION) with the usual two links.
VERSION := $(shell sed -n 's/^\#define PCPB_VERSION "\(.*\)"/\1/p' include/pcpbuddy.h)
SOVERSION := 0
$(BUILD)/libpcpbuddy.so: $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,libpcpbuddy.so.$(SOVERSION) -o $@ $^ \
		$(LDLIBS)

$(BUILD)/pcpbuddy: $(call obj,tools/pcpbuddy.c) $(CMD_OBJ) $(WL_OBJ) \
		$(BUILD)/libpcpbuddy.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TOOL_LIBS)

# The LD_PRELOAD page-source backend.  It carries its own copy of the
# allocator and the trace recorder (trace/, not the drivers);
# --exclude-libs keeps all but the hooks hidden.
$(BUILD)/libpcpbuddy-trace.a: $(TRACE_OBJ)
	@rm -f $@
	ar rcs $@ $^
PRELOAD_OBJ := $(call obj,$(wildcard preload/*.c))
$(BUILD)/libpcpbuddy-preload.so: $(PRELOAD_OBJ) $(BUILD)/libpcpbuddy-trace.a \
		$(BUILD)/libpcpbuddy.a
	$(CC) -shared $(LDFLAGS) -Wl,--exclude-libs,ALL -Wl,-z,defs -o $@ $^ \
		$(LDLIBS) -ljansson -ldl

# The programs tests/preload/run.sh runs under the shim: plain C (one file
# each, built alike), one linked with Debian's libjemalloc2, one with
# liburcu-bp.
JEMALLOC_SO := /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
PRELOAD_PLAIN := prog fdsafe stacks ownuffd threads daemon
PRELOAD_TESTS := $(PRELOAD_PLAIN:%=$(BUILD)/tests/preload-%) \
	$(BUILD)/tests/preload-jemalloc $(BUILD)/tests/preload-urcu-bp
preload-tests: $(BUILD)/libpcpbuddy-preload.so $(PRELOAD_TESTS)
$(PRELOAD_PLAIN:%=$(BUILD)/tests/preload-%): $(BUILD)/tests/preload-%: \
		tests/preload/%.c | $(HEADERS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -O2 -g -pthread $(WARN) -o $@ $<
$(BUILD)/tests/preload-jemalloc: tests/preload/jemalloc.c | $(HEADERS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -O2 -g -pthread $(WARN) -o $@ $< $(JEMALLOC_SO)
$(BUILD)/tests/preload-urcu-bp: tests/preload/urcu_bp.c | $(HEADERS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -O2 -g -pthread $(WARN) -o $@ $< -lurcu-bp -lurcu-common

# Criterion aborts under TSan (Snaipe/Criterion#274): unit tests never build there.
unit: $(UNIT_BIN)
$(UNIT_BIN): $(call obj,$(UNIT_SRC)) $(CMD_OBJ) $(WL_OBJ) $(BUILD)/libpcpbuddy.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TOOL_LIBS) -lcriterion

stress: $(STRESS_BIN)
$(BUILD)/tests/stress-%: $(BUILD)/obj/tests/stress/%.o $(BUILD)/libpcpbuddy.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer on the trace readers for FUZZ_SECONDS (make check runs it).
FUZZ_SECONDS ?= 30
$(BUILD)/fuzz-trace: $(call obj,tests/fuzz/trace.c) $(CMD_OBJ) $(WL_OBJ) \
		$(BUILD)/libpcpbuddy.a
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS) $(TOOL_LIBS)
$(BUILD)/fuzz-config: $(call obj,tests/fuzz/config.c) $(CMD_OBJ) $(WL_OBJ) \
		$(BUILD)/libpcpbuddy.a
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS) $(TOOL_LIBS)
fuzz: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=fuzz CC=clang WERROR=0 build/fuzz/fuzz-trace \
		build/fuzz/fuzz-config
	@mkdir -p build/fuzz/corpus build/fuzz/corpus-config
	@cp tests/fuzz/seeds/* build/fuzz/corpus/
	@cp tests/fuzz/config-seeds/* build/fuzz/corpus-config/
	build/fuzz/fuzz-trace -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=3 \
		-max_len=4096 build/fuzz/corpus
	build/fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=3 \
		-max_len=2048 build/fuzz/corpus-config

BENCH_OBJ := $(call obj,bench/bench_alloc.c) $(BUILD)/obj/bench/cbench.o
$(BUILD)/rand-put-report: $(call obj,bench/rand_put_report.c) $(BUILD)/libpcpbuddy.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/pair-loop: $(call obj,bench/pair_loop.c) $(BUILD)/libpcpbuddy.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/obj/bench/cbench.o: bench/cbench.cc bench/cbench.h | $(HEADERS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) -O2 -std=c++17 -Wall -Wextra $(SAN) -c $< -o $@
$(BUILD)/pcpbuddy-bench: $(BENCH_OBJ) $(BUILD)/libpcpbuddy.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lbenchmark

# Criterion counts a test whose worker then reports a leak as passed, so a
# sanitizer report anywhere in the log fails the run too.
run-unit: unit
	@$(UNIT_BIN) -j2 $(if $(T),--filter '$(T)') >$(BUILD)/unit.log 2>&1; \
		rc=$$?; cat $(BUILD)/unit.log; \
		if grep -q 'ERROR: [A-Za-z]*Sanitizer' $(BUILD)/unit.log; then \
			echo "run-unit: sanitizer report in $(BUILD)/unit.log" >&2; exit 1; fi; \
		exit $$rc

run-stress: stress
	@sh tests/run-stress.sh $(BUILD) $(STRESS_BIN)

run: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=release all
	build/release/pcpbuddy

# The verdict of CI: debug unit tests (PCPB_DEBUG=2), stress under debug and
# TSan, and the CLI contract tests on the release build.
test: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=release all preload-tests
	@$(MAKE) --no-print-directory MODE=debug unit stress
	@$(MAKE) --no-print-directory MODE=tsan stress all
	@sh tests/run-all.sh

# Microbenchmarks (release), medians of BENCH_REPS runs: build/bench.json.
BENCH_REPS ?= 5
BENCH_ARGS ?= --benchmark_min_time=0.3
bench-trace: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=release build/release/pcpbuddy
	sh bench/trace-speed.sh build/release/pcpbuddy

# The LD_PRELOAD shim's cost to a C program and a Python script.
bench-preload: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=release all preload-tests
	sh bench/preload-overhead.sh build/release

bench: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=release build/release/pcpbuddy-bench
	build/release/pcpbuddy-bench --benchmark_repetitions=$(BENCH_REPS) \
		--benchmark_report_aggregates_only=true \
		--benchmark_out=build/bench.json --benchmark_out_format=json \
		$(BENCH_ARGS)

check: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory MODE=asan run-unit run-stress all
	@sh tests/cli/cli.sh build/asan/pcpbuddy
	@$(MAKE) --no-print-directory MODE=tsan run-stress all
	@sh tests/stress/drivers.sh build/tsan/pcpbuddy
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory test

FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)
tidy:
	clang-tidy $(LIB_SRC) -- $(CPPFLAGS) -std=gnu11

# make install PREFIX=/usr/local (DESTDIR for staging): the CLI, the
# library (static and shared, with its SONAME links), the header, the shim
# under lib/pcpbuddy/, pcpbuddy.pc and the man page made from --help.
PREFIX ?= /usr/local
INSTALL_DIRS := bin lib lib/pcpbuddy lib/pkgconfig include share/man/man1
install: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=release all
	for d in $(INSTALL_DIRS); do install -d "$(DESTDIR)$(PREFIX)/$$d"; done
	install -m 755 build/release/pcpbuddy "$(DESTDIR)$(PREFIX)/bin/pcpbuddy"
	install -m 644 build/release/libpcpbuddy.a "$(DESTDIR)$(PREFIX)/lib/"
	install -m 755 build/release/libpcpbuddy.so \
		"$(DESTDIR)$(PREFIX)/lib/libpcpbuddy.so.$(VERSION)"
	ln -sf libpcpbuddy.so.$(VERSION) "$(DESTDIR)$(PREFIX)/lib/libpcpbuddy.so.$(SOVERSION)"
	ln -sf libpcpbuddy.so.$(SOVERSION) "$(DESTDIR)$(PREFIX)/lib/libpcpbuddy.so"
	install -m 755 build/release/libpcpbuddy-preload.so \
		"$(DESTDIR)$(PREFIX)/lib/pcpbuddy/libpcpbuddy-preload.so"
	install -m 644 include/pcpbuddy.h "$(DESTDIR)$(PREFIX)/include/pcpbuddy.h"
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' scripts/pcpbuddy.pc.in \
		>"$(DESTDIR)$(PREFIX)/lib/pkgconfig/pcpbuddy.pc"
	sh scripts/mkman.sh build/release/pcpbuddy $(VERSION) \
		>"$(DESTDIR)$(PREFIX)/share/man/man1/pcpbuddy.1"
uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/pcpbuddy" \
		"$(DESTDIR)$(PREFIX)/lib/libpcpbuddy.a" \
		"$(DESTDIR)$(PREFIX)/lib/libpcpbuddy.so" \
		"$(DESTDIR)$(PREFIX)/lib/libpcpbuddy.so.$(SOVERSION)" \
		"$(DESTDIR)$(PREFIX)/lib/libpcpbuddy.so.$(VERSION)" \
		"$(DESTDIR)$(PREFIX)/lib/pcpbuddy/libpcpbuddy-preload.so" \
		"$(DESTDIR)$(PREFIX)/include/pcpbuddy.h" \
		"$(DESTDIR)$(PREFIX)/lib/pkgconfig/pcpbuddy.pc" \
		"$(DESTDIR)$(PREFIX)/share/man/man1/pcpbuddy.1"
	-rmdir "$(DESTDIR)$(PREFIX)/lib/pcpbuddy" 2>/dev/null

clean:
	rm -rf build

-include $(shell find build/$(MODE)/obj -name '*.d' 2>/dev/null)
