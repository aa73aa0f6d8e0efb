#!/usr/bin/env bash
# Boots the test-guest runtime's own guests (tests/guest) under QEMU with TCG, and checks their
# failure reporting and a second UART; qemu_boot_guests_kvm.sh boots the same guests with KVM.
# This proves the runtime (Multiboot entry, paging, PCI, interrupts, SMP start-up, failure
# reporting) independently of acrn-dm.
#
# Usage: tests/integration/qemu_boot_guests.sh [BUILD]     (QEMU=... overrides the binary)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh "${1:-build}"

# shellcheck source=tests/integration/qemu_boot_common.sh
. tests/integration/qemu_boot_common.sh

boot_guests_with tcg

# A second UART (COM2, 0x2f8): what the guest prints there.
out=$TMP/uart_ports
qemu_guest tcg "$out" uart_ports "lines=2" -serial "file:$out.com2"
status=$?
if [ "$(cat "$out.com2" 2>/dev/null)" = "$(printf 'uart_ports: line %d of 2 on 0x2f8\n' 1 2)" ]; then
	expect_pass qemu_boot/uart_ports/com2 uart_ports "$out" "$status" "PASS: uart/output"
else
	fail qemu_boot/uart_ports/com2 "COM2 wrote \"$(tr '\n' '|' <"$out.com2" 2>/dev/null)\""
	show "$out"
fi

# Failure reporting does not depend on the accelerator: TCG is enough and fast.
declare -A want_status=([check]=3 [ud2]=3 [pf]=3 [return]=15)
declare -A want_line=(
	[check]='^FAIL: fault/check: tests/guest/fault_selftest\.c:[0-9]+: 0x1 != 0x2 \[one == 2\]$'
	[ud2]='^FAIL: fault/ud2: exception 6 \(#UD'
	[pf]='^FAIL: fault/pf: exception 14 \(#PF.* cr2 0x8000000000$'
	[return]='^FAIL: fault_selftest: guest_main returned 7$'
)
for mode in check ud2 pf return; do
	out=$TMP/fault_selftest.$mode
	qemu_guest tcg "$out" fault_selftest "mode=$mode"
	expect_fail "qemu_boot/fault_selftest/$mode" "$out" $? "${want_status[$mode]}" \
		"${want_line[$mode]}"
done

finish
