#!/usr/bin/env bash
# needs: kvm
# Doorbells between acrn-dm VMs on KVM, with the doorbell guest's strict suite in every VM
# (tests/guest/doorbell/doorbell.c: ids, ping-pong on every vector both ways with every round
# trip counted, masked vector and function mask pending then delivered once, absent peers and
# vectors reach nobody, register semantics under MSI-X):
#   doorbell-2vm             two VMs on the server acrn-dm starts itself (ioeventfd + irqfd)
#   doorbell-server-exits-when-idle  ...which exits with its last VM, removing its sockets
#   doorbell-4vm             four VMs, every ordered pair
#   doorbell-2vm-userspace   ioeventfd=off,irqfd=off: the same guest-visible results, and
#                            acrn-dm's counters show the doorbells went through user space
#   doorbell-fastpath        ...while with the fast paths no doorbell of the ping-pong did
#   doorbell-mixed           one VM on each path
#   doorbell-4vm-userspace   four VMs without the fast paths
#   doorbell-explicit-server a standalone acrn-ivshmem-server given as server=PATH
# Usage: doorbell_pingpong.sh [BUILD_DIR]
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/doorbell_common.sh
source "$(dirname "$0")/doorbell_common.sh"

NAMES=(doorbell-2vm doorbell-server-exits-when-idle doorbell-fastpath doorbell-4vm
	doorbell-2vm-userspace doorbell-mixed
	doorbell-4vm-userspace doorbell-explicit-server)
db_require "${NAMES[@]}"

# run_group NAME N DEVOPTS_0 DEVOPTS_REST REGION: N VMs with the strict suite on REGION. Sets
# GROUP_OK (1 when every guest passed) and GROUP_WHY. Transcripts are $TMP/NAME.K; the VMs are
# named vK_<pid> (VM names are at most 15 bytes).
run_group() {
	local name=$1 n=$2 dev0=$3 devrest=$4 region=$5 k pids=() status dev
	GROUP_OK=1 GROUP_WHY=
	for ((k = 0; k < n; k++)); do
		dev=$devrest
		[ "$k" -eq 0 ] && dev=$dev0
		db_start_vm "$TMP/$name.$k" "v${k}_$$" "$region" "$dev" \
			"role=peer index=$k peers=$n rounds=6 wait=40"
		pids+=("$VM_PID")
	done
	for ((k = 0; k < n; k++)); do
		wait_vm "${pids[$k]}" 90
		status=$?
		if [ "$status" -ne 0 ] || ! guest_ok "$TMP/$name.$k"; then
			GROUP_OK=0
			GROUP_WHY+="VM $k exit $status: $(why "$TMP/$name.$k") "
		fi
	done
}

# group NAME TAG N DEVOPTS_0 DEVOPTS_REST: run_group on a fresh region dbTAG_..., PASS or FAIL.
group() {
	local name=$1 tag=$2
	shift 2
	db_region "db$tag"
	run_group "$name" "$@" "$REGION"
	if [ "$GROUP_OK" -eq 1 ]; then pass "$name"; else fail "$name" "$GROUP_WHY"; fi
}

# The guest-visible results: the PASS lines, which must not depend on the path taken.
results() { grep '^PASS: \|^FAIL: \|^SKIP: ' "$1"; }

# counters OUT: acrn-dm's closing line "doorbells: R rung from user space, D dropped; E received
# in user space" as "R D E".
counters() {
	local n='\([0-9]*\)'
	sed -n "s/.*doorbells: $n rung from user space, $n dropped; $n received in user space.*/\\1 \\2 \\3/p" \
		"$1" | tail -1
}

# The guest-visible results with the fast paths and without them.
db_region db2
run_group doorbell-2vm 2 "" "" "$REGION"
ok_fast=$GROUP_OK
if [ "$ok_fast" -eq 1 ]; then pass doorbell-2vm; else fail doorbell-2vm "$GROUP_WHY"; fi

# The server acrn-dm started went away with its last VM, and took its sockets with it.
if [ "$ok_fast" -eq 1 ] && db_wait_no_server "$REGION" 5 && [ ! -e "$DB_RUN_DIR/$REGION.sock" ] &&
	[ ! -e "$DB_RUN_DIR/$REGION.sock.id" ]; then
	pass doorbell-server-exits-when-idle
else
	fail doorbell-server-exits-when-idle "server pids: $(db_server_pids "$REGION"); left in" \
		"$DB_RUN_DIR: $(ls "$DB_RUN_DIR" | grep "$REGION" | tr '\n' ' ')"
fi

# The fast paths carried the ping-pong: through acrn-dm's own code went only what the suite
# sends there on purpose (5 rings to nobody per VM; rings to a masked vector, latched in user
# space: two rings in each of the two mask cases per receiving VM).
read -r r0 d0 e0 <<<"$(counters "$TMP/doorbell-2vm.0")"
read -r r1 d1 e1 <<<"$(counters "$TMP/doorbell-2vm.1")"
if [ "$ok_fast" -ne 1 ] || [ -z "$r0" ] || [ -z "$r1" ]; then
	fail doorbell-fastpath "no complete run: $(why "$TMP/doorbell-2vm.0" 3)"
elif [ "$((r0 + r1))" -eq 0 ] && [ "$e0" -le 4 ] && [ "$e1" -le 4 ] && [ "$d0" -eq 5 ] &&
	[ "$d1" -eq 5 ]; then
	pass doorbell-fastpath
else
	fail doorbell-fastpath "user-space rings $r0/$r1, drops $d0/$d1, user-space receives $e0/$e1"
fi

db_region db2u
run_group doorbell-2vm-userspace 2 ",ioeventfd=off,irqfd=off" ",ioeventfd=off,irqfd=off" "$REGION"
read -r r0 d0 e0 <<<"$(counters "$TMP/doorbell-2vm-userspace.0")"
if [ "$GROUP_OK" -ne 1 ]; then
	fail doorbell-2vm-userspace "$GROUP_WHY"
elif ! diff <(results "$TMP/doorbell-2vm.0") <(results "$TMP/doorbell-2vm-userspace.0") \
	>/dev/null || ! diff <(results "$TMP/doorbell-2vm.1") \
	<(results "$TMP/doorbell-2vm-userspace.1") >/dev/null; then
	fail doorbell-2vm-userspace "the guests saw other results than with the fast paths"
elif [ -z "$r0" ] || [ "$r0" -lt 48 ] || [ "$e0" -lt 48 ]; then
	fail doorbell-2vm-userspace "the doorbells did not go through user space: $r0 $d0 $e0"
else
	pass doorbell-2vm-userspace
fi

group doorbell-4vm 4 4 "" ""
group doorbell-mixed mix 2 "" ",ioeventfd=off,irqfd=off"
group doorbell-4vm-userspace 4u 4 ",ioeventfd=off,irqfd=off" ",ioeventfd=off,irqfd=off"

# A server the user runs, named with server=PATH: acrn-dm neither starts nor needs another one.
db_region dbsrv
SOCK=$TMP/explicit.sock
"$DB_SERVER" -F -S "$SOCK" -M "$REGION" -l 2M -n "$DB_VECTORS" 2>"$TMP/explicit-server.log" &
SERVER_PID=$!
BG_PIDS+=("$SERVER_PID")
if ! wait_for_line "$TMP/explicit-server.log" listening 5; then
	fail doorbell-explicit-server "the server did not start: $(why "$TMP/explicit-server.log")"
else
	run_group doorbell-explicit-server 2 ",server=$SOCK" ",server=$SOCK" "$REGION"
	if [ "$GROUP_OK" -ne 1 ]; then
		fail doorbell-explicit-server "$GROUP_WHY"
	elif [ -e "$DB_RUN_DIR/$REGION.sock" ] || grep -q "started .*acrn-ivshmem-server" \
		"$TMP"/doorbell-explicit-server.*; then
		fail doorbell-explicit-server "acrn-dm started a server of its own as well"
	else
		pass doorbell-explicit-server
	fi
fi
kill -TERM "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
finish
