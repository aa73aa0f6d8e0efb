#!/usr/bin/env python3
"""Writes the hand-made seeds of each fuzz target's corpus into tests/fuzz/corpus/NAME/seed-*.

Each seed is built the way its harness reads input (tests/fuzz/NAME.c): a valid case of every
form the target knows, so that fuzzing starts from deep inside the format. Inputs the fuzzer
found (merged with run-fuzz.sh --merge) sit next to them under their hash names. Run it again
after changing a harness's input format:  python3 tests/fuzz/make-seeds.py
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- fuzz_ivshmem_config: the option string after "-s <slot>,ivshmem," ----
for name, text in {
    "acrn": "dm:/shm_region_0,2,0",
    "hv": "hv:/rt_region,256,0x1000",
    "doorbell": "dm:/db,4,7,vectors=2,server=/run/acrn-ivshmem/db.sock,ioeventfd=off,irqfd=on",
    "hugetlbfs": "dm:/big,1024,large=on,mem=hugetlbfs,hugetlbfs=/dev/hugepages",
    "memfd": "dm:/anon,8,mem=memfd,hugepages=on,vectors=1",
    "bad-size": "dm:/bad,3",
}.items():
    write("fuzz_ivshmem_config", name, text)

# ---- fuzz_dm_options: argv words separated by NUL (argv[0] is added) ----
for name, words in {
    "launch": ["-s", "0:0,hostbridge", "-s", "1:0,lpc", "-s", "5,ivshmem,dm:/shm_region_0,2,0",
               "-m", "256M", "-l", "com1,stdio", "-E", "zephyr.elf", "--debugexit", "my_vm"],
    "long": ["--pci_slot=0:3:0,ivshmem,hv:/r,2", "--memsize", "2G", "-U",
             "d2795438-25d6-11e8-864e-cb7a18b34643", "--vmm", "kvm", "--dry-run", "--debug",
             "-s", "4:1,ivshmem,dm:/db,2,1,vectors=4", "vm1"],
    "help": ["-h"],
    "linux": ["-B", "console=ttyS0", "-k", "bzImage", "-r", "initrd", "vm"],
    # ACRN's generated launch lines: vCPUs, flags, log sinks, legacy UARTs, the hypervisor's
    # vUART, options without effect here and devices not emulated here.
    "acrn-rt": ["--dry-run", "--ignore-unsupported", "--cpu_affinity", "4,6", "-m", "1024M",
                "--ovmf", "OVMF.fd", "-s", "0:0,hostbridge", "--virtio_poll", "1000000",
                "-s", "16,uart,vuart_idx:1", "--rtvm", "--lapic_pt", "-s", "5,virtio-blk,rt.img",
                "--logger_setting", "console,level=4;kmsg,level=3;disk,level=5", "RT_VM"],
    "acrn-misc": ["-c", "2", "-l", "com2,tcp:4321", "-l", "com1,stdio", "--windows", "-A", "-Y",
                  "--intr_monitor", "10000,10,1,100", "--pm_notify_channel", "uart",
                  "--vtpm2", "sock_path=/tmp/s", "--enable_trusty", "-m", "0x200M", "vm"],
}.items():
    write("fuzz_dm_options", name, "\0".join(words))

# ---- fuzz_guest_load: guest images ----
MB_MAGIC = 0x1BADB002


def mb_header(flags, aout=None):
    h = struct.pack("<III", MB_MAGIC, flags, (-(MB_MAGIC + flags)) & 0xFFFFFFFF)
    if aout:
        h += struct.pack("<IIIII", *aout)
    return h


def elf32(phdrs, entry, body_at, body):
    eh = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + bytes(9), 2, 3, 1, entry,
                     52, 0, 0, 52, 32, len(phdrs), 0, 0, 0)
    ph = b"".join(struct.pack("<IIIIIIII", 1, off, addr, addr, fsz, msz, 5, 0x1000)
                  for off, addr, fsz, msz in phdrs)
    img = bytearray(max(body_at + len(body), 52 + len(ph)))
    img[0:52] = eh
    img[52:52 + len(ph)] = ph
    img[body_at:body_at + len(body)] = body
    return bytes(img)


def elf64(phdrs, entry, body_at, body):
    eh = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + bytes(9), 2, 62, 1, entry,
                     64, 0, 0, 64, 56, len(phdrs), 0, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", 1, 5, off, addr, addr, fsz, msz, 0x1000)
                  for off, addr, fsz, msz in phdrs)
    img = bytearray(max(body_at + len(body), 64 + len(ph)))
    img[0:64] = eh
    img[64:64 + len(ph)] = ph
    img[body_at:body_at + len(body)] = body
    return bytes(img)


code = mb_header(0x3) + b"\xf4" * 20  # hlt
write("fuzz_guest_load", "multiboot-elf32",
      elf32([(0x100, 0x100000, len(code), len(code) + 0x200)], 0x10000C, 0x100, code))
write("fuzz_guest_load", "multiboot-elf32-",  # odd length: with a command line
      elf32([(0x100, 0x100000, len(code), len(code))], 0x10000C, 0x100, code) + b"\0")
plain = b"\xf4" * 16
write("fuzz_guest_load", "elf64",
      elf64([(0x100, 0x200000, len(plain), 0x1000), (0x110, 0x100000000, 0, 0x100)],
            0x200000, 0x100, plain))
write("fuzz_guest_load", "multiboot-elf64",
      elf64([(0x100, 0x100000, len(code), len(code))], 0x10000C, 0x100, code))
# The a.out kludge: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr.
aout = mb_header(0x10003, (0x100000, 0x100000, 0x100040, 0x101000, 0x100020))
write("fuzz_guest_load", "aout", aout + b"\xf4" * (0x40 - len(aout)))

# ---- fuzz_proto_client: [nvectors-1] then sends: op, bytes ----
# op: bits 0-3 raw byte count, bits 4-5 fds attached, bit 6 memfd (else eventfd),
# bit 7 one well-formed message whose value is the next int16.


def msg(value, fds=0, memfd=False):
    return bytes([0x80 | fds << 4 | (0x40 if memfd else 0)]) + struct.pack("<h", value)


def welcome(own, nvec, peers=()):
    s = msg(0) + msg(own) + msg(-1, 1, True)
    for p in peers:
        s += msg(p, 1) * nvec
    return s + msg(own, 1) * nvec


write("fuzz_proto_client", "welcome", bytes([1]) + welcome(3, 2, [1, 5]) + msg(7, 1) * 2 + msg(5))
write("fuzz_proto_client", "more-vectors", bytes([0]) + welcome(0, 3, [2]))
raw = struct.pack("<q", 0)
write("fuzz_proto_client", "split",
      bytes([1]) + bytes([0x03]) + raw[:3] + bytes([0x05]) + raw[3:] + msg(9) +
      bytes([0x08 | 0x40 | 0x20]) + struct.pack("<q", -1) + msg(9, 1) * 2)
write("fuzz_proto_client", "bad-version", bytes([0]) + msg(1) + msg(2, 3))

# ---- fuzz_proto_server: server vectors-1, client vectors-1, own id, peers, events ----


def server_seed(snv, cnv, own, peers, events):
    s = bytes([snv - 1, cnv - 1]) + struct.pack("<H", own) + bytes([len(peers)])
    s += b"".join(struct.pack("<H", p) for p in peers)
    for e in events:  # ("join", id) or ("leave", index)
        s += bytes([0]) + struct.pack("<H", e[1]) if e[0] == "join" else bytes([1 | e[1] << 1])
    return s


write("fuzz_proto_server", "same", server_seed(2, 2, 1, [0, 2], [("join", 3), ("leave", 0)]))
write("fuzz_proto_server", "server-more", server_seed(4, 1, 7, [1], [("leave", 0), ("join", 1)]))
write("fuzz_proto_server", "client-more", server_seed(1, 3, 65535, [], [("join", 0)]))

# ---- fuzz_proto_hello: the first 80 bytes are a hello; the input is also an identity ----
ident = b"acrn-vm:1f2e3d4c"
write("fuzz_proto_hello", "hello", b"ACRNIVSH" + struct.pack("<II", 1, 0) + ident.ljust(64, b"\0"))
write("fuzz_proto_hello", "identity", b"post_vm_1")

# ---- fuzz_scenario: a scenario file ----
SCENARIO = """<?xml version="1.0" encoding="utf-8"?>
<acrn-config>
  <hv>
    <FEATURES>
      <IVSHMEM>
        <IVSHMEM_REGION>
          <NAME>shm_region_0</NAME>
          <PROVIDED_BY>Hypervisor</PROVIDED_BY>
          <IVSHMEM_SIZE>2</IVSHMEM_SIZE>
          <IVSHMEM_VMS>
            <IVSHMEM_VM>
              <VM_NAME>RT_VM0</VM_NAME>
              <VBDF>00:08.0</VBDF>
            </IVSHMEM_VM>
            <IVSHMEM_VM>
              <VM_NAME>POST_VM1</VM_NAME>
              <VBDF/>
            </IVSHMEM_VM>
          </IVSHMEM_VMS>
        </IVSHMEM_REGION>
        <IVSHMEM_REGION>
          <NAME>dm_region</NAME>
          <PROVIDED_BY>Device Model</PROVIDED_BY>
          <IVSHMEM_SIZE>4</IVSHMEM_SIZE>
          <IVSHMEM_REGION_ID>0x10</IVSHMEM_REGION_ID>
          <IVSHMEM_VMS>
            <IVSHMEM_VM>
              <VM_NAME>POST_VM1</VM_NAME>
              <VBDF>00:09.0</VBDF>
            </IVSHMEM_VM>
            <IVSHMEM_VM>
              <VM_NAME>POST_VM2</VM_NAME>
              <VBDF>00:08.0</VBDF>
            </IVSHMEM_VM>
          </IVSHMEM_VMS>
        </IVSHMEM_REGION>
      </IVSHMEM>
    </FEATURES>
    <vuart_connections>
      <vuart_connection>
        <name>vUART connection 1</name>
        <type>pci</type>
        <endpoint><vm_name>POST_VM1</vm_name><vbdf>00:08.0</vbdf></endpoint>
        <endpoint><vm_name>RT_VM0</vm_name><vbdf>00:10.0</vbdf></endpoint>
      </vuart_connection>
    </vuart_connections>
  </hv>
  <vm id="0"><load_order>PRE_LAUNCHED_VM</load_order><name>RT_VM0</name></vm>
  <vm id="1"><load_order>SERVICE_VM</load_order><name>Service_VM</name></vm>
  <vm id="2"><load_order>POST_LAUNCHED_VM</load_order><name>POST_VM1</name></vm>
  <vm id="3"><load_order>POST_LAUNCHED_VM</load_order><name>POST_VM2</name></vm>
</acrn-config>
"""
write("fuzz_scenario", "scenario", SCENARIO)
write("fuzz_scenario", "crlf", SCENARIO.replace("\n", "\r\n"))
write("fuzz_scenario", "empty-ivshmem",
      "<acrn-config><hv><FEATURES><IVSHMEM/></FEATURES></hv>"
      "<vm id=\"0\"><load_order>POST_LAUNCHED_VM</load_order><name>A</name></vm></acrn-config>")

# ---- fuzz_ivmsg: slots (log2), size extra, then ops (op % 11, then its arguments) ----
SEND_A, SEND_B, RECV_B, RECV_A, POLL_A, POLL_B, FORMAT, ATTACH, IDS, SCRIBBLE = range(10)


def send(side, payload, typ=1, ref=7):
    return bytes([side]) + struct.pack("<HIB", typ, ref, len(payload)) + payload


ivmsg_talk = (bytes([1, 0]) + send(SEND_A, b"set-speed 1200") + bytes([POLL_B, RECV_B]) +
              send(SEND_B, b"ok", 2, 0) + bytes([RECV_A, RECV_A]) +
              bytes([IDS]) + struct.pack("<HB", 5, 0) + bytes([IDS]) + struct.pack("<HB", 9, 1))
write("fuzz_ivmsg", "talk", ivmsg_talk)
write("fuzz_ivmsg", "full", bytes([0, 1]) + send(SEND_A, b"a") + send(SEND_A, b"b") +
      send(SEND_A, bytes(113)) + bytes([RECV_B, RECV_B]))
write("fuzz_ivmsg", "reset", bytes([2, 2]) + send(SEND_A, b"x") + bytes([FORMAT, 1, RECV_B, ATTACH]) +
      send(SEND_A, b"y") + bytes([RECV_B]))
# Side B's head index (ring 1's control block at 256 + 128) moved by the peer.
write("fuzz_ivmsg", "scribble", bytes([1, 0]) + bytes([SCRIBBLE]) + struct.pack("<HB", 384, 3) +
      b"\x05\x00\x00\x00" + bytes([RECV_A, POLL_A, SEND_A]) + struct.pack("<HIB", 0, 0, 0))
