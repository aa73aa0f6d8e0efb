#!/usr/bin/env bash
# QEMU's own ivshmem-doorbell device joins acrn-ivshmem-server next to a protocol-0 client.
# QEMU runs paused (TCG, -S) and the test drives the device through the monitor: it reads
# IVPosition, sees a ring from the client latched in the MSI-X PBA of the masked vector, and
# reads the region through BAR2. No guest, no KVM needed. (HMP cannot write MMIO, so QEMU ringing
# the client through its Doorbell is left to the guest tests.)
# Usage: server_qemu.sh [BUILD_DIR]
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
SERVER=$BUILD/bin/acrn-ivshmem-server
QEMU=$(command -v qemu-system-x86_64)
NAMES=(server-qemu-joins server-qemu-ivposition server-client-rings-qemu server-qemu-shares-memory
	server-qemu-departure)

if [ ! -x "$SERVER" ]; then
	fail server-binary "$SERVER is missing (make build-all)"
	finish
fi
if [ -z "$QEMU" ] || ! command -v python3 >/dev/null; then
	for n in "${NAMES[@]}"; do skip "$n" "qemu-system-x86_64 or python3 is not installed"; done
	exit 0
fi
if ! "$QEMU" -device help 2>/dev/null | grep -q ivshmem-doorbell; then
	for n in "${NAMES[@]}"; do skip "$n" "this QEMU has no ivshmem-doorbell"; done
	exit 0
fi

SOCK=$TMP/ivshmem.sock
REGION=$(unique_region ivt_qemu)
"$SERVER" -F -S "$SOCK" -M "$REGION" -l 4M -n 2 2>"$TMP/server.log" &
BG_PIDS+=("$!")
for _ in $(seq 50); do grep -q listening "$TMP/server.log" && break; sleep 0.1; done

cat >"$TMP/scenario.py" <<EOF
import array, json, mmap, os, select, socket, struct, subprocess, sys, time

SOCK, TMP, QEMU, REGION = '$SOCK', '$TMP', '$QEMU', '$REGION'
failures = 0
def check(name, ok, why):
    global failures
    print(f"PASS: {name}" if ok else f"FAIL: {name}: {why}", flush=True)
    failures += 0 if ok else 1

class Client:
    def __init__(self, vectors):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(SOCK)
        self.vectors, self.id, self.shm, self.version = vectors, None, None, None
        self.peers, self.own, self.eof = {}, [], False
    def pump(self, timeout):
        while select.select([self.s], [], [], timeout)[0]:
            timeout = 0
            data, anc, _, _ = self.s.recvmsg(8, socket.CMSG_SPACE(16))
            if not data:
                self.eof = True
                return
            fds = array.array('i')
            for _, _, p in anc:
                fds.frombytes(p[:len(p) - len(p) % 4])
            v, fd = struct.unpack('<q', data)[0], (fds[0] if fds else None)
            if self.version is None: self.version = v
            elif self.id is None: self.id = v
            elif v == -1: self.shm = fd
            elif v == self.id: self.own.append(fd)
            elif fd is None: self.peers.pop(v, None)
            else: self.peers.setdefault(v, []).append(fd)

def wait(cond, c, timeout=10):
    end = time.time() + timeout
    while time.time() < end and not cond():
        c.pump(0.05)
    return cond()

a = Client(2)
if not wait(lambda: a.shm is not None and len(a.own) == 2, a):
    check('server-qemu-joins', False, 'the Python client got no setup')
    sys.exit(1)

qmp_path = TMP + '/qmp.sock'
qemu = subprocess.Popen([QEMU, '-machine', 'q35', '-accel', 'tcg', '-S', '-display', 'none',
    '-nodefaults', '-no-user-config', '-qmp', f'unix:{qmp_path},server=on,wait=off',
    '-chardev', f'socket,path={SOCK},id=iv', '-device', 'ivshmem-doorbell,chardev=iv,vectors=2,addr=04.0'],
    stdout=subprocess.DEVNULL, stderr=open(TMP + '/qemu.log', 'w'))
qemu_id = None
try:
    qmp, end = None, time.time() + 20
    while qmp is None and qemu.poll() is None and time.time() < end:
        try:
            qmp = socket.socket(socket.AF_UNIX)
            qmp.connect(qmp_path)
        except OSError:
            qmp = None
            time.sleep(0.1)
    if qmp is None:
        check('server-qemu-joins', False, 'QEMU did not start: ' + open(TMP + '/qemu.log').read())
        sys.exit(1)
    qmp.settimeout(20)
    qf = qmp.makefile('rw')
    def qmp_cmd(obj):
        qf.write(json.dumps(obj) + '\n'); qf.flush()
        while True:
            reply = json.loads(qf.readline())
            if 'return' in reply or 'error' in reply:
                return reply
    json.loads(qf.readline())			# greeting
    qmp_cmd({'execute': 'qmp_capabilities'})
    # The paused VM's device is driven through HMP: port I/O for config space, xp for MMIO reads.
    def hmp(line):
        return qmp_cmd({'execute': 'human-monitor-command', 'arguments': {'command-line': line}})['return']
    CFG = 0x80000000 | (4 << 11)
    def cfg_read(reg):
        hmp(f'o /w 0xcf8 {CFG | reg:#x}')
        return int(hmp('i /w 0xcfc').split('=')[1], 16)
    def cfg_write(reg, v):
        hmp(f'o /w 0xcf8 {CFG | reg:#x}')
        hmp(f'o /w 0xcfc {v:#x}')
    def readl(addr):
        return int(hmp(f'xp /wx {addr:#x}').split(':')[1], 16)

    ok = wait(lambda: len(a.peers) == 1 and len(list(a.peers.values())[0]) == 2, a)
    qemu_id = next(iter(a.peers)) if a.peers else None
    check('server-qemu-joins', ok and cfg_read(0) == 0x11101af4,
          f'peers {a.peers}, id register {cfg_read(0):#x}')

    BAR0, BAR1, BAR2 = 0xfe000000, 0xfe001000, 0xc0000000
    cfg_write(0x10, BAR0)
    cfg_write(0x14, BAR1)
    cfg_write(0x18, BAR2 | 0xc)
    cfg_write(0x1c, 0)
    cfg_write(0x04, 0x2)			# memory decode on
    check('server-qemu-ivposition', readl(BAR0 + 8) == qemu_id,
          f'IVPosition {readl(BAR0 + 8)}, server gave {qemu_id}')

    # MSI-X on with every vector masked: a ring from the client is latched in the PBA.
    cap = cfg_read(0x34) & 0xff
    while cap and cfg_read(cap) & 0xff != 0x11:
        cap = (cfg_read(cap) >> 8) & 0xff
    cfg_write(cap, cfg_read(cap) | (1 << 31))	# MSI-X enable (bit 15 of message control)
    os.write(a.peers[qemu_id][1], struct.pack('<Q', 1))
    end = time.time() + 5
    while time.time() < end and not (readl(BAR1 + 0x800) & 2):
        time.sleep(0.05)
    check('server-client-rings-qemu', cap != 0 and readl(BAR1 + 0x800) == 2,
          f'PBA {readl(BAR1 + 0x800):#x} (MSI-X capability at {cap:#x})')

    # BAR2 is the server's region: what the client writes, QEMU reads.
    m = mmap.mmap(a.shm, 4 << 20)
    m[0x1000:0x1004] = struct.pack('<I', 0x5a5aa5a5)
    check('server-qemu-shares-memory', readl(BAR2 + 0x1000) == 0x5a5aa5a5,
          f'read {readl(BAR2 + 0x1000):#x} through QEMU')
finally:
    qemu.kill()
    qemu.wait()
ok = wait(lambda: qemu_id not in a.peers, a)
check('server-qemu-departure', ok, 'the client was not told that QEMU left')
sys.exit(1 if failures else 0)
EOF

out=$(timeout 90 python3 "$TMP/scenario.py" 2>&1)
status=$?
echo "$out"
FAILURES=$((FAILURES + $(grep -c '^FAIL: ' <<<"$out")))
if [ $status -ne 0 ] && ! grep -q '^FAIL: ' <<<"$out"; then
	fail server-qemu-scenario "exit status $status; qemu: $(tail -n 3 "$TMP/qemu.log" | tr '\n' '|')"
fi
finish
