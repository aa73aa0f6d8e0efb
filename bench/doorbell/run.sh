#!/usr/bin/env bash
# The doorbell benchmarks: a guest-to-guest doorbell round trip between two acrn-dm VMs (fast
# path: ioeventfd + irqfd; user-space path: ioeventfd=off,irqfd=off) and between two QEMU VMs on
# ivshmem-doorbell, next to floors measured in the same run (host eventfd ping-pong, one guest
# exit). Every figure is reported as a ratio to another one measured here, never judged: timing
# never fails this script; only a VM that does not finish does (exit status 1).
#
# Usage: bench/doorbell/run.sh [BUILD_DIR]      (make bench runs it through bench/run-bench.sh)
# Appends its block to BUILD_DIR/bench/results.txt, prints it, and rewrites
# bench/doorbell/RESULTS.md with the figures. Environment knobs:
#   DB_BENCH_N=5000        timed round trips per VM pair
#   DB_BENCH_ROUNDS=3      VM pairs per configuration, run interleaved (A B C C B A ...)
#   DB_BENCH_QEMU=0        leave QEMU out
#   DB_BENCH_RESULTS_MD=0  do not rewrite RESULTS.md
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(realpath "${1:-build}")
DM=$BUILD/bin/acrn-dm
SERVER=$BUILD/bin/acrn-ivshmem-server
GUEST=$BUILD/guest/db_bench.elf
PINGPONG=$BUILD/bench/bin/eventfd-pingpong
STATS=$BUILD/bench/bin/db-stats
RESULTS=$BUILD/bench/results.txt
N=${DB_BENCH_N:-5000}
ROUNDS=${DB_BENCH_ROUNDS:-3}
# An unclaimed port and MMIO address on acrn-dm (COM4 and the HPET's place: neither emulated).
EXIT_PORT=0x2e8
EXIT_MMIO=0xfed00000

TMP=$(mktemp -d /tmp/db-bench.XXXXXX)
BG_PIDS=()
REGIONS=()
FAILED=0

# shellcheck disable=SC2317 # called through the trap
cleanup() {
	local p r
	for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	for r in "${REGIONS[@]}"; do rm -f "/dev/shm/$r"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { echo "doorbell: $*" >&2; }
nonce() { echo $(( (RANDOM << 30 | RANDOM << 15 | RANDOM) + 1 )); }
# field KEY LINE: the value of KEY=value in a RESULT line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
us() { awk -v ns="${1:-0}" 'BEGIN { printf "%.1f", ns / 1000 }'; }
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

for f in "$DM" "$SERVER" "$GUEST" "$PINGPONG" "$STATS"; do
	if [ ! -e "$f" ]; then
		echo "doorbell: $f is missing (run make first)" >&2
		exit 1
	fi
done

kvm_ok=0
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && kvm_ok=1
QEMU=$(command -v qemu-system-x86_64 || true)
qemu_ok=0
qemu_why=
if [ "${DB_BENCH_QEMU:-1}" = 0 ]; then
	qemu_why="DB_BENCH_QEMU=0"
elif [ -z "$QEMU" ]; then
	qemu_why="qemu-system-x86_64 is not installed"
elif ! "$QEMU" -device help 2>/dev/null | grep -q '"ivshmem-doorbell"'; then
	qemu_why="this QEMU has no ivshmem-doorbell"
elif [ $kvm_ok = 0 ]; then
	qemu_why="/dev/kvm is missing or not accessible"
else
	qemu_ok=1
fi

# ---- the machine ----
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
KVM_PVM=no
[ -d /sys/module/kvm_pvm ] && KVM_PVM=yes
QEMU_VERSION=$([ -n "$QEMU" ] && "$QEMU" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')
HOST_TSC_KHZ=$("$STATS" -T)
MACHINE="nproc=$(nproc) cpu=\"$CPU_MODEL\" kernel=$(uname -r) kvm_pvm=$KVM_PVM qemu=${QEMU_VERSION:-none} host_tsc_khz=$HOST_TSC_KHZ"
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
note "$MACHINE"

# ---- floor (a): eventfd ping-pong between two host processes ----
# Left to the scheduler, measured once per round (below) between the VM pairs, so that it sees the
# same machine they do; pinned to two CPUs once here, for orientation.
EFD_LINES=()
EFD_PIN=''
if [ "$(nproc)" -ge 2 ]; then
	note "eventfd ping-pong, pinned to CPUs 0 and 1"
	EFD_PIN=$("$PINGPONG" -n 5000 -w 500 -c 0,1) || FAILED=1
fi

# ---- floor (b): one guest exit, and the guest's own interrupt path ----
EXIT_PIO='' EXIT_MMIO_LINE='' SELFIPI=''
if [ $kvm_ok = 1 ]; then
	note "guest exits and self-IPIs under acrn-dm"
	if timeout --kill-after=5 60 "$DM" --vmm kvm --debugexit -l com1,stdio -m 128M \
		-s 0:0,hostbridge -s 1:0,lpc -B "role=exits n=20000 port=$EXIT_PORT mmio=$EXIT_MMIO" \
		-E "$GUEST" db-bench-exits >"$TMP/exits.log" 2>&1; then
		EXIT_PIO=$(grep -m1 '^RESULT exits pio' "$TMP/exits.log")
		EXIT_MMIO_LINE=$(grep -m1 '^RESULT exits mmio' "$TMP/exits.log")
		SELFIPI=$(grep -m1 '^RESULT exits selfipi' "$TMP/exits.log")
	else
		note "the exits guest failed:"; grep -E 'FAIL|error' "$TMP/exits.log" >&2
		FAILED=1
	fi
else
	note "SKIP: guest exits and VM round trips: /dev/kvm is missing or not accessible"
fi

# ---- round trips ----
declare -A RUNS=()	# configuration -> "FILE:NONCE ..."
declare -A PER_RUN=()	# configuration -> "median/mean ..." per pair, in microseconds

# start_server SOCK REGION: a private acrn-ivshmem-server for one pair.
start_server() {
	"$SERVER" -F -S "$1" -M "$2" -l 2M -n 1 2>"$TMP/server.log" &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	REGIONS+=("$2")
	local i
	for i in $(seq 50); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	note "acrn-ivshmem-server did not start: $(cat "$TMP/server.log")"
	return 1
}

# wait_pid PID SECONDS: its exit status, or 124 after killing it.
wait_pid() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
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

# perf can count KVM's tracepoints for one process: the work a round trip costs, which (unlike
# its time) a busy machine does not change.
perf_ok=0
command -v perf >/dev/null 2>&1 && perf stat -e kvm:kvm_mmio -- true >/dev/null 2>&1 && perf_ok=1
declare -A WORK=()	# configuration -> what the pong VM did per round trip

# count_work CFG PONG_PID PING_LOG: once the ping's timed loop runs, counts the pong's MSIs,
# MMIO exits, exits to user space and emulated instructions for one second.
count_work() {
	local cfg=$1 pong=$2 pinglog=$3 i
	for ((i = 0; i < 600; i++)); do
		grep -q 'timed round trips' "$pinglog" 2>/dev/null && break
		kill -0 "$pong" 2>/dev/null || return 0
		sleep 0.1
	done
	sleep 0.3
	perf stat -x, -e kvm:kvm_msi_set_irq,kvm:kvm_mmio,kvm:kvm_userspace_exit,kvm:kvm_emulate_insn \
		-p "$pong" -- sleep 1 2>"$TMP/perf.$cfg" >/dev/null || return 0
	WORK[$cfg]=$(awk -F, '
		{ c[$3] = $1 }
		END {
			irq = c["kvm:kvm_msi_set_irq"]
			if (irq > 0)
				printf "%.1f MMIO exits (%.1f to user space), %.0f emulated instructions (%d round trips counted)",
					c["kvm:kvm_mmio"] / irq, c["kvm:kvm_userspace_exit"] / irq,
					c["kvm:kvm_emulate_insn"] / irq, irq
		}' "$TMP/perf.$cfg")
}

# pair CONFIG ROUND: one ping-pong between two VMs; CONFIG is fast, user or qemu.
pair() {
	local cfg=$1 round=$2 sock=$TMP/$1.$2.sock region="db_bench_$$_$1_$2" n
	local log=$TMP/$cfg.$round vm pong_args ping_args
	n=$(nonce)
	start_server "$sock" "$region" || return 1

	if [ "$cfg" = qemu ]; then
		# shellcheck disable=SC2054 # the commas belong to the options
		vm=("$QEMU" -accel kvm -m 128 -display none -serial stdio -monitor none -no-reboot
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 -chardev "socket,path=$sock,id=c"
			-device ivshmem-doorbell,chardev=c,vectors=1,ioeventfd=on -kernel "$GUEST")
		pong_args=(-append "role=pong nonce=$n")
		ping_args=(-append "role=ping nonce=$n n=$N")
	else
		local opts=
		[ "$cfg" = user ] && opts=,ioeventfd=off,irqfd=off
		# shellcheck disable=SC2054 # the commas belong to the options
		vm=("$DM" --vmm kvm --debugexit -l com1,stdio -m 128M -s 0:0,hostbridge -s 1:0,lpc
			-s "5,ivshmem,dm:/$region,2,vectors=1,server=$sock$opts" -E "$GUEST")
		pong_args=(-B "role=pong nonce=$n" "db-bench-pong-$round")
		ping_args=(-B "role=ping nonce=$n n=$N" "db-bench-ping-$round")
	fi
	"${vm[@]}" "${pong_args[@]}" >"$log.pong" 2>&1 &
	local pong=$!
	BG_PIDS+=("$pong")
	timeout --kill-after=5 120 "${vm[@]}" "${ping_args[@]}" >"$log.ping" 2>&1 &
	local ping=$!
	BG_PIDS+=("$ping")
	[ "$round" = 1 ] && [ $perf_ok = 1 ] && count_work "$cfg" "$pong" "$log.ping"
	local ping_st pong_st
	wait "$ping"
	ping_st=$?
	wait_pid "$pong" 20
	pong_st=$?
	if [ "$cfg" = qemu ]; then
		# isa-debug-exit: (code << 1) | 1, so a guest that passed exits 1.
		[ $ping_st = 1 ] && ping_st=0
		[ $pong_st = 1 ] && pong_st=0
	fi
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null

	if [ "$ping_st" != 0 ] || [ "$pong_st" != 0 ]; then
		note "$cfg round $round failed (ping $ping_st, pong $pong_st):"
		grep -hE 'FAIL|error|warn' "$log.ping" "$log.pong" | sed 's/^/  /' >&2
		rm -f "/dev/shm/$region"
		return 1
	fi
	cp "/dev/shm/$region" "$log.region"
	rm -f "/dev/shm/$region"
	local one
	one=$("$STATS" -k "$HOST_TSC_KHZ" "$log.region:$n") || return 1
	RUNS[$cfg]+=" $log.region:$n"
	PER_RUN[$cfg]+=" $(us "$(field median "$one")")/$(us "$(field mean "$one")")"
	note "$cfg round $round: median $(us "$(field median "$one")") us, mean $(us "$(field mean "$one")") us"
}

CONFIGS=()
if [ $kvm_ok = 1 ]; then
	CONFIGS=(fast user)
	[ $qemu_ok = 1 ] && CONFIGS+=(qemu)
fi
[ $qemu_ok = 0 ] && note "SKIP: QEMU round trips: $qemu_why"

# Interleaved, each round in the opposite order of the previous one, so that a machine getting
# busier or quieter during the run weighs on every configuration alike.
for ((r = 1; r <= ROUNDS; r++)); do
	order=("${CONFIGS[@]}")
	if ((r % 2 == 0)); then
		order=()
		for ((i = ${#CONFIGS[@]} - 1; i >= 0; i--)); do order+=("${CONFIGS[$i]}"); done
	fi
	note "round $r: eventfd ping-pong"
	line=$("$PINGPONG" -n 10000 -w 500) && EFD_LINES+=("$line") || FAILED=1
	for cfg in "${order[@]}"; do
		note "round $r: $cfg ($N round trips)"
		pair "$cfg" "$r" || FAILED=1
	done
done

declare -A RT=()
for cfg in "${CONFIGS[@]}"; do
	[ -n "${RUNS[$cfg]:-}" ] || continue
	# shellcheck disable=SC2086 # the list is FILE:NONCE words
	RT[$cfg]=$("$STATS" -k "$HOST_TSC_KHZ" ${RUNS[$cfg]}) || FAILED=1
done

# ---- the report ----
# efd KEY: the median over the rounds of the eventfd runs' KEY (median, mean, p10).
efd() {
	local l
	for l in "${EFD_LINES[@]}"; do field "$1" "$l"; done |
		sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
pio=$(field per_exit "$EXIT_PIO")
# floor KEY: eventfd KEY + two exits.
floor() {
	local e
	e=$(efd "$1")
	[ -n "$e" ] && [ -n "$pio" ] && echo $((e + 2 * pio))
}
rt() { field "$1" "${RT[$2]:-}"; }

rt_line() {
	local label=$1 cfg=$2 line=${RT[$2]:-}
	if [ -z "$line" ]; then
		printf '    %-44s skipped or failed\n' "$label"
		return
	fi
	printf '    %-44s median %7s us  mean %7s us  p10 %7s us  p90 %7s us  p99 %7s us  (n=%s, %s pairs, lost %s)\n' \
		"$label" "$(us "$(field median "$line")")" "$(us "$(field mean "$line")")" \
		"$(us "$(field p10 "$line")")" "$(us "$(field p90 "$line")")" \
		"$(us "$(field p99 "$line")")" "$(field n "$line")" "$(field runs "$line")" \
		"$(field lost "$line")"
	printf '    %-44s per pair (median/mean us):%s%s\n' "" "${PER_RUN[$cfg]}" \
		"$([ "$(field rescaled "$line")" != 0 ] && echo ", TSC rate rescaled in $(field rescaled "$line")")"
}

# ratio_line LABEL A_CFG B_CFG: A / B for the medians, means and 10th percentiles; a B_CFG of
# "floor" is the floor.
ratio_line() {
	local k out=()
	for k in median mean p10; do
		if [ "$3" = floor ]; then
			out+=("$(ratio "$(rt "$k" "$2")" "$(floor "$k")")")
		else
			out+=("$(ratio "$(rt "$k" "$2")" "$(rt "$k" "$3")")")
		fi
	done
	printf '    %-44s median %5s   mean %5s   p10 %5s\n' "$1" "${out[@]}"
}

report() {
	echo
	echo "[doorbell] guest-to-guest doorbell round trips (bench/doorbell/run.sh), $DATE"
	echo "  machine: $MACHINE"
	echo "  floors, measured in this run:"
	if [ ${#EFD_LINES[@]} -gt 0 ]; then
		printf '    %-44s median %7s us  mean %7s us  p10 %7s us  (median of %s runs)\n' \
			"eventfd ping-pong, 2 processes, unpinned" "$(us "$(efd median)")" \
			"$(us "$(efd mean)")" "$(us "$(efd p10)")" "${#EFD_LINES[@]}"
	fi
	if [ -n "$EFD_PIN" ]; then
		printf '    %-44s median %7s us  mean %7s us\n' "eventfd ping-pong, pinned to CPUs 0 and 1" \
			"$(us "$(field median "$EFD_PIN")")" "$(us "$(field mean "$EFD_PIN")")"
	fi
	if [ -n "$EXIT_PIO" ]; then
		printf '    %-44s %7s us (port %s), MMIO read %s us (%s)\n' "guest exit, acrn-dm, unclaimed port read" \
			"$(us "$pio")" "$EXIT_PORT" "$(us "$(field per_exit "$EXIT_MMIO_LINE")")" "$EXIT_MMIO"
		printf '    %-44s %7s us (for orientation, not part of the floor)\n' \
			"guest interrupt: self-IPI taken by wait_irq()" "$(us "$(field per_irq "$SELFIPI")")"
	else
		printf '    %-44s skipped (no KVM) or failed\n' "guest exit"
	fi
	[ -n "$(floor median)" ] && printf '    %-44s %7s us\n' "floor = eventfd median + 2 port exits" \
		"$(us "$(floor median)")"
	echo "  round trip (ping rings, pong answers), timed in the ping guest with its TSC:"
	rt_line "acrn-dm fast path (ioeventfd + irqfd)" fast
	rt_line "acrn-dm user-space path (both off)" user
	if [ $qemu_ok = 1 ]; then
		rt_line "QEMU ivshmem-doorbell (ioeventfd=on)" qemu
	else
		printf '    %-44s skipped: %s\n' "QEMU ivshmem-doorbell" "$qemu_why"
	fi
	if [ ${#WORK[@]} -gt 0 ]; then
		echo "  work per round trip in the pong VM (perf, KVM tracepoints, 1 s of the first pair):"
		local cfg label
		for cfg in "${CONFIGS[@]}"; do
			case $cfg in
			fast) label="acrn-dm fast path" ;;
			user) label="acrn-dm user-space path" ;;
			qemu) label="QEMU ivshmem-doorbell" ;;
			esac
			printf '    %-44s %s\n' "$label" "${WORK[$cfg]:-not counted}"
		done
	fi
	echo "  ratios (of the medians, means and 10th percentiles above):"
	ratio_line "acrn-dm fast / floor" fast floor
	ratio_line "acrn-dm fast / QEMU (target <= 1.0)" fast qemu
	ratio_line "acrn-dm user-space / QEMU" user qemu
	ratio_line "acrn-dm fast / user-space path" fast user
	[ $FAILED = 0 ] || echo "  note: some measurements failed; see the messages above"
}

mkdir -p "$BUILD/bench"
report >"$TMP/report.txt"
cat "$TMP/report.txt" >>"$RESULTS"
cat "$TMP/report.txt"

# RESULTS.md: the text above the marker line is kept, the figures below it are replaced.
MARKER='<!-- figures: written by bench/doorbell/run.sh, everything below is replaced -->'
if [ "${DB_BENCH_RESULTS_MD:-1}" != 0 ] && [ -w "$HERE" ]; then
	{
		if grep -qxF "$MARKER" "$HERE/RESULTS.md" 2>/dev/null; then
			awk -v m="$MARKER" '{ print } $0 == m { exit }' "$HERE/RESULTS.md"
		else
			echo "$MARKER"
		fi
		echo
		echo '```'
		sed '/./,$!d' "$TMP/report.txt"
		echo '```'
	} >"$TMP/RESULTS.md" && cp "$TMP/RESULTS.md" "$HERE/RESULTS.md"
fi
exit $FAILED
