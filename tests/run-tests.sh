#!/usr/bin/env bash
# Runs every test and prints one summary line: "N passed, N failed, N skipped".
#   unit tests:        every binary in --unit DIR (CMocka, built with ASan+UBSan); each test case counts
#   integration tests: every tests/integration/*.sh but lib.sh and *_common.sh (sourced helpers),
#                      given the build directory; each
#                      "PASS: name" / "FAIL: name: why" / "SKIP: name: why" line counts, and a script
#                      that exits non-zero without printing FAIL counts as one failure.
# Options: --build DIR (default build), --unit DIR (default DIR/san/tests/unit),
#          --only PATTERN (run the tests whose file name matches), --timeout SECONDS per script.
set -uo pipefail
cd "$(dirname "$0")/.."

build=build unit= only= per_test_timeout=600
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--unit) unit=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--timeout) per_test_timeout=$2; shift 2 ;;
	*) echo "run-tests: unknown argument $1" >&2; exit 2 ;;
	esac
done
unit=${unit:-$build/san/tests/unit}
build=$(realpath "$build")

passed=0 failed=0 skipped=0
failures=()

# Sanitizer reports are failures, never warnings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

selected() { [ -z "$only" ] || [[ $(basename "$1") == *$only* ]]; }

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

echo "== unit tests (ASan+UBSan) from $unit"
for bin in "$unit"/test_*; do
	[ -x "$bin" ] && selected "$bin" && run_unit "$bin"
done
echo "== integration tests with $build"
for script in tests/integration/*.sh; do
	# lib.sh and *_common.sh are sourced by the scripts, not tests of their own.
	case $(basename "$script") in lib.sh | *_common.sh) continue ;; esac
	[ -f "$script" ] && selected "$script" && run_integration "$script"
done

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
