# Shared helpers for integration scripts. Source it, then call the functions below.
# Every script takes the build directory as $1 and prints "PASS: name", "FAIL: name: why" or
# "SKIP: name: why" lines; tests/run-tests.sh counts them.

BUILD=$(realpath "${1:-build}")
DM=$BUILD/bin/acrn-dm
GUESTS=$BUILD/guest
TMP=$(mktemp -d /tmp/acrn-it.XXXXXX)
FAILURES=0
# Regions the script created under /dev/shm, removed at exit (tests never leave data behind).
SHM_REGIONS=()
BG_PIDS=()

cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	local r
	for r in "${SHM_REGIONS[@]}"; do rm -f "/dev/shm/$r"; done
	# unique_region is usually called as $(...), a subshell whose SHM_REGIONS+= is lost; its
	# names carry this shell's pid ($$ is the same in subshells), so they are found by pattern.
	rm -f /dev/shm/*_"$$"_*
	rm -rf "$TMP"
}
trap cleanup EXIT

# Bounds on waits (not timing checks: a wait that runs out means something hung) stretch in the
# guest lab, where every instruction is emulated: TIME_SCALE multiplies them.
if [ "${ACRN_LAB:-0}" = 1 ]; then TIME_SCALE=${TIME_SCALE:-4}; else TIME_SCALE=${TIME_SCALE:-1}; fi
scaled() { echo $(($1 * TIME_SCALE)); }

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; FAILURES=$((FAILURES + 1)); }
skip() { echo "SKIP: $1: $2"; }
finish() { [ "$FAILURES" -eq 0 ]; exit $?; }

# kvm_usable: /dev/kvm exists and can be opened for reading and writing.
kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# require_kvm NAME...: returns when KVM is usable. Otherwise each NAME is a SKIP when the user
# forbade the guest lab (LAB=0), and a FAIL anywhere else: tests/run-tests.sh sends scripts with a
# "# needs: kvm" line to the guest lab where /dev/kvm is missing, so reaching this point without
# KVM means the lab itself is broken, or the script was run by hand (use lab/run -- SCRIPT).
require_kvm() {
	kvm_usable && return 0
	local n
	if [ "${ACRN_LAB_FORBIDDEN:-0}" = 1 ]; then
		for n in "$@"; do skip "$n" "/dev/kvm is missing and LAB=0 forbids the guest lab"; done
	else
		for n in "$@"; do fail "$n" "/dev/kvm is missing or not accessible (run it in the guest lab: lab/run -- $0)"; done
	fi
	finish
}

# unique_region PREFIX: a region name no other run uses (PREFIX_<pid>_<random>); removed at exit.
unique_region() {
	local name="$1_$$_$RANDOM"
	SHM_REGIONS+=("$name")
	echo "$name"
}

# run_vm TIMEOUT OUTFILE ARGS...: runs acrn-dm in the foreground with a timeout; returns its
# exit status (124 on timeout). Guest serial output and acrn-dm's log both go to OUTFILE.
run_vm() {
	local t out=$2
	t=$(scaled "$1")
	shift 2
	timeout --kill-after=5 "$t" "$DM" --vmm kvm --debugexit -l com1,stdio "$@" >"$out" 2>&1
}

# start_vm OUTFILE ARGS...: runs acrn-dm in the background; its pid is in $VM_PID.
start_vm() {
	local out=$1
	shift
	"$DM" --vmm kvm --debugexit -l com1,stdio "$@" >"$out" 2>&1 &
	VM_PID=$!
	BG_PIDS+=("$VM_PID")
}

# wait_vm PID TIMEOUT: waits for a background VM; returns its status (124 when it had to be killed).
wait_vm() {
	local pid=$1 t=$(($2 * TIME_SCALE)) i
	for ((i = 0; i < t * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			return $?
		fi
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

# wait_for_line FILE PATTERN TIMEOUT: waits until FILE has a line matching PATTERN.
wait_for_line() {
	local f=$1 p=$2 t=$(($3 * TIME_SCALE)) i
	for ((i = 0; i < t * 10; i++)); do
		grep -q -- "$p" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# show FILE: a transcript, indented so that its own PASS/FAIL lines are not counted.
show() { sed 's/^/    | /' "$1"; }

# guest_passed OUT STATUS GUEST: acrn-dm exited 0 and the guest printed its final "PASS: GUEST" and
# no FAIL line.
guest_passed() {
	[ "$2" -eq 0 ] && grep -qx "PASS: $3" "$1" && ! grep -q '^FAIL: ' "$1"
}

# expect_guest_pass NAME OUTFILE STATUS: PASS when the guest printed "PASS: " and exited 0.
expect_guest_pass() {
	local name=$1 out=$2 status=$3
	if [ "$status" -eq 0 ] && grep -q '^PASS: ' "$out" && ! grep -q '^FAIL: ' "$out"; then
		pass "$name"
	else
		fail "$name" "exit status $status; output: $(tail -n 8 "$out" | tr '\n' '|')"
	fi
}

# The slots every ACRN launch script has.
BASE_SLOTS=(-s 0:0,hostbridge -s 1:0,lpc)
