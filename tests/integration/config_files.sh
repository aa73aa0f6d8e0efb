#!/usr/bin/env bash
# acrn-ivshmem-config on files it must not damage: malformed XML, empty, missing, not a scenario,
# an edit that breaks a rule, a directory it cannot write to. Every command fails with a clear
# message and leaves the input as it was. Also: JSON output is valid JSON.
# Usage: config_files.sh [BUILD_DIR]   (prints PASS/FAIL/SKIP lines, exits non-zero on failure)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
source tests/integration/lib.sh

TOOL=$BUILD/bin/acrn-ivshmem-config
DATA=tools/acrn-ivshmem-config/testdata

if [ ! -x "$TOOL" ]; then
	fail config_tool_built "$TOOL is missing: run make first"
	finish
fi

printf '<acrn-config>\n  <hv>\n    <FEATURES>\n  </hv>\n</acrn-config>\n' >"$TMP/malformed.xml"
: >"$TMP/empty.xml"
printf '<acrn-config board="b">\n  <BIOS_INFO/>\n</acrn-config>\n' >"$TMP/board.xml"
cp "$DATA/cfl-k700-i7-hybrid_rt.xml" "$TMP/hybrid.xml"

# expect_refusal NAME PATTERN FILE COMMAND...: non-zero exit, PATTERN in stderr, FILE unchanged.
expect_refusal() {
	local name=$1 pattern=$2 file=$3 before=$TMP/before rc
	shift 3
	[ -e "$file" ] && cp "$file" "$before"
	# shellcheck disable=SC2086 # TOOL may carry a setpriv prefix
	$TOOL "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 0 ]; then
		fail "$name" "exit status 0"
	elif ! grep -q -- "$pattern" "$TMP/err" "$TMP/out"; then
		fail "$name" "no '$pattern' in: $(tr '\n' '|' <"$TMP/err")"
	elif [ -e "$file" ] && ! cmp -s "$file" "$before"; then
		fail "$name" "$file was changed"
	else
		pass "$name"
	fi
	rm -f "$before"
}

for cmd in check list save "add-vm -r shm_region_0 -v X"; do
	tag=${cmd%% *}
	tag=${tag//-/_}
	# shellcheck disable=SC2086 # cmd is several words on purpose
	expect_refusal "config_${tag}_malformed" "malformed.xml:4: error: malformed XML" \
		"$TMP/malformed.xml" $cmd "$TMP/malformed.xml"
	# shellcheck disable=SC2086
	expect_refusal "config_${tag}_empty" "empty.xml: error: the file is empty" \
		"$TMP/empty.xml" $cmd "$TMP/empty.xml"
	# shellcheck disable=SC2086
	expect_refusal "config_${tag}_missing" "missing.xml: error: cannot open: No such file" \
		"$TMP/missing.xml" $cmd "$TMP/missing.xml"
	# shellcheck disable=SC2086
	expect_refusal "config_${tag}_not_scenario" "not an ACRN scenario" \
		"$TMP/board.xml" $cmd "$TMP/board.xml"
done
[ -e "$TMP/missing.xml" ] && fail config_missing_not_created "an edit created missing.xml"

expect_refusal config_edit_breaking_a_rule "\[dm-post-only\]" "$TMP/hybrid.xml" \
	add-region -n r -p dm -s 2 -v PRE_RT_VM0 -v POST_STD_VM1 "$TMP/hybrid.xml"
expect_refusal config_usage_error "Run 'acrn-ivshmem-config add-region --help'" \
	"$TMP/hybrid.xml" add-region -s 2 "$TMP/hybrid.xml"

# An output directory that does not exist: the error names it, the input stays.
expect_refusal config_output_directory_missing "cannot create a temporary file in $TMP/nodir" \
	"$TMP/hybrid.xml" add-vm -r shm_region_0 -v POST_STD_VM2 -o "$TMP/nodir/s.xml" "$TMP/hybrid.xml"

# A directory the tool cannot write to: the error names it, the file stays. Root writes anywhere,
# so as root the tool runs as nobody (setpriv) on a directory nobody may read but not write.
mkdir -m 0755 "$TMP/pub" && mkdir "$TMP/pub/ro" && cp "$TMP/hybrid.xml" "$TMP/pub/ro/s.xml" &&
	chmod 0644 "$TMP/pub/ro/s.xml" && chmod 0555 "$TMP/pub/ro" && chmod 0711 "$TMP"
if [ "$(id -u)" -eq 0 ]; then
	real_tool=$TOOL
	TOOL="setpriv --reuid=65534 --regid=65534 --clear-groups -- $real_tool"
fi
# shellcheck disable=SC2086 # TOOL may be "setpriv ... TOOL" here
expect_refusal config_unwritable_directory "cannot create a temporary file in" \
	"$TMP/pub/ro/s.xml" add-vm -r shm_region_0 -v POST_STD_VM2 "$TMP/pub/ro/s.xml"
[ "$(id -u)" -eq 0 ] && TOOL=$real_tool
chmod 0755 "$TMP/pub/ro"

# JSON output parses, for each command that prints it.
if ! command -v python3 >/dev/null 2>&1; then
	skip config_json_valid "python3 is not installed"
else
	ok=1
	h=$TMP/hybrid.xml
	for cmd in "list --json $h" "check --json $h" "save --json -o $TMP/copy.xml $h" \
		"generate launch --json $h" "check --json $TMP/malformed.xml" \
		"add-vm --json -r shm_region_0 -v NOBODY $h"; do
		# Commands that fail print JSON too: the exit status is not what is tested here.
		# shellcheck disable=SC2086
		out=$("$TOOL" $cmd 2>/dev/null)
		printf '%s' "$out" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null ||
			{ fail config_json_valid "$cmd printed invalid JSON"; ok=0; }
	done
	[ $ok = 1 ] && pass config_json_valid
fi

finish
