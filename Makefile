# taskleak: `make` builds build/libtaskleak.so.  See README.md.
CC ?= cc
PREFIX ?= /usr/local
PYTHON ?= /usr/bin/python3
BUILD ?= build

WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
        -Wno-format-nonliteral
CFLAGS ?= -O2 -g
# Link-time optimisation: the hooks' small steps live in the file of their
# concern (capture, table, frames) and still cost no calls.  Fat objects:
# the unit tests link them without it.
LTO := -flto=auto -ffat-lto-objects
TL_CFLAGS := $(WARN) $(LTO) -fPIC -fvisibility=hidden -D_GNU_SOURCE -pthread -Iinclude -Ishim -I.
LDLIBS := -lunwind -ljansson -ldl -lm -pthread

# The layers are folders (docs/architecture.md): a file's folder is its layer.
ROOT_SRC := $(sort $(wildcard shim/root/*.c))
PART_SRC := $(sort $(wildcard shim/hooks/*.c shim/core/*.c shim/cpython/*.c collector/*.c))
LIB_SRC := $(ROOT_SRC) $(PART_SRC)
# Everything but the root, for the unit tests: they link what they use.
CORE_AR := $(BUILD)/libtaskleak-parts.a
PY_PACKAGE_DIRS := taskleak taskleak/commands taskleak/render
UNIT_TESTS := options depot memo tasks report output suppressions layout version lock clock

.PHONY: all deps test unit layers e2e e2e-asan cli hostile fuzz compat compat-ci cross-aarch64 bench bench-smoke profile \
        demo install asan clean check-exports package-test pytest-plugin

FUZZ_SECONDS ?= 10
ASAN_RT = $(shell $(CC) -print-file-name=libasan.so)

all: $(BUILD)/libtaskleak.so

$(BUILD)/libtaskleak.so: $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
	$(CC) $(CFLAGS) $(LTO) -shared -Wl,-z,defs -Wl,--version-script=shim/root/exports.map -o $@ $^ \
	    $(LDFLAGS) $(LDLIBS)

# Each object depends on the headers it includes (-MMD -MP dependency files).
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_SRC:%.c=$(BUILD)/obj/%.d)

$(CORE_AR): $(PART_SRC:%.c=$(BUILD)/obj/%.o)
	rm -f $@
	$(AR) rcs $@ $^

# Unit tests link the parts archive (no Python needed).
$(BUILD)/test_%: tests/unit/test_%.c tests/unit/check.h $(CORE_AR)
	$(CC) $(CFLAGS) $(TL_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(CORE_AR) $(LDFLAGS) $(LDLIBS)

# The layout test compares with this system's Python.h (api.h itself never
# includes it).
$(BUILD)/test_layout: TEST_CFLAGS = $(shell $(PYTHON)-config --includes) -Wno-strict-prototypes

deps:
	@scripts/install-deps

unit: $(UNIT_TESTS:%=$(BUILD)/test_%)
	@for t in $(UNIT_TESTS); do $(BUILD)/test_$$t || exit 1; done

check-exports: $(BUILD)/libtaskleak.so
	@tests/check-exports $(BUILD)/libtaskleak.so

# The layers' #include direction (hooks -> core <- collector; tests/check-layers).
layers:
	@tests/check-layers

e2e: $(BUILD)/libtaskleak.so
	$(PYTHON) tests/e2e/run.py --lib $(BUILD)/libtaskleak.so

# The whole end-to-end suite again, against the ASan+UBSan build.
# use_sigaltstack=0: ASan's own teardown of a thread that ends while the
# process exits (AsanThread::Destroy -> UnsetAlternateSignalStack -> its
# sigaltstack interceptor) reports a stack-buffer-underflow in "thread T-1"
# about a third of the time on 3.13 (fork_during_collection; the previous
# library too); without ASan's alternate stacks, 0 in 20.
e2e-asan: asan
	ASAN_OPTIONS=detect_leaks=0:use_sigaltstack=0 $(PYTHON) tests/e2e/run.py --lib build/asan/libtaskleak.so \
	    --preload-first $(ASAN_RT)

cli:
	$(PYTHON) -m unittest discover -s tests/cli -t . -v

# The Python package as a user gets it: pip install . and pip wheel . in a
# fresh venv under /tmp, offline; the installed command, python -m taskleak,
# and the pytest plugin's entry point.
package-test:
	tests/package/check.sh $(PYTHON)

# The pytest plugin: its unit tests, and the acceptance suite run under
# pytest --taskleak=fail with Debian's python3 and the sid chroot's 3.14.
pytest-plugin: $(BUILD)/libtaskleak.so
	TASKLEAK_TEST_LIB=$(BUILD)/libtaskleak.so $(PYTHON) -m unittest discover -s tests/pytest_plugin -t . -v

hostile: $(BUILD)/libtaskleak.so
	$(PYTHON) tests/hostile/run.py --lib $(BUILD)/libtaskleak.so

# taskleak dump / attach on processes started without the library, on
# Debian's 3.11, pyenv's 3.8 and 3.12, and the sid chroot's 3.14 and 3.15.
.PHONY: attach
attach: $(BUILD)/libtaskleak.so
	$(PYTHON) tests/attach/run.py --lib $(BUILD)/libtaskleak.so

# Each interpreter's own row of shim/cpython/layouts.inc, followed at run time
# as shim/cpython/frames.c does: every interpreter tests/pythons.py finds,
# debug builds too.
.PHONY: layouts
layouts:
	$(PYTHON) scripts/dev/check_layouts.py --run-layouts

# libFuzzer harnesses: $(BUILD)/fuzz/fuzz_NAME is built with clang from
# tests/fuzz/fuzz_NAME.c and the core archive (the core and the output
# writer, built with the fuzzing sanitizers: objects under $(BUILD)/fuzz/obj/,
# -MMD -MP dependency files).  tests/fuzz/run.sh builds each through these
# rules and runs it FUZZ_SECONDS (0: replays the committed corpus only) with
# its PASS/FAIL lines; a fuzzer that does not build is one FAIL line, as is a
# missing FUZZ_CC.
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -pthread -fno-omit-frame-pointer \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZERS := options suppressions scopes output_expand
FUZZ_AR_SRC := $(sort $(wildcard shim/core/*.c)) collector/output.c
FUZZ_AR := $(BUILD)/fuzz/libtaskleak-core.a

fuzz:
	@BUILD='$(BUILD)' FUZZ_CC='$(FUZZ_CC)' tests/fuzz/run.sh $(FUZZ_SECONDS)

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ishim -I. -MMD -MP -c -o $@ $<

$(FUZZ_AR): $(FUZZ_AR_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_AR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lm

-include $(FUZZ_AR_SRC:%.c=$(BUILD)/fuzz/obj/%.d) $(FUZZERS:%=$(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.d)

# CPython's own test_asyncio, with and without the library: identical.
# compat: every interpreter tests/pythons.py finds but debug builds; compat-ci:
# Debian's and sid's python3.14 (scripts/dev/sid-pythons makes the chroot
# when it is absent: root and debootstrap).
compat: $(BUILD)/libtaskleak.so
	$(PYTHON) tests/compat/run_compat.py --lib $(BUILD)/libtaskleak.so

compat-ci: $(BUILD)/libtaskleak.so
	@scripts/dev/sid-pythons >/dev/null
	sid=$$($(PYTHON) tests/pythons.py --path sid-3.14) && \
	$(PYTHON) tests/compat/run_compat.py --lib $(BUILD)/libtaskleak.so --strict \
	    --python $(PYTHON) --python "$$sid"

# The contract's "aarch64 must at least build": a cross build with -Werror.
cross-aarch64:
	@scripts/install-deps-aarch64
	$(MAKE) BUILD=build/aarch64 CC=aarch64-linux-gnu-gcc all
	@readelf -h build/aarch64/libtaskleak.so | grep -q 'AArch64' && \
	    echo "PASS cross-aarch64: build/aarch64/libtaskleak.so"

bench: $(BUILD)/libtaskleak.so
	$(PYTHON) bench/run.py --lib $(BUILD)/libtaskleak.so --out docs/benchmarks.md

bench-smoke: $(BUILD)/libtaskleak.so
	PYTHON=$(PYTHON) bench/smoke.sh $(BUILD)/libtaskleak.so

# Where the hooks' time goes (perf where it counts, else callgrind).
profile: $(BUILD)/libtaskleak.so
	bench/profile.sh --lib $(BUILD)/libtaskleak.so --python $(PYTHON)

# Everything CI runs: tests, the sanitizer and compat oracles, a bounded
# fuzz, and a benchmark smoke run (benchmarks are not tests: it only runs).
test: deps package-test pytest-plugin
	$(MAKE) all
	$(MAKE) unit check-exports layers e2e cli hostile attach layouts fuzz compat-ci e2e-asan cross-aarch64 bench-smoke

demo: deps all
	@scripts/taskleak run --report-dir $(BUILD)/demo -- $(PYTHON) tests/demo/leaky_worker.py

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/libtaskleak.so $(DESTDIR)$(PREFIX)/lib/libtaskleak.so
	install -m 0755 scripts/taskleak $(DESTDIR)$(PREFIX)/bin/taskleak
	for d in $(PY_PACKAGE_DIRS); do install -d $(DESTDIR)$(PREFIX)/lib/taskleak/python/$$d && \
	    install -m 0644 scripts/python/$$d/*.py $(DESTDIR)$(PREFIX)/lib/taskleak/python/$$d/ || exit 1; done

asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	        LDFLAGS="-fsanitize=address,undefined" all unit

clean:
	rm -rf build
