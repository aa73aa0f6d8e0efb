# Shared by qemu_boot_guests.sh (TCG, on any machine) and qemu_boot_guests_kvm.sh (KVM: natively or
# in the guest lab): boots the test-guest runtime's own guests (tests/guest) under QEMU and checks
# transcripts and exit statuses, independently of acrn-dm: Multiboot entry, paging, PCI,
# interrupts, SMP start-up.
#
# QEMU's isa-debug-exit turns the guest's exit code c into QEMU's status (c << 1) | 1:
# 1 = the guest passed, 3 = it failed. Guest transcripts are shown indented ("    | ") and only
# when something is wrong, so their own PASS/FAIL lines are never counted as this script's.
# Source it after lib.sh.

QEMU=${QEMU:-qemu-system-x86_64}
PATTERN="HOST-PATTERN-$$"
HIGH_BAR2=0x1000000000	# 64 GiB: inside acrn-dm's 64-bit window, reachable under QEMU too

# qemu_guest ACCEL OUT GUEST APPEND [QEMU ARGS...]: boots GUEST, serial output into OUT;
# returns QEMU's exit status (124 on timeout).
qemu_guest() {
	local accel=$1 out=$2 guest=$3 append=$4
	shift 4
	timeout --kill-after=5 120 "$QEMU" -accel "$accel" -m 128 -display none -monitor none \
		-serial "file:$out" -no-reboot -kernel "$GUESTS/$guest.elf" -append "$append" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" >"$out.qemu" 2>&1
}

show() {
	[ -f "$1" ] && sed 's/^/    | /' "$1"
	[ -s "$1.qemu" ] && sed 's/^/    qemu| /' "$1.qemu"
	return 0
}

# expect_pass NAME GUEST OUT STATUS [LINE...]: status 1, "PASS: GUEST", no FAIL, and each LINE.
expect_pass() {
	local name=$1 guest=$2 out=$3 status=$4 line
	shift 4
	if [ "$status" -ne 1 ] || ! grep -qx "PASS: $guest" "$out" 2>/dev/null ||
		grep -q '^FAIL: ' "$out"; then
		fail "$name" "QEMU status $status (1 = guest passed), and/or no \"PASS: $guest\", or a FAIL line"
		show "$out"
		return
	fi
	for line in "$@"; do
		if ! grep -qx -- "$line" "$out"; then
			fail "$name" "no line \"$line\""
			show "$out"
			return
		fi
	done
	pass "$name"
}

# expect_fail NAME OUT STATUS WANT_STATUS REGEX: the guest failed as it was told to.
expect_fail() {
	local name=$1 out=$2 status=$3 want=$4 regex=$5
	if [ "$status" -eq "$want" ] && grep -Eq -- "$regex" "$out" 2>/dev/null; then
		pass "$name"
	else
		fail "$name" "QEMU status $status (want $want) or no line matching /$regex/"
		show "$out"
	fi
}

if ! command -v "$QEMU" >/dev/null 2>&1; then
	skip qemu_boot "$QEMU is not installed (apt-get install qemu-system-x86)"
	exit 0
fi
for g in pci_enum irq_selftest paging_selftest fault_selftest smp_selftest uart_ports; do
	if [ ! -f "$GUESTS/$g.elf" ]; then
		fail "qemu_boot/$g" "$GUESTS/$g.elf is not built (make guests)"
		finish
	fi
done
# Not $(unique_region ...): in a subshell its cleanup registration would be lost.
region=qemu_boot_$$_$RANDOM
SHM_REGIONS+=("$region")
shm=/dev/shm/$region
# shellcheck disable=SC2054 # the commas belong to one QEMU option
ivshmem=(-object "memory-backend-file,id=shm,share=on,mem-path=$shm,size=4M"
	-device ivshmem-plain,memdev=shm)

# boot_guests_with ACCEL: pci_enum, irq_selftest, paging_selftest and smp_selftest (1, 2 and 4
# CPUs) under QEMU with ACCEL.
boot_guests_with() {
	local accel=$1 out status mark
	out=$TMP/pci_enum.$accel
	qemu_guest "$accel" "$out" pci_enum "" "${ivshmem[@]}"
	expect_pass "qemu_boot/pci_enum/$accel" pci_enum "$out" $? \
		"PASS: pci_enum/host-bridge" "PASS: pci_enum/bar-move"

	out=$TMP/irq_selftest.$accel
	qemu_guest "$accel" "$out" irq_selftest "" -device edu
	expect_pass "qemu_boot/irq_selftest/$accel" irq_selftest "$out" $? \
		"PASS: irq/timeout" "PASS: irq/self-ipi" "PASS: irq/lapic-timer" "PASS: irq/msi"

	rm -f "$shm"
	printf '%s' "$PATTERN" >"$shm"
	truncate -s 4M "$shm"
	out=$TMP/paging_selftest.$accel
	qemu_guest "$accel" "$out" paging_selftest "expect=$PATTERN bar2_high=$HIGH_BAR2" \
		"${ivshmem[@]}"
	status=$?
	mark=$(dd if="$shm" bs=1 skip=4096 count=21 status=none 2>/dev/null | tr -d '\0')
	if [ "$mark" != "guest:paging_selftest" ]; then
		fail "qemu_boot/paging_selftest/$accel" "the guest's mark is not in $shm (\"$mark\")"
		show "$out"
	else
		expect_pass "qemu_boot/paging_selftest/$accel" paging_selftest "$out" "$status" \
			"PASS: paging/ivshmem-bar2"
	fi

	boot_smp_with "$accel"
}

# boot_smp_with ACCEL: 1, 2 and 4 CPUs; each writes its APIC id into the region and takes an
# IPI and an MSI (from QEMU's edu device) aimed at it. The host reads the ids back.
boot_smp_with() {
	local accel=$1 n out status ids sorted want
	for n in 1 2 4; do
		rm -f "$shm"
		truncate -s 4M "$shm"
		out=$TMP/smp_selftest.$accel.$n
		qemu_guest "$accel" "$out" smp_selftest "cpus=$n msi=edu" -smp "$n" "${ivshmem[@]}" \
			-device edu
		status=$?
		ids=$(od -A n -t u4 -j 16 -N $((4 * n)) "$shm" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
		want=$(seq -s ' ' 0 $((n - 1)))
		sorted=$(tr ' ' '\n' <<<"$ids" | sort -n | tr '\n' ' ' | sed 's/ $//')
		if [ "$(head -c 7 "$shm")" != "SMPTEST" ] || [ "$sorted" != "$want" ]; then
			fail "qemu_boot/smp_selftest/$accel/$n" "region: APIC ids \"$ids\" (want $want in some order), magic \"$(head -c 7 "$shm" | tr -cd '[:print:]')\""
			show "$out"
		else
			expect_pass "qemu_boot/smp_selftest/$accel/$n" smp_selftest "$out" "$status" \
				"PASS: smp/start" "PASS: smp/apic-ids" "PASS: smp/ipi" "PASS: smp/msi-edu"
		fi
	done
}
