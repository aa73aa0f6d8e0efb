#!/bin/bash
#
# Two post-launched VMs sharing one device-model-land ivshmem region.
#
# The acrn-dm command lines are the ones ACRN's configurator writes into each VM's launch script
# for a scenario with an IVSHMEM_REGION whose PROVIDED_BY is "Device Model": the host bridge
# first, the ivshmem device right after it, then the LPC bridge and COM1 on stdio.
#
#   -s 8,ivshmem,dm:/shm_region_0,2,0
#        |        |                | `- region id: becomes the PCI subsystem ID (vendor 0x8086)
#        |        |                `--- size in MB: a power of two from 2 to 512
#        |        `-------------------- dm:/NAME: acrn-dm owns the memory, /dev/shm/NAME
#        `----------------------------- slot 8: post-launched VMs may use 3..30
#
# Both VMs name the same region, so both acrn-dm processes map the same /dev/shm object: the
# first creates and sizes it, the second opens it (and refuses it if the size differs). It is
# left in place when the VMs stop, so a rebooted VM finds its data again; remove it with
# "rm /dev/shm/shm_region_0" to start from zeros.
#
# Usage:
#   launch_dm_shm_two_vms.sh --dry-run          print the two acrn-dm command lines, run nothing
#   launch_dm_shm_two_vms.sh [options]          run them (as root): VM 2 in the background with
#                                               its console in a log file, VM 1 on this terminal
#   source launch_dm_shm_two_vms.sh             define dm_params_vm1 / dm_params_vm2, run nothing
#
# Options (each also settable through the variable named in brackets):
#   --dry-run              only print what would run
#   --vm 1|2|both          which VM to start (both)
#   --elf FILE             guest ELF / Multiboot image, e.g. a Zephyr build's zephyr.elf [GUEST_ELF]
#   --kernel FILE          a Linux bzImage instead (ACRN's acrn-dm -k) [GUEST_KERNEL]
#   --bootargs ARGS        guest command line (-B) [BOOTARGS]
#   --mem SIZE             guest memory, K/M/G suffix, at least 128M [MEM_SIZE]
#   --name NAME            region name, 1 to 27 of [A-Za-z0-9_] [SHM_NAME]
#   --size MB              region size in MB [SHM_SIZE_MB]
#   --region-id ID         region id, decimal or 0x hex, at most 0xffff [SHM_REGION_ID]
#   --slot N               PCI slot of the ivshmem device [SHM_SLOT]
#   --vm1-name / --vm2-name NAME   the VMs' names, as in the scenario (1 to 15 bytes)
#   --vmm hsm|kvm          this project's acrn-dm only: pick the backend (kvm runs without ACRN)
#   --acrn-dm PATH         the device model to run [ACRN_DM]
#   --log-dir DIR          where VM 2's console goes when both run here [LOG_DIR]

# ---- configuration: what the configurator would have written ----
ACRN_DM=${ACRN_DM:-acrn-dm}
SHM_NAME=${SHM_NAME:-shm_region_0}
SHM_SIZE_MB=${SHM_SIZE_MB:-2}
SHM_REGION_ID=${SHM_REGION_ID:-0}
SHM_SLOT=${SHM_SLOT:-8}
VM1_NAME=${VM1_NAME:-POST_STD_VM1}
VM2_NAME=${VM2_NAME:-POST_STD_VM2}
MEM_SIZE=${MEM_SIZE:-256M}
GUEST_ELF=${GUEST_ELF:-zephyr.elf}
GUEST_KERNEL=${GUEST_KERNEL:-}
BOOTARGS=${BOOTARGS:-}
VMM=${VMM:-}
LOG_DIR=${LOG_DIR:-/tmp}

dm_params_vm1=()
dm_params_vm2=()

# build_dm_params ARRAY VM_NAME: the acrn-dm arguments of one VM into ARRAY.
build_dm_params() {
	local -n _params=$1
	local vm_name=$2
	acrn_dm_args "$1" dm
	if [ -n "${VMM}" ]; then
		_params+=(--vmm "${VMM}")
	fi
	# The VM name comes last, as ACRN's launch scripts pass it.
	_params+=("${vm_name}")
}

# shellcheck source=launch_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/launch_common.sh"

# The rules ACRN's configurator enforces, checked before anything runs.
check_config() {
	check_region
	local name
	for name in "${VM1_NAME}" "${VM2_NAME}"; do
		check_vm_name "${name}"
	done
	[ "${VM1_NAME}" != "${VM2_NAME}" ] || die "the two VMs need different names"
	case ${VMM} in
	'' | hsm | kvm) ;;
	*) die "--vmm '${VMM}': hsm or kvm" ;;
	esac
}

main() {
	local dry_run=0 which=both
	while [ $# -gt 0 ]; do
		case $1 in
		--dry-run) dry_run=1; shift ;;
		--vm) which=${2:?}; shift 2 ;;
		--vm1-name) VM1_NAME=${2:?}; shift 2 ;;
		--vm2-name) VM2_NAME=${2:?}; shift 2 ;;
		--vmm) VMM=${2:?}; shift 2 ;;
		--log-dir) LOG_DIR=${2:?}; shift 2 ;;
		-h | --help) sed -n '2,/^# ---- configuration/p' "$0" | sed '$d; s/^# \{0,1\}//'; return 0 ;;
		*)
			# The settings both scripts share take one value each.
			common_option "$@" || die "unknown argument '$1' (--help lists them)"
			shift 2
			;;
		esac
	done
	case ${which} in
	1 | 2 | both) ;;
	*) die "--vm '${which}': 1, 2 or both" ;;
	esac
	check_config

	build_dm_params dm_params_vm1 "${VM1_NAME}"
	build_dm_params dm_params_vm2 "${VM2_NAME}"
	local vm2_log="${LOG_DIR}/${VM2_NAME}.console.log"

	if [ "${dry_run}" = 1 ]; then
		[ "${which}" = 1 ] || {
			[ "${which}" = 2 ] || echo "# VM 2 in the background, its console in ${vm2_log}:"
			print_cmd "${ACRN_DM}" "${dm_params_vm2[@]}"
		}
		[ "${which}" = 2 ] || print_cmd "${ACRN_DM}" "${dm_params_vm1[@]}"
		return 0
	fi

	[ "$(id -u)" = 0 ] || die "acrn-dm needs root (or use --dry-run)"
	command -v "${ACRN_DM}" >/dev/null || die "no ${ACRN_DM} in PATH (--acrn-dm PATH)"
	local image=${GUEST_KERNEL:-${GUEST_ELF}}
	[ -r "${image}" ] || die "guest image '${image}' not found (--elf FILE)"

	case ${which} in
	1) exec "${ACRN_DM}" "${dm_params_vm1[@]}" ;;
	2) exec "${ACRN_DM}" "${dm_params_vm2[@]}" ;;
	esac
	echo "Launch ${VM2_NAME} in the background (console: ${vm2_log})"
	"${ACRN_DM}" "${dm_params_vm2[@]}" </dev/null >"${vm2_log}" 2>&1 &
	local vm2_pid=$!
	echo "Launch ${VM1_NAME}: $(print_cmd "${ACRN_DM}" "${dm_params_vm1[@]}")"
	# In the background so that this script can forward signals; <&0 keeps the terminal as
	# COM1's input (a script's background jobs get /dev/null otherwise).
	"${ACRN_DM}" "${dm_params_vm1[@]}" <&0 &
	local vm1_pid=$!
	# A signal to this script stops both VMs (acrn-dm tears down on SIGTERM), and when VM 1
	# stops (its power off, Ctrl-C), VM 2 is stopped too.
	trap 'kill -TERM "${vm1_pid}" "${vm2_pid}" 2>/dev/null' INT TERM HUP
	local status=0
	wait "${vm1_pid}" || status=$?
	# wait returns early when a trapped signal arrives: wait again for the real end.
	while kill -0 "${vm1_pid}" 2>/dev/null; do
		wait "${vm1_pid}" || status=$?
	done
	kill -TERM "${vm2_pid}" 2>/dev/null
	wait "${vm2_pid}"
	trap - INT TERM HUP
	return "${status}"
}

# Sourced: only the configuration and the parameter arrays, nothing runs.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	# shellcheck disable=SC2034 # for the caller
	build_dm_params dm_params_vm1 "${VM1_NAME}"
	# shellcheck disable=SC2034 # for the caller
	build_dm_params dm_params_vm2 "${VM2_NAME}"
	return 0
fi
main "$@"
