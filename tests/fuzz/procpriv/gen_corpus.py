#!/usr/bin/env python3
"""gen_corpus.py - regenerate the privops fuzz seeds (committed in corpus/).
Each seed is one mode byte (see fuzz_privops.c) followed by a body: a request
for the helper (mode 0, 2: fd/ listed) or a reply for tfo-process's parser
(mode 1; then one byte: requests - 1). Layouts: common/privops.h."""
import os
import struct

MAGIC = 0x7F500000 | 1          # TFO_PRIVOPS_MAGIC, version 1
READ, TEST, HELLO = 1, 2, 3
IO, EXE, NFDS, ALL = 1, 2, 4, 7
HERE = os.path.dirname(os.path.abspath(__file__))


def hdr(type_, n, reserved=0):
    return struct.pack("<IIII", MAGIC, type_, n, reserved)


def request(entries):
    return hdr(READ, len(entries)) + b"".join(struct.pack("<iI", p, o) for p, o in entries)


def record(pid, exe=b"", err_io=0, err_exe=0, err_nfds=0, nfds=5):
    pad = (-len(exe)) % 8
    return struct.pack("<iiiiQQQQQQQqII", pid, err_io, err_exe if exe else 2, err_nfds,
                       4096, 8192, 0, 100, 200, 3, 4, nfds, len(exe), 0) + exe + b"\0" * pad


def reply(records):
    return hdr(READ, len(records)) + b"".join(records)


def main():
    seeds = {
        "req-pid1-all": b"\0" + request([(1, ALL)]),
        "req-pid1-io": b"\0" + request([(1, IO)]),
        "req-list-fds": b"\2" + request([(1, NFDS), (2, ALL)]),
        "req-batch32": b"\0" + request([(i + 1, ALL) for i in range(32)]),
        "req-bad-ops": b"\0" + request([(1, 8)]),
        "req-bad-pid": b"\0" + request([(-1, IO)]),
        "req-too-many": b"\0" + hdr(READ, 33) + struct.pack("<iI", 1, 1) * 33,
        "req-test": b"\0" + hdr(TEST, 1) + b"open_shadow".ljust(64, b"\0") + b"\0" * 64,
        "reply-one": b"\1\0" + reply([record(1, b"/usr/sbin/init")]),
        "reply-exe8": b"\1\0" + reply([record(1, b"/bin/abc")]),
        "reply-three": b"\1\2" + reply([record(1, b"/usr/bin/x"), record(2, err_io=13),
                                        record(3, b"/" + b"a" * 4094)]),
        "reply-gone": b"\1\0" + reply([record(1, err_io=3, err_nfds=3)]),
        "reply-badlen": b"\1\0" + reply([record(1, b"/x")])[:-3],
        "reply-wrongpid": b"\1\0" + reply([record(9, b"/x")]),
    }
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
