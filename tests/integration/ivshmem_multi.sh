#!/usr/bin/env bash
# needs: kvm
# Several ivshmem devices in one VM, each with its own region (ivshmem_plain role=multi): slots
# 5.0 and 5.1 (a multi-function device) and slot 6, with region ids 1, 2, 3 and sizes 2, 4, 2 MB.
# The guest finds them in bus order, checks their subsystem IDs, that no two BARs overlap, fills
# each region with its own pattern and mark, and checks afterwards that none was overwritten
# through another (no aliasing) and that each device keeps its own registers. The host then finds
# each device's pattern and mark in that device's file, and only there.
#   three-devices     as above
#   same-region-twice two devices on one name in one VM: acrn-dm creates the region for the first
#                     and opens the existing one for the second, and the second device works
#
# Usage: tests/integration/ivshmem_multi.sh [BUILD]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh "${1:-build}"

T=ivshmem_multi
require_kvm $T/three-devices $T/same-region-twice

GUEST=$GUESTS/ivshmem_plain.elf
PAT=$BUILD/tests/tools/ivshmem-pattern
if [ ! -f "$GUEST" ] || [ ! -x "$PAT" ]; then
	fail $T/three-devices "$GUEST or $PAT is missing (make build-all)"
	fail $T/same-region-twice "$GUEST or $PAT is missing (make build-all)"
	finish
fi


# ---- three-devices ----
A=$(unique_region ivmultiA)
B=$(unique_region ivmultiB)
C=$(unique_region ivmultiC)
run_vm 150 "$TMP/m.out" "${BASE_SLOTS[@]}" -m 128M -E "$GUEST" \
	-s "5:0,ivshmem,dm:/$A,2,1" -s "5:1,ivshmem,dm:/$B,4,2" -s "6,ivshmem,dm:/$C,2,3" \
	-B "role=multi count=3 subsys0=1 subsys1=2 subsys2=3" multivm
st=$?
ok=0
if [ $st -ne 0 ] || ! grep -qx 'PASS: ivshmem_plain' "$TMP/m.out" || grep -q '^FAIL: ' "$TMP/m.out"
then
	fail $T/three-devices "the guest's checks failed (exit status $st)"
	show "$TMP/m.out"
else
	ok=1
	i=0
	for r in "$A" "$B" "$C"; do
		# The guest filled device i with the pattern of seed 100 + i and marked it "multi:i".
		if ! out=$("$PAT" data "/dev/shm/$r" $((100 + i)) 2>&1); then
			fail $T/three-devices "device $i's file: $out"
			ok=0
		elif [ "$("$PAT" text "/dev/shm/$r" 512)" != "multi:$i" ]; then
			fail $T/three-devices "device $i's file has mark \"$("$PAT" text "/dev/shm/$r" 512)\""
			ok=0
		fi
		i=$((i + 1))
	done
	[ "$(stat -c %s "/dev/shm/$B")" = $((4 << 20)) ] ||
		{ fail $T/three-devices "/dev/shm/$B is not 4 MiB"; ok=0; }
fi
[ $ok -eq 1 ] && pass $T/three-devices

# ---- same-region-twice ----
S=$(unique_region ivmultiS)
run_vm 150 "$TMP/s.out" "${BASE_SLOTS[@]}" -m 128M -E "$GUEST" \
	-s "5,ivshmem,dm:/$S,2" -s "6,ivshmem,dm:/$S,2" \
	-B "role=config subsys=0 size=2M dev=1" sharevm
st=$?
if [ $st -ne 0 ] || ! grep -qx 'PASS: ivshmem_plain' "$TMP/s.out" || grep -q '^FAIL: ' "$TMP/s.out"
then
	fail $T/same-region-twice "exit status $st"
	show "$TMP/s.out"
elif ! grep -q "00:05.0 ivshmem: dm:/$S: .*(created)" "$TMP/s.out" ||
	! grep -q "00:06.0 ivshmem: dm:/$S: .*(existing)" "$TMP/s.out"; then
	fail $T/same-region-twice "acrn-dm did not create the region once and open it once"
	show "$TMP/s.out"
else
	pass $T/same-region-twice
fi
finish
