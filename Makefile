# acrn-ivshmem: an acrn-dm compatible device model centred on ivshmem.
#
# Public targets (each runs the dependency check first, then builds):
#   make              build everything into build/ (binaries in build/bin/)
#   make check        all tests: unit tests under ASan+UBSan, guest integration, QEMU interop,
#                     a replay of the fuzz corpora
#   make demo         the main job: two VMs sharing one ivshmem region
#   make bench        benchmarks, reported as ratios against baselines measured in the same run
#   make fuzz         each libFuzzer target of tests/fuzz for FUZZ_SECONDS (default 60), one at a
#                     time; FUZZ_TARGETS=NAME... picks some (tests/fuzz/README.md)
#   make install      PREFIX=/usr/local DESTDIR=
#   make lab-shell    boot the guest lab (lab/README.md) with a shell on this terminal
#   make clean
#
# Every module lists its own sources in a module.mk next to them (see mk/rules.mk for the
# add_lib / add_prog / add_unit_test helpers), so the build of one module never needs an edit here.

BUILD   ?= build
SAN     ?= 0
PREFIX  ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60

.DEFAULT_GOAL := all
.PHONY: all check demo bench fuzz install clean deps deps-test build-all unit-tests guests \
	fuzz-targets lab-shell

# The public targets first make sure the libraries are there (installing them on Debian/Ubuntu
# when run as root), then re-enter make: pkg-config is only asked after that.
all: deps
	@$(MAKE) --no-print-directory build-all

# The unit tests are also built (not run) with the release flags: -O2 without sanitizers lets gcc
# see paths the sanitizer build does not (-Wnull-dereference), so both configurations must build.
check: deps-test
	@$(MAKE) --no-print-directory build-all unit-tests
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san SAN=1 unit-tests
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz FUZZ=1 fuzz-targets
	@bash tests/run-tests.sh --build $(BUILD) --unit $(BUILD)/san/tests/unit

demo: deps
	@$(MAKE) --no-print-directory build-all
	@bash samples/demo/run-demo.sh $(BUILD)

bench: deps-test
	@$(MAKE) --no-print-directory build-all
	@bash bench/run-bench.sh $(BUILD)

lab-shell: deps-test
	@$(MAKE) --no-print-directory build-all
	@bash lab/run --shell

# The fuzz targets are built with clang (ASan+UBSan+libFuzzer) into $(BUILD)/fuzz; make check
# replays their corpora (tests/integration/fuzz_replay.sh).
fuzz: deps-test
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz FUZZ=1 fuzz-targets
	@bash tests/fuzz/run-fuzz.sh --build $(BUILD)/fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

deps:
	@bash mk/deps.sh build

deps-test:
	@bash mk/deps.sh test

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/bin/* $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD)

# The internal targets (build-all, unit-tests, guests, any file under build/) work directly once
# the dependencies are installed.
include mk/rules.mk
