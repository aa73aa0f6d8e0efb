#!/usr/bin/env bash
# needs: kvm
# The runtime's own guests under acrn-dm on KVM (issue "foundation"): the PCI bus as a guest
# enumerates it, interrupts, paging up to BAR2 above 4 GiB, and acrn-dm's life-cycle contract:
# the guest's debug-exit value is the exit status, a failing guest is reported, a signal stops
# the VM cleanly and the region survives.
. "$(dirname "$0")/lib.sh"

require_kvm dm_guests/pci_enum dm_guests/irq_selftest dm_guests/paging_selftest \
	dm_guests/exit_status dm_guests/guest_failure dm_guests/sigterm

# The bus a launch script builds: host bridge, LPC, two ivshmem devices (one multi-function).
region=$(unique_region dmg)
out=$TMP/pci_enum.out
run_vm 60 "$out" "${BASE_SLOTS[@]}" -s 5,ivshmem,dm:/"$region",2 \
	-s 6:0,ivshmem,dm:/"$region"b,4,0x1234 -s 6:1,ivshmem,dm:/"$region"c,2 \
	-E "$GUESTS/pci_enum.elf" -m 128M dmg_enum
status=$?
expect_guest_pass dm_guests/pci_enum "$out" "$status"
grep -q '00:06.1 1af4:1110' "$out" || fail dm_guests/pci_enum/multifunction "06.1 not enumerated"
rm -f /dev/shm/"$region"b /dev/shm/"$region"c

out=$TMP/irq.out
run_vm 60 "$out" "${BASE_SLOTS[@]}" -E "$GUESTS/irq_selftest.elf" -m 128M dmg_irq
expect_guest_pass dm_guests/irq_selftest "$out" $?

# paging_selftest reads what the host wrote at the start of BAR2, after moving BAR2 to 64 GiB.
printf 'hello_from_the_host' | dd of=/dev/shm/"$region" conv=notrunc status=none
out=$TMP/paging.out
run_vm 60 "$out" "${BASE_SLOTS[@]}" -s 5,ivshmem,dm:/"$region",2 -E "$GUESTS/paging_selftest.elf" \
	-B "expect=hello_from_the_host bar2_high=0x1000000000" -m 128M dmg_paging
expect_guest_pass dm_guests/paging_selftest "$out" $?

# The debug-exit value becomes acrn-dm's exit status.
out=$TMP/return.out
run_vm 60 "$out" "${BASE_SLOTS[@]}" -E "$GUESTS/fault_selftest.elf" -B "mode=return" -m 128M dmg_ret
status=$?
if [ "$status" -eq 7 ] && grep -q 'guest powered off with status 7' "$out"; then
	pass dm_guests/exit_status
else
	fail dm_guests/exit_status "expected exit 7, got $status: $(tail -n 3 "$out" | tr '\n' '|')"
fi

# A guest exception is reported on the console and as a non-zero status.
out=$TMP/ud2.out
run_vm 60 "$out" "${BASE_SLOTS[@]}" -E "$GUESTS/fault_selftest.elf" -B "mode=ud2" -m 128M dmg_ud2
status=$?
if [ "$status" -eq 1 ] && grep -q 'exception 6' "$out"; then
	pass dm_guests/guest_failure
else
	fail dm_guests/guest_failure "expected exit 1 and #UD, got $status"
fi

# SIGTERM while the guest waits: acrn-dm stops the VM, exits 128+15, the region keeps its data.
out=$TMP/sigterm.out
start_vm "$out" "${BASE_SLOTS[@]}" -s 5,ivshmem,dm:/"$region",2 -E "$GUESTS/ivshmem_plain.elf" \
	-B "role=reader timeout_ms=60000" -m 128M dmg_term
pid=$VM_PID
if wait_for_line "$out" 'started 1 vCPU' 20; then
	sleep 1
	kill -TERM "$pid"
	wait_vm "$pid" 20
	status=$?
	if [ "$status" -eq 143 ] && grep -q 'stopped by signal' "$out" &&
		[ "$(head -c 19 /dev/shm/"$region")" = hello_from_the_host ]; then
		pass dm_guests/sigterm
	else
		fail dm_guests/sigterm "exit $status: $(tail -n 3 "$out" | tr '\n' '|')"
	fi
else
	fail dm_guests/sigterm "the VM did not start: $(tail -n 3 "$out" | tr '\n' '|')"
fi

finish
