#!/usr/bin/env bash
# needs: kvm
# The hugetlbfs backend of dm:/ regions (mem=hugetlbfs,hugetlbfs=DIR):
#   no-mount        a directory that is not a hugetlbfs mount, a missing directory, and (when the
#                   machine has no hugetlbfs mount at all) no directory: acrn-dm exits 1 with one
#                   message saying why, and never crashes.
#   two-vms         with huge pages reserved (/proc/sys/vm/nr_hugepages) and hugetlbfs mounted in a
#                   temporary directory, a writer VM and a reader VM share DIR/NAME; the host finds
#                   the writer's pattern, checksum and the reader's answer in that file.
#   restart         a third VM opens the existing file and finds the data.
# The script gives back what it took: the files, the mount, and the huge pages it added. It SKIPs
# (saying why) when it cannot reserve huge pages or mount hugetlbfs.
#
# Usage: tests/integration/ivshmem_hugetlbfs.sh [BUILD]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh "${1:-build}"

T=ivshmem_hugetlbfs
require_kvm $T/no-mount $T/two-vms $T/restart

# shellcheck source=tests/integration/ivshmem_common.sh
. tests/integration/ivshmem_common.sh
PAGES=4			# 2 MiB pages: the 2 MiB region needs one; some slack for a reopen
NR=/proc/sys/vm/nr_hugepages
if [ ! -f "$GUEST" ] || [ ! -x "$PAT" ]; then
	for n in no-mount two-vms restart; do
		fail "$T/$n" "$GUEST or $PAT is missing (make build-all)"
	done
	finish
fi

# allocated FILE: bytes the file has allocated (on hugetlbfs: whole huge pages).
allocated() { echo $(($(stat -c '%b * %B' "$1"))); }

# ---- giving back: VMs first, then the files, the mount, the pages; then lib.sh's cleanup ----
MNT=
ADDED=0
hugetlbfs_cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "$MNT" ] && mountpoint -q "$MNT"; then
		rm -f "$MNT"/*
		umount "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	if [ "$ADDED" -gt 0 ]; then
		# Give back what we added, not an old snapshot: others may have changed it meanwhile.
		local now
		now=$(cat $NR)
		echo $((now > ADDED ? now - ADDED : 0)) >$NR 2>/dev/null
	fi
	cleanup
}
trap hugetlbfs_cleanup EXIT

# expect_error NAME OUT STATUS TEXT: exit status 1, TEXT in the output exactly once, no crash.
expect_error() {
	local name=$1 out=$2 status=$3 text=$4 n
	n=$(grep -cF -- "$text" "$out")
	if [ "$status" -ne 1 ]; then
		fail "$name" "acrn-dm exited with $status, expected 1"
		show "$out"
		return 1
	elif [ "$n" -ne 1 ]; then
		fail "$name" "\"$text\" appears $n times in the output, expected once"
		show "$out"
		return 1
	elif grep -q 'Sanitizer\|Segmentation\|core dumped' "$out"; then
		fail "$name" "acrn-dm crashed"
		show "$out"
		return 1
	fi
	return 0
}

# ---- no-mount ----
R=$(unique_region ivhuge)
mkdir -p "$TMP/plain-dir"
ok=1
run_vm 30 "$TMP/e1.out" "${BASE_SLOTS[@]}" -m 128M -E "$GUEST" -B "role=config" \
	-s "5,ivshmem,dm:/$R,2,0,mem=hugetlbfs,hugetlbfs=$TMP/plain-dir" novm
expect_error $T/no-mount "$TMP/e1.out" $? "$TMP/plain-dir is not on a hugetlbfs mount" || ok=0
run_vm 30 "$TMP/e2.out" "${BASE_SLOTS[@]}" -m 128M -E "$GUEST" -B "role=config" \
	-s "5,ivshmem,dm:/$R,2,0,mem=hugetlbfs,hugetlbfs=$TMP/no-such-dir" novm
expect_error $T/no-mount "$TMP/e2.out" $? "hugetlbfs=$TMP/no-such-dir: directory $TMP/no-such-dir: No such file" ||
	ok=0
if ! grep -q ' hugetlbfs ' /proc/mounts; then
	run_vm 30 "$TMP/e3.out" "${BASE_SLOTS[@]}" -m 128M -E "$GUEST" -B "role=config" \
		-s "5,ivshmem,dm:/$R,2,0,mem=hugetlbfs" novm
	expect_error $T/no-mount "$TMP/e3.out" $? "no hugetlbfs mount found" || ok=0
else
	echo "    (a hugetlbfs mount exists here: the no-directory case is not checked)"
fi
if [ -e "$TMP/plain-dir/$R" ] || [ -e "/dev/shm/$R" ]; then
	fail $T/no-mount "a failed start left a region file behind"
	ok=0
fi
[ $ok -eq 1 ] && pass $T/no-mount

# ---- reserve huge pages and mount hugetlbfs ----
skip_rest() {
	skip $T/two-vms "$1"
	skip $T/restart "$1"
	finish
}
[ -w $NR ] || skip_rest "$NR is not writable (not root?)"
free_pages() { awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo; }
[ "$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)" = 2048 ] ||
	skip_rest "the default huge page size is not 2 MiB"
before=$(cat $NR)
echo $((before + PAGES)) >$NR 2>/dev/null
after=$(cat $NR)
ADDED=$((after > before ? after - before : 0))
if [ "$ADDED" -lt "$PAGES" ] || [ "$(free_pages)" -lt "$PAGES" ]; then
	skip_rest "could not reserve $PAGES huge pages (nr_hugepages $before -> $after, $(free_pages) free)"
fi
MNT=$TMP/hugetlbfs
mkdir -p "$MNT"
if ! mount -t hugetlbfs -o pagesize=2M,mode=0700 none "$MNT" 2>"$TMP/mount.err"; then
	MNT=
	skip_rest "cannot mount hugetlbfs: $(cat "$TMP/mount.err")"
fi
echo "    reserved $ADDED huge pages, hugetlbfs mounted on $MNT"

# ---- two-vms ----
N=$(unique_region ivhuge)
DEV="5,ivshmem,dm:/$N,2,0,mem=hugetlbfs,hugetlbfs=$MNT"
SEED=$((RANDOM * 32768 + RANDOM))
writer_and_reader "$DEV" $SEED
if pair_failed $T/two-vms; then
	:
elif [ -e "/dev/shm/$N" ]; then
	fail $T/two-vms "the region went to /dev/shm/$N, not to hugetlbfs"
elif ! out=$("$PAT" verify "$MNT/$N" --seed $SEED --answered 2>&1); then
	fail $T/two-vms "$MNT/$N does not hold the writer's pattern: $out"
elif [ "$(allocated "$MNT/$N")" -ne $((2 << 20)) ]; then
	fail $T/two-vms "$MNT/$N has $(allocated "$MNT/$N") bytes of huge pages, not 2 MiB"
else
	echo "    $out"
	pass $T/two-vms
fi

# ---- restart ----
reader_again $T/restart "$DEV" "$MNT/$N" $SEED
finish
