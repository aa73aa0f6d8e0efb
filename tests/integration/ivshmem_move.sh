#!/usr/bin/env bash
# needs: kvm
# BAR2 follows the guest. The host writes a text into a fresh region; the guest (ivshmem_plain
# role=move) checks it, fills the region with a seeded pattern, toggles memory decode, moves BAR2
# (decode off, both halves, decode on) and checks that the memory and the host's text moved with it
# and that the old address shows nothing (reads all ones, writes vanish); moves it onto guest RAM
# and onto its own BAR0 (refused: the RAM and the registers stay as they were); moves it back and
# checks the data survived. The host then finds the guest's pattern and the marks it left at the
# new and the old address ("moved:SEED", "back:SEED") in /dev/shm/NAME.
#   above-4g   the default target, 16 GiB higher in the 64-bit window
#   below-4g   a 64-bit BAR placed in the 32-bit window (0xD0000000)
#
# Usage: tests/integration/ivshmem_move.sh [BUILD]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh "${1:-build}"

T=ivshmem_move
require_kvm $T/above-4g $T/below-4g

GUEST=$GUESTS/ivshmem_plain.elf
PAT=$BUILD/tests/tools/ivshmem-pattern
if [ ! -f "$GUEST" ] || [ ! -x "$PAT" ]; then
	fail $T/above-4g "$GUEST or $PAT is missing (make build-all)"
	fail $T/below-4g "$GUEST or $PAT is missing (make build-all)"
	finish
fi


# move_test NAME EXTRA_GUEST_ARGS
move_test() {
	local name=$T/$1 extra=$2 r seed text out st
	r=$(unique_region ivmove)
	seed=$((RANDOM + 1))
	text="host:$r"
	truncate -s 2M "/dev/shm/$r" && chmod 600 "/dev/shm/$r"
	"$PAT" puttext "/dev/shm/$r" 256 "$text" || { fail "$name" "cannot write the host's text"; return; }
	run_vm 150 "$TMP/$1.out" "${BASE_SLOTS[@]}" -s "5,ivshmem,dm:/$r,2,0" -m 128M \
		-E "$GUEST" -B "role=move seed=$seed expect=$text $extra" movevm
	st=$?
	if [ $st -ne 0 ] || ! grep -qx 'PASS: ivshmem_plain' "$TMP/$1.out" ||
		grep -q '^FAIL: ' "$TMP/$1.out"; then
		fail "$name" "the guest's checks failed (exit status $st)"
		show "$TMP/$1.out"
	elif ! grep -q 'ivshmem: .*(existing)' "$TMP/$1.out"; then
		fail "$name" "acrn-dm did not open the region the host created"
		show "$TMP/$1.out"
	elif ! out=$("$PAT" data "/dev/shm/$r" $seed 2>&1); then
		fail "$name" "the guest's pattern is not in the region file: $out"
	elif [ "$("$PAT" text "/dev/shm/$r" 512)" != "moved:$seed" ]; then
		fail "$name" "the mark written at the new address is not in the file: \"$("$PAT" text "/dev/shm/$r" 512)\""
	elif [ "$("$PAT" text "/dev/shm/$r" 768)" != "back:$seed" ]; then
		fail "$name" "the mark written after moving back is not in the file"
	elif [ "$("$PAT" text "/dev/shm/$r" 256)" != "$text" ]; then
		fail "$name" "the host's text was overwritten"
	else
		grep '^move: ' "$TMP/$1.out" | sed 's/^/    /'
		pass "$name"
	fi
}

move_test above-4g ""
move_test below-4g "to=0xd0000000"
finish
