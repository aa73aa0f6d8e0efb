#!/usr/bin/env bash
# acrn-ivshmem-config end to end on the real ACRN scenarios: add a Device Model region between
# two of the six post-launched VMs, save, generate the acrn-dm arguments ACRN's launch generator
# would write, hand them to acrn-dm; and check that unedited files come back byte for byte.
# Usage: config_generate.sh [BUILD_DIR]   (prints PASS/FAIL/SKIP lines, exits non-zero on failure)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
source tests/integration/lib.sh

TOOL=$BUILD/bin/acrn-ivshmem-config
DATA=tools/acrn-ivshmem-config/testdata
SIX=$TMP/six.xml
HYBRID=$TMP/hybrid.xml

# TODO(lead): the acrn-dm flag that parses and validates a command line (devices included)
# without starting the VM. Until it exists the acrn-dm step is skipped.
DM_VALIDATE_FLAG=${ACRN_DM_VALIDATE_FLAG:---dry-run}

if [ ! -x "$TOOL" ]; then
	fail config_tool_built "$TOOL is missing: run make first"
	finish
fi
cp "$DATA/cfl-k700-i7-shared_launch_6user_vm.xml" "$SIX"
cp "$DATA/cfl-k700-i7-hybrid_rt.xml" "$HYBRID"

# 1. Both real scenarios pass check, and save -o of an unedited file is the same file.
for f in "$SIX" "$HYBRID"; do
	name=config_check_$(basename "$f" .xml)
	if out=$("$TOOL" check "$f" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
	name=config_round_trip_$(basename "$f" .xml)
	if "$TOOL" save -o "$TMP/copy.xml" "$f" >/dev/null 2>&1 && cmp -s "$f" "$TMP/copy.xml"; then
		pass "$name"
	else
		fail "$name" "save -o changed the file: $(diff "$f" "$TMP/copy.xml" | head -5 | tr '\n' '|')"
	fi
done

# 2. A Device Model region between POST_STD_VM1 and POST_RT_VM1, VBDFs left to save.
if "$TOOL" add-region --name shm_dm --provider dm --size 4 --id 0x1001 \
	--vm POST_STD_VM1 --vm POST_RT_VM1 "$SIX" >"$TMP/add.out" 2>&1 &&
	"$TOOL" save "$SIX" >"$TMP/save.out" 2>&1 &&
	grep -q $'^filled-vbdf\tshm_dm\tPOST_STD_VM1\t00:08.0$' "$TMP/save.out" &&
	"$TOOL" check "$SIX" >/dev/null 2>&1; then
	pass config_add_region_and_save
else
	fail config_add_region_and_save "$(cat "$TMP/add.out" "$TMP/save.out" | tr '\n' '|')"
fi

# 3. What ACRN's launch generator would write: the host bridge, then the ivshmem device, with
#    the slot of the VBDF and the region id in decimal; no other VM gets a device.
expected=$'# POST_STD_VM1\n-s 0:0,hostbridge\n-s 8,ivshmem,dm:/shm_dm,4,4097\n# POST_RT_VM1\n-s 0:0,hostbridge\n-s 8,ivshmem,dm:/shm_dm,4,4097'
got=$("$TOOL" generate launch "$SIX" 2>"$TMP/gen.err")
if [ "$got" = "$expected" ] && [ ! -s "$TMP/gen.err" ]; then
	pass config_generate_launch
else
	fail config_generate_launch "got: $(echo "$got" | tr '\n' '|') $(tr '\n' '|' <"$TMP/gen.err")"
fi

# 4. The same arguments are accepted by this project's acrn-dm.
if [ ! -x "$DM" ]; then
	skip config_generate_acrn_dm "$DM is not built"
elif [ -z "$DM_VALIDATE_FLAG" ]; then
	skip config_generate_acrn_dm "no validate-only acrn-dm flag yet (set ACRN_DM_VALIDATE_FLAG)"
else
	ok=1
	for vm in POST_STD_VM1 POST_RT_VM1; do
		args=()
		while read -r -a words; do args+=("${words[@]}"); done \
			< <("$TOOL" generate launch --vm "$vm" --no-hostbridge "$SIX")
		# shellcheck disable=SC2086 # the flag may be empty or several words
		if ! out=$("$DM" $DM_VALIDATE_FLAG -m 256M "${BASE_SLOTS[@]}" "${args[@]}" "$vm" 2>&1); then
			fail config_generate_acrn_dm "acrn-dm refused ${args[*]} for $vm: $out"
			ok=0
		fi
	done
	[ $ok = 1 ] && pass config_generate_acrn_dm
fi

# 5. The hypervisor header of the hybrid scenario names its one region.
if "$TOOL" generate header -o "$TMP/ivshmem_cfg.h" "$HYBRID" 2>/dev/null &&
	grep -q '^#define IVSHMEM_SHM_REGION_0 *"hv:/shm_region_0"$' "$TMP/ivshmem_cfg.h" &&
	grep -q '^#define IVSHMEM_DEV_NUM *2UL$' "$TMP/ivshmem_cfg.h" &&
	grep -q '^#define IVSHMEM_SHM_SIZE *0x200000UL$' "$TMP/ivshmem_cfg.h"; then
	pass config_generate_header
else
	fail config_generate_header "$(head -c 400 "$TMP/ivshmem_cfg.h" 2>/dev/null | tr '\n' '|')"
fi

# 6. Removing the region again gives back the file ACRN wrote, byte for byte.
if "$TOOL" remove-region --region shm_dm "$SIX" >/dev/null 2>&1 &&
	cmp -s "$SIX" "$DATA/cfl-k700-i7-shared_launch_6user_vm.xml"; then
	pass config_remove_region_restores_file
else
	fail config_remove_region_restores_file "$(diff "$DATA/cfl-k700-i7-shared_launch_6user_vm.xml" "$SIX" | head -5 | tr '\n' '|')"
fi

finish
