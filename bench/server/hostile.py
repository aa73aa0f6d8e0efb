#!/usr/bin/env python3
"""acrn-ivshmem-server under hostile clients (issue 13): three measurements, one line each.

  emfile:    `ulimit -n 24`, 40 silent connections to the identity socket: the server's CPU time
             (utime + stime from /proc/PID/stat) over 3 s of wall time, and its "accept failed"
             log lines in that time.
  churn:     -n 4 --max-peers 4; an honest peer stops reading while one client joins and leaves
             150 times, paced over 0.5 s; then it reads: whether it survived, and whether it sees
             exactly the peer that is there (with its 4 vectors).
  admission: --max-peers 4; one user keeps re-opening 4 silent identity connections while an
             honest identity client tries 58 times to join: how often it got in.

Usage: hostile.py SERVER_BINARY [LABEL]. Prints one block; exits 1 only when a run fails to start.
"""
import array, os, resource, select, socket, struct, subprocess, sys, tempfile, threading, time

SERVER = sys.argv[1]
LABEL = sys.argv[2] if len(sys.argv) > 2 else os.path.basename(SERVER)
TMP = tempfile.mkdtemp(prefix='ivs-hostile-')
CLK = os.sysconf('SC_CLK_TCK')
regions = []


def start(args, ulimit=None, id_socket=False):
    name = f'ivs_hostile_{os.getpid()}_{len(regions)}'
    regions.append(name)
    sock = os.path.join(TMP, f's{len(regions)}')
    log = open(os.path.join(TMP, f'log{len(regions)}'), 'w+')
    cmd = [SERVER, '-F', '-S', sock, '-M', name, '-l', '2M'] + args
    if id_socket:
        cmd += ['--id-socket', sock + '.id']

    def pre():
        if ulimit:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ulimit, ulimit))
    p = subprocess.Popen(cmd, stderr=log, preexec_fn=pre)
    for _ in range(200):
        log.seek(0)
        if 'listening' in log.read():
            return p, sock, log
        time.sleep(0.05)
    p.kill()
    sys.exit(f'hostile: {SERVER} did not start')


def stop(p):
    p.terminate()
    p.wait()


def cpu_seconds(pid):
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


class Client:
    """A protocol-0 client (optionally with the identity hello first)."""
    def __init__(self, path, hello=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.id = self.shm = None
        self.n = 0
        self.peers, self.own, self.eof = {}, 0, False
        if hello:
            try:
                self.s.sendall(b'ACRNIVSH' + struct.pack('<II', 1, 0) +
                               hello.encode().ljust(64, b'\0'))
            except OSError:
                self.eof = True	# refused at once

    def _recv(self):
        try:
            data, anc, _, _ = self.s.recvmsg(8, socket.CMSG_SPACE(4 * 4))
        except ConnectionResetError:
            data, anc = b'', []
        fds = []
        for _, _, payload in anc:
            a = array.array('i')
            a.frombytes(payload[:len(payload) - len(payload) % 4])
            fds += list(a)
        if not data:
            self.eof = True
            return
        while len(data) < 8:
            data += self.s.recv(8 - len(data))
        v = struct.unpack('<q', data)[0]
        self.n += 1
        if self.n == 2:
            self.id = v
        elif self.n == 3:
            self.shm = fds[0] if fds else None
        elif self.n > 3 and v == self.id:
            self.own += 1
        elif self.n > 3 and not fds:
            self.peers.pop(v, None)
        elif self.n > 3:
            self.peers[v] = self.peers.get(v, 0) + 1
        for f in fds:
            os.close(f)

    def pump(self, timeout=0.0):
        while not self.eof:
            r, _, _ = select.select([self.s], [], [], timeout)
            if not r:
                return
            self._recv()
            timeout = 0.0

    def ready(self):
        return self.own >= 1

    def wait_ready(self, timeout=2.0):
        end = time.time() + timeout
        while not self.ready() and not self.eof and time.time() < end:
            self.pump(0.01)
        return self.ready()

    def close(self):
        self.s.close()


def emfile():
    p, sock, log = start([], ulimit=24, id_socket=True)
    conns = []
    for _ in range(40):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock + '.id')
        conns.append(s)
    time.sleep(0.2)
    log.seek(0)
    lines0 = log.read().count('accept failed')
    cpu0, t0 = cpu_seconds(p.pid), time.time()
    time.sleep(3)
    cpu1, t1 = cpu_seconds(p.pid), time.time()
    log.seek(0)
    lines1 = log.read().count('accept failed')
    for s in conns:
        s.close()
    stop(p)
    print(f'  emfile: server CPU {cpu1 - cpu0:.2f} s over {t1 - t0:.2f} s wall '
          f'(ratio {(cpu1 - cpu0) / (t1 - t0):.3f}), {lines1 - lines0} "accept failed" lines')


def churn():
    p, sock, log = start(['-n', '4', '--max-peers', '4'])
    a = Client(sock)
    a.wait_ready()
    honest = Client(sock)
    honest.wait_ready()
    a.pump(0.1)
    start_t = time.time()
    n = 150
    for i in range(n):	# paced over 0.5 s
        c = Client(sock)
        c.wait_ready()
        c.close()
        a.pump(0)
        time.sleep(max(0.0, start_t + (i + 1) * 0.5 / n - time.time()))
    idle = time.time() - start_t
    end = time.time() + 3
    while time.time() < end and not honest.eof:
        honest.pump(0.1)
        a.pump(0)
        if not select.select([honest.s], [], [], 0.2)[0]:
            break
    consistent = not honest.eof and list(honest.peers) == [a.id] and honest.peers[a.id] == 4
    log.seek(0)
    dropped = log.read().count('dropped')
    stop(p)
    print(f'  churn: {n} joins and leaves while the honest peer did not read for {idle:.2f} s: '
          f'{"survived" if not honest.eof else "DROPPED"}, view {"consistent" if consistent else "WRONG: " + str(honest.peers)}, '
          f'{dropped} drop lines')


def admission():
    p, sock, log = start(['--max-peers', '4'], id_socket=True)
    idsock = sock + '.id'
    stop_flag = threading.Event()

    def attacker():
        conns = []
        while not stop_flag.is_set():
            while len(conns) < 4:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(idsock)
                except OSError:
                    s.close()
                    break
                conns.append(s)
            r, _, _ = select.select(conns, [], [], 0.01)
            for s in r:
                try:
                    gone = s.recv(1) == b''
                except OSError:
                    gone = True
                if gone:
                    s.close()
                    conns.remove(s)
        for s in conns:
            s.close()

    t = threading.Thread(target=attacker)
    t.start()
    time.sleep(0.3)
    tries, admitted = 58, 0
    for i in range(tries):
        c = Client(idsock, hello='honest')
        admitted += c.wait_ready(1.0)
        c.close()
        time.sleep(0.05)
    stop_flag.set()
    t.join()
    stop(p)
    print(f'  admission: honest identity client admitted {admitted} of {tries} tries '
          f'(ratio {admitted / tries:.3f}) beside 4 silent connections re-opened at once, --max-peers 4')


try:
    print(f'[server-hostile] {LABEL}')
    emfile()
    churn()
    admission()
finally:
    for r in regions:
        try:
            os.unlink('/dev/shm/' + r)
        except OSError:
            pass
