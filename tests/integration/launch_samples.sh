#!/usr/bin/env bash
# The sample launch scripts (samples/launch/): what they would run, acrn-dm accepts. Their
# --dry-run prints each acrn-dm command line; `acrn-dm --dry-run` checks it, device options
# included, without starting a VM. Bad settings are refused by the scripts before anything runs.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 1

# check_lines NAME SCRIPT ARGS...: every acrn-dm line of SCRIPT --dry-run passes acrn-dm --dry-run.
check_lines() {
	local name=$1 script=$2 lines line n=0 bad=
	shift 2
	if ! lines=$(bash "$script" --dry-run "$@" 2>&1); then
		fail "$name" "--dry-run failed: $lines"
		return
	fi
	while read -r line; do
		case $line in acrn-dm\ *) ;; *) continue ;; esac
		n=$((n + 1))
		# The script quotes what needs it (print_cmd), so eval gives back its words.
		eval "set -- ${line#acrn-dm }"
		"$DM" --dry-run "$@" >"$TMP/out" 2>&1 || bad="$bad [$line: $(cat "$TMP/out")]"
	done <<<"$lines"
	if [ "$n" -eq 0 ]; then
		fail "$name" "no acrn-dm command line in: $lines"
	elif [ -n "$bad" ]; then
		fail "$name" "acrn-dm refused:$bad"
	else
		pass "$name"
	fi
}

check_lines launch/dm-two-vms samples/launch/launch_dm_shm_two_vms.sh
check_lines launch/dm-two-vms-hex-id samples/launch/launch_dm_shm_two_vms.sh --region-id 0x1001 \
	--size 64 --slot 9 --bootargs "role=a peers=2"
check_lines launch/hv-region samples/launch/launch_hv_region.sh --name hv_region_7 --size 8

if out=$(bash samples/launch/launch_dm_shm_two_vms.sh --dry-run --size 3 2>&1); then
	fail launch/bad-size "a 3 MB region was not refused: $out"
elif [[ $out == *"power of two"* ]]; then
	pass launch/bad-size
else
	fail launch/bad-size "unclear message: $out"
fi
finish
