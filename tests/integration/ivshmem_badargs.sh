#!/usr/bin/env bash
# needs: kvm
# Bad ivshmem device options on acrn-dm's command line: acrn-dm exits 1 with one clear message that
# names the field, never crashes, and creates no region. (The option parser's unit test covers
# the full list of malformed strings; these are a handful through the real binary.)
#   parse/*        rejected while parsing the command line, before any VM exists
#   hv-on-kvm      hv:/NAME on KVM: "needs the ACRN hypervisor", exit 1
#   size-mismatch  an existing region of another size is refused and left as it was
#
# Usage: tests/integration/ivshmem_badargs.sh [BUILD]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh "${1:-build}"

T=ivshmem_badargs
GUEST=$GUESTS/ivshmem_plain.elf

# expect_error NAME TEXT REGION -s ARGS...: acrn-dm exits 1, prints TEXT exactly once, does not
# crash, and /dev/shm/REGION does not exist afterwards (when REGION is not empty).
expect_error() {
	local name=$T/$1 text=$2 region=$3 out=$TMP/${1//\//-}.out st n
	shift 3
	run_vm 30 "$out" "${BASE_SLOTS[@]}" -m 128M -E "$GUEST" "$@" badvm
	st=$?
	n=$(grep -cF -- "$text" "$out" 2>/dev/null)
	n=${n:-0}
	if [ $st -ne 1 ]; then
		fail "$name" "acrn-dm exited with $st, expected 1"
		show "$out"
	elif grep -q 'Sanitizer\|Segmentation\|core dumped\|Aborted' "$out"; then
		fail "$name" "acrn-dm crashed"
		show "$out"
	elif [ "$n" -ne 1 ]; then
		fail "$name" "\"$text\" appears $n times in the output, expected once"
		show "$out"
	elif [ -n "$region" ] && [ -e "/dev/shm/$region" ]; then
		fail "$name" "a region /dev/shm/$region was created"
	else
		pass "$name"
	fi
}

R=$(unique_region ivbad)
expect_error parse/no-config "ivshmem: missing configuration" "" -s 5,ivshmem
expect_error parse/no-size "dm:/$R: missing the size in MB" "$R" -s "5,ivshmem,dm:/$R"
expect_error parse/size "region size 3 MB is not a power of two" "$R" -s "5,ivshmem,dm:/$R,3"
expect_error parse/size-large "above the maximum 512 MB (large=on allows" "$R" \
	-s "5,ivshmem,dm:/$R,1024"
expect_error parse/region-id "region id '99999': expected 0..65535" "$R" \
	-s "5,ivshmem,dm:/$R,2,99999"
expect_error parse/key "unknown key 'colour'" "$R" -s "5,ivshmem,dm:/$R,2,0,colour=blue"
expect_error parse/land "region 'xx:/$R': expected dm:/NAME or hv:/NAME" "$R" \
	-s "5,ivshmem,xx:/$R,2"
expect_error parse/name "region name 'bad/name'" "" -s "5,ivshmem,dm:/bad/name,2"
expect_error parse/hv-keys "hypervisor-land regions take no keys" "$R" \
	-s "5,ivshmem,hv:/$R,2,0,mem=shm"

require_kvm $T/hv-on-kvm $T/size-mismatch
expect_error hv-on-kvm "hypervisor-land ivshmem needs the ACRN hypervisor" "$R" \
	-s "5,ivshmem,hv:/$R,2,0"

# An existing 4 MiB region asked for as 2 MB: refused, and neither resized nor rewritten.
S=$(unique_region ivbadsz)
head -c $((4 << 20)) /dev/zero | tr '\0' 'Z' >"/dev/shm/$S"
sum=$(md5sum <"/dev/shm/$S")
run_vm 30 "$TMP/sz.out" "${BASE_SLOTS[@]}" -m 128M -E "$GUEST" -s "5,ivshmem,dm:/$S,2" badvm
st=$?
if [ $st -ne 1 ] || [ "$(grep -c "exists with size 4194304 bytes" "$TMP/sz.out")" -ne 1 ]; then
	fail $T/size-mismatch "exit status $st (expected 1 and one message about the size)"
	show "$TMP/sz.out"
elif [ "$(stat -c %s "/dev/shm/$S")" -ne $((4 << 20)) ] || [ "$(md5sum <"/dev/shm/$S")" != "$sum" ]
then
	fail $T/size-mismatch "the existing region was changed"
else
	pass $T/size-mismatch
fi
finish
