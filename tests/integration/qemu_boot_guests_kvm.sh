#!/usr/bin/env bash
# needs: kvm
# Boots the test-guest runtime's own guests (tests/guest) under QEMU with KVM (natively, or in the
# guest lab); qemu_boot_guests.sh does the same with TCG.
#
# Usage: tests/integration/qemu_boot_guests_kvm.sh [BUILD]     (QEMU=... overrides the binary)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh "${1:-build}"

require_kvm qemu_boot/pci_enum/kvm qemu_boot/irq_selftest/kvm qemu_boot/paging_selftest/kvm \
	qemu_boot/smp_selftest/kvm/1 qemu_boot/smp_selftest/kvm/2 qemu_boot/smp_selftest/kvm/4
# shellcheck source=tests/integration/qemu_boot_common.sh
. tests/integration/qemu_boot_common.sh

boot_guests_with kvm
finish
