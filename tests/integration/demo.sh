#!/usr/bin/env bash
# needs: kvm
# The demo (make demo) and its two guests in less friendly orders:
#   demo                  samples/demo/run-demo.sh passes, the transcript shows commands and
#                         answers, and the region is gone afterwards
#   demo/operator-first   the operator boots first and waits for the real-time VM
#   demo/stale-region     the region already holds random bytes (a previous user's data): the
#                         real-time VM waits until the operator has formatted it
#   demo/doorbell         run-demo.sh --doorbell: MSI-X doorbells wake the halted guests
. "$(dirname "$0")/lib.sh"

require_kvm demo demo/operator-first demo/stale-region demo/doorbell

OPERATOR=$GUESTS/demo_operator.elf
RT=$GUESTS/demo_rt.elf
REGION_ID=0x1000

# --- demo: the script itself ---
out=$TMP/demo.out
timeout --kill-after=5 120 bash "$(dirname "$0")/../../samples/demo/run-demo.sh" "$BUILD" >"$out" 2>&1
status=$?
region=$(sed -n 's|^run-demo: region /dev/shm/\([^ ]*\) .*|\1|p' "$out")
[ -n "$region" ] && SHM_REGIONS+=("$region")
missing=()
for line in '^\[operator\] operator: real-time VM attached' \
	'^\[operator\] operator: #1 > set-speed 1200 *< ok speed=1200 rpm' \
	'^\[operator\] operator: #5 > open-valve 7 *< error: unknown command' \
	'^\[rt\] rt: #4 read-temp -> temp=39.0 C' \
	'^\[rt\] rt: stopped after 10 commands' \
	'^\[operator\] operator: 10 commands answered' \
	'^run-demo: PASS'; do
	grep -q "$line" "$out" || missing+=("$line")
done
if [ "$status" -ne 0 ]; then
	fail demo "run-demo.sh exited $status: $(tail -n 6 "$out" | tr '\n' '|')"
elif [ ${#missing[@]} -gt 0 ]; then
	fail demo "transcript lacks: ${missing[*]}"
elif [ -z "$region" ] || [ -e "/dev/shm/$region" ]; then
	fail demo "region '${region:-?}' was not removed"
else
	pass demo
fi

# run_pair NAME DELAY: starts the first VM, waits DELAY seconds, starts the second; both must
# exit 0. FIRST/SECOND are "operator" or "rt".
run_pair() {
	local name=$1 delay=$2 first=$3 second=$4 region=$5 p1 p2 s1 s2
	local -A image=([operator]=$OPERATOR [rt]=$RT)
	local dev="5,ivshmem,dm:/$region,2,$REGION_ID"
	start_vm "$TMP/$first.out" "${BASE_SLOTS[@]}" -s "$dev" -E "${image[$first]}" \
		-B "region_id=$REGION_ID" -m 128M "$first"
	p1=$VM_PID
	sleep "$delay"
	start_vm "$TMP/$second.out" "${BASE_SLOTS[@]}" -s "$dev" -E "${image[$second]}" \
		-B "region_id=$REGION_ID" -m 128M "$second"
	p2=$VM_PID
	wait_vm "$p1" 60
	s1=$?
	wait_vm "$p2" 60
	s2=$?
	if [ "$s1" -eq 0 ] && [ "$s2" -eq 0 ] && grep -q '^rt: stopped after 10 commands' "$TMP/rt.out" &&
		grep -q '^operator: 10 commands answered' "$TMP/operator.out"; then
		pass "$name"
	else
		fail "$name" "$first exit $s1, $second exit $s2; operator: $(tail -n 3 "$TMP/operator.out" | tr '\n' '|') rt: $(tail -n 3 "$TMP/rt.out" | tr '\n' '|')"
	fi
}

run_pair demo/operator-first 2 operator rt "$(unique_region demo_op)"

region=$(unique_region demo_stale)
head -c $((2 << 20)) /dev/urandom >"/dev/shm/$region"
chmod 600 "/dev/shm/$region"
run_pair demo/stale-region 1 rt operator "$region"
grep -q '^rt: not attached yet: region holds no ivmsg channel' "$TMP/rt.out" ||
	fail demo/stale-region "the real-time VM never saw the stale data it had to wait out"

# --- the doorbell variant: every guest must have been woken by its peer at least once ---
out=$TMP/doorbell.out
timeout --kill-after=5 120 bash "$(dirname "$0")/../../samples/demo/run-demo.sh" --doorbell "$BUILD" \
	>"$out" 2>&1
status=$?
region=$(sed -n 's|^run-demo: region /dev/shm/\([^ ]*\) .*|\1|p' "$out")
[ -n "$region" ] && SHM_REGIONS+=("$region")
if [ "$status" -ne 0 ]; then
	fail demo/doorbell "run-demo.sh --doorbell exited $status: $(tail -n 6 "$out" | tr '\n' '|')"
elif ! grep -q '^\[operator\] operator: doorbells: IVPosition' "$out" ||
	! grep -q "^\[rt\] rt: woken [1-9][0-9]* times by the peer's doorbell" "$out" ||
	! grep -q "^\[operator\] operator: woken [1-9][0-9]* times by the peer's doorbell" "$out"; then
	fail demo/doorbell "no doorbell woke a guest: $(grep -E 'doorbell|woken' "$out" | tr '\n' '|')"
elif ls /run/acrn-ivshmem/"$region".* >/dev/null 2>&1; then
	fail demo/doorbell "the server's files for $region were left in /run/acrn-ivshmem"
else
	pass demo/doorbell
fi

finish
