#!/bin/bash
#
# A post-launched VM on a hypervisor-land ivshmem region.
#
# With hv:/NAME the hypervisor itself emulates the ivshmem device and owns the memory; acrn-dm
# only reserves the device's BDF and BAR addresses and hands them over with
# ACRN_IOCTL_CREATE_VDEV. The hypervisor accepts the device only when its scenario (built into
# the hypervisor) has an IVSHMEM_REGION that
#   - is PROVIDED_BY Hypervisor and is called NAME (here without the hv:/ prefix),
#   - has IVSHMEM_SIZE equal to the size given here (in MB),
#   - lists this VM in IVSHMEM_VMS under the VM name given last on the acrn-dm command line.
# The VM name must be the scenario's name for the VM: ACRN 3.x looks the VM up by name, and a VM
# whose name is not in the scenario runs without any region (CREATE_VDEV then fails, EINVAL).
# Use the slot of the VM's VBDF in the scenario (00:08.0 -> slot 8).
#
# The defaults match ACRN's cfl-k700-i7 hybrid_rt scenario: shm_region_0, 2 MB, shared by the
# pre-launched PRE_RT_VM0 and the post-launched POST_STD_VM1 at 00:08.0. A VM on hv:/NAME cannot
# talk to a VM on dm:/NAME, even with the same NAME.
#
# Usage:
#   launch_hv_region.sh --dry-run [options]   print the acrn-dm command line, run nothing
#   launch_hv_region.sh [options]             run it (as root, in ACRN's Service VM)
#   source launch_hv_region.sh                define dm_params, run nothing
#
# Options (each also settable through the variable named in brackets):
#   --dry-run              only print what would run
#   --scenario FILE        check the settings against the scenario XML first (needs xmllint)
#   --elf FILE             guest ELF / Multiboot image, e.g. zephyr.elf [GUEST_ELF]
#   --kernel FILE          a Linux bzImage instead (ACRN's acrn-dm -k) [GUEST_KERNEL]
#   --bootargs ARGS        guest command line (-B) [BOOTARGS]
#   --mem SIZE             guest memory, K/M/G suffix, at least 128M [MEM_SIZE]
#   --name NAME            region name in the scenario [SHM_NAME]
#   --size MB              region size in MB, as IVSHMEM_SIZE [SHM_SIZE_MB]
#   --region-id ID         region id, as IVSHMEM_REGION_ID [SHM_REGION_ID]
#   --slot N               PCI slot, from the VM's VBDF [SHM_SLOT]
#   --vm-name NAME         the VM's name in the scenario [VM_NAME]
#   --acrn-dm PATH         the device model to run [ACRN_DM]

# ---- configuration: what the configurator would have written ----
ACRN_DM=${ACRN_DM:-acrn-dm}
SHM_NAME=${SHM_NAME:-shm_region_0}
SHM_SIZE_MB=${SHM_SIZE_MB:-2}
SHM_REGION_ID=${SHM_REGION_ID:-0}
SHM_SLOT=${SHM_SLOT:-8}
VM_NAME=${VM_NAME:-POST_STD_VM1}
MEM_SIZE=${MEM_SIZE:-256M}
GUEST_ELF=${GUEST_ELF:-zephyr.elf}
GUEST_KERNEL=${GUEST_KERNEL:-}
BOOTARGS=${BOOTARGS:-}

dm_params=()

# build_dm_params: the acrn-dm arguments into dm_params.
build_dm_params() {
	acrn_dm_args dm_params hv
	dm_params+=("${VM_NAME}")
}

# shellcheck source=launch_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/launch_common.sh"

check_config() {
	check_region
	check_vm_name "${VM_NAME}"
}

# check_scenario FILE: the region, its size and id, and this VM's membership and VBDF.
check_scenario() {
	local xml=$1
	[ -r "${xml}" ] || die "scenario '${xml}' not readable"
	if ! command -v xmllint >/dev/null; then
		echo "$(basename "$0"): no xmllint: scenario not checked" >&2
		return 0
	fi
	q() { xmllint --xpath "$1" "${xml}" 2>/dev/null; }
	local region="//IVSHMEM/IVSHMEM_REGION[NAME='${SHM_NAME}']"
	[ "$(q "count(${region})")" = 1 ] ||
		die "${xml}: no IVSHMEM_REGION named ${SHM_NAME}"
	local by
	by=$(q "string(${region}/PROVIDED_BY)")
	[ -z "${by}" ] || [ "${by}" = Hypervisor ] ||
		die "${xml}: ${SHM_NAME} is provided by '${by}': use dm:/ (launch_dm_shm_two_vms.sh)"
	local size
	size=$(q "string(${region}/IVSHMEM_SIZE)")
	[ "${size}" = "${SHM_SIZE_MB}" ] ||
		die "${xml}: ${SHM_NAME} is ${size} MB, not ${SHM_SIZE_MB} (--size ${size})"
	local rid
	rid=$(q "string(${region}/IVSHMEM_REGION_ID)")
	local my_id=${SHM_REGION_ID}
	[[ ${my_id} =~ ^0[xX] ]] || my_id=$((10#${my_id}))
	if ! [[ ${rid:-0} =~ ^[0-9]{1,5}$ ]] || ((10#${rid:-0} != my_id)); then
		die "${xml}: ${SHM_NAME} has region id ${rid:-0}, not ${SHM_REGION_ID}"
	fi
	local member="${region}/IVSHMEM_VMS/IVSHMEM_VM[VM_NAME='${VM_NAME}']"
	[ "$(q "count(${member})")" = 1 ] ||
		die "${xml}: ${SHM_NAME} does not list VM ${VM_NAME} (--vm-name must be the scenario's VM name)"
	[ "$(q "string(//vm[name='${VM_NAME}']/load_order)")" = POST_LAUNCHED_VM ] ||
		die "${xml}: ${VM_NAME} is not a post-launched VM"
	local vbdf want
	vbdf=$(q "string(${member}/VBDF)")
	want=$(printf '00:%02x.0' "$((10#${SHM_SLOT}))")
	if [ -n "${vbdf}" ] && [ "${vbdf,,}" != "${want}" ]; then
		die "${xml}: ${VM_NAME} has ${SHM_NAME} at ${vbdf}, not ${want} (--slot)"
	fi
	echo "Scenario ${xml}: ${VM_NAME} shares ${SHM_NAME} (${size} MB) at ${vbdf:-${want}}"
}

main() {
	local dry_run=0 scenario=
	while [ $# -gt 0 ]; do
		case $1 in
		--dry-run) dry_run=1; shift ;;
		--scenario) scenario=${2:?}; shift 2 ;;
		--vm-name) VM_NAME=${2:?}; shift 2 ;;
		-h | --help) sed -n '2,/^# ---- configuration/p' "$0" | sed '$d; s/^# \{0,1\}//'; return 0 ;;
		*)
			# The settings both scripts share take one value each.
			common_option "$@" || die "unknown argument '$1' (--help lists them)"
			shift 2
			;;
		esac
	done
	check_config
	[ -z "${scenario}" ] || check_scenario "${scenario}"
	build_dm_params

	if [ "${dry_run}" = 1 ]; then
		print_cmd "${ACRN_DM}" "${dm_params[@]}"
		return 0
	fi
	[ -e /dev/acrn_hsm ] ||
		die "no /dev/acrn_hsm: hypervisor-land regions need ACRN's Service VM (try --dry-run)"
	[ "$(id -u)" = 0 ] || die "acrn-dm needs root (or use --dry-run)"
	command -v "${ACRN_DM}" >/dev/null || die "no ${ACRN_DM} in PATH (--acrn-dm PATH)"
	local image=${GUEST_KERNEL:-${GUEST_ELF}}
	[ -r "${image}" ] || die "guest image '${image}' not found (--elf FILE)"
	echo "Launch ${VM_NAME}: $(print_cmd "${ACRN_DM}" "${dm_params[@]}")"
	exec "${ACRN_DM}" "${dm_params[@]}"
}

# Sourced: only the configuration and dm_params, nothing runs.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	build_dm_params
	return 0
fi
main "$@"
