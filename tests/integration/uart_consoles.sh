#!/usr/bin/env bash
# needs: kvm
# The legacy UARTs on acrn-dm (KVM backend): COM2 (0x2f8) next to COM1, to a file and as a TCP
# console on 127.0.0.1 (what the guest printed before the client came, what the client types
# read by the guest and echoed, a second client turned away).
. "$(dirname "$0")/lib.sh"

require_kvm uart/com2-file uart/tcp-console uart/tcp-second-client uart/tcp-port-in-use
GUEST=$GUESTS/uart_ports.elf
[ -f "$GUEST" ] || { fail uart/build "$GUEST is not built (make guests)"; finish; }

# COM2 to a file, beside COM1 on stdout.
out=$TMP/file.out
run_vm 60 "$out" -m 128M "${BASE_SLOTS[@]}" -l "com2,$TMP/com2.log" -B "lines=3" -E "$GUEST" \
	uartf
status=$?
if guest_passed "$out" "$status" uart_ports &&
	[ "$(cat "$TMP/com2.log")" = "$(printf 'uart_ports: line %d of 3 on 0x2f8\n' 1 2 3)" ]; then
	pass uart/com2-file
else
	fail uart/com2-file "exit $status, COM2 wrote \"$(tr '\n' '|' <"$TMP/com2.log" 2>/dev/null)\": $(tail -n 4 "$out" | tr '\n' '|')"
fi

# free_port: a TCP port nothing listens on (the kernel's choice, released again).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A TCP console: the client connects after the guest started, reads what it printed, types
# "hey", reads the echo; a second client meanwhile is told the console is busy.
port=$(free_port)
out=$TMP/tcp.out
start_vm "$out" -m 128M "${BASE_SLOTS[@]}" -l "com2,tcp:$port" -B "lines=2 echo=3 wait_ms=30000" \
	-E "$GUEST" uartt
pid=$VM_PID
transcript=$TMP/client.txt
if wait_for_line "$out" "console on 127.0.0.1:$port" 20; then
	python3 - "$port" >"$transcript" 2>&1 <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port), timeout=30)
f = a.makefile("rb")
def line():
    return f.readline().decode().rstrip("\n")
lines = [line() for _ in range(3)]          # two lines and "ready for input"
print("first:", lines)
b = socket.create_connection(("127.0.0.1", port), timeout=30)
busy = b.recv(200).decode()
rest = b.recv(200)
print("second:", busy.strip(), "eof" if rest == b"" else "open")
a.sendall(b"hey")
print("echo:", line())
EOF
fi
wait_vm "$pid" 60
status=$?
if guest_passed "$out" "$status" uart_ports &&
	grep -qF "first: ['uart_ports: line 1 of 2 on 0x2f8', 'uart_ports: line 2 of 2 on 0x2f8', 'uart_ports: ready for input']" "$transcript" &&
	grep -qF "echo: uart_ports: echo hey" "$transcript" && grep -qx 'uart: received "hey"' "$out"; then
	pass uart/tcp-console
else
	fail uart/tcp-console "exit $status, client: $(tr '\n' '|' <"$transcript" 2>/dev/null): $(tail -n 4 "$out" | tr '\n' '|')"
fi
if grep -qF "second: acrn-dm: the com2 console is in use by another client eof" "$transcript"; then
	pass uart/tcp-second-client
else
	fail uart/tcp-second-client "client: $(tr '\n' '|' <"$transcript" 2>/dev/null)"
fi

# A port another program listens on: acrn-dm says so and does not start.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$TMP/busy.port" &
holder=$!
BG_PIDS+=("$holder")
for _ in $(seq 50); do [ -s "$TMP/busy.port" ] && break; sleep 0.1; done
busy=$(cat "$TMP/busy.port")
out=$TMP/inuse.out
run_vm 30 "$out" -m 128M "${BASE_SLOTS[@]}" -l "com2,tcp:$busy" -E "$GUEST" uarti
status=$?
kill "$holder" 2>/dev/null
if [ "$status" -eq 1 ] && grep -q "cannot serve the console on 127.0.0.1:$busy: Address already in use" "$out"; then
	pass uart/tcp-port-in-use
else
	fail uart/tcp-port-in-use "exit $status: $(tail -n 3 "$out" | tr '\n' '|')"
fi

finish
