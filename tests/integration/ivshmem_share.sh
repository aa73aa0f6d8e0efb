#!/usr/bin/env bash
# needs: kvm
# Two acrn-dm processes on one dm:/ region (POSIX shm, ACRN's contract), with real guests:
#   two-vms            a writer VM fills the whole region with a seeded pattern and a checksum
#                      while a reader VM waits for it, verifies every word and answers; the host
#                      then finds the same pattern, checksum and answer in /dev/shm/NAME.
#   reader-killed      the reader's acrn-dm is killed with SIGKILL after verifying (before it
#                      answers); the writer VM keeps waiting, the region keeps its data, and a
#                      restarted reader verifies it and answers the still-running writer.
#   restart-after-exit once both VMs have powered off, the region is still there (never unlinked)
#                      and a new reader VM finds the data again.
# Guest transcripts are shown indented ("    | "), and only when something is wrong.
#
# Usage: tests/integration/ivshmem_share.sh [BUILD]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh "${1:-build}"

T=ivshmem_share
require_kvm $T/two-vms $T/reader-killed $T/restart-after-exit

# shellcheck source=tests/integration/ivshmem_common.sh
. tests/integration/ivshmem_common.sh
if [ ! -f "$GUEST" ] || [ ! -x "$PAT" ]; then
	for n in two-vms reader-killed restart-after-exit; do
		fail "$T/$n" "$GUEST or $PAT is missing (make build-all)"
	done
	finish
fi



# dev NAME: the -s option of a 2 MiB dm:/ region, as a launch script writes it.
dev() { echo "5,ivshmem,dm:/$1,2,0"; }

# ---- two-vms ----
R=$(unique_region ivshare)
SEED=$((RANDOM * 32768 + RANDOM))
writer_and_reader "$(dev "$R")" $SEED
if pair_failed $T/two-vms; then
	:
elif ! out=$("$PAT" verify "/dev/shm/$R" --seed $SEED --answered 2>&1); then
	fail $T/two-vms "the region file does not hold the writer's pattern: $out"
else
	echo "    $out"
	pass $T/two-vms
fi

# ---- restart-after-exit: both acrn-dm are gone; the region and its data are not ----
if [ ! -f "/dev/shm/$R" ]; then
	fail $T/restart-after-exit "/dev/shm/$R was removed when the VMs exited"
else
	reader_again $T/restart-after-exit "$(dev "$R")" "/dev/shm/$R" $SEED
fi

# ---- reader-killed ----
R=$(unique_region ivkill)
SEED=$((SEED + 1))
start_vm "$TMP/kw.out" "${BASE_SLOTS[@]}" -s "$(dev "$R")" -m 128M -E "$GUEST" \
	-B "role=writer seed=$SEED timeout_ms=$WAIT_MS" writer
WRITER=$VM_PID
start_vm "$TMP/kr.out" "${BASE_SLOTS[@]}" -s "$(dev "$R")" -m 128M -E "$GUEST" \
	-B "role=reader hold timeout_ms=$WAIT_MS" reader
READER=$VM_PID
if ! wait_for_line "$TMP/kr.out" '^reader: holding' $VM_TIMEOUT; then
	fail $T/reader-killed "the first reader never verified the data"
	show "$TMP/kr.out"
	show "$TMP/kw.out"
else
	kill -KILL "$READER"
	wait_vm "$READER" 10 2>/dev/null	# (bash's "Killed" notice: expected here)
	ks=$?
	if [ $ks -ne 137 ]; then
		fail $T/reader-killed "the killed acrn-dm exited with $ks, not 137 (SIGKILL)"
	elif ! kill -0 "$WRITER" 2>/dev/null; then
		fail $T/reader-killed "the writer VM stopped when its peer was killed"
		show "$TMP/kw.out"
	elif ! out=$("$PAT" verify "/dev/shm/$R" --seed $SEED 2>&1); then
		fail $T/reader-killed "the region lost its data when the reader was killed: $out"
	else
		run_vm $VM_TIMEOUT "$TMP/kr2.out" "${BASE_SLOTS[@]}" -s "$(dev "$R")" -m 128M \
			-E "$GUEST" -B "role=reader timeout_ms=$WAIT_MS" reader
		rs=$?
		wait_vm "$WRITER" $VM_TIMEOUT
		ws=$?
		if ! plain_passed "$TMP/kr2.out" $rs; then
			fail $T/reader-killed "the restarted reader VM exited with $rs"
			show "$TMP/kr2.out"
		elif ! plain_passed "$TMP/kw.out" $ws; then
			fail $T/reader-killed "the writer VM exited with $ws"
			show "$TMP/kw.out"
		elif ! out=$("$PAT" verify "/dev/shm/$R" --seed $SEED --answered 2>&1) ||
			[[ $out != *"2 reader run(s)"* ]]; then
			fail $T/reader-killed "after the restarted reader: $out"
		else
			pass $T/reader-killed
		fi
	fi
fi
finish
