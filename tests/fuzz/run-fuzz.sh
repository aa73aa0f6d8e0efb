#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz, one at a time (make fuzz and make check build them
# into BUILD/targets with FUZZ=1). Prints one line per target, "PASS: NAME: ..." or
# "FAIL: NAME: why", as the integration scripts do; exits 1 when any failed.
#
# Usage: tests/fuzz/run-fuzz.sh [--build DIR] [--seconds N] [--replay] [--merge] [NAME...]
#   (default)  fuzz each target for N seconds (default 60) on a working corpus DIR/corpus/NAME,
#              started from the committed one, tests/fuzz/corpus/NAME;
#   --replay   run every committed input once, then fuzz N seconds (default 3) from them into a
#              scratch directory: what make check does, so a regression fails CI;
#   --merge    after fuzzing, add to the committed corpus the inputs of the working corpus that
#              bring new coverage, of at most 512 bytes (review and commit them).
# Crashes and property failures are saved as DIR/artifacts/NAME-crash-*, with the log in
# DIR/logs/NAME.log; rerun one with: DIR/targets/NAME FILE.
set -uo pipefail
cd "$(dirname "$0")/../.."

build=build/fuzz seconds= replay=0 merge=0 names=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--replay) replay=1; shift ;;
	--merge) merge=1; shift ;;
	-*) echo "run-fuzz: unknown option $1" >&2; exit 2 ;;
	*) names+=("$1"); shift ;;
	esac
done
[ -n "$seconds" ] || seconds=$([ $replay = 1 ] && echo 3 || echo 60)
corpus_root=tests/fuzz/corpus
if [ ${#names[@]} -eq 0 ]; then
	for dir in "$corpus_root"/*/; do names+=("$(basename "$dir")"); done
fi
mkdir -p "$build/artifacts" "$build/logs" "$build/corpus"
scratch=$(mktemp -d /tmp/acrn-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# ASan: leaks are failures too; libFuzzer reports them as it does crashes.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# The options every run shares: inputs stay small (every target's format is), a slow input is a
# failure, and the target's own stdout is closed (libxml2 and the loggers are chatty).
common=(-max_len=4096 -timeout=10 -rss_limit_mb=2048 -close_fd_mask=1 -print_final_stats=1)

failed=0
report_fail() {
	local name=$1 why=$2 log=$3
	echo "FAIL: $name: $why (log $log)"
	grep -E 'property broken|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY|Test unit written' \
		"$log" | head -12 | sed 's/^/  /'
	failed=1
}

# "execs N, coverage C, features F, corpus K" from a run's log.
stats() {
	local log=$1 execs last
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	printf 'execs %s, coverage %s, features %s, corpus %s' "${execs:-?}" \
		"$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")" \
		"$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")" \
		"$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")"
}

for name in "${names[@]}"; do
	target=$build/targets/$name
	seeds=$corpus_root/$name
	log=$build/logs/$name.log
	if [ ! -x "$target" ]; then
		echo "FAIL: $name: $target is not built (make fuzz builds it)"
		failed=1
		continue
	fi
	mapfile -t inputs < <(find "$seeds" -type f 2>/dev/null | sort)
	if [ ${#inputs[@]} -eq 0 ]; then
		echo "FAIL: $name: no committed corpus in $seeds"
		failed=1
		continue
	fi
	args=("${common[@]}" -artifact_prefix="$build/artifacts/$name-")

	if [ $replay = 1 ]; then
		# Every committed input once: a known crash that comes back fails at once.
		if ! "$target" "${args[@]}" "${inputs[@]}" >"$log" 2>&1; then
			report_fail "$name" "replaying the corpus" "$log"
			continue
		fi
		ran=$(grep -c '^Executed ' "$log")
		if [ "$ran" -ne ${#inputs[@]} ]; then
			report_fail "$name" "replayed $ran of ${#inputs[@]} inputs" "$log"
			continue
		fi
		work=$scratch/$name
	else
		ran=
		work=$build/corpus/$name
	fi
	mkdir -p "$work"
	if ! "$target" "${args[@]}" -max_total_time="$seconds" "$work" "$seeds" >>"$log" 2>&1; then
		report_fail "$name" "fuzzing for ${seconds}s" "$log"
		continue
	fi
	echo "PASS: $name: ${ran:+replayed $ran inputs, }${seconds}s: $(stats "$log")"
	if [ $merge = 1 ]; then
		small=$scratch/$name-small
		mkdir -p "$small"
		find "$work" -type f -size -513c -exec cp -t "$small" {} +
		"$target" "${common[@]}" -merge=1 "$seeds" "$small" >>"$log" 2>&1 ||
			report_fail "$name" "merging into $seeds" "$log"
	fi
done
exit $failed
