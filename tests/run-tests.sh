#!/usr/bin/env bash
# Runs every test and prints one summary line: "N passed, N failed, N skipped".
#   unit tests:        every binary in --unit DIR (CMocka, built with ASan+UBSan); each test case counts
#   integration tests: every tests/integration/*.sh but lib.sh and *_common.sh (sourced helpers),
#                      given the build directory; each
#                      "PASS: name" / "FAIL: name: why" / "SKIP: name: why" line counts, and a script
#                      that exits non-zero without printing FAIL counts as one failure.
#
# Tests that need /dev/kvm (unit binaries listed in tests/unit/needs-kvm.txt, scripts with a
# "# needs: kvm" line) run natively where /dev/kvm is usable, and in the guest lab (lab/run:
# nested KVM under QEMU TCG) where it is not. LAB=1 sends them to the lab even where /dev/kvm
# exists; LAB=0 forbids the lab (they then skip, saying so).
# Options: --build DIR (default build), --unit DIR (default DIR/san/tests/unit),
#          --only PATTERN (run the tests whose file name matches), --timeout SECONDS per script,
#          --part all|host|kvm (default all: which tests to run; the lab runs "--part kvm").
set -uo pipefail
cd "$(dirname "$0")/.."

build=build unit= only= per_test_timeout=600 part=all
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--unit) unit=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--timeout) per_test_timeout=$2; shift 2 ;;
	--part) part=$2; shift 2 ;;
	*) echo "run-tests: unknown argument $1" >&2; exit 2 ;;
	esac
done
case $part in all | host | kvm) ;; *) echo "run-tests: --part all|host|kvm, not '$part'" >&2; exit 2 ;; esac
case ${LAB:-} in "" | 0 | 1) ;; *) echo "run-tests: LAB=1 (always the lab) or LAB=0 (never), not '$LAB'" >&2; exit 2 ;; esac
unit=${unit:-$build/san/tests/unit}
build=$(realpath "$build")
unit=$(realpath -m "$unit")

passed=0 failed=0 skipped=0
failures=()

# Sanitizer reports are failures, never warnings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

selected() { [ -z "$only" ] || [[ $(basename "$1") == *$only* ]]; }

# needs_kvm FILE: the unit binary or script runs guests on /dev/kvm.
needs_kvm() {
	case $1 in
	*.sh) head -n 15 "$1" | grep -qx '# needs: kvm' ;;
	*) grep -qx "$(basename "$1")" tests/unit/needs-kvm.txt ;;
	esac
}

# in_part FILE: FILE belongs to the part this run covers.
in_part() {
	case $part in
	all) return 0 ;;
	kvm) needs_kvm "$1" ;;
	host) ! needs_kvm "$1" ;;
	esac
}

kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

run_unit() {
	local bin=$1 name out rc n
	name=$(basename "$bin")
	out=$(timeout --kill-after=10 "$per_test_timeout" "$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed "s/^/[$name] /"
	n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	passed=$((passed + ${n:-0}))
	n=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
	skipped=$((skipped + ${n:-0}))
	n=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	if [ "$rc" -ne 0 ] || [ -n "$n" ]; then
		failed=$((failed + ${n:-1}))
		failures+=("$name (exit $rc)")
	fi
}

run_integration() {
	local script=$1 name out rc p f s
	name=$(basename "$script" .sh)
	out=$(timeout --kill-after=10 "$per_test_timeout" bash "$script" "$build" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed "s/^/[$name] /"
	p=$(printf '%s\n' "$out" | grep -c '^PASS: ')
	f=$(printf '%s\n' "$out" | grep -c '^FAIL: ')
	s=$(printf '%s\n' "$out" | grep -c '^SKIP: ')
	passed=$((passed + p)) skipped=$((skipped + s)) failed=$((failed + f))
	[ "$rc" -eq 124 ] && echo "[$name] timed out after ${per_test_timeout}s"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
	fi
	[ "$rc" -ne 0 ] || [ "$f" -ne 0 ] && failures+=("$name (exit $rc)")
	return 0
}

# The tests that need KVM go to the guest lab when this machine has no usable /dev/kvm (or
# LAB=1), unless we are the lab's own run (ACRN_LAB=1) or LAB=0 forbids it.
use_lab=0
if [ "$part" = all ] && [ "${ACRN_LAB:-0}" != 1 ]; then
	if [ "${LAB:-}" = 1 ] || { [ "${LAB:-}" != 0 ] && ! kvm_usable; }; then
		use_lab=1
		part=host
	fi
fi
[ "${LAB:-}" = 0 ] && ! kvm_usable && export ACRN_LAB_FORBIDDEN=1

run_all() {
	local bin script
	echo "== unit tests (ASan+UBSan) from $unit"
	for bin in "$unit"/test_*; do
		[ -x "$bin" ] && selected "$bin" && in_part "$bin" && run_unit "$bin"
	done
	echo "== integration tests with $build"
	for script in tests/integration/*.sh; do
		# lib.sh and *_common.sh are sourced by the scripts, not tests of their own.
		case $(basename "$script") in lib.sh | *_common.sh) continue ;; esac
		[ -f "$script" ] && selected "$script" && in_part "$script" && run_integration "$script"
	done
}

# run_in_lab: the KVM part inside the guest lab; its counts are added to ours. A lab that does
# not start or does not report is a failure with the console's last lines, never a skip.
run_in_lab() {
	local why out rc line
	if [ "${LAB:-}" = 1 ]; then why="LAB=1"; else why="this machine has no usable /dev/kvm"; fi
	echo
	echo "== tests that need KVM: in the guest lab ($why): nested KVM under QEMU TCG, one L1 CPU;"
	echo "== timings there are not comparable with a real KVM host"
	out=$(mktemp)
	bash lab/run --quiet --timeout "${LAB_TIMEOUT:-3600}" -- bash tests/run-tests.sh --part kvm \
		--build "$build" --unit "$unit" --timeout "$per_test_timeout" ${only:+--only "$only"} \
		2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^kvm-part totals: passed=[0-9]+ failed=[0-9]+ skipped=[0-9]+$' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL: guest_lab: the lab did not report its tests (lab/run exited $rc)"
		failed=$((failed + 1))
		failures+=("guest_lab (exit $rc)")
	else
		read -r p f s <<<"$(echo "$line" | sed -E 's/^kvm-part totals: passed=([0-9]+) failed=([0-9]+) skipped=([0-9]+)$/\1 \2 \3/')"
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		mapfile -t -O "${#failures[@]}" failures < <(sed -n 's/^kvm-part failed: //p' "$out")
	fi
	rm -f "$out"
}

start=$(date +%s)
run_all
[ "$use_lab" = 1 ] && run_in_lab

echo
if [ "$part" = kvm ]; then
	# The lab's own run: the host adds these to its totals (a line the host parses, and one that
	# test-output readers do not take for the closing line).
	for f in "${failures[@]}"; do echo "kvm-part failed: $f"; done
	echo "kvm-part totals: passed=$passed failed=$failed skipped=$skipped"
	[ "$failed" -eq 0 ]
	exit
fi
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "tests took $(($(date +%s) - start))s$([ "$use_lab" = 1 ] && echo ", the guest tests in the lab")"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
