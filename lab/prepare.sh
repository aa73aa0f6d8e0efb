#!/usr/bin/env bash
# Prepares the guest lab's L1 image under LABDIR (default build/lab) from Debian packages only:
#   LABDIR/vmlinuz          Debian's standard kernel (the version linux-image-amd64 names)
#   LABDIR/kernel/          that package unpacked, with modules.dep made by busybox depmod, so
#                           modprobe works in L1 and in Linux guests that reuse the kernel
#   LABDIR/busybox          busybox-static's binary
#   LABDIR/initramfs.cpio.gz  busybox, lab/init and the modules L1 needs before it can mount the
#                           host over 9p (virtio-pci, 9p)
# Nothing is installed on the host. The result is cached: it is rebuilt only when the package
# versions, lab/init or this script change, and it works offline once cached (when apt cannot be
# asked, the cached packages are used as they are).
# Usage: lab/prepare.sh [LABDIR]     prints the kernel version it prepared
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
labdir=${1:-$here/../build/lab}
mkdir -p "$labdir/debs"
labdir=$(cd "$labdir" && pwd)

say() { echo "lab: $*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }

# The kernel package the metapackage names today; offline, whatever is cached.
kernel_pkg() {
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		# apt's lists may never have been read on this machine
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	fi
	[ -n "$pkg" ] || pkg=$(cat "$labdir/kernel.pkg" 2>/dev/null) ||
		die "apt-cache does not know linux-image-amd64 and nothing is cached (run apt-get update)"
	echo "$pkg"
}

# fetch PKG: the .deb of PKG in LABDIR/debs (downloaded once per version).
fetch() {
	local pkg=$1 deb ver
	ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -n "$ver" ] && [ "$ver" != "(none)" ]; then
		deb=$(ls "$labdir/debs/${pkg}_"*"_amd64.deb" 2>/dev/null | grep -F "_${ver//:/%3a}_" | head -n 1 || true)
		if [ -z "$deb" ]; then
			say "downloading $pkg $ver from Debian's archive"
			# apt's sandbox user cannot write into a root-only build tree: download as root
			(cd "$labdir/debs" && apt-get download -o APT::Sandbox::User=root "$pkg=$ver" >/dev/null) ||
				die "apt-get download $pkg failed"
			deb=$(ls "$labdir/debs/${pkg}_"*"_amd64.deb" | grep -F "_${ver//:/%3a}_" | head -n 1)
		fi
	else
		deb=$(ls -t "$labdir/debs/${pkg}_"*"_amd64.deb" 2>/dev/null | head -n 1 || true)
		[ -n "$deb" ] || die "no candidate for $pkg and none cached (run apt-get update)"
		say "apt does not know $pkg: using the cached $(basename "$deb")"
	fi
	echo "$deb"
}

# apt-cache is slow (seconds): ask it again only when its package lists changed.
lists=$(stat -c %Y /var/lib/apt/lists/* 2>/dev/null | sort -n | tail -n 1 || true)
if [ -n "$lists" ] && [ -f "$labdir/resolved" ] && [ "$(sed -n 1p "$labdir/resolved")" = "$lists" ] &&
	[ -f "$(sed -n 2p "$labdir/resolved")" ] && [ -f "$(sed -n 3p "$labdir/resolved")" ]; then
	kpkg=$(cat "$labdir/kernel.pkg")
	kdeb=$(sed -n 2p "$labdir/resolved")
	bdeb=$(sed -n 3p "$labdir/resolved")
else
	kpkg=$(kernel_pkg)
	kdeb=$(fetch "$kpkg")
	bdeb=$(fetch busybox-static)
	printf '%s\n' "$lists" "$kdeb" "$bdeb" >"$labdir/resolved"
	echo "$kpkg" >"$labdir/kernel.pkg"
fi
stamp=$(printf '%s\n' "$(basename "$kdeb")" "$(basename "$bdeb")" \
	"$(sha256sum "$here/init" "$here/prepare.sh" | cut -d' ' -f1)" | sha256sum | cut -d' ' -f1)
if [ -f "$labdir/stamp" ] && [ "$(cat "$labdir/stamp")" = "$stamp" ] &&
	[ -f "$labdir/initramfs.cpio.gz" ]; then
	cat "$labdir/kernel.version"
	exit 0
fi

say "preparing the L1 image from $(basename "$kdeb") and $(basename "$bdeb")"
rm -rf "$labdir/kernel" "$labdir/bb" "$labdir/initramfs" "$labdir/stamp"
dpkg -x "$kdeb" "$labdir/kernel"
dpkg -x "$bdeb" "$labdir/bb"
install -m 0755 "$labdir/bb/bin/busybox" "$labdir/busybox"
rm -rf "$labdir/bb"
kver=$(ls "$labdir/kernel/lib/modules")
[ "$(echo "$kver" | wc -w)" -eq 1 ] || die "expected one kernel in $kdeb, found: $kver"
cp "$labdir/kernel/boot/vmlinuz-$kver" "$labdir/vmlinuz"
"$labdir/busybox" depmod -b "$labdir/kernel" "$kver"
moddir=$labdir/kernel/lib/modules/$kver

# The initramfs carries only what L1 needs to reach the host's files: the rest of the modules
# are read from the host over 9p once it is mounted.
ir=$labdir/initramfs
mkdir -p "$ir"/{bin,dev,proc,sys,host,repo,run,newroot,lib/modules/"$kver"}
install -m 0755 "$labdir/busybox" "$ir/bin/busybox"
install -m 0755 "$here/init" "$ir/init"
early=(virtio_pci 9pnet_virtio 9p)
for m in "${early[@]}"; do
	line=$(grep -E "(^|/)$m\.ko:" "$moddir/modules.dep") || die "module $m is not in $kpkg"
	for f in ${line%%:*} ${line#*:}; do
		mkdir -p "$ir/lib/modules/$kver/$(dirname "$f")"
		cp "$moddir/$f" "$ir/lib/modules/$kver/$f"
	done
done
cp "$moddir"/modules.dep "$ir/lib/modules/$kver/"
(cd "$ir" && find . | LC_ALL=C sort | "$labdir/busybox" cpio -o -H newc 2>/dev/null) |
	gzip -1 >"$labdir/initramfs.cpio.gz"
rm -rf "$ir"
echo "$kver" >"$labdir/kernel.version"
echo "$stamp" >"$labdir/stamp"
say "L1 image ready: kernel $kver"
echo "$kver"
