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
