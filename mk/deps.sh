#!/usr/bin/env bash
# Checks that what the build (deps.sh build) or the tests (deps.sh test) need is installed.
# On Debian/Ubuntu as root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails. Each entry: "how to check|Debian package".
set -euo pipefail

build_needs=(
	"cc:gcc|gcc"
	"make:make|make"
	"pkg:glib-2.0|libglib2.0-dev"
	"pkg:uuid|uuid-dev"
	"pkg:libxml-2.0|libxml2-dev"
	"pkg:pciaccess|libpciaccess-dev"
	"pkg:cmocka|libcmocka-dev"
	"hdr:linux/kvm.h|linux-libc-dev"
	"hdr:linux/acrn.h|linux-libc-dev"
	"cmd:pkg-config|pkg-config"
	"cmd:objcopy|binutils"
)
test_needs=(
	"cmd:qemu-system-x86_64|qemu-system-x86"
	"cmd:python3|python3"
	# The fuzz targets (tests/fuzz): clang and its libFuzzer runtime, in Debian's default version.
	"cmd:clang|clang"
	"fuzzer:clang|libclang-rt-dev"
)

have() {
	local kind=${1%%:*} what=${1#*:}
	case $kind in
	cc | cmd | make) command -v "$what" >/dev/null 2>&1 ;;
	pkg) pkg-config --exists "$what" 2>/dev/null ;;
	hdr) [ -f "/usr/include/$what" ] ;;
	# A program links with libFuzzer (the runtime is a package of its own, not clang's).
	fuzzer) command -v "$what" >/dev/null 2>&1 &&
		echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d[0] + (int)n; }' |
		"$what" -fsanitize=fuzzer -x c -o /dev/null - >/dev/null 2>&1 ;;
	esac
}

wanted=("${build_needs[@]}")
[ "${1:-build}" = test ] && wanted+=("${test_needs[@]}")

missing=()
for entry in "${wanted[@]}"; do
	check=${entry%%|*} pkg=${entry#*|}
	have "$check" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# One package can satisfy several checks; ask for each once.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	$cmd -qq >/dev/null
	exit 0
fi
echo "deps: missing packages: ${missing[*]}" >&2
echo "deps: run as root:  apt-get update && $cmd" >&2
exit 1
