#!/usr/bin/env bash
# make demo: the seed's scenario on this machine. Two VMs share one ivshmem region through
# acrn-dm: the operator VM sends commands, the real-time VM runs them on a fake plant and
# answers (samples/demo/operator.c, rt.c, over samples/lib/ivmsg.c).
#
# Usage: samples/demo/run-demo.sh [--doorbell] [BUILD_DIR]   (DEMO_TIMEOUT=seconds, default 60)
#   --doorbell (or DEMO_DOORBELL=1): the doorbell variant of the device (vectors=1, MSI-X, an
#   auto-started acrn-ivshmem-server): the guests halt while they wait and ring each other,
#   instead of polling the plain device.
# Prints both serial consoles live, prefixed [operator] / [rt]; acrn-dm's own log goes to
# BUILD_DIR/demo/*.log. Exits 0 only when both VMs powered off with status 0. The region,
# /dev/shm/<unique name>, is removed at the end (acrn-dm itself never unlinks a region), and so
# are the server's files in /run/acrn-ivshmem.
set -uo pipefail

DOORBELL=${DEMO_DOORBELL:-0}
if [ "${1:-}" = --doorbell ]; then
	DOORBELL=1
	shift
fi
BUILD=$(realpath "${1:-build}")
DM=$BUILD/bin/acrn-dm
OPERATOR=$BUILD/guest/demo_operator.elf
RT=$BUILD/guest/demo_rt.elf
LOGS=$BUILD/demo
TIMEOUT=${DEMO_TIMEOUT:-60}
REGION_ID=0x1000
REGION_MB=2
DEVOPTS=
[ "$DOORBELL" = 1 ] && DEVOPTS=,vectors=1
SERVER_DIR=/run/acrn-ivshmem	# where acrn-dm starts its own server

die() { echo "run-demo: $*" >&2; exit 1; }

# Without a usable /dev/kvm (or with LAB=1) the two VMs run in the guest lab: nested KVM inside
# an L1 VM under QEMU TCG (lab/run), unless LAB=0 forbids it.
kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
if [ "${ACRN_LAB:-0}" != 1 ] && { [ "${LAB:-}" = 1 ] || { [ "${LAB:-}" != 0 ] && ! kvm_usable; }; }; then
	why="this machine has no usable /dev/kvm"
	[ "${LAB:-}" = 1 ] && why="LAB=1"
	echo "run-demo: $why: running the two VMs in the guest lab (nested KVM under QEMU TCG;" \
		"its timings are not comparable with a real KVM host)"
	args=()
	[ "$DOORBELL" = 1 ] && args+=(--doorbell)
	exec bash "$(dirname "$0")/../../lab/run" --quiet --timeout $((TIMEOUT + 600)) -- \
		bash "$0" "${args[@]}" "$BUILD"
fi

if [ ! -e /dev/kvm ]; then
	die "/dev/kvm does not exist and LAB=0 forbids the guest lab: the demo runs its two VMs on KVM. Load kvm_intel or kvm_amd, or run without LAB=0."
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	die "/dev/kvm is not readable and writable for $(id -un): add yourself to its group ($(stat -c %G /dev/kvm)) or run as root."
fi
for f in "$DM" "$OPERATOR" "$RT"; do
	[ -e "$f" ] || die "$f is missing: build first (make build-all)"
done
mkdir -p "$LOGS"

REGION="ivdemo_$$_$RANDOM"
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	sleep 0.2
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	rm -f "/dev/shm/$REGION"
	if [ "$DOORBELL" = 1 ]; then
		# The auto-started server exits when its last VM has gone; give it a moment.
		sleep 0.5
		rm -f "$SERVER_DIR/$REGION".{sock,sock.id,lock,log}
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME IMAGE: one acrn-dm in the background, its console prefixed with [NAME] as lines
# arrive; $! is acrn-dm itself (the prefixing runs in a process substitution).
start() {
	local name=$1 image=$2
	"$DM" --vmm kvm --debugexit -l com1,stdio \
		-s 0:0,hostbridge -s 1:0,lpc -s "5,ivshmem,dm:/$REGION,$REGION_MB,$REGION_ID$DEVOPTS" \
		-E "$image" -B "region_id=$REGION_ID" -m 128M "$name" \
		2>"$LOGS/$name.log" > >(sed -u "s/^/[$name] /" | tee "$LOGS/$name.console") &
	PIDS+=($!)
}

echo "run-demo: region /dev/shm/$REGION ($REGION_MB MiB, region id $REGION_ID$([ "$DOORBELL" = 1 ] && echo ", doorbells")), timeout ${TIMEOUT}s"
# The real-time VM first, as in the seed's set-up; either order works (the operator formats the
# channel, the real-time VM waits for it).
start rt "$RT"
start operator "$OPERATOR"

# Wait for both, up to the timeout, then collect their statuses.
declare -A STATUS
deadline=$((SECONDS + TIMEOUT))
while :; do
	running=0
	for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
	[ "$running" -eq 0 ] && break
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "run-demo: timed out after ${TIMEOUT}s; stopping the VMs" >&2
		break
	fi
	sleep 0.1
done
names=(rt operator)
for i in 0 1; do
	pid=${PIDS[$i]}
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		sleep 0.5
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		STATUS[${names[$i]}]=timeout
	else
		wait "$pid"
		STATUS[${names[$i]}]=$?
	fi
done
PIDS=()
# The prefixing pipes finish after their acrn-dm: let them flush before the summary.
sleep 0.2

echo
echo "run-demo: operator exited ${STATUS[operator]}, real-time VM exited ${STATUS[rt]}"
if [ "${STATUS[operator]}" = 0 ] && [ "${STATUS[rt]}" = 0 ]; then
	echo "run-demo: PASS: commands and answers went through shared memory (logs in $LOGS)"
	exit 0
fi
for n in operator rt; do
	echo "run-demo: acrn-dm log of $n ($LOGS/$n.log):" >&2
	tail -n 5 "$LOGS/$n.log" | sed 's/^/    /' >&2
done
echo "run-demo: FAIL" >&2
exit 1
