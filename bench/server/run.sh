#!/usr/bin/env bash
# acrn-ivshmem-server under hostile clients (bench/server/hostile.py says what is measured):
# server CPU under fd exhaustion, a slow peer's survival under churn, an honest client's admission
# beside silent identity connections. Figures are ratios (CPU time to wall time, admissions to
# tries), never judged: only a server that does not start fails this script.
# Usage: bench/server/run.sh [BUILD_DIR]   (make bench runs it through bench/run-bench.sh)
# Appends its block to BUILD_DIR/bench/results.txt and prints it.
set -u
BUILD=$(realpath "${1:-build}")
SERVER=$BUILD/bin/acrn-ivshmem-server
RESULTS=$BUILD/bench/results.txt
[ -x "$SERVER" ] || { echo "bench/server: $SERVER is missing" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench/server: python3 is missing, block skipped" >&2; exit 0; }
mkdir -p "$(dirname "$RESULTS")"
out=$(timeout 120 python3 "$(dirname "$0")/hostile.py" "$SERVER" "acrn-ivshmem-server") || {
	echo "$out" >&2
	exit 1
}
{ echo; echo "$out"; } | tee -a "$RESULTS"
