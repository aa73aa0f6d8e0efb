#!/usr/bin/env bash
# needs: kvm
# The ivshmem server going away under running acrn-dm VMs, and servers that misbehave:
#   doorbell-server-restart      the server acrn-dm started is SIGKILLed while A (fast paths) and
#                                B (user-space path) ping each other (role=echo): both reconnect,
#                                one of them starts a new server, doorbells work again, and at the
#                                end each guest finds the memory holding what everybody wrote
#   doorbell-server-new-ids      a server given as server=PATH is stopped and, after a while with
#                                no server at all, restarted with other clients first: the VMs
#                                reconnect with new ids (IVPosition changes), their guests notice
#                                and doorbells work again
#   doorbell-fewer-vectors       a server with fewer vectors than the device: the VM starts (with a
#                                warning) and the vectors the server has work
#   doorbell-no-server           server=PATH with nothing listening: a clear error, exit status 1
#   doorbell-bad-server-*        a fake server (python3) breaking the protocol during the set-up:
#                                a clear error and exit status 1, never a crash or a hang
#   doorbell-bad-server-later    ...or after it: acrn-dm logs it, drops the connection and the VM
#                                runs on
# Usage: doorbell_server.sh [BUILD_DIR]
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/doorbell_common.sh
source "$(dirname "$0")/doorbell_common.sh"

BAD_CASES=(version nofd bigid negid twofds closeearly halfmsg silent trickle badsize)
NAMES=(doorbell-server-restart doorbell-server-new-ids doorbell-fewer-vectors doorbell-no-server
	"${BAD_CASES[@]/#/doorbell-bad-server-}" doorbell-bad-server-later)
db_require "${NAMES[@]}"
if ! command -v python3 >/dev/null; then
	for n in "${NAMES[@]}"; do skip "$n" "python3 is missing"; done
	exit 0
fi
USER_PATH=",ioeventfd=off,irqfd=off"

# start_server SOCK REGION [ARGS...]: a foreground acrn-ivshmem-server; its pid in SERVER_PID.
start_server() {
	local sock=$1 region=$2
	shift 2
	"$DB_SERVER" -F -S "$sock" -M "$region" -l 2M "$@" 2>>"$TMP/server-$region.log" &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	wait_for_line "$TMP/server-$region.log" "listening on $sock" 5
}

# pair REGION DEVOPTS_A DEVOPTS_B: echo guests A and B; PASS-able once they reached each other.
pair() {
	A=$TMP/$1.a B=$TMP/$1.b
	db_start_vm "$A" "vA_$$" "$1" "$2" "role=echo index=0 limit=120"
	A_PID=$VM_PID
	wait_for_line "$A" "peers present" 10
	db_start_vm "$B" "vB_$$" "$1" "$3" "role=echo index=1 limit=120"
	B_PID=$VM_PID
	wait_for_line "$A" "DB: up index=0 peer=1" 30 && wait_for_line "$B" "DB: up index=1 peer=0" 10
}

# recovered: A and B both answered at least 200 more requests within 30 s.
recovered() {
	wait_count "$A" "DB: progress index=0" $(($(count "$A" "DB: progress index=0") + 2)) 30 &&
		wait_count "$B" "DB: progress index=1" $(($(count "$B" "DB: progress index=1") + 2)) 30
}

# finish_pair NAME: stop A and B; PASS NAME when both guests passed (memory check included).
finish_pair() {
	db_stop "$REGION"
	wait_vm "$A_PID" 20
	local sa=$?
	wait_vm "$B_PID" 20
	local sb=$?
	if [ "$sa" -eq 0 ] && [ "$sb" -eq 0 ] && guest_ok "$A" && guest_ok "$B"; then
		pass "$1"
	else
		fail "$1" "A exit $sa: $(why "$A") B exit $sb: $(why "$B")"
	fi
}

# ---- the auto-started server killed ----
db_region dbrst
if ! pair "$REGION" "" "$USER_PATH"; then
	fail doorbell-server-restart "A and B never reached each other: $(why "$A") $(why "$B")"
else
	old=$(db_server_pids "$REGION")
	db_kill_servers "$REGION" KILL
	if ! wait_for_line "$A" "lost the ivshmem server" 5 || ! wait_for_line "$B" "lost the ivshmem server" 5; then
		fail doorbell-server-restart "acrn-dm did not notice: $(why "$A")"
	elif ! wait_for_line "$A" "reconnected to the ivshmem server" 15 ||
		! wait_for_line "$B" "reconnected to the ivshmem server" 15; then
		fail doorbell-server-restart "no reconnection: A: $(why "$A") B: $(why "$B")"
	elif [ -z "$(db_server_pids "$REGION")" ] || [ "$(db_server_pids "$REGION")" = "$old" ]; then
		fail doorbell-server-restart "no new server runs"
	elif ! recovered; then
		fail doorbell-server-restart "no doorbells after the reconnection: A: $(why "$A" 3) B: $(why "$B" 3)"
	else
		finish_pair doorbell-server-restart
	fi
fi
kill -KILL "$A_PID" "$B_PID" 2>/dev/null

# ---- server=PATH stopped, a gap, restarted with others first: new ids ----
db_region dbids
SOCK=$TMP/ids.sock
cat >"$TMP/holder.py" <<'EOF'
# Connects twice and keeps reading (so the server never drops us as stalled) until killed.
import select, socket, sys
conns = []
for _ in range(2):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    conns.append(s)
print('holding', flush=True)
while True:
    for s in select.select(conns, [], [], 1.0)[0]:
        s.recvmsg(8, socket.CMSG_SPACE(64))
EOF
if ! start_server "$SOCK" "$REGION" -n "$DB_VECTORS"; then
	fail doorbell-server-new-ids "the server did not start: $(why "$TMP/server-$REGION.log")"
elif ! pair "$REGION" ",server=$SOCK$USER_PATH" ",server=$SOCK$USER_PATH"; then
	fail doorbell-server-new-ids "A and B never reached each other: $(why "$A") $(why "$B")"
else
	id_a=$(guest_id "$A") id_b=$(guest_id "$B")
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null
	wait_for_line "$A" "lost the ivshmem server" 5
	sleep 2 # no server at all: the guests' requests go unanswered, acrn-dm retries
	# The new server takes two other clients before the VMs can reach it: it listens on a
	# side path first, and only then takes the path the VMs retry.
	start_server "$TMP/side.sock" "$REGION" -n "$DB_VECTORS"
	timeout --kill-after=2 60 python3 "$TMP/holder.py" "$TMP/side.sock" >"$TMP/holder.log" 2>&1 &
	HOLDER_PID=$!
	BG_PIDS+=("$HOLDER_PID")
	wait_for_line "$TMP/holder.log" holding 5
	mv "$TMP/side.sock" "$SOCK"
	if ! wait_for_line "$A" "reconnected.*IVPosition changed" 15 ||
		! wait_for_line "$B" "reconnected.*IVPosition changed" 15; then
		fail doorbell-server-new-ids "no reconnection with a new id: A: $(why "$A") B: $(why "$B")"
	elif ! wait_for_line "$A" "DB: ivposition index=0 $id_a -> " 5 ||
		! wait_for_line "$B" "DB: ivposition index=1 $id_b -> " 5; then
		fail doorbell-server-new-ids "the guests did not see their new IVPosition"
	elif ! recovered; then
		fail doorbell-server-new-ids "no doorbells with the new ids: A: $(why "$A" 3) B: $(why "$B" 3)"
	else
		finish_pair doorbell-server-new-ids
	fi
	kill -TERM "$HOLDER_PID" "$SERVER_PID" 2>/dev/null
	wait "$HOLDER_PID" "$SERVER_PID" 2>/dev/null
fi
kill -KILL "$A_PID" "$B_PID" 2>/dev/null

# ---- a server with 2 vectors, devices with 4 ----
db_region dbfew
SOCK=$TMP/few.sock
if ! start_server "$SOCK" "$REGION" -n 2; then
	fail doorbell-fewer-vectors "the server did not start"
else
	pids=()
	for k in 0 1; do
		db_start_vm "$TMP/few.$k" "vF${k}_$$" "$REGION" ",server=$SOCK" \
			"role=peer index=$k peers=2 rounds=4 use_vectors=2 tests=pingpong,absent"
		pids+=("$VM_PID")
	done
	ok=1 msg=
	for k in 0 1; do
		wait_vm "${pids[$k]}" 60
		st=$?
		if [ "$st" -ne 0 ] || ! guest_ok "$TMP/few.$k" ||
			! grep -q "the server gives 2 vectors, the device has 4" "$TMP/few.$k"; then
			ok=0 msg+="VM $k exit $st: $(why "$TMP/few.$k") "
		fi
	done
	if [ "$ok" -eq 1 ]; then pass doorbell-fewer-vectors; else fail doorbell-fewer-vectors "$msg"; fi
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
fi

# ---- server=PATH and nothing there ----
db_region dbnone
start=$SECONDS
run_vm 20 "$TMP/none.out" -m 128M "${BASE_SLOTS[@]}" \
	-s "3,ivshmem,dm:/$REGION,2,vectors=$DB_VECTORS,server=$TMP/nobody.sock" -E "$DB_GUEST" "vN_$$"
st=$?
if [ "$st" -eq 1 ] && grep -q "cannot connect to the ivshmem server at $TMP/nobody.sock" "$TMP/none.out" &&
	[ $((SECONDS - start)) -le 5 ] && [ ! -e "$DB_RUN_DIR/$REGION.sock" ]; then
	pass doorbell-no-server
else
	fail doorbell-no-server "exit $st after $((SECONDS - start)) s: $(why "$TMP/none.out")"
fi

# ---- fake servers ----
cat >"$TMP/fake.py" <<'EOF'
# A one-connection ivshmem server that breaks protocol 0 in one way (argv[1]).
import array, os, socket, struct, sys, time
mode, path, vectors = sys.argv[1], sys.argv[2], 4
def send(c, v, fds=()):
    data = struct.pack('<q', v)
    if fds:
        c.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', fds))])
    else:
        c.sendall(data)
def memfd(size=2 << 20):
    fd = os.memfd_create('fake')
    os.ftruncate(fd, size)
    return fd
def setup(c, size=2 << 20):
    send(c, 0); send(c, 0); send(c, -1, [memfd(size)])
    for _ in range(vectors):
        send(c, 0, [os.eventfd(0)])
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(4)
srv.settimeout(30)
print('listening', flush=True)
c, _ = srv.accept()
if mode == 'version':
    send(c, 1)
elif mode == 'nofd':
    send(c, 0); send(c, 0); send(c, -1)
elif mode == 'bigid':
    send(c, 0); send(c, 70000)
elif mode == 'negid':
    send(c, 0); send(c, -5)
elif mode == 'twofds':
    send(c, 0); send(c, 0); send(c, -1, [memfd(), memfd()])
elif mode == 'closeearly':
    send(c, 0); send(c, 3)
elif mode == 'halfmsg':
    send(c, 0); c.sendall(b'\x03\x00\x00\x00')
elif mode == 'silent':
    time.sleep(12)
elif mode == 'trickle':
    # Valid messages without end, never our own vectors.
    send(c, 0); send(c, 0); send(c, -1, [memfd()])
    for peer in range(1, 120):
        send(c, peer, [os.eventfd(0)])
        time.sleep(0.2)
elif mode == 'badsize':
    setup(c, 1 << 20)
elif mode == 'later':
    setup(c)
    time.sleep(1.0)
    send(c, 70000, [os.eventfd(0)])       # a peer id out of range
    send(c, 9)                            # a departure of a peer nobody knows
    send(c, -1, [memfd()])                # a second region
    send(c, 5, [os.eventfd(0), os.eventfd(0)])  # two fds at once
    time.sleep(1.0)
time.sleep(2)
c.close()
EOF

# bad_server CASE PATTERN: acrn-dm against the fake server in mode CASE exits 1 with PATTERN in
# its log, within 15 s.
bad_server() {
	local mode=$1 pattern=$2 sock=$TMP/fake-$1.sock out=$TMP/fake-$1.out
	timeout --kill-after=2 "$(scaled 30)" python3 "$TMP/fake.py" "$mode" "$sock" >"$TMP/fake-$mode.log" 2>&1 &
	local fpid=$!
	BG_PIDS+=("$fpid")
	if ! wait_for_line "$TMP/fake-$mode.log" listening 5; then
		fail "doorbell-bad-server-$mode" "the fake server did not start: $(why "$TMP/fake-$mode.log")"
		return
	fi
	db_region dbbad
	local start=$SECONDS
	run_vm 30 "$out" -m 128M "${BASE_SLOTS[@]}" \
		-s "3,ivshmem,dm:/$REGION,2,vectors=$DB_VECTORS,server=$sock" -E "$DB_GUEST" "vX_$$"
	local st=$? took=$((SECONDS - start))
	kill -KILL "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
	if [ "$st" -eq 1 ] && grep -q "ivshmem: error: .*$pattern" "$out" && [ "$took" -le "$(scaled 15)" ]; then
		pass "doorbell-bad-server-$mode"
	else
		fail "doorbell-bad-server-$mode" "exit $st after $took s (want 1, '$pattern'): $(why "$out" 4)"
	fi
}

bad_server version "unsupported ivshmem protocol version 1"
bad_server nofd "shared memory message (-1) arrived without an fd"
bad_server bigid "own peer id 70000 is out of range"
bad_server negid "own peer id -5 is out of range"
bad_server twofds "message carried 2 fds, at most one is allowed"
bad_server closeearly "closed the connection during set-up"
bad_server halfmsg "closed in the middle of a message"
bad_server silent "no complete set-up within 5 s"
bad_server trickle "no complete set-up within 5 s"
bad_server badsize "has size 1048576 bytes (1 MiB), expected 2097152 bytes (2 MiB)"

# After a good set-up: every bad message is logged, the last one ends the connection, the VM
# keeps running (its guest only answers, so it needs no peer) until told to stop.
sock=$TMP/fake-later.sock
timeout --kill-after=2 "$(scaled 30)" python3 "$TMP/fake.py" later "$sock" >"$TMP/fake-later.log" 2>&1 &
fpid=$!
BG_PIDS+=("$fpid")
wait_for_line "$TMP/fake-later.log" listening 5
db_region dblate
out=$TMP/fake-later.out
db_start_vm "$out" "vL_$$" "$REGION" ",server=$sock" "role=echo noping index=0 limit=60"
vm=$VM_PID
if ! wait_for_line "$out" "lost the ivshmem server (message carried 2 fds" 15; then
	fail doorbell-bad-server-later "acrn-dm did not drop the connection: $(why "$out")"
elif ! grep -q "server message ignored: peer id 70000 is out of range" "$out" ||
	! grep -q "server message ignored: unexpected second shared memory message" "$out"; then
	fail doorbell-bad-server-later "the bad messages were not reported: $(why "$out")"
else
	sleep 1 # retrying a server that is gone must not stop the VM
	# The fake server's region was a memfd: the guest's slot lives there, STOP goes there too.
	if ! kill -0 "$vm" 2>/dev/null; then
		fail doorbell-bad-server-later "the VM stopped: $(why "$out")"
	else
		kill -TERM "$vm"
		wait_vm "$vm" 10
		st=$?
		if [ "$st" -eq $((128 + 15)) ]; then
			pass doorbell-bad-server-later
		else
			fail doorbell-bad-server-later "exit $st on SIGTERM: $(why "$out")"
		fi
	fi
fi
kill -KILL "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
finish
