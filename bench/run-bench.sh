#!/usr/bin/env bash
# make bench: benchmarks reported as ratios against baselines measured in the same run, written
# to BUILD/bench/results.txt and printed. Timing is never asserted: only a run that fails to
# produce a number is an error.
#
#   bandwidth: two guests (bench/guests/bench_bw.c) move BENCH_BW_MIB MiB through BAR2 in 1 MiB
#              chunks, flow-controlled over ivmsg; against host memcpy and against two host
#              threads running the same protocol code through ordinary memory (bench/host/membw.c).
#              Timed by the sending guest's TSC, and by wall time minus a run that moves nothing.
#   latency:   ivmsg round trips between the two guests, against two host threads.
#   start-up:  acrn-dm start to exit with a 512 MiB region (guest exiting at once, or touching
#              every page first), POSIX shm against hugetlbfs, against a VM without the region.
#              Huge pages are reserved for the run and given back; hugetlbfs is skipped, with a
#              note, when they cannot be reserved.
#   doorbell:  bench/doorbell/run.sh, when present, appends its own block afterwards.
#   server:    bench/server/run.sh (acrn-ivshmem-server under hostile clients), likewise.
#
# Usage: bench/run-bench.sh [BUILD_DIR]. Knobs: BENCH_RUNS (3), BENCH_BW_MIB (16),
# BENCH_PINGS (100), BENCH_BOOT_RUNS (5). The defaults stay well under five minutes here.
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=$(realpath "${1:-build}")
DM=$BUILD/bin/acrn-dm
GUESTS=$BUILD/guest
MEMBW=$BUILD/bench/membw
OUT=$BUILD/bench
RESULTS=$OUT/results.txt
RAW=$OUT/raw.txt
RUNS=${BENCH_RUNS:-3}
BW_MIB=${BENCH_BW_MIB:-16}
PINGS=${BENCH_PINGS:-100}
BOOT_RUNS=${BENCH_BOOT_RUNS:-5}
BOOT_MB=512
VM_TIMEOUT=120

TMP=$(mktemp -d /tmp/acrn-bench.XXXXXX)
REGIONS=()		# /dev/shm names to remove
BG_PIDS=()
HUGE_ADDED=0		# huge pages this script added to nr_hugepages
HUGE_DIR=

cleanup() {
	local pid r
	for pid in "${BG_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	for r in "${REGIONS[@]}"; do rm -f "/dev/shm/$r"; done
	if [ -n "$HUGE_DIR" ]; then
		rm -f "$HUGE_DIR"/* 2>/dev/null
		umount "$HUGE_DIR" 2>/dev/null
	fi
	if [ "$HUGE_ADDED" -gt 0 ]; then
		local now
		now=$(cat /proc/sys/vm/nr_hugepages)
		echo $((now > HUGE_ADDED ? now - HUGE_ADDED : 0)) >/proc/sys/vm/nr_hugepages 2>/dev/null
	fi
	rm -rf "$TMP"
	# Run twice (before the other benchmarks, then by the trap): the second time is a no-op.
	BG_PIDS=() REGIONS=() HUGE_ADDED=0 HUGE_DIR=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { echo "bench: $*" >&2; }
die() { note "$*"; exit 1; }

# Microseconds since the epoch, without a fork.
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# median: of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# field KEY FILE: the value of KEY=value on the file's BENCH/HOST line.
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" "$2" | head -n 1; }

unique_region() {
	local name="bench_$$_$RANDOM$RANDOM"
	REGIONS+=("$name")
	echo "$name"
}

# vm OUTFILE ARGS...: one acrn-dm run in the foreground; its exit status.
vm() {
	local out=$1
	shift
	timeout --kill-after=5 "$VM_TIMEOUT" "$DM" --vmm kvm --debugexit -l com1,stdio \
		-s 0:0,hostbridge -s 1:0,lpc -m 128M "$@" >"$out" 2>&1
}

# bw_pair MIB PINGS: runs a tx and an rx guest on one fresh region. Sets TX_OUT, RX_OUT and
# WALL_US (both started to both ended); returns non-zero when either VM failed.
bw_pair() {
	local mib=$1 pings=$2 region t0 rx_pid tx_rc rx_rc
	region=$(unique_region)
	TX_OUT=$TMP/tx.out RX_OUT=$TMP/rx.out
	t0=$(now_us)
	vm "$RX_OUT" -s 5,ivshmem,dm:/$region,4 -E "$GUESTS/bench_bw.elf" -B "role=rx" bench_rx &
	rx_pid=$!
	BG_PIDS+=("$rx_pid")
	vm "$TX_OUT" -s 5,ivshmem,dm:/$region,4 -E "$GUESTS/bench_bw.elf" \
		-B "role=tx mib=$mib pings=$pings" bench_tx
	tx_rc=$?
	wait "$rx_pid"
	rx_rc=$?
	WALL_US=$(($(now_us) - t0))
	rm -f "/dev/shm/$region"
	if [ "$tx_rc" -ne 0 ] || [ "$rx_rc" -ne 0 ]; then
		note "guest transfer failed (tx exit $tx_rc, rx exit $rx_rc):"
		tail -n 3 "$TX_OUT" "$RX_OUT" >&2
		return 1
	fi
	cat "$TX_OUT" "$RX_OUT" >>"$RAW"
}

# ratio A B: A / B with enough digits for very small or very large values.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else { r = a / b; printf (r < 0.01 ? "%.2e" : "%.3f"), r } }'; }
# mibps BYTES US
mibps() { awk -v b="$1" -v u="$2" 'BEGIN { if (u <= 0) print 0; else printf "%.2f", b / 1048576 / (u / 1e6) }'; }

kvm_ok() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# ---- preconditions ----
[ -x "$DM" ] && [ -x "$MEMBW" ] && [ -f "$GUESTS/bench_bw.elf" ] && [ -f "$GUESTS/bench_boot.elf" ] ||
	die "build first: make BUILD=$BUILD build-all (missing acrn-dm, bench/membw or the bench guests)"
mkdir -p "$OUT"
: >"$RAW"
START_US=$(now_us)

{
	echo "# acrn-ivshmem benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs"
	echo "# KVM: $(if [ -d /sys/module/kvm_pvm ]; then echo "kvm_pvm (paravirtual: guest kernel code is instruction-emulated)"; elif kvm_ok; then echo "/dev/kvm"; else echo "none"; fi)"
	echo "# Ratios compare with baselines measured in this same run; absolute values are for orientation only."
} >"$TMP/head"

# ---- host baselines ----
note "host baselines (memcpy, two threads through ivmsg)"
"$MEMBW" 1024 1024 10000 >"$TMP/host.out" 2>&1 || die "membw failed: $(cat "$TMP/host.out")"
cat "$TMP/host.out" >>"$RAW"
H_MEMCPY_BYTES=$(field bytes "$TMP/host.out")
H_MEMCPY_US=$(sed -n 's/^HOST memcpy .* us=\([0-9]*\).*/\1/p' "$TMP/host.out")
H_PIPE_BYTES=$(sed -n 's/^HOST pipe bytes=\([0-9]*\).*/\1/p' "$TMP/host.out")
H_PIPE_US=$(sed -n 's/^HOST pipe .* xfer_us=\([0-9]*\).*/\1/p' "$TMP/host.out")
H_PINGS=$(sed -n 's/^HOST pipe .* pings=\([0-9]*\).*/\1/p' "$TMP/host.out")
H_PING_US=$(sed -n 's/^HOST pipe .* ping_us=\([0-9]*\).*/\1/p' "$TMP/host.out")
H_MEMCPY_MIBPS=$(mibps "$H_MEMCPY_BYTES" "$H_MEMCPY_US")
H_PIPE_MIBPS=$(mibps "$H_PIPE_BYTES" "$H_PIPE_US")
H_RTT_US=$(awk -v t="$H_PING_US" -v n="$H_PINGS" 'BEGIN { printf "%.2f", t / n }')

{
	echo
	echo "[bandwidth] guest to guest through BAR2: $BW_MIB MiB in 1 MiB chunks, 2 buffers; median of $RUNS"
	printf '  %-50s %10s MiB/s   %s\n' "host memcpy, 1 MiB blocks, best of 3" "$H_MEMCPY_MIBPS" "baseline"
	printf '  %-50s %10s MiB/s   ratio %s\n' "host threads, same protocol and code, best of 3" "$H_PIPE_MIBPS" \
		"$(ratio "$H_PIPE_MIBPS" "$H_MEMCPY_MIBPS")"
} >"$TMP/bw"
{
	echo
	echo "[latency] ivmsg round trip (send, peer answers, receive), polling"
	printf '  %-50s %10s us      %s\n' "host threads, $H_PINGS round trips, best of 3" "$H_RTT_US" "baseline"
} >"$TMP/lat"
: >"$TMP/boot"

if ! kvm_ok; then
	note "/dev/kvm is missing or not accessible: guest benchmarks skipped"
	echo "  guest runs skipped: /dev/kvm is missing or not accessible" | tee -a "$TMP/bw" >>"$TMP/lat"
else
	# ---- bandwidth and latency ----
	for ((i = 1; i <= RUNS; i++)); do
		note "bandwidth run $i/$RUNS: empty pair, then $BW_MIB MiB"
		bw_pair 0 0 || die "empty guest pair failed"
		echo "$WALL_US" >>"$TMP/wall_empty"
		bw_pair "$BW_MIB" 0 || die "guest transfer failed"
		echo "$WALL_US" >>"$TMP/wall_bw"
		field xfer_us "$TX_OUT" >>"$TMP/tx_us"
	done
	note "latency: $PINGS round trips between the guests"
	bw_pair 0 "$PINGS" || die "guest ping-pong failed"
	G_RTT_US=$(awk -v t="$(field ping_us "$TX_OUT")" -v n="$PINGS" 'BEGIN { printf "%.1f", t / n }')
	G_TIMER=$(field timer "$TX_OUT")

	BYTES=$((BW_MIB * 1048576))
	TX_US=$(median <"$TMP/tx_us")
	WALL_EMPTY=$(median <"$TMP/wall_empty")
	WALL_BW=$(median <"$TMP/wall_bw")
	G_TSC_MIBPS=$(mibps "$BYTES" "$TX_US")
	G_WALL_MIBPS=$(mibps "$BYTES" $((WALL_BW - WALL_EMPTY)))
	{
		printf '  %-50s %10s MiB/s   ratio %s\n' "guest to guest, timed by the guest's TSC" \
			"$G_TSC_MIBPS" "$(ratio "$G_TSC_MIBPS" "$H_MEMCPY_MIBPS")"
		printf '  %-50s %10s MiB/s   ratio %s\n' "guest to guest, wall time minus empty run" \
			"$G_WALL_MIBPS" "$(ratio "$G_WALL_MIBPS" "$H_MEMCPY_MIBPS")"
		echo "  (the guests' TSC rate was calibrated against the LAPIC timer, its rate $G_TIMER)"
		printf '  %-50s %10s MiB/s   ratio %s\n' "guest to guest vs host threads (TSC)" \
			"$G_TSC_MIBPS" "$(ratio "$G_TSC_MIBPS" "$H_PIPE_MIBPS")"
	} >>"$TMP/bw"
	printf '  %-50s %10s us      ratio %s\n' "guest to guest, $PINGS round trips" "$G_RTT_US" \
		"$(ratio "$G_RTT_US" "$H_RTT_US")" >>"$TMP/lat"

	# ---- start-up with a 512 MiB region ----
	. bench/hugepages.sh
	variants=(none shm shm_touch)
	if huge_reserve $((BOOT_MB / 2)) "$TMP/huge"; then
		variants+=(huge huge_touch)
	fi
	note "start-up: ${variants[*]}, $BOOT_RUNS runs each, interleaved"
	for ((i = 1; i <= BOOT_RUNS; i++)); do
		for v in "${variants[@]}"; do
			region=$(unique_region)
			args=()
			case $v in
			none) ;;
			shm*) args=(-s "5,ivshmem,dm:/$region,$BOOT_MB") ;;
			huge*) args=(-s "5,ivshmem,dm:/$region,$BOOT_MB,0,mem=hugetlbfs,hugetlbfs=$HUGE_DIR") ;;
			esac
			boot_args=""
			[[ $v == *_touch ]] && boot_args=touch
			t0=$(now_us)
			vm "$TMP/boot.out" "${args[@]}" -E "$GUESTS/bench_boot.elf" -B "$boot_args" bench_boot ||
				die "start-up run '$v' failed: $(tail -n 3 "$TMP/boot.out")"
			echo $(($(now_us) - t0)) >>"$TMP/boot_$v"
			rm -f "/dev/shm/$region" "$HUGE_DIR/$region" 2>/dev/null
		done
	done
	base_ms=$(awk -v u="$(median <"$TMP/boot_none")" 'BEGIN { printf "%.1f", u / 1000 }')
	{
		echo
		echo "[start-up] acrn-dm start to exit, 128 MiB guest, ${BOOT_MB} MiB region; median of $BOOT_RUNS"
		for v in "${variants[@]}"; do
			case $v in
			none) label="no region, guest exits at once" ;;
			shm) label="POSIX shm, guest exits at once" ;;
			shm_touch) label="POSIX shm, guest touches every 4 KiB" ;;
			huge) label="hugetlbfs, guest exits at once" ;;
			huge_touch) label="hugetlbfs, guest touches every 4 KiB" ;;
			esac
			ms=$(awk -v u="$(median <"$TMP/boot_$v")" 'BEGIN { printf "%.1f", u / 1000 }')
			if [ "$v" = none ]; then
				printf '  %-50s %10s ms      %s\n' "$label" "$ms" "baseline"
			else
				printf '  %-50s %10s ms      ratio %s\n' "$label" "$ms" "$(ratio "$ms" "$base_ms")"
			fi
		done
		[ -n "$HUGE_DIR" ] || echo "  hugetlbfs skipped: $HUGE_NOTE"
	} >"$TMP/boot"
fi

{
	cat "$TMP/head" "$TMP/bw" "$TMP/lat" "$TMP/boot"
	echo
	echo "# whole run: $((($(now_us) - START_US) / 1000000)) s; raw lines in $RAW"
} >"$RESULTS"
cat "$RESULTS"

# Other benchmarks under bench/ append their own block to $RESULTS (bench/doorbell: doorbell
# round trips between VMs); our huge pages and regions are given back before they start.
cleanup
if [ -f bench/doorbell/run.sh ]; then
	bash bench/doorbell/run.sh "$BUILD" || exit 1
fi
if [ -f bench/server/run.sh ]; then
	bash bench/server/run.sh "$BUILD" || exit 1
fi
