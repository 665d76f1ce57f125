# loopgate — GNU make.  `make`, `make test`, `make check`, `make bench`,
# `make install PREFIX=/usr/local`.
VERSION := 0.1.0
PKGS := libcurl jansson yaml-0.1 libcrypto sqlite3 libseccomp zlib
BUILD ?= build
PREFIX ?= /usr/local

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DLOOPGATE_VERSION='"$(VERSION)"' $(WARN) \
	$(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
# libcurl is dlopen()ed when the first HTTP request needs it (actor/curl_api.h),
# libcrypto when loopgate first hashes or signs (base/crypto_api.h): their
# headers are needed to build, their libraries are not linked.
LDLIBS := $(shell pkg-config --libs $(filter-out libcurl libcrypto,$(PKGS))) -lm
# libgnutls (a dependency of libcurl's) finds actor/curl_api.c's opt-out of
# its constructor's initialisation through the binary's dynamic symbols
LOOPGATE_LDFLAGS := -Wl,--export-dynamic-symbol=_gnutls_global_init_skip
# test_checkpoint checks the key decoder against OpenSSL's own, called directly
UNIT_LDLIBS := $(shell pkg-config --libs libcrypto)

# One folder per subsystem, layered (docs/design/architecture.md); headers
# are included by their folder: #include "base/buf.h".
LAYERS := base record config exec tree store actor judge dispatch engine report cli
SRC := $(foreach d,$(LAYERS),$(wildcard src/$(d)/*.c))
HDR := $(foreach d,$(LAYERS),$(wildcard src/$(d)/*.h))
OBJ := $(SRC:src/%.c=$(BUILD)/obj/%.o)
LIBOBJ := $(filter-out $(BUILD)/obj/cli/main.o,$(OBJ))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_DRV := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all test check bench install clean unit demo lint format fuzz fuzz-drivers soak

all: loopgate

loopgate: $(BUILD)/loopgate
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/loopgate loopgate; fi

$(BUILD)/loopgate: $(OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(LOOPGATE_LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h tests/unit/unit_shell.h $(LIBOBJ) | $(BUILD)/tests
	@echo "  LD $@"; $(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS) \
		$(UNIT_LDLIBS)

$(BUILD)/tests:
	mkdir -p $@

unit: $(UNIT_BIN)

# The whole suite: unit binaries and end-to-end shell tests, each under a
# timeout; ends with the line "N passed, N failed".  T=PATTERN runs the tests
# whose name contains it: T=t3030 one script, T=t3 a family (tests/README.md
# has the table), T=test_edits one unit binary.
test: $(BUILD)/loopgate $(UNIT_BIN) $(FUZZ_DRV)
	@LOOPGATE_BIN=$(abspath $(BUILD)/loopgate) UNIT_DIR=$(abspath $(BUILD)/tests) \
		FUZZ_DIR=$(abspath $(BUILD)/fuzz) \
		sh tests/run.sh $(T)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
check:
	$(MAKE) BUILD=build-san \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" test
	$(MAKE) fuzz FUZZ_TIME=$(CHECK_FUZZ_TIME)

bench: $(BUILD)/loopgate $(BUILD)/bench_events $(BUILD)/bench_report $(BUILD)/bench_skills
	@LOOPGATE_BIN=$(abspath $(BUILD)/loopgate) \
		BENCH_EVENTS_BIN=$(abspath $(BUILD)/bench_events) sh bench/run.sh
	@BENCH_REPORT_BIN=$(abspath $(BUILD)/bench_report) sh bench/report.sh
	@LOOPGATE_BIN=$(abspath $(BUILD)/loopgate) sh bench/fanout.sh
	@BENCH_SKILLS_BIN=$(abspath $(BUILD)/bench_skills) sh bench/skills.sh

# The event log's write rate and a 1,000,000-record log for `audit verify`.
$(BUILD)/bench_events: bench/bench_events.c $(LIBOBJ)
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

# The Agent Skills index at 960 and 100,000 skills (bench/skills.sh).
$(BUILD)/bench_skills: bench/bench_skills.c $(LIBOBJ)
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

# The HTML report of a 1,000-iteration run: render time and page size.
$(BUILD)/bench_report: bench/bench_report.c $(LIBOBJ)
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

# The house rules, each a check that fails: the layering of src/ (a folder
# includes only the folders below it), file and function sizes, the format
# (.clang-format), the banned functions (src/base/banned.h, forced in after
# the system headers) and clang-tidy (.clang-tidy).
LINT_CFLAGS := -std=c11 -D_GNU_SOURCE -DLOOPGATE_VERSION='"lint"' $(WARN) \
	$(shell pkg-config --cflags $(PKGS)) -Isrc
lint:
	@python3 tools/layers.py src
	@python3 tools/sizes.py src
	@clang-format --dry-run -Werror $(SRC) $(HDR)
	@for f in $(SRC); do $(CC) $(LINT_CFLAGS) -include tools/sysheaders.h \
		-include src/base/banned.h -fsyntax-only $$f || exit 1; done
	@printf '%s\n' $(LINT_CFLAGS) -Wno-missing-field-initializers | sed "s/'//g" >compile_flags.txt
	@printf '%s\n' $(SRC) | xargs -P$$(nproc) -n8 clang-tidy -quiet 2>/dev/null
	@echo "lint: clean"

format:
	clang-format -i $(SRC) $(HDR)

install: $(BUILD)/loopgate
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/loopgate $(DESTDIR)$(PREFIX)/bin/loopgate
	install -m 644 docs/loopgate.1 $(DESTDIR)$(PREFIX)/share/man/man1/loopgate.1

clean:
	rm -rf build build-san loopgate

# The offline demo: a replayed model fixes a small Python project.
demo: $(BUILD)/loopgate
	@LOOPGATE_BIN=$(abspath $(BUILD)/loopgate) sh examples/demo/run.sh

# Fuzzing (docs/design/fuzz.md).  Each fuzz/fuzz_NAME.c feeds one parser of
# outside input.  `make fuzz` builds them with clang's libFuzzer, ASan and
# UBSan into build-fuzz/ and runs each for FUZZ_TIME seconds over its seed
# corpus fuzz/corpus/NAME (tools/fuzz.sh; crashes land in build-fuzz/crashes).
# The normal build links the same harnesses to fuzz/driver.c so that
# tests/t0003-fuzz-corpus.sh replays every corpus file (crashes once found
# are kept there as regression inputs).
FUZZ_TIME ?= 60
CHECK_FUZZ_TIME ?= 10
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined

$(BUILD)/fuzz/%: fuzz/%.c fuzz/driver.c fuzz/fuzz.h $(LIBOBJ)
	@mkdir -p $(dir $@)
	@echo "  LD $@"; $(CC) $(ALL_CFLAGS) -Isrc -Ifuzz $(LDFLAGS) -o $@ $< fuzz/driver.c $(LIBOBJ) $(LDLIBS)

fuzz-drivers: $(FUZZ_DRV)

build-fuzz/lib.stamp: $(SRC) $(HDR)
	@echo "fuzz: building the library with clang, libFuzzer, ASan, UBSan"
	@$(MAKE) -s BUILD=build-fuzz CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer -Wno-missing-field-initializers \
		-fsanitize=fuzzer-no-link $(FUZZ_SAN)" build-fuzz/obj-all
	@touch $@

$(BUILD)/obj-all: $(LIBOBJ)

build-fuzz/%: fuzz/%.c fuzz/fuzz.h build-fuzz/lib.stamp
	@clang $(ALL_CFLAGS) -O1 -g -Isrc -Ifuzz -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< \
		$(filter-out build-fuzz/obj/cli/main.o,$(wildcard build-fuzz/obj/*/*.o)) $(LDLIBS)

fuzz: $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
	@sh tools/fuzz.sh build-fuzz $(FUZZ_TIME) $(FUZZ)

# Kill-and-resume at random (docs/design/resume-setup.md): SOAK_RUNS runs on
# a repository of SOAK_FILES files, each SIGKILLed 1-4 times at random
# moments, then resumed; every one must converge with a verifying log and
# its spend counted once.  SOAK_SEED repeats a soak.
SOAK_RUNS ?= 30
SOAK_FILES ?= 3000
soak: $(BUILD)/loopgate
	@python3 tools/soak.py --bin $(abspath $(BUILD)/loopgate) --runs $(SOAK_RUNS) \
		--files $(SOAK_FILES) $(if $(SOAK_SEED),--seed $(SOAK_SEED))
