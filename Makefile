# SPDX-License-Identifier: MIT
# taskleak: `make` builds build/libtaskleak.so; `make help` lists the targets.
CC ?= cc
PREFIX ?= /usr/local
PYTHON ?= /usr/bin/python3
BUILD ?= build

# The one version (the report's "version", the package, taskleak --version).
VERSION := $(shell cat VERSION)
# -Werror for developers and CI; `pip install .` builds with WERROR= (setup.py),
# so that a newer compiler's new warning never breaks an install.
WERROR ?= -Werror
WARN := -std=c11 -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wformat=2 \
        -Wno-format-nonliteral
CFLAGS ?= -O2 -g
# Link-time optimisation: the hooks' small steps live in the file of their
# concern (capture, table, frames) and still cost no calls.  Fat objects:
# the unit tests link them without it.
LTO := -flto=auto -ffat-lto-objects
# The checkout's path stays out of the library (its debug information names
# files from the checkout's root): one source, one library, wherever built.
REPRO := -ffile-prefix-map=$(CURDIR)=.
TL_CFLAGS := $(WARN) $(LTO) $(REPRO) -fPIC -fvisibility=hidden -D_GNU_SOURCE -pthread -Iinclude -Ishim -I.
LDLIBS := -lunwind -ljansson -ldl -lm -pthread

# The layers are folders (docs/architecture.md): a file's folder is its layer.
ROOT_SRC := $(sort $(wildcard shim/root/*.c))
PART_SRC := $(sort $(wildcard shim/hooks/*.c shim/core/*.c shim/cpython/*.c collector/*.c))
LIB_SRC := $(ROOT_SRC) $(PART_SRC)
# Everything but the root, for the unit tests: they link what they use.
CORE_AR := $(BUILD)/libtaskleak-parts.a
PY_PACKAGE_DIRS := taskleak taskleak/commands taskleak/render
UNIT_TESTS := anchors options depot memo tasks report output suppressions layout version waits metrics shutdown \
              lock clock frames capture

.PHONY: all deps test check help analyze unit layers e2e e2e-asan cli hostile fuzz compat compat-ci cross-aarch64 \
        bench bench-smoke profile demo install asan clean check-exports package-test pytest-plugin

# One runner's selection, the same in every runner (tests/common.py):
# K=PATTERN keeps the checks whose name contains it, PY=LABEL|PATH (labels as
# `python3 tests/pythons.py` prints them; several, space-separated) the
# interpreters.  make e2e K=stuck PY=sid-3.14
K ?=
PY ?=
SELECT = $(if $(K),-k '$(K)') $(foreach p,$(PY),--python '$(p)')

FUZZ_SECONDS ?= 10
NPROC := $(shell nproc 2>/dev/null || echo 2)
ASAN_RT = $(shell $(CC) -print-file-name=libasan.so)

all: $(BUILD)/libtaskleak.so ## build build/libtaskleak.so

help: ## list the targets (K=PATTERN PY=LABEL select in every runner)
	@echo "make [TARGET] [K=PATTERN] [PY=LABEL|PATH...]   e.g. make e2e K=stuck PY=sid-3.14"
	@awk -F':[^#]*## ' '/^[a-z][a-z0-9-]*:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BUILD)/libtaskleak.so: $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
	$(CC) $(CFLAGS) $(LTO) $(REPRO) -shared -Wl,-z,defs -Wl,--version-script=shim/root/exports.map -o $@ $^ \
	    $(LDFLAGS) $(LDLIBS)

# Each object depends on the headers it includes (-MMD -MP dependency files).
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_SRC:%.c=$(BUILD)/obj/%.d)

# The report's and the metrics' "version": from the VERSION file, rebuilt when it changes.
$(BUILD)/obj/collector/report.o $(BUILD)/obj/collector/metrics.o: VERSION
$(BUILD)/obj/collector/report.o $(BUILD)/obj/collector/metrics.o: TL_CFLAGS += -DTL_VERSION='"$(VERSION)"'

$(CORE_AR): $(PART_SRC:%.c=$(BUILD)/obj/%.o)
	rm -f $@
	$(AR) rcs $@ $^

# Unit tests link the parts archive (no Python needed).
$(BUILD)/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(CORE_AR)
	$(CC) $(CFLAGS) $(TL_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(CORE_AR) $(LDFLAGS) $(LDLIBS)

# The layout test compares with this system's Python.h (api.h itself never
# includes it).
$(BUILD)/test_layout: TEST_CFLAGS = $(shell $(PYTHON)-config --includes) -Wno-strict-prototypes

deps: ## install the Debian packages the build and the tests need (root)
	@scripts/install-deps

unit: $(UNIT_TESTS:%=$(BUILD)/test_%) ## the C unit tests
	@for t in $(UNIT_TESTS); do $(BUILD)/test_$$t || exit 1; done

check-exports: $(BUILD)/libtaskleak.so ## the library exports its entry points only, names no checkout path
	@tests/check-exports $(BUILD)/libtaskleak.so

# The layers' #include direction (hooks -> core <- collector; tests/check-layers).
layers: ## the layers' include direction, by folder
	@tests/check-layers

# Static analysis of the library: gcc -fanalyzer and cppcheck; a finding
# scripts/dev/analyze.supp does not explain fails it.
ANALYZE_CC ?= gcc
analyze: ## gcc -fanalyzer and cppcheck (known findings: scripts/dev/analyze.supp)
	@scripts/dev/analyze.sh $(ANALYZE_CC)

# The two-minute loop: what a change is checked with before make test.
# e2e on the default interpreter only (PY= another one).
check: ## build, unit, layers, exports, cli, e2e on debian-3.11 (about 2 min)
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@$(MAKE) --no-print-directory -j$(NPROC) $(UNIT_TESTS:%=$(BUILD)/test_%)
	@$(MAKE) --no-print-directory unit layers check-exports cli
	@$(MAKE) --no-print-directory e2e PY='$(or $(PY),$(PYTHON))'

e2e: $(BUILD)/libtaskleak.so ## every scenario, every interpreter, with and without the library
	$(PYTHON) tests/e2e/run.py --lib $(BUILD)/libtaskleak.so $(SELECT)

# The whole end-to-end suite again, against the ASan+UBSan build.
# use_sigaltstack=0: ASan's own teardown of a thread that ends while the
# process exits (AsanThread::Destroy -> UnsetAlternateSignalStack -> its
# sigaltstack interceptor) reports a stack-buffer-underflow in "thread T-1"
# about a third of the time on 3.13 (fork_during_collection; the previous
# library too); without ASan's alternate stacks, 0 in 20.
e2e-asan: asan ## e2e under the ASan+UBSan build
	ASAN_OPTIONS=detect_leaks=0:use_sigaltstack=0 $(PYTHON) tests/e2e/run.py --lib build/asan/libtaskleak.so \
	    --preload-first $(ASAN_RT) $(SELECT)

cli: ## the taskleak command, the renderers, the C/Python contract
	$(PYTHON) -m unittest discover -s tests/cli -t . $(if $(K),-k '$(K)') -v

# The Python package as a user gets it: pip install . and pip wheel . in a
# fresh venv under /tmp, offline; the installed command, python -m taskleak,
# and the pytest plugin's entry point.
package-test: ## pip install . and pip wheel . in a fresh venv, offline
	tests/package/check.sh $(PYTHON)

# The pytest plugin: its unit tests, and real pytest sessions (leaks, tasks
# that outlive their test, timeouts explained, xdist) with Debian's python3
# and the sid chroot's 3.13-3.15.  About two minutes.
pytest-plugin: $(BUILD)/libtaskleak.so ## the pytest plugin's unit tests and real pytest sessions
	$(PYTHON) tests/pytest_plugin/run.py --lib $(BUILD)/libtaskleak.so $(SELECT)

# The HTML report in Debian's headless Chromium (DevTools over a pipe): a
# page of e2e scenarios' reports (sid's 3.14 when there is one: it records
# where cancels are caught), the shutdown fixture, 10,000 leaks (< 2 s).
# html-screenshots remakes the pictures in docs/.  About 10 s each.
.PHONY: html-test html-screenshots
html-test: $(BUILD)/libtaskleak.so ## the HTML report in headless Chromium
	@sid=$$($(PYTHON) tests/pythons.py --path sid-3.14 2>/dev/null) || sid=$(PYTHON); \
	$(PYTHON) tests/cli/html_browser.py --lib $(BUILD)/libtaskleak.so --python "$${sid:-$(PYTHON)}"

html-screenshots: $(BUILD)/libtaskleak.so ## remake docs/html-*.png
	@sid=$$($(PYTHON) tests/pythons.py --path sid-3.14 2>/dev/null) || sid=$(PYTHON); \
	$(PYTHON) tests/cli/html_browser.py --lib $(BUILD)/libtaskleak.so --python "$${sid:-$(PYTHON)}" \
	    --screenshots docs

# Prometheus metrics as a fleet reads them: two programs under the library,
# Debian's node_exporter (textfile collector) and prometheus on 127.0.0.1,
# their counts through the HTTP API against the JSON reports (about 10 s).
.PHONY: metrics-test
metrics-test: $(BUILD)/libtaskleak.so ## Prometheus metrics through node_exporter and prometheus
	$(PYTHON) tests/cli/fleet_prometheus.py --lib $(BUILD)/libtaskleak.so

hostile: $(BUILD)/libtaskleak.so ## hostile environments, valgrind
	$(PYTHON) tests/hostile/run.py --lib $(BUILD)/libtaskleak.so $(SELECT)

# taskleak dump / attach on processes started without the library, on
# Debian's 3.11, pyenv's 3.8 and 3.12, and the sid chroot's 3.14 and 3.15.
.PHONY: attach
attach: $(BUILD)/libtaskleak.so ## taskleak dump / attach on processes started without it
	$(PYTHON) tests/attach/run.py --lib $(BUILD)/libtaskleak.so $(SELECT)

# Each interpreter's own row of shim/cpython/layouts.inc, followed at run time
# as shim/cpython/frames.c does: every interpreter tests/pythons.py finds,
# debug builds too.
.PHONY: layouts
layouts: ## each interpreter's row of layouts.inc, followed at run time
	$(PYTHON) scripts/dev/check_layouts.py --run-layouts $(SELECT)

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

fuzz: ## the libFuzzer harnesses, FUZZ_SECONDS each
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
compat: $(BUILD)/libtaskleak.so ## CPython's test_asyncio with and without it, every interpreter
	$(PYTHON) tests/compat/run_compat.py --lib $(BUILD)/libtaskleak.so $(SELECT)

compat-ci: $(BUILD)/libtaskleak.so ## compat on Debian's python3 and sid's 3.14
	@scripts/dev/sid-pythons >/dev/null
	$(PYTHON) tests/compat/run_compat.py --lib $(BUILD)/libtaskleak.so --strict \
	    $(if $(K),-k '$(K)') --python $(PYTHON) --python sid-3.14

# The contract's "aarch64 must at least build": a cross build with -Werror.
cross-aarch64: ## the aarch64 cross build, -Werror
	@scripts/install-deps-aarch64
	$(MAKE) BUILD=build/aarch64 CC=aarch64-linux-gnu-gcc all
	@readelf -h build/aarch64/libtaskleak.so | grep -q 'AArch64' && \
	    echo "PASS cross-aarch64: build/aarch64/libtaskleak.so"

bench: $(BUILD)/libtaskleak.so ## the overhead against no library (docs/benchmarks.md)
	$(PYTHON) bench/run.py --lib $(BUILD)/libtaskleak.so --cg-cache $(BUILD)/callgrind-base.json \
	    $(SELECT) $(if $(strip $(SELECT)),,--out docs/benchmarks.md)

bench-smoke: $(BUILD)/libtaskleak.so ## every benchmark once, tiny
	PYTHON=$(PYTHON) bench/smoke.sh $(BUILD)/libtaskleak.so $(SELECT)

# Where the hooks' time goes (perf where it counts, else callgrind).
profile: $(BUILD)/libtaskleak.so ## where the hooks' time goes (perf or callgrind)
	bench/profile.sh --lib $(BUILD)/libtaskleak.so --python $(PYTHON)

# Everything CI runs: tests, the sanitizer and compat oracles, a bounded
# fuzz, and a benchmark smoke run (benchmarks are not tests: it only runs).
test: deps package-test pytest-plugin ## everything CI runs (about 25 min)
	$(MAKE) all
	$(MAKE) unit check-exports layers analyze e2e cli hostile attach layouts fuzz compat-ci e2e-asan cross-aarch64 bench-smoke
	$(MAKE) html-test metrics-test

# Only what the demo needs (scripts/install-deps --demo: the build and
# python3); the test dependencies and the sid chroot are make test's.
demo: ## run the leaky worker under the library, show the report
	@scripts/install-deps --demo
	@$(MAKE) --no-print-directory -s -j$(NPROC) all
	@scripts/taskleak run --report-dir $(BUILD)/demo -- $(PYTHON) tests/demo/leaky_worker.py

install: all ## install lib/libtaskleak.so and bin/taskleak under PREFIX
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/libtaskleak.so $(DESTDIR)$(PREFIX)/lib/libtaskleak.so
	install -m 0755 scripts/taskleak $(DESTDIR)$(PREFIX)/bin/taskleak
	for d in $(PY_PACKAGE_DIRS); do install -d $(DESTDIR)$(PREFIX)/lib/taskleak/python/$$d && \
	    install -m 0644 scripts/python/$$d/*.py $(DESTDIR)$(PREFIX)/lib/taskleak/python/$$d/ || exit 1; done
	install -m 0644 VERSION $(DESTDIR)$(PREFIX)/lib/taskleak/python/taskleak/VERSION

asan: ## the ASan+UBSan build of the library and the unit tests
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	        LDFLAGS="-fsanitize=address,undefined" all unit

clean: ## remove build/
	rm -rf build
