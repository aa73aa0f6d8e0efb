#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz: each replays its committed corpus, then fuzzes a few
# seconds from it (FUZZ_REPLAY_SECONDS, default 3), so that a regression on a hostile input
# fails make check. make check builds the targets into BUILD/fuzz; tests/fuzz/README.md.
# Usage: fuzz_replay.sh [BUILD_DIR]
set -uo pipefail
build=${1:-build}
exec bash "$(dirname "$0")/../fuzz/run-fuzz.sh" --build "$build/fuzz" --replay \
	--seconds "${FUZZ_REPLAY_SECONDS:-3}"
