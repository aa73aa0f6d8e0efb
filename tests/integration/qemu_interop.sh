#!/usr/bin/env bash
# needs: kvm
# QEMU and acrn-dm VMs on one ivshmem region, running the same doorbell guest
# (build/guest/doorbell.elf; QEMU boots it with -kernel, on KVM when it can, else TCG):
#   qemu-interop-doorbell-autoserver  acrn-dm (fast paths) starts the server itself, QEMU's
#                                     ivshmem-doorbell joins it: the guests find each other's
#                                     ids and data, ping-pong on every vector both ways, mask
#                                     and unmask vectors rung by the other, ring absent peers,
#                                     and check the registers, with the same results on both
#   qemu-interop-doorbell-standalone  the same on a standalone acrn-ivshmem-server that QEMU
#                                     joins first, acrn-dm on the user-space path
#   qemu-interop-plain                QEMU's ivshmem-plain on /dev/shm/NAME next to acrn-dm's
#                                     dm:/NAME: data written by each guest is read by the other
# QEMU places the BARs through SeaBIOS (BAR2 may be below 4 GiB); the guest uses what it finds.
# Usage: qemu_interop.sh [BUILD_DIR]
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/doorbell_common.sh
source "$(dirname "$0")/doorbell_common.sh"

NAMES=(qemu-interop-doorbell-autoserver qemu-interop-doorbell-standalone qemu-interop-plain)
QEMU=$(command -v qemu-system-x86_64)
if [ -z "$QEMU" ]; then
	for n in "${NAMES[@]}"; do skip "$n" "qemu-system-x86_64 is not installed"; done
	exit 0
fi
if ! "$QEMU" -device help 2>/dev/null | grep -q '"ivshmem-doorbell"'; then
	for n in "${NAMES[@]}"; do skip "$n" "this QEMU has no ivshmem-doorbell"; done
	exit 0
fi
db_require "${NAMES[@]}"

# start_qemu OUT APPEND DEVICE_ARGS...: the doorbell guest under QEMU in the background
# ($QEMU_PID). Its serial output goes to OUT; it exits with (code << 1) | 1.
start_qemu() {
	local out=$1 append=$2
	shift 2
	timeout --kill-after=5 120 "$QEMU" -accel kvm -accel tcg -m 128 -display none \
		-serial stdio -monitor none -no-reboot -kernel "$DB_GUEST" -append "$append" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" >"$out" 2>"$out.err" &
	QEMU_PID=$!
	BG_PIDS+=("$QEMU_PID")
}

# both_passed NAME VM_PID VM_OUT QEMU_OUT: PASS when acrn-dm exited 0 and QEMU 1, both guests
# passed, and they saw the same results.
both_passed() {
	local name=$1 vm=$2 vm_out=$3 q_out=$4 sv sq
	wait_vm "$vm" 120
	sv=$?
	wait_vm "$QEMU_PID" 120
	sq=$?
	if [ "$sv" -ne 0 ] || ! guest_ok "$vm_out"; then
		fail "$name" "acrn-dm VM exit $sv: $(why "$vm_out")"
	elif [ "$sq" -ne 1 ] || ! guest_ok "$q_out"; then
		fail "$name" "QEMU exit $sq: $(why "$q_out") $(why "$q_out.err" 3)"
	elif ! diff <(grep '^PASS: ' "$vm_out") <(grep '^PASS: ' "$q_out") >/dev/null; then
		fail "$name" "the guests' results differ"
	else
		pass "$name"
	fi
}

DOORBELL_ARGS="vectors=$DB_VECTORS peers=2 rounds=6 wait=90"

# ---- acrn-dm first, with the server it starts; QEMU joins that server ----
db_region dbqa
VM_OUT=$TMP/auto.vm Q_OUT=$TMP/auto.qemu
db_start_vm "$VM_OUT" "vQ_$$" "$REGION" "" "role=peer index=0 $DOORBELL_ARGS"
vm=$VM_PID
if ! wait_for_line "$VM_OUT" "peers present" 10; then
	fail qemu-interop-doorbell-autoserver "acrn-dm did not come up: $(why "$VM_OUT")"
else
	start_qemu "$Q_OUT" "role=peer index=1 $DOORBELL_ARGS" \
		-chardev "socket,path=$DB_RUN_DIR/$REGION.sock,id=iv" \
		-device "ivshmem-doorbell,chardev=iv,vectors=$DB_VECTORS"
	both_passed qemu-interop-doorbell-autoserver "$vm" "$VM_OUT" "$Q_OUT"
fi

# ---- a standalone server; QEMU first, acrn-dm without the fast paths ----
db_region dbqs
SOCK=$TMP/standalone.sock
"$DB_SERVER" -F -S "$SOCK" -M "$REGION" -l 2M -n "$DB_VECTORS" 2>"$TMP/standalone.log" &
SERVER_PID=$!
BG_PIDS+=("$SERVER_PID")
VM_OUT=$TMP/standalone.vm Q_OUT=$TMP/standalone.qemu
if ! wait_for_line "$TMP/standalone.log" listening 5; then
	fail qemu-interop-doorbell-standalone "the server did not start: $(why "$TMP/standalone.log")"
else
	start_qemu "$Q_OUT" "role=peer index=0 $DOORBELL_ARGS" \
		-chardev "socket,path=$SOCK,id=iv" -device "ivshmem-doorbell,chardev=iv,vectors=$DB_VECTORS"
	wait_for_line "$TMP/standalone.log" "peer 0 joined" 20
	db_start_vm "$VM_OUT" "vQ_$$" "$REGION" ",server=$SOCK,ioeventfd=off,irqfd=off" \
		"role=peer index=1 $DOORBELL_ARGS"
	both_passed qemu-interop-doorbell-standalone "$VM_PID" "$VM_OUT" "$Q_OUT"
fi
kill -TERM "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null

# ---- ivshmem-plain on the same /dev/shm object as acrn-dm's dm:/NAME ----
db_region dbqp
VM_OUT=$TMP/plain.vm Q_OUT=$TMP/plain.qemu
start_vm "$VM_OUT" -m 128M "${BASE_SLOTS[@]}" -s "3,ivshmem,dm:/$REGION,2" \
	-B "role=plain index=0 peers=2 wait=90" -E "$DB_GUEST" "vP_$$"
vm=$VM_PID
if ! wait_for_line "$VM_OUT" "PASS: doorbell/device" 10; then
	fail qemu-interop-plain "acrn-dm did not come up: $(why "$VM_OUT")"
else
	start_qemu "$Q_OUT" "role=plain index=1 peers=2 wait=90" \
		-object "memory-backend-file,id=m,share=on,mem-path=/dev/shm/$REGION,size=2M" \
		-device ivshmem-plain,memdev=m
	both_passed qemu-interop-plain "$vm" "$VM_OUT" "$Q_OUT"
fi
finish
