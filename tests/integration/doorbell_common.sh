# Helpers of the doorbell integration scripts (doorbell_*.sh, qemu_interop*.sh), sourced after
# lib.sh. Run on its own (tests/run-tests.sh runs every *.sh) it defines them and exits quietly.
#
# The doorbell guest (build/guest/doorbell.elf) and its roles are described in
# tests/guest/doorbell/doorbell.c. Each VM here gets a 2 MiB region with DB_VECTORS vectors.

DB_GUEST=$GUESTS/doorbell.elf
DB_SERVER=$BUILD/bin/acrn-ivshmem-server
DB_VECTORS=4
DB_RUN_DIR=/run/acrn-ivshmem	# IVSHMEM_SERVER_DIR: where acrn-dm starts its own server
DB_REGIONS=()			# regions whose auto-started server files are removed at exit
DB_VM_OUT=()

# db_require NAME...: SKIP the named tests and exit when KVM or the binaries are missing.
db_require() {
	require_kvm "$@"
	local n missing=
	for f in "$DM" "$DB_SERVER" "$DB_GUEST"; do [ -e "$f" ] || missing+=" $f"; done
	if [ -n "$missing" ]; then
		for n in "$@"; do fail "$n" "missing:$missing (make build-all)"; done
		exit 1
	fi
}

# db_region PREFIX: a fresh region name whose /run/acrn-ivshmem files are cleaned up at exit.
# (Not through $(...): DB_REGIONS must be set in this shell.) Sets REGION.
db_region() {
	REGION="$1_$$_$RANDOM"
	SHM_REGIONS+=("$REGION")
	DB_REGIONS+=("$REGION")
}

# db_start_vm OUT VMNAME REGION DEVOPTS GUESTARGS: a doorbell VM in the background ($VM_PID).
# DEVOPTS is appended to "dm:/REGION,2,vectors=N" (e.g. ",ioeventfd=off,irqfd=off").
db_start_vm() {
	local out=$1 name=$2 region=$3 devopts=$4 args=$5
	start_vm "$out" -m 128M "${BASE_SLOTS[@]}" \
		-s "3,ivshmem,dm:/$region,2,vectors=$DB_VECTORS$devopts" \
		-B "vectors=$DB_VECTORS $args" -E "$DB_GUEST" "$name"
	DB_VM_OUT+=("$out")
}

# db_server_pids REGION: pids of acrn-ivshmem-server processes serving REGION (by command line).
db_server_pids() {
	local p cmd
	for p in /proc/[0-9]*; do
		cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
		case $cmd in
		*acrn-ivshmem-server*" -M $1 "*) echo "${p#/proc/}" ;;
		esac
	done
}

# db_kill_servers REGION [SIGNAL]: signals every server of REGION (by pid).
db_kill_servers() {
	local pid
	for pid in $(db_server_pids "$1"); do kill "-${2:-KILL}" "$pid" 2>/dev/null; done
}

# db_wait_no_server REGION TIMEOUT: waits until no server serves REGION.
db_wait_no_server() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -z "$(db_server_pids "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}

# db_stop REGION: tells the echo guests on REGION to finish ("STOP" at offset 0).
db_stop() {
	printf 'STOP' | dd of="/dev/shm/$1" bs=1 seek=0 conv=notrunc status=none
}

# wait_count FILE PATTERN N TIMEOUT: waits until FILE has at least N lines matching PATTERN.
wait_count() {
	local f=$1 p=$2 n=$3 t=$(($4 * TIME_SCALE)) i
	for ((i = 0; i < t * 10; i++)); do
		[ "$(grep -c -- "$p" "$f" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# count FILE PATTERN: lines of FILE matching PATTERN.
count() { grep -c -- "$2" "$1" 2>/dev/null; }

# guest_id OUT: the IVPosition the doorbell guest reported at start.
guest_id() { sed -n 's/^doorbell: .* IVPosition \([0-9]*\)$/\1/p' "$1" | head -1; }

# guest_ok OUT: true when the guest passed and printed no FAIL line.
guest_ok() { grep -q '^PASS: doorbell$' "$1" && ! grep -q '^FAIL: ' "$1"; }

# why OUT: the last lines of OUT on one line, for FAIL messages.
why() { tail -n "${2:-6}" "$1" | tr '\n' '|'; }

db_cleanup() {
	local r
	# Stop the VMs first: their auto-started servers then exit when idle.
	for pid in "${BG_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for r in "${DB_REGIONS[@]}"; do
		db_wait_no_server "$r" 3 || db_kill_servers "$r" KILL
		[ -n "${DB_KEEP_LOGS:-}" ] && cp "$DB_RUN_DIR/$r.log" "$TMP/server-$r.log" 2>/dev/null
		rm -f "$DB_RUN_DIR/$r.sock" "$DB_RUN_DIR/$r.sock.id" "$DB_RUN_DIR/$r.lock" \
			"$DB_RUN_DIR/$r.log"
	done
	if [ -n "${DB_KEEP_LOGS:-}" ]; then
		mkdir -p "$DB_KEEP_LOGS" && cp -r "$TMP"/. "$DB_KEEP_LOGS"/ 2>/dev/null
	fi
	cleanup
}

# Sourced: replace lib.sh's trap with one that also stops servers and removes their files.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	trap db_cleanup EXIT
fi
