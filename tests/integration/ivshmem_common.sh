# Shared by ivshmem_share.sh and ivshmem_hugetlbfs.sh (sourced after lib.sh): the writer and
# reader VMs of tests/guest/ivshmem/ivshmem_plain.c on one region, and the host-side checks.

GUEST=$GUESTS/ivshmem_plain.elf
PAT=$BUILD/tests/tools/ivshmem-pattern
VM_TIMEOUT=150		# seconds for one VM; the guests' own waits are bounded by WAIT_MS
WAIT_MS=120000

# plain_passed OUT STATUS: the ivshmem_plain guest passed.
plain_passed() { guest_passed "$1" "$2" ivshmem_plain; }

# writer_and_reader DEV SEED: a writer VM (background) and a reader VM on the -s option DEV; their
# exit statuses in WS and RS, their transcripts in $TMP/w.out and $TMP/r.out.
writer_and_reader() {
	local dev=$1 seed=$2 writer
	start_vm "$TMP/w.out" "${BASE_SLOTS[@]}" -s "$dev" -m 128M -E "$GUEST" \
		-B "role=writer seed=$seed timeout_ms=$WAIT_MS" writer
	writer=$VM_PID
	run_vm $VM_TIMEOUT "$TMP/r.out" "${BASE_SLOTS[@]}" -s "$dev" -m 128M -E "$GUEST" \
		-B "role=reader timeout_ms=$WAIT_MS" reader
	RS=$?
	wait_vm "$writer" $VM_TIMEOUT
	WS=$?
}

# pair_failed TEST: true (after reporting TEST failed) when the writer or the reader VM failed.
pair_failed() {
	if ! plain_passed "$TMP/w.out" "$WS"; then
		fail "$1" "writer VM exit status $WS"
		show "$TMP/w.out"
	elif ! plain_passed "$TMP/r.out" "$RS"; then
		fail "$1" "reader VM exit status $RS"
		show "$TMP/r.out"
	else
		return 1
	fi
}

# reader_again TEST DEV FILE SEED: a new reader VM opens the existing region DEV and verifies the
# data; FILE must then hold the pattern answered by two reader runs. Reports PASS or FAIL.
reader_again() {
	local t=$1 dev=$2 file=$3 seed=$4 rs out
	run_vm $VM_TIMEOUT "$TMP/r2.out" "${BASE_SLOTS[@]}" -s "$dev" -m 128M -E "$GUEST" \
		-B "role=reader timeout_ms=5000" reader2
	rs=$?
	if ! plain_passed "$TMP/r2.out" $rs; then
		fail "$t" "the restarted reader VM exited with $rs"
		show "$TMP/r2.out"
	elif ! grep -q 'ivshmem: .*(existing)' "$TMP/r2.out"; then
		fail "$t" "acrn-dm did not report opening the existing region"
		show "$TMP/r2.out"
	elif ! out=$("$PAT" verify "$file" --seed "$seed" --answered 2>&1) ||
		[[ $out != *"2 reader run(s)"* ]]; then
		fail "$t" "after the second reader: $out"
	else
		pass "$t"
	fi
}
