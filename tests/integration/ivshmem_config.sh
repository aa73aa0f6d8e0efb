#!/usr/bin/env bash
# needs: kvm
# The plain ivshmem device's config space and registers from a guest (ivshmem_plain role=config):
# 1af4:1110, class 05/00, revision 1, subsystem 8086:<region id>, interrupt pin 0, no
# capabilities, read-only IDs; BAR0 256 bytes 32-bit in the 32-bit window on its own page, no
# BAR1, BAR2 64-bit prefetchable of the region's size above 4 GiB, BAR4/5 absent, sizing restores
# everything; IntrMask RW, IntrStatus cleared by a read, IVPosition 0 and read-only, Doorbell
# ignored, other widths/offsets read 0 and ignore writes; the memory works at both ends.
#   launch-script  ACRN's generated form: -s 8,ivshmem,dm:/NAME,2,0 right after the host bridge
#   hex-id         region id 0x1234, 64 MB
#   decimal-id     region id 4096 (ACRN parses decimal), 512 MB, next to a second device...
#   no-id          ... which has no region id (subsystem ID 0)
#
# Usage: tests/integration/ivshmem_config.sh [BUILD]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh "${1:-build}"

T=ivshmem_config
require_kvm $T/launch-script $T/hex-id $T/decimal-id $T/no-id

GUEST=$GUESTS/ivshmem_plain.elf
if [ ! -f "$GUEST" ]; then
	for n in launch-script hex-id decimal-id no-id; do fail "$T/$n" "$GUEST is missing"; done
	finish
fi


# config_test NAME GUEST_ARGS ACRN-DM ARGS...
config_test() {
	local name=$T/$1 args=$2 st
	shift 2
	run_vm 90 "$TMP/$1.out" -m 128M -E "$GUEST" -B "role=config windows=acrn $args" "$@" cfgvm
	st=$?
	if [ $st -eq 0 ] && grep -qx 'PASS: ivshmem_plain' "$TMP/$1.out" &&
		! grep -q '^FAIL: ' "$TMP/$1.out"; then
		grep '^ivshmem: [0-9a-f][0-9a-f]:' "$TMP/$1.out" | sed 's/^/    /'
		pass "$name"
	else
		fail "$name" "exit status $st"
		show "$TMP/$1.out"
	fi
}

# As ACRN's configurator writes it: the ivshmem slot right after the host bridge.
config_test launch-script "subsys=0 size=2M" \
	-s 0:0,hostbridge -s "8,ivshmem,dm:/$(unique_region ivcfg),2,0" -s 1:0,lpc
config_test hex-id "subsys=0x1234 size=64M" \
	"${BASE_SLOTS[@]}" -s "5,ivshmem,dm:/$(unique_region ivcfg),64,0x1234"
TWO=("${BASE_SLOTS[@]}" -s "3,ivshmem,dm:/$(unique_region ivcfg),512,4096"
	-s "4,ivshmem,dm:/$(unique_region ivcfg),2")
config_test decimal-id "subsys=0x1000 size=512M dev=0" "${TWO[@]}"
config_test no-id "subsys=0 size=2M dev=1" "${TWO[@]}"
finish
