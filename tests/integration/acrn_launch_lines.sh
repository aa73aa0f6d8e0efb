#!/usr/bin/env bash
# ACRN launch lines through acrn-dm --dry-run (no VM is started, no KVM needed).
#
# The lines below are written for this test in the form ACRN's configurator gives its launch
# scripts (dm_params of launch_user_vm_id*.sh) for its sample scenarios: a Linux VM with OVMF
# and virtio devices, a Windows VM on a hypervisor-land region, a real-time VM with LAPIC
# pass-through and a hypervisor PCI vUART, and a Zephyr VM this device model runs as it is.
# Devices outside this project are named once and stop the run; with --ignore-unsupported the
# rest of the line is checked; bad values are refused naming the option.
. "$(dirname "$0")/lib.sh"

LINUX_VM=(--cpu_affinity 0,2 -m 512M --ovmf /usr/share/acrn/bios/OVMF.fd
	-s 1:0,lpc -s 0:0,hostbridge -s 3,virtio-console,@stdio:stdio_port
	-s 4,virtio-net,tap=YaaG3 -s 5,virtio-blk,./YaaG.img -s 6,ivshmem,dm:/shm_region_0,2,0
	--logger_setting "console,level=4;kmsg,level=3;disk,level=5" --mac_seed 1a2b3c4d-vm2
	POST_STD_VM2)
WINDOWS_VM=(--windows --cpu_affinity 2,4,6 -m 4096M --ovmf /usr/share/acrn/bios/OVMF.fd
	-s 0:0,hostbridge -s 8,ivshmem,hv:/shm_region_0,2,0 -s 1:0,lpc -l com1,stdio
	-s 5,virtio-input,/dev/input/event0,id:mouse -s 6,virtio-blk,/home/acrn/WaaG.img
	-s 7,virtio-net,tap=WaaG2 -s 9,passthru,00/14/0 POST_STD_VM1)
RT_VM=(--cpu_affinity 4,6 -m 1024M --ovmf /usr/share/acrn/bios/OVMF_debug.fd
	-s 0:0,hostbridge --virtio_poll 1000000 -s 9,ivshmem,dm:/shm_region_1,4,1
	-s 1:0,lpc -l com1,stdio -s 16,uart,vuart_idx:1 -s 5,virtio-blk,/home/acrn/rt.img
	--rtvm --lapic_pt --pm_notify_channel uart --pm_by_vuart tty,/dev/ttyS1 POST_RT_VM1)
ZEPHYR_VM=(--cpu_affinity 1 -m 256M -s 0:0,hostbridge -s 1:0,lpc -l com1,stdio
	-l com2,tcp:4321 -s 3,ivshmem,dm:/zephyr_shm,2,0x1000 -E /opt/zephyr.elf
	-B "console=ttyS0" --debugexit -A -Y ZEPHYR_VM)

# out NAME KIND: where the output (KIND out or err) of the test NAME is kept.
out() { echo "$TMP/${1//\//_}.$2"; }

# dry NAME EXPECT_STATUS ARGS...: runs acrn-dm --dry-run ARGS, keeping its stdout and stderr.
dry() {
	local name=$1 want=$2
	shift 2
	"$DM" --dry-run "$@" >"$(out "$name" out)" 2>"$(out "$name" err)"
	local got=$?
	if [ "$got" -ne "$want" ]; then
		fail "$name" "exit $got, want $want: $(cat "$(out "$name" out)" "$(out "$name" err)" |
			tr '\n' '|')"
		return 1
	fi
	return 0
}

# has NAME KIND TEXT...: the stdout or stderr (KIND) of NAME contains every TEXT.
has() {
	local name=$1 file t
	file=$(out "$1" "$2")
	shift 2
	for t in "$@"; do
		if ! grep -qF -- "$t" "$file"; then
			fail "$name" "'$t' missing from: $(tr '\n' '|' <"$file")"
			return 1
		fi
	done
	return 0
}

# Refused as they are: one line names every device not emulated here.
check_refused() {
	local name=$1
	shift
	dry "$name" 1 "$@" || return
	[ "$(grep -c 'not emulated here' "$(out "$name" err)")" -eq 1 ] ||
		{ fail "$name" "not one message: $(tr '\n' '|' <"$(out "$name" err)")"; return; }
	has "$name" err "--ignore-unsupported" "emulates hostbridge, lpc, ivshmem" && pass "$name"
}

check_refused launch/linux-vm/refused "${LINUX_VM[@]}"
has launch/linux-vm/refused err "--ovmf /usr/share/acrn/bios/OVMF.fd" "-s 3,virtio-console" \
	"-s 4,virtio-net" "-s 5,virtio-blk" || true
check_refused launch/windows-vm/refused "${WINDOWS_VM[@]}"
has launch/windows-vm/refused err "-s 9,passthru" "-s 5,virtio-input" || true
check_refused launch/rt-vm/refused "${RT_VM[@]}"

# With --ignore-unsupported: listed, the rest checked, the options without effect noted.
if dry launch/linux-vm/checked 0 --ignore-unsupported "${LINUX_VM[@]}" &&
	has launch/linux-vm/checked out "not emulated here, ignored for this check: -s 4,virtio-net" \
		"command line OK (3 devices, 2 vCPUs)" &&
	has launch/linux-vm/checked err "--mac_seed 1a2b3c4d-vm2: no effect here"; then
	pass launch/linux-vm/checked
fi
if dry launch/windows-vm/checked 0 --ignore-unsupported "${WINDOWS_VM[@]}" &&
	has launch/windows-vm/checked out "-s 9,passthru" "command line OK (3 devices, 3 vCPUs)" &&
	has launch/windows-vm/checked err "--windows: no effect here"; then
	pass launch/windows-vm/checked
fi
if dry launch/rt-vm/checked 0 --ignore-unsupported "${RT_VM[@]}" &&
	has launch/rt-vm/checked out "command line OK (4 devices, 2 vCPUs)" &&
	has launch/rt-vm/checked err "--virtio_poll 1000000: no effect here" \
		"--pm_notify_channel uart: no effect here" "--pm_by_vuart tty,/dev/ttyS1: no effect"; then
	pass launch/rt-vm/checked
fi
# A line with nothing outside this project needs no flag.
if dry launch/zephyr-vm 0 "${ZEPHYR_VM[@]}" &&
	has launch/zephyr-vm out "command line OK (3 devices, 1 vCPUs)" &&
	has launch/zephyr-vm err "-A: no effect here" "-Y: no effect here"; then
	pass launch/zephyr-vm
fi

# Bad values in an otherwise good line: refused, naming the option and what is wrong.
bad() {
	local name=$1 text=$2
	shift 2
	dry "$name" 1 "$@" && has "$name" err "$text" && pass "$name"
}
Z=("${ZEPHYR_VM[@]:0:${#ZEPHYR_VM[@]}-1}")	# the Zephyr line without its VM name
bad launch/bad/memsize-octal "-m 0400M: a leading 0 makes ACRN read the number as octal" \
	"${Z[@]}" -m 0400M ZEPHYR_VM
bad launch/bad/memsize-bare "-m 512: a size needs a unit" "${Z[@]}" -m 512 ZEPHYR_VM
bad launch/bad/logger "--logger_setting console,level=7: console: level '7'" \
	"${Z[@]}" --logger_setting "console,level=7" ZEPHYR_VM
bad launch/bad/logger-sink "'syslog' is not a log sink" \
	"${Z[@]}" --logger_setting "syslog,level=3" ZEPHYR_VM
bad launch/bad/cpu-affinity "--cpu_affinity 1,1: CPU 1 is listed twice" \
	--cpu_affinity 1,1 -m 256M ZEPHYR_VM
bad launch/bad/vuart-idx "vuart_idx '9': expected the hypervisor's vUART index, 0 to 7" \
	"${Z[@]}" -s 16,uart,vuart_idx:9 ZEPHYR_VM
bad launch/bad/com3 "expected com1,<backend> or com2,<backend>" "${Z[@]}" -l com3,stdio ZEPHYR_VM
bad launch/bad/tcp-port "'tcp:70000': the TCP port must be 1 to 65535" \
	-m 256M -l com1,tcp:70000 ZEPHYR_VM
bad launch/bad/virtio-poll "--virtio_poll 0: the poll interval must be 1 to 10000000 ns" \
	"${Z[@]}" --virtio_poll 0 ZEPHYR_VM
if "$DM" --ignore-unsupported "${LINUX_VM[@]}" >"$TMP/nodry.out" 2>&1; then
	fail launch/bad/ignore-needs-dry-run "accepted without --dry-run"
elif grep -q -- "--ignore-unsupported only goes with --dry-run" "$TMP/nodry.out"; then
	pass launch/bad/ignore-needs-dry-run
else
	fail launch/bad/ignore-needs-dry-run "$(tr '\n' '|' <"$TMP/nodry.out")"
fi

# On KVM a CPU the host does not have is named before /dev/kvm is even opened.
if "$DM" --vmm kvm --cpu_affinity 0,250 -m 128M -E /nonexistent.elf cpu_vm >"$TMP/cpu.out" 2>&1; then
	fail launch/kvm/offline-cpu "acrn-dm started with CPU 250"
elif grep -q "CPU 250 is not online on this host" "$TMP/cpu.out"; then
	pass launch/kvm/offline-cpu
else
	fail launch/kvm/offline-cpu "$(tr '\n' '|' <"$TMP/cpu.out")"
fi

finish
