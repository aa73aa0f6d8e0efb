# acrn-ivshmem: an acrn-dm compatible device model centred on ivshmem.
#
# Public targets (each runs the dependency check first, then builds):
#   make              build everything into build/ (binaries in build/bin/)
#   make check        all tests: unit tests under ASan+UBSan, guest integration, QEMU interop
#   make demo         the main job: two VMs sharing one ivshmem region
#   make bench        benchmarks, reported as ratios against baselines measured in the same run
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

.DEFAULT_GOAL := all
.PHONY: all check demo bench install clean deps deps-test build-all unit-tests guests lab-shell

# The public targets first make sure the libraries are there (installing them on Debian/Ubuntu
# when run as root), then re-enter make: pkg-config is only asked after that.
all: deps
	@$(MAKE) --no-print-directory build-all

check: deps-test
	@$(MAKE) --no-print-directory build-all
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san SAN=1 unit-tests
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
