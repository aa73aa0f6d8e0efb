#!/usr/bin/env bash
# needs: kvm
# The Linux sample (samples/linux: ivshmem_guest over libpciaccess, ivshmem-ping) on the host.
# A Linux guest is out of reach here, so the device is faked where libpciaccess looks for it:
# samples/linux/fake-sysfs.sh mounts a made-up /sys/bus/pci/devices in a private mount
# namespace, whose resource2 is the very /dev/shm region an acrn-dm VM maps as BAR2.
#   samples/no-device          on the real host: "no ivshmem device found", exit status 2
#   samples/list               the fake tree: both ivshmem devices listed, the virtio one not
#   samples/wrong-region       a region id no device has: exit status 2
#   samples/host-pair          ivshmem-ping --serve and an operator, with a doorbell write
#   samples/linux-to-rt-guest  ivshmem-ping as the operator of the demo's real-time guest
#   samples/operator-guest-to-linux  the demo's operator guest served by ivshmem-ping --serve
. "$(dirname "$0")/lib.sh"

PING=$BUILD/bin/ivshmem-ping
FAKE="$(dirname "$0")/../../samples/linux/fake-sysfs.sh"
NAMES=(samples/list samples/wrong-region samples/host-pair samples/linux-to-rt-guest
	samples/operator-guest-to-linux)

if [ ! -x "$PING" ]; then
	fail samples/no-device "$PING is missing"
	finish
fi

# --- on the host itself ---
out=$TMP/nodev.out
"$PING" --list >"$out" 2>&1
s1=$?
"$PING" -n 1 >>"$out" 2>&1
s2=$?
if [ "$s1" -eq 2 ] && [ "$s2" -eq 2 ] && [ "$(grep -c '^ivshmem-ping: no ivshmem device found' "$out")" -eq 2 ]; then
	pass samples/no-device
elif lspci -n 2>/dev/null | grep -q '1af4:1110'; then
	skip samples/no-device "this host has an ivshmem device"
else
	fail samples/no-device "exit $s1/$s2: $(tr '\n' '|' <"$out")"
fi

# --- the fake sysfs ---
if [ "$(id -u)" -ne 0 ] || ! unshare --mount --propagation private true 2>/dev/null; then
	for n in "${NAMES[@]}"; do skip "$n" "needs root and mount namespaces (unshare -m)"; done
	finish
fi
in_fake() { bash "$FAKE" run "$TMP/pci" "$@"; }

R1=$(unique_region samples_rt)		# 0000:00:05.0, region id 0x1000, shared with a VM
truncate -s 2M "/dev/shm/$R1"
chmod 600 "/dev/shm/$R1"
truncate -s 4M "$TMP/r2"		# 0000:00:06.0, region id 0x2000, doorbell variant
bash "$FAKE" "$TMP/pci" 0000:00:01.0 1af4:1041 0 - &&
	bash "$FAKE" "$TMP/pci" 0000:00:05.0 1af4:1110 0x1000 "/dev/shm/$R1" &&
	bash "$FAKE" "$TMP/pci" 0000:00:06.0 1af4:1110 0x2000 "$TMP/r2" doorbell ||
	{ fail samples/list "cannot build the fake sysfs"; finish; }

out=$TMP/list.out
in_fake "$PING" --list >"$out" 2>&1
if [ $? -eq 0 ] && [ "$(wc -l <"$out")" -eq 2 ] &&
	grep -q '^0000:00:05.0  region id 0x1000 (subsystem vendor 0x8086)  2048 KiB shared  plain$' "$out" &&
	grep -q '^0000:00:06.0  region id 0x2000 .* 4096 KiB shared  doorbell (MSI-X)$' "$out"; then
	pass samples/list
else
	fail samples/list "$(tr '\n' '|' <"$out")"
fi

out=$TMP/wrong.out
in_fake "$PING" -r 0x3000 -n 1 >"$out" 2>&1
s=$?
if [ "$s" -eq 2 ] && grep -q 'no ivshmem device found (PCI 1af4:1110 with region id 0x3000)' "$out"; then
	pass samples/wrong-region
else
	fail samples/wrong-region "exit $s: $(tr '\n' '|' <"$out")"
fi

# Both sides as Linux programs on the doorbell device; the operator rings peer 3, vector 1.
in_fake "$PING" --serve -r 0x2000 -t 20 >"$TMP/serve.out" 2>&1 &
serve_pid=$!
BG_PIDS+=("$serve_pid")
in_fake "$PING" -r 0x2000 -n 200 --doorbell 3:1 "set-speed 1200" read-temp --stop >"$TMP/op.out" 2>&1
s_op=$?
wait_vm "$serve_pid" 20
s_serve=$?
doorbell=$(od -A n -t x4 -j 12 -N 4 "$TMP/pci/0000:00:06.0/resource0" | tr -d ' ')
if [ "$s_op" -eq 0 ] && [ "$s_serve" -eq 0 ] && grep -q '^ivshmem-ping: 200 pings' "$TMP/op.out" &&
	grep -q '^< temp=32.0 C' "$TMP/op.out" && grep -q 'stop -> ok stopping' "$TMP/serve.out" &&
	[ "$doorbell" = 00030001 ]; then
	pass samples/host-pair
else
	fail samples/host-pair "operator exit $s_op, server exit $s_serve, doorbell register '$doorbell': $(tr '\n' '|' <"$TMP/op.out") $(tr '\n' '|' <"$TMP/serve.out")"
fi

require_kvm samples/linux-to-rt-guest samples/operator-guest-to-linux

# ivshmem-ping drives the demo's real-time guest through the region its acrn-dm maps.
start_vm "$TMP/rt.out" "${BASE_SLOTS[@]}" -s "5,ivshmem,dm:/$R1,2,0x1000" \
	-E "$GUESTS/demo_rt.elf" -B "region_id=0x1000" -m 128M rt
rt_pid=$VM_PID
in_fake "$PING" -r 0x1000 -n 20 "set-speed 1200" "start-line 2" read-temp --stop >"$TMP/op.out" 2>&1
s_op=$?
wait_vm "$rt_pid" 30
s_rt=$?
if [ "$s_op" -eq 0 ] && [ "$s_rt" -eq 0 ] && grep -q '^< temp=35.5 C' "$TMP/op.out" &&
	grep -q '^rt: #22 read-temp -> temp=35.5 C' "$TMP/rt.out" && grep -q '^rt: stopped' "$TMP/rt.out"; then
	pass samples/linux-to-rt-guest
else
	fail samples/linux-to-rt-guest "ivshmem-ping exit $s_op, guest exit $s_rt: $(tail -n 4 "$TMP/op.out" | tr '\n' '|') $(tail -n 4 "$TMP/rt.out" | tr '\n' '|')"
fi

# And the other way round: the operator guest's whole session, answered by ivshmem-ping.
in_fake "$PING" --serve -r 0x1000 -t 30 >"$TMP/serve.out" 2>&1 &
serve_pid=$!
BG_PIDS+=("$serve_pid")
run_vm 60 "$TMP/operator.out" "${BASE_SLOTS[@]}" -s "5,ivshmem,dm:/$R1,2,0x1000" \
	-E "$GUESTS/demo_operator.elf" -B "region_id=0x1000" -m 128M operator
s_vm=$?
wait_vm "$serve_pid" 20
s_serve=$?
if [ "$s_vm" -eq 0 ] && [ "$s_serve" -eq 0 ] &&
	grep -q '^operator: 10 commands answered' "$TMP/operator.out" &&
	grep -q '^#4 read-temp -> temp=39.0 C' "$TMP/serve.out"; then
	pass samples/operator-guest-to-linux
else
	fail samples/operator-guest-to-linux "guest exit $s_vm, ivshmem-ping exit $s_serve: $(tail -n 4 "$TMP/operator.out" | tr '\n' '|') $(tail -n 4 "$TMP/serve.out" | tr '\n' '|')"
fi

finish
