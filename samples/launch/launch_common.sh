# Shared by the sample launch scripts: printing a command line and ACRN's region rules.
# Sourced, never run.

# print_cmd ARGS...: one command line, quoting only the words that need it.
print_cmd() {
	local word line=
	for word in "$@"; do
		if [[ ${word} =~ ^[A-Za-z0-9_./:,=+@%-]+$ ]]; then
			line+=" ${word}"
		else
			line+=" $(printf '%q' "${word}")"
		fi
	done
	echo "${line# }"
}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

# check_region: the rules ACRN's configurator enforces on SHM_NAME, SHM_SIZE_MB, SHM_REGION_ID
# and SHM_SLOT, checked before anything runs.
check_region() {
	# NAME plus "hv:/" and the NUL fill the hypervisor's 32-byte region name.
	[[ ${SHM_NAME} =~ ^[A-Za-z0-9_]{1,27}$ ]] ||
		die "region name '${SHM_NAME}': 1 to 27 letters, digits or underscores"
	case ${SHM_SIZE_MB} in
	2 | 4 | 8 | 16 | 32 | 64 | 128 | 256 | 512) ;;
	*) die "region size '${SHM_SIZE_MB}': a power of two from 2 to 512 (MB)" ;;
	esac
	local id=-1
	if [[ ${SHM_REGION_ID} =~ ^[0-9]{1,5}$ ]]; then
		id=$((10#${SHM_REGION_ID}))
	elif [[ ${SHM_REGION_ID} =~ ^0[xX][0-9A-Fa-f]{1,4}$ ]]; then
		id=$((SHM_REGION_ID))
	fi
	if ((id < 0 || id > 0xffff)); then
		die "region id '${SHM_REGION_ID}': decimal or 0x hex, at most 0xffff"
	fi
	if ! [[ ${SHM_SLOT} =~ ^[0-9]{1,2}$ ]] || ((10#${SHM_SLOT} < 3 || 10#${SHM_SLOT} > 30)); then
		die "slot '${SHM_SLOT}': post-launched VMs use device numbers 3 to 30"
	fi
}

# check_vm_name NAME: acrn-dm's rule for VM names.
check_vm_name() {
	[[ $1 =~ ^[^[:space:]]{1,15}$ ]] || die "VM name '$1': 1 to 15 bytes without spaces"
}

# acrn_dm_args ARRAY LAND: the arguments every VM on the region gets, into ARRAY, in the order
# ACRN's configurator writes them (LAND: dm or hv). The VM name and any extra options follow.
acrn_dm_args() {
	local -n _args=$1
	local land=$2
	# ACRN's acrn-dm reads the region id as decimal only: hex is converted here.
	local region_id=${SHM_REGION_ID}
	if [[ ${region_id} =~ ^0[xX][0-9A-Fa-f]+$ ]]; then
		region_id=$((region_id))
	elif [[ ${region_id} =~ ^[0-9]+$ ]]; then
		region_id=$((10#${region_id}))
	fi

	# shellcheck disable=SC2054 # the commas belong to acrn-dm's -s and -l syntax
	_args=(
		-m "${MEM_SIZE}"
		# The configurator emits the ivshmem device right after the host bridge; hv:/ keeps
		# its prefix, since the hypervisor matches the whole "hv:/NAME".
		-s 0:0,hostbridge
		-s "${SHM_SLOT},ivshmem,${land}:/${SHM_NAME},${SHM_SIZE_MB},${region_id}"
		-s 1:0,lpc
		-l com1,stdio
	)
	if [ -n "${GUEST_KERNEL}" ]; then
		_args+=(-k "${GUEST_KERNEL}")	# ACRN's acrn-dm; this project's boots ELF only
	else
		# A Multiboot image (Zephyr for ACRN) starts in 32-bit protected mode.
		_args+=(-E "${GUEST_ELF}")
	fi
	if [ -n "${BOOTARGS}" ]; then
		_args+=(-B "${BOOTARGS}")
	fi
}

# common_option OPTION VALUE: applies one of the settings every launch script takes (the guest
# image, memory, and the region); false when OPTION is not one of them.
common_option() {
	case $1 in
	--elf) GUEST_ELF=${2:?}; GUEST_KERNEL= ;;
	--kernel) GUEST_KERNEL=${2:?} ;;
	--bootargs) BOOTARGS=${2:?} ;;
	--mem) MEM_SIZE=${2:?} ;;
	--name) SHM_NAME=${2:?} ;;
	--size) SHM_SIZE_MB=${2:?} ;;
	--region-id) SHM_REGION_ID=${2:?} ;;
	--slot) SHM_SLOT=${2:?} ;;
	--acrn-dm) ACRN_DM=${2:?} ;;
	*) return 1 ;;
	esac
}
