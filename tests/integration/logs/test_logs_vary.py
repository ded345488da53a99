#!/usr/bin/env python3
"""test_logs_vary.py BINDIR CASE - the log files outside probes vary
(finding 5 of their first week: rotation and identity), through the whole
tree as test_logs_tree.py does (tfo-supervisor, tfo-logs, tfo-buffer,
tfo-exporter, tools/tfo-sink --strict-utf8), as root. Numbered lines counted
exactly at the sink.

Cases:
  symlink_switch  an application that keeps a "current" symlink to its
                  newest file (Apache's rotatelogs -L, s6/svlogd-style
                  layouts): paths: [logs/current], link_target_dirs: [logs];
                  at each switch a new numbered file is made, the link is
                  replaced atomically (rename of a new link over it), a few
                  late lines still go to the old file, then the writer moves
                  to the new one. 2000 lines/s, 6 switches; every line once.
  hostile         what a user who may write the watched directory can put
                  there, while a well-behaved file is followed beside it: a
                  FIFO and a UNIX socket named like logs, a 1 MiB line with no
                  newline in between, binary data (NUL, invalid UTF-8, control
                  bytes), a last line without its newline completed later: the
                  neighbour's lines each once, tfo-logs never blocked or
                  restarted, every record accepted by a strict receiver, the
                  huge line delivered in max_line_size pieces flagged
                  truncated, the unterminated line delivered once, whole.
"""
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logs_tree import lines, append, check, line  # noqa: E402
from test_logs_tree import Tree  # noqa: E402
from tfo_e2e import require_root_and_users, run_case  # noqa: E402


class SwitchWriter(threading.Thread):
    """Numbered lines of tag "sw" at rate per second into the file the writer
    holds; switch() moves it to a new file as a rotatelogs -L would."""

    def __init__(self, logdir, rate):
        super().__init__(daemon=True)
        self.logdir, self.rate = logdir, rate
        self.n, self.gen = 0, 0
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.error = None
        self.fd = self.make(0)
        self.link(0)

    def path(self, gen):
        return os.path.join(self.logdir, "app.log.%d" % gen)

    def make(self, gen):
        fd = os.open(self.path(gen), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644)
        os.fchmod(fd, 0o644)
        return fd

    def link(self, gen):
        tmp = os.path.join(self.logdir, ".current.tmp")
        os.symlink(self.path(gen), tmp)
        os.rename(tmp, os.path.join(self.logdir, "current"))

    def write(self, fd, k):
        os.write(fd, "".join(line("sw", self.n + i, 20) for i in range(k)).encode())
        self.n += k

    def run(self):
        try:
            start = time.monotonic()
            while not self.stop_ev.is_set():
                due = int((time.monotonic() - start) * self.rate)
                with self.lock:
                    if due > self.n:
                        self.write(self.fd, due - self.n)
                time.sleep(0.01)
        except OSError as e:
            self.error = e

    def switch(self):
        with self.lock:
            self.gen += 1
            new = self.make(self.gen)
            self.link(self.gen)
        time.sleep(0.05)
        with self.lock:                 # late lines, buffered before the switch
            self.write(self.fd, 20)
            os.close(self.fd)
            self.fd = new

    def finish(self):
        self.stop_ev.set()
        self.join(10)
        os.close(self.fd)
        check(self.error is None, "writer: %s" % self.error)
        return self.n


def case_symlink_switch(t):
    w = SwitchWriter(t.logdir, 2000)
    t.start("paths: [%s/current]\nlink_target_dirs: [%s]\nstart_at: beginning\n"
            "rescan_interval: 1s\n" % (t.logdir, t.logdir))
    w.start()
    for _ in range(6):
        time.sleep(1.5)
        w.switch()
    time.sleep(1.5)
    n = w.finish()
    t.wait_lines({"sw": range(n)}, timeout=60)
    time.sleep(1.5)                     # duplicates, if any, arrive with the rest
    t.tally.update()
    print("%d lines over %d files" % (n, w.gen + 1))
    t.tally.check_exact({"sw": range(n)})


def case_hostile(t):
    good = os.path.join(t.logdir, "good.log")
    append(good, lines("good", 0, 100))
    os.mkfifo(os.path.join(t.logdir, "fifo.log"), 0o666)
    sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sk.bind(os.path.join(t.logdir, "sock.log"))
    maxl = 4096
    t.start("paths: [%s/*.log]\nstart_at: beginning\nrescan_interval: 1s\n"
            "max_line_size: %d\n" % (t.logdir, maxl))
    pid = t.agent.status()["logs"]["pid"]
    t.wait_lines({"good": range(100)})
    big = os.path.join(t.logdir, "big.log")
    append(big, lines("big", 0, 5) + b"B" * (1 << 20) + b"\n" + lines("big", 5, 10))
    binf = os.path.join(t.logdir, "bin.log")
    append(binf, lines("bin", 0, 5) + bytes(range(256)) * 16 + b"\n\xff\xfe\x00\x1b[31m\xc3\n" +
           lines("bin", 5, 10))
    part = os.path.join(t.logdir, "part.log")
    append(part, lines("part", 0, 5) + b"part 00000005 INFO the first half,")
    append(good, lines("good", 100, 200))
    t.wait_lines({"good": range(200), "big": range(10), "bin": range(10),
                  "part": range(5)})
    time.sleep(1.5)                     # tfo-logs holds the half line back
    append(part, b" the second half\n" + lines("part", 6, 10))
    append(good, lines("good", 200, 300))
    t.wait_lines({"good": range(300), "part": range(10)})
    time.sleep(1.0)
    t.tally.update()
    t.tally.check_exact({"good": range(300), "big": range(10), "bin": range(10),
                         "part": range(10)})
    whole = [(k, a) for k, a in t.tally.attrs.items() if k == ("part", 5)]
    check(whole, "the completed line did not arrive")
    pieces = [b for b in t.tally.other if b and set(b) == {"B"}]
    check(sum(len(b) for b in pieces) == 1 << 20 and all(len(b) <= maxl for b in pieces),
          "the 1 MiB line arrived as %d pieces of %d bytes in all (max %d)" %
          (len(pieces), sum(len(b) for b in pieces), max([len(b) for b in pieces] or [0])))
    halves = [b for b in t.tally.other if "half" in b]
    check(not halves, "the unterminated line arrived in parts: %r" % halves[:3])
    s = t.agent.status()
    check(s["logs"]["pid"] == pid and s["logs"]["state"] == "ready",
          "tfo-logs was restarted or is not ready: %s" % s["logs"])
    sk.close()
    print("300 neighbour lines once, 1 MiB line in %d pieces, binary and half lines "
          "delivered" % len(pieces))


CASES = {"symlink_switch": case_symlink_switch, "hostile": case_hostile}


def main():
    bindir, name = sys.argv[1], sys.argv[2]
    require_root_and_users()
    t = Tree(bindir, name)
    holder = []

    def body():
        try:
            CASES[name](t)
        finally:
            if t.agent is not None:
                holder.append(t.agent)
    rc = run_case(body, holder, name)
    t.close()
    if rc == 0:
        print("ok %s" % name)
    return rc


if __name__ == "__main__":
    sys.exit(main())
