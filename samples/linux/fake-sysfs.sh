#!/usr/bin/env bash
# A fake /sys/bus/pci/devices with ivshmem devices whose BAR2 is a file of your choice (e.g. the
# /dev/shm region an acrn-dm VM uses), so ivshmem-ping and ivshmem_guest run on a host without
# a guest kernel. libpciaccess reads the same files a kernel provides: config, resource,
# resource0, resource2 (and resource2_wc, which Linux offers for a prefetchable BAR).
#
#   samples/linux/fake-sysfs.sh DIR BDF VENDOR:DEVICE REGION_ID BAR2_FILE [doorbell]
#	adds one device DIR/BDF (BAR2_FILE "-" for a device without BAR2, e.g. not an ivshmem)
#   samples/linux/fake-sysfs.sh run DIR COMMAND...
#	runs COMMAND with DIR mounted over /sys/bus/pci/devices, in a private mount namespace
#	(needs root; nothing outside the command sees the fake tree)
set -euo pipefail

die() { echo "fake-sysfs: $*" >&2; exit 1; }

if [ "${1:-}" = run ]; then
	[ $# -ge 3 ] || die "usage: $0 run DIR COMMAND..."
	dir=$(realpath "$2")
	shift 2
	exec unshare --mount --propagation private -- \
		sh -c 'mount --bind "$0" /sys/bus/pci/devices && exec "$@"' "$dir" "$@"
fi

[ $# -ge 5 ] || die "usage: $0 DIR BDF VENDOR:DEVICE REGION_ID BAR2_FILE [doorbell]"
dir=$1 bdf=$2 ids=$3 region_id=$(($4)) file=$5 doorbell=${6:-}
[[ $bdf =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] || die "BDF must look like 0000:00:05.0"
vendor=$((0x${ids%%:*})) device=$((0x${ids##*:}))

# Addresses as acrn-dm assigns them: BAR0/BAR1 in the 32-bit window, BAR2 above 4 GiB.
bar0=$((0xc0000000 + 0x$(echo "$bdf" | cut -c9-10) * 0x2000))
bar1=$((bar0 + 0x1000))
bar2=$((0x100000000 + 0x$(echo "$bdf" | cut -c9-10) * 0x40000000))
bar2_size=0
if [ "$file" != - ]; then
	bar2_size=$(stat -L -c %s "$file")
	[ "$bar2_size" -gt 0 ] || die "$file is empty"
fi

dev=$dir/$bdf
mkdir -p "$dev"

# config: 256 bytes of type 0 header, little-endian.
cfg=()
for ((i = 0; i < 256; i++)); do cfg[i]=0; done
put8() { cfg[$1]=$(($2 & 0xff)); }
put16() { put8 "$1" "$2"; put8 $(($1 + 1)) $(($2 >> 8)); }
put32() { put16 "$1" $(($2 & 0xffff)); put16 $(($1 + 2)) $((($2 >> 16) & 0xffff)); }
put16 0x00 "$vendor"
put16 0x02 "$device"
put16 0x04 0x0002			# memory decode on
put8 0x08 1				# revision
put8 0x0b 0x05				# class: memory controller, subclass 0 (RAM)
put32 0x10 "$bar0"
[ -n "$doorbell" ] && put32 0x14 "$bar1"
if [ "$bar2_size" -gt 0 ]; then
	put32 0x18 $(((bar2 & 0xffffffff) | 0xc))	# 64-bit, prefetchable
	put32 0x1c $((bar2 >> 32))
fi
put16 0x2c 0x8086			# subsystem vendor, as acrn-dm and ACRN
put16 0x2e "$region_id"
printf "$(printf '\\x%02x' "${cfg[@]}")" >"$dev/config"

# resource: start end flags for BARs 0-5 and the ROM (Linux keeps the BAR's own flag bits in
# the low byte, which is what libpciaccess reads).
line() { printf '0x%016x 0x%016x 0x%016x\n' "$1" "$2" "$3"; }
{
	line "$bar0" $((bar0 + 0xff)) 0x40200
	if [ -n "$doorbell" ]; then line "$bar1" $((bar1 + 0xfff)) 0x40200; else line 0 0 0; fi
	if [ "$bar2_size" -gt 0 ]; then
		line "$bar2" $((bar2 + bar2_size - 1)) 0x14220c
	else
		line 0 0 0
	fi
	line 0 0 0
	line 0 0 0
	line 0 0 0
	line 0 0 0
} >"$dev/resource"

# The registers: a plain 256-byte file (IVPosition reads 0; a doorbell write lands in it).
head -c 256 /dev/zero >"$dev/resource0"
[ -n "$doorbell" ] && head -c 4096 /dev/zero >"$dev/resource1"
if [ "$bar2_size" -gt 0 ]; then
	ln -sfn "$(realpath "$file")" "$dev/resource2"
	ln -sfn "$(realpath "$file")" "$dev/resource2_wc"
fi
chmod 600 "$dev"/resource?* "$dev/config"
