#!/usr/bin/env bash
# needs: kvm
# Peers coming and going around two long-running acrn-dm VMs A and B on KVM, which ping each
# other (and whoever else is up) all along with the doorbell guest's role=echo
# (tests/guest/doorbell/db_echo.c), on the server acrn-dm starts itself. A, C use the fast
# paths (ioeventfd + irqfd); B, D and K the user-space path (ioeventfd=off,irqfd=off): every check
# below holds for both.
#   doorbell-peer-join-leave   VM C joins, exchanges doorbells with A and B, powers off: A's and
#                              B's acrn-dm log C's id joining and leaving
#   doorbell-peer-new-id       another VM D joins later and gets an id of its own (C's is held)
#   doorbell-peer-same-id      C restarted (same VM name) gets its previous IVPosition back
#                              through the server's identity socket
#   doorbell-peer-killed       VM K's acrn-dm is SIGKILLed: A and B are told it left and go on
#   doorbell-hostile-client    a client that sends bytes, a flood of connections, garbage on the
#                              identity socket: A and B lose no doorbell and the server still
#                              serves (C joins once more afterwards)
#   doorbell-same-name-refused a second VM with A's name (so A's identity) is refused with a
#                              clear error while A goes on
#   doorbell-echo-stop         A and B end cleanly; each checks that the memory holds what every
#                              guest wrote
# Usage: doorbell_peers.sh [BUILD_DIR]
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/doorbell_common.sh
source "$(dirname "$0")/doorbell_common.sh"

NAMES=(doorbell-peer-join-leave doorbell-peer-new-id doorbell-peer-same-id doorbell-peer-killed
	doorbell-hostile-client doorbell-same-name-refused doorbell-echo-stop)
db_require "${NAMES[@]}"
if ! command -v python3 >/dev/null; then
	for n in "${NAMES[@]}"; do skip "$n" "python3 is missing"; done
	exit 0
fi

USER_PATH=",ioeventfd=off,irqfd=off"
db_region dbpeer
SOCK=$DB_RUN_DIR/$REGION.sock
A=$TMP/a.out B=$TMP/b.out

db_start_vm "$A" "vA_$$" "$REGION" "" "role=echo index=0 limit=240 rt_ms=1500"
A_PID=$VM_PID
# B waits until A's server listens, so that it does not race A to start one (both would work).
wait_for_line "$A" "peers present" 10
db_start_vm "$B" "vB_$$" "$REGION" "$USER_PATH" "role=echo index=1 limit=240 rt_ms=1500"
B_PID=$VM_PID
if ! wait_for_line "$A" "DB: up index=0 peer=1" 30 || ! wait_for_line "$B" "DB: up index=1 peer=0" 10; then
	for n in "${NAMES[@]}"; do fail "$n" "A and B never reached each other: A: $(why "$A") B: $(why "$B")"; done
	exit 1
fi

# visitor OUT NAME [DEVOPTS]: a VM at index 2 that pings A and B 30 times, lingers 1.5 s (so
# that A and B ping it too) and powers off. Sets VISIT_STATUS and VISIT_ID.
visitor() {
	db_start_vm "$1" "$2" "$REGION" "${3:-}" \
		"role=echo index=2 exit_after=30 linger_ms=1500 limit=60"
	wait_vm "$VM_PID" 60
	VISIT_STATUS=$?
	VISIT_ID=$(guest_id "$1")
}

# told OUT ID WHAT: acrn-dm's log OUT says peer ID joined/left (waits up to 5 s).
told() { wait_for_line "$1" "ivshmem: peer $2 $3" 5; }

# ---- a peer joins and leaves; another one later; the first one again ----
visitor "$TMP/c1.out" "vC_$$"
C_ID=$VISIT_ID
if [ "$VISIT_STATUS" -ne 0 ] || ! guest_ok "$TMP/c1.out"; then
	fail doorbell-peer-join-leave "C exit $VISIT_STATUS: $(why "$TMP/c1.out")"
elif ! told "$A" "$C_ID" joined || ! told "$A" "$C_ID" left || ! told "$B" "$C_ID" joined ||
	! told "$B" "$C_ID" left; then
	fail doorbell-peer-join-leave "A/B were not told that peer $C_ID joined and left"
elif ! grep -q "DB: up index=0 peer=2" "$A" || ! grep -q "DB: up index=2 peer=0" "$TMP/c1.out" ||
	! grep -q "DB: up index=2 peer=1" "$TMP/c1.out"; then
	fail doorbell-peer-join-leave "no doorbells between C and A/B: $(grep 'DB: up' "$TMP/c1.out" | tr '\n' '|')"
else
	pass doorbell-peer-join-leave
fi

visitor "$TMP/d.out" "vD_$$" "$USER_PATH"
if [ "$VISIT_STATUS" -ne 0 ] || ! guest_ok "$TMP/d.out"; then
	fail doorbell-peer-new-id "D exit $VISIT_STATUS: $(why "$TMP/d.out")"
elif [ "$VISIT_ID" = "$C_ID" ]; then
	fail doorbell-peer-new-id "D got C's id $C_ID while it is held for C"
elif ! told "$A" "$VISIT_ID" joined || ! told "$A" "$VISIT_ID" left; then
	fail doorbell-peer-new-id "A was not told that peer $VISIT_ID joined and left"
else
	pass doorbell-peer-new-id
fi

visitor "$TMP/c2.out" "vC_$$"
if [ "$VISIT_STATUS" -ne 0 ] || ! guest_ok "$TMP/c2.out"; then
	fail doorbell-peer-same-id "C exit $VISIT_STATUS: $(why "$TMP/c2.out")"
elif [ "$VISIT_ID" != "$C_ID" ]; then
	fail doorbell-peer-same-id "restarted C has IVPosition $VISIT_ID, it had $C_ID"
elif [ "$(count "$A" "ivshmem: peer $C_ID joined")" -lt 2 ]; then
	fail doorbell-peer-same-id "A was not told that peer $C_ID joined again"
else
	pass doorbell-peer-same-id
fi

# ---- a peer's acrn-dm killed ----
K=$TMP/k.out
db_start_vm "$K" "vK_$$" "$REGION" "$USER_PATH" "role=echo index=3 limit=60"
K_PID=$VM_PID
if ! wait_for_line "$A" "DB: up index=0 peer=3" 20 || ! wait_for_line "$B" "DB: up index=1 peer=3" 10; then
	fail doorbell-peer-killed "K never exchanged doorbells with A and B: $(why "$K")"
else
	K_ID=$(guest_id "$K")
	kill -KILL "$K_PID"
	wait "$K_PID" 2>/dev/null
	pa=$(count "$A" "DB: progress index=0") pb=$(count "$B" "DB: progress index=1")
	if ! told "$A" "$K_ID" left || ! told "$B" "$K_ID" left; then
		fail doorbell-peer-killed "A/B were not told that the killed peer $K_ID left"
	elif ! wait_count "$A" "DB: progress index=0" $((pa + 2)) 20 ||
		! wait_count "$B" "DB: progress index=1" $((pb + 2)) 20; then
		fail doorbell-peer-killed "A and B stopped making progress: A: $(why "$A" 3)"
	else
		pass doorbell-peer-killed
	fi
fi

# ---- a hostile client ----
cat >"$TMP/hostile.py" <<'EOF'
import os, socket, sys, time
path = sys.argv[1]
def conn(p=path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(p)
    return s
# A client that talks: the server must drop it and tell the others it left.
s = conn(); time.sleep(0.2); s.send(b'\x01' * 64); time.sleep(0.2); s.close()
# A flood: 100 connections held open (more than --max-peers), then all closed at once.
flood = []
for _ in range(100):
    try:
        flood.append(conn())
    except OSError:
        break
time.sleep(1.0)
for s in flood:
    s.close()
# Churn: connect and vanish at once, 150 times.
for _ in range(150):
    try:
        conn().close()
    except OSError:
        pass
# The identity socket: garbage, half a hello, and a hello naming nothing valid.
bad_name = b'ACRNIVSH' + b'\x01\x00\x00\x00' + b'\x00' * 4 + b'bad name!' + b'\x00' * 55
for data in (b'\xff' * 80, b'ACRNIVSH', bad_name):
    try:
        s = conn(path + '.id'); s.send(data); time.sleep(0.1); s.close()
    except OSError:
        pass
print('hostile: done', flush=True)
EOF
pa=$(count "$A" "DB: progress index=0") pb=$(count "$B" "DB: progress index=1")
downs_a=$(count "$A" "DB: down index=0 peer=1") downs_b=$(count "$B" "DB: down index=1 peer=0")
timeout --kill-after=5 "$(scaled 60)" python3 "$TMP/hostile.py" "$SOCK" >"$TMP/hostile.log" 2>&1
hostile_status=$?
sleep 1
visitor "$TMP/c3.out" "vC_$$" # the server still serves newcomers
if [ "$hostile_status" -ne 0 ]; then
	fail doorbell-hostile-client "the hostile client itself failed: $(why "$TMP/hostile.log")"
elif ! kill -0 "$A_PID" 2>/dev/null || ! kill -0 "$B_PID" 2>/dev/null; then
	fail doorbell-hostile-client "A or B died: A: $(why "$A") B: $(why "$B")"
elif [ "$(count "$A" "DB: down index=0 peer=1")" -ne "$downs_a" ] ||
	[ "$(count "$B" "DB: down index=1 peer=0")" -ne "$downs_b" ]; then
	fail doorbell-hostile-client "A and B missed doorbells meanwhile:" \
		"$(grep 'DB: down' "$A" "$B" | tr '\n' '|')"
elif ! wait_count "$A" "DB: progress index=0" $((pa + 2)) 20 ||
	! wait_count "$B" "DB: progress index=1" $((pb + 2)) 20; then
	fail doorbell-hostile-client "A and B stopped making progress: A: $(why "$A" 3)"
elif [ "$VISIT_STATUS" -ne 0 ] || ! guest_ok "$TMP/c3.out"; then
	fail doorbell-hostile-client "a VM could not join afterwards: $(why "$TMP/c3.out")"
else
	pass doorbell-hostile-client
fi

# ---- a second VM under A's name: the server refuses A's identity twice; A goes on ----
db_start_vm "$TMP/twin.out" "vA_$$" "$REGION" "" "role=echo index=4 limit=20"
wait_vm "$VM_PID" 20
st=$?
if [ "$st" -ne 1 ] || ! grep -q "another VM with this VM's identity" "$TMP/twin.out"; then
	fail doorbell-same-name-refused "exit $st: $(why "$TMP/twin.out")"
elif ! kill -0 "$A_PID" 2>/dev/null; then
	fail doorbell-same-name-refused "A died: $(why "$A")"
else
	pass doorbell-same-name-refused
fi

# ---- the end ----
db_stop "$REGION"
wait_vm "$A_PID" 20
sa=$?
wait_vm "$B_PID" 20
sb=$?
if [ "$sa" -eq 0 ] && [ "$sb" -eq 0 ] && guest_ok "$A" && guest_ok "$B"; then
	pass doorbell-echo-stop
else
	fail doorbell-echo-stop "A exit $sa: $(why "$A") B exit $sb: $(why "$B")"
fi
grep -h "DB: summary" "$A" "$B"
finish
