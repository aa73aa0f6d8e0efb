#!/usr/bin/env bash
# needs: kvm
# SMP guests on acrn-dm (KVM backend): 1, 2 and 4 vCPUs, by -c and by --cpu_affinity.
#
# smp_selftest's boot CPU starts the others with INIT/SIPI; each CPU writes its APIC id into the
# plain region (checked here from the host), takes a fixed IPI, and an MSI-X doorbell of the
# ivshmem doorbell device whose entry k is aimed at CPU k's APIC id. With --cpu_affinity every
# vCPU thread must be bound to its host CPU (read from /proc/<pid>/task/*/status).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doorbell_common.sh"

require_kvm smp/vcpus-1 smp/vcpus-2 smp/vcpus-4 smp/affinity smp/offline-cpu
GUEST=$GUESTS/smp_selftest.elf
[ -f "$GUEST" ] || { fail smp/build "$GUEST is not built (make guests)"; finish; }

# check_region NAME REGION N: the guest finished and left N distinct APIC ids 0..N-1.
check_region() {
	local name=$1 shm=/dev/shm/$2 n=$3 ids sorted
	ids=$(od -A n -t u4 -j 16 -N $((4 * n)) "$shm" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
	sorted=$(tr ' ' '\n' <<<"$ids" | sort -n | tr '\n' ' ' | sed 's/ $//')
	if [ "$(head -c 7 "$shm")" != SMPTEST ] || [ "$sorted" != "$(seq -s ' ' 0 $((n - 1)))" ]; then
		fail "$name" "region holds APIC ids \"$ids\" for $n vCPUs"
		return 1
	fi
	return 0
}

# run_smp NAME N VMNAME ARGS...: smp_selftest with cpus=N on a plain and a doorbell region.
run_smp() {
	local name=$1 n=$2 vm=$3 out
	shift 3
	plain=$(unique_region smp)
	db_region smpdb
	out=$TMP/${name//\//_}.out
	run_vm 120 "$out" -m 128M "${BASE_SLOTS[@]}" -s "3,ivshmem,dm:/$plain,2" \
		-s "4,ivshmem,dm:/$REGION,2,vectors=$(((n + 1) > 2 ? n + 1 : 2))" \
		-B "cpus=$n msi=doorbell" -E "$GUEST" "$@" "$vm"
	local status=$?
	if guest_passed "$out" "$status" smp_selftest && grep -q "started $n vCPU(s)" "$out" &&
		grep -qx "PASS: smp/msi-doorbell" "$out" && check_region "$name" "$plain" "$n"; then
		pass "$name"
	else
		fail "$name" "exit $status: $(tail -n 8 "$out" | tr '\n' '|')"
	fi
}

for n in 1 2 4; do
	run_smp "smp/vcpus-$n" "$n" "smp$n" -c "$n"
done

# --cpu_affinity: the vCPU count is the number of CPUs listed, each vCPU thread is pinned.
# Host CPUs by APIC id, as /proc/cpuinfo lists them (as many as there are, up to 2). The guest
# holds its vCPUs for a moment after its checks so their threads can be looked at.
mapfile -t apic_ids < <(awk -F': *' '/^apicid/ {print $2}' /proc/cpuinfo | head -n 2)
mapfile -t cpu_nums < <(awk -F': *' '/^processor/ {print $2}' /proc/cpuinfo | head -n 2)
n=${#apic_ids[@]}
list=$(IFS=,; echo "${apic_ids[*]}")
plain=$(unique_region smpa)
db_region smpadb
out=$TMP/affinity.out
start_vm "$out" -m 128M "${BASE_SLOTS[@]}" -s "3,ivshmem,dm:/$plain,2" \
	-s "4,ivshmem,dm:/$REGION,2,vectors=4" -B "cpus=$n msi=doorbell hold_ms=3000" \
	-E "$GUEST" --cpu_affinity "$list" smpaff
pid=$VM_PID
pinned=
if wait_for_line "$out" "^PASS: smp/msi-doorbell" 60; then
	for t in /proc/"$pid"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null)
		case $comm in vcpu*) pinned+="$comm:$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status") " ;; esac
	done
fi
wait_vm "$pid" 60
status=$?
want=
for ((i = 0; i < n; i++)); do want+="vcpu$i:${cpu_nums[$i]} "; done
pinned=$(tr ' ' '\n' <<<"$pinned" | sort | tr '\n' ' ' | sed 's/^ *//; s/ *$//')
want=$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ' | sed 's/^ *//; s/ *$//')
if [ "$pinned" != "$want" ]; then
	fail smp/affinity "--cpu_affinity $list: vCPU threads on \"$pinned\", want \"$want\""
elif ! guest_passed "$out" "$status" smp_selftest || ! check_region smp/affinity "$plain" "$n"; then
	fail smp/affinity "exit $status: $(tail -n 6 "$out" | tr '\n' '|')"
else
	pass smp/affinity
fi

# A CPU that is not online is named, and nothing runs.
out=$TMP/offline.out
run_vm 30 "$out" -m 128M "${BASE_SLOTS[@]}" -E "$GUEST" --cpu_affinity 0,251 smpoff
status=$?
if [ "$status" -eq 1 ] && grep -q "CPU 251 is not online on this host" "$out"; then
	pass smp/offline-cpu
else
	fail smp/offline-cpu "exit $status: $(tail -n 3 "$out" | tr '\n' '|')"
fi

finish
