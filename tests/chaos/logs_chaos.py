#!/usr/bin/env python3
"""logs_chaos.py BINDIR - zero loss of log lines through the whole tree under
chaos, as root (DESIGN §8 "loss"; issue 10; docs/logs.md "Full-tree integration").

tfo-supervisor with every worker, tfo-logs following one file, the exporter
speaking OTLP/HTTP to tools/tfo-sink. A writer thread appends numbered lines
at a steady rate while the test performs, in turn:
  rename+create rotation, copytruncate, delete (and create), kill -9 of
  tfo-logs, of tfo-buffer, of tfo-exporter (pids from tfoctl status --json),
  a tfo-sink outage (stopped, then restarted on the same port with
  --fail-first), kill -9 of the whole tree (supervisor and every worker at
  once) with a rename rotation while it is down, then the supervisor started
  again on the same state dir.
Afterwards every numbered line must have arrived at tfo-sink in a request it
accepted (status 200): 0 lost is asserted; duplicates are counted and printed
(target 0; an export whose reply is lost to a kill -9 is sent again, which is
at-least-once by design)."""
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration",
                                "e2e"))
from tfo_e2e import (Fail, check, require_root_and_users, Sink, Agent, wait_for,  # noqa: E402
                     run_case, sink_yaml, ROLES)

RATE = 1000          # lines per second
GAP = 4.0            # seconds of steady writing after each event
LINE = re.compile(r"^(\d{8}) ")


class Writer(threading.Thread):
    """Appends numbered lines at RATE per second; rotations happen under its lock,
    between two writes, as logrotate does them."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.lock = threading.Lock()
        self.n = 0
        self.stop_ev = threading.Event()
        self.fd = self._open()
        self.rotations = 0
        self.error = None

    def _open(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.fchmod(fd, 0o644)
        return fd

    def run(self):
        try:
            start = time.monotonic()
            while not self.stop_ev.is_set():
                due = int((time.monotonic() - start) * RATE)
                with self.lock:
                    if due > self.n:
                        buf = "".join("%08d chaos INFO line %d of the logs chaos test, padding %s\n"
                                      % (i, i, "x" * (i % 23)) for i in range(self.n, due))
                        os.write(self.fd, buf.encode())
                        self.n = due
                time.sleep(0.01)
        except OSError as e:
            self.error = e

    def finish(self):
        self.stop_ev.set()
        self.join(10)
        os.close(self.fd)
        check(self.error is None, "writer: %s" % self.error)
        return self.n

    def rename_create(self):
        with self.lock:
            self.rotations += 1
            os.rename(self.path, "%s.%d" % (self.path, self.rotations))
            os.close(self.fd)
            self.fd = self._open()

    def copytruncate(self):
        with self.lock:
            self.rotations += 1
            shutil.copyfile(self.path, "%s.%d" % (self.path, self.rotations))
            os.chmod("%s.%d" % (self.path, self.rotations), 0o644)
            os.truncate(self.path, 0)

    def delete_create(self):
        with self.lock:
            os.close(self.fd)
            os.unlink(self.path)
            self.fd = self._open()


class Tally:
    """Reads tfo-sink's --out file incrementally: counts of every line number
    in accepted (status 200) logs requests."""

    def __init__(self, path):
        self.path = path
        self.off = 0
        self.count = {}
        self.refused = 0        # logs requests not accepted
        self.fail_first = 0     # requests of any kind answered by --fail-first
        self.foreign = 0

    def update(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        self.off += end
        for raw in data[:end].splitlines():
            r = json.loads(raw)
            self.fail_first += bool(r.get("fail_first"))
            if r["signal"] != "logs":
                continue
            if r["status"] != 200:
                self.refused += 1
                continue
            for rl in r["body"]["resource_logs"]:
                for sl in rl["scope_logs"]:
                    for lr in sl["log_records"]:
                        m = LINE.match(lr["body"] or "")
                        if m:
                            k = int(m.group(1))
                            self.count[k] = self.count.get(k, 0) + 1
                        else:
                            self.foreign += 1

    def missing(self, n):
        return [i for i in range(n) if i not in self.count]

    def dups(self):
        return sum(c - 1 for c in self.count.values() if c > 1)


def ranges(nums):
    out, start, prev = [], None, None
    for x in nums:
        if start is None:
            start = prev = x
        elif x == prev + 1:
            prev = x
        else:
            out.append("%d-%d" % (start, prev) if start != prev else str(start))
            start = prev = x
    if start is not None:
        out.append("%d-%d" % (start, prev) if start != prev else str(start))
    return ", ".join(out[:20]) + (" ..." if len(out) > 20 else "")


def main():
    bindir = sys.argv[1]
    require_root_and_users()
    tmp = tempfile.mkdtemp(prefix="tfo-chaos-")
    os.chmod(tmp, 0o755)
    logdir = os.path.join(tmp, "logs")
    os.mkdir(logdir)
    os.chmod(logdir, 0o755)
    app = os.path.join(logdir, "app.log")
    out = os.path.join(tmp, "sink.jsonl")
    sinklog = os.path.join(tmp, "sink.log")
    sink = [Sink(bindir, out, log=sinklog)]
    port = sink[0].port
    agent = Agent(bindir, sink_yaml(port) + f"""heartbeat:
  interval: 10s
  timeout: 2s
collectors:
  logs:
    enabled: true
    paths: [{app}]
    start_at: beginning
    rescan_interval: 1s
    batch_max_ms: 100
exporter:
  flush_interval: 200ms
  shutdown_drain: 5s
""", root=os.path.join(tmp, "agent"))
    holder = [agent]
    tally = Tally(out)
    t0 = time.monotonic()
    timeline = []

    w = {}

    def event(name, fn):
        fn()
        timeline.append("%6.1f s  %s (line %d)" % (time.monotonic() - t0, name, w["w"].n))
        time.sleep(GAP)

    def sink_outage():
        rc = sink[0].stop()
        check(rc == 0, "tfo-sink exit status %d" % rc)
        time.sleep(GAP)
        sink[0] = Sink(bindir, out, port=port, fail_first=3, log=sinklog)

    def whole_tree():
        s = agent.wait_ready(ROLES)
        timeline.append("          restarts before: " + ", ".join(
            "%s %d" % (r, s[r]["restarts"]) for r in ("logs", "buffer", "exporter")))
        agent.kill9_tree(ROLES)
        w["w"].rename_create()          # rotated while the whole agent is down
        time.sleep(1.0)
        agent.start()
        agent.wait_ready(ROLES)

    def body():
        with open(app, "w"):
            pass
        os.chmod(app, 0o644)
        agent.start()
        agent.wait_ready(ROLES)
        writer = w["w"] = Writer(app)
        writer.start()
        time.sleep(GAP)
        event("rename+create rotation", writer.rename_create)
        event("copytruncate", writer.copytruncate)
        event("delete + create", writer.delete_create)
        event("kill -9 tfo-logs", lambda: agent.kill9_role("logs", ROLES))
        event("kill -9 tfo-buffer", lambda: agent.kill9_role("buffer", ROLES))
        event("kill -9 tfo-exporter", lambda: agent.kill9_role("exporter", ROLES))
        event("tfo-sink outage, back with --fail-first 3", sink_outage)
        event("kill -9 of the whole tree, rotation while down, restart", whole_tree)
        n = writer.finish()
        timeline.append("%6.1f s  writer stopped after %d lines" % (time.monotonic() - t0, n))

        def complete():
            tally.update()
            return len(tally.count) >= n and not tally.missing(n)
        try:
            wait_for(complete, "every line at tfo-sink", 60, 0.5)
        except Fail:
            pass
        tally.update()
        lost = tally.missing(n)
        timeline.append("%6.1f s  accounting done" % (time.monotonic() - t0))
        s = agent.status() or {}
        print("\n".join(timeline))
        print("lines written %d, received %d distinct, lost %d, duplicated %d, "
              "foreign records %d, refused logs requests %d" %
              (n, len(tally.count), len(lost), tally.dups(), tally.foreign, tally.refused))
        dup = sorted(k for k, c in tally.count.items() if c > 1)
        if dup:
            print("duplicated lines: %s" % ranges(dup))
        check(all(s.get(r, {}).get("state") == "ready" for r in ROLES),
              "every worker ready at the end: %s" % {r: s.get(r, {}).get("state") for r in ROLES})
        check(not lost, "%d lines lost: %s" % (len(lost), ranges(lost)))
        check(all(k < n for k in tally.count), "numbers beyond what was written")
        check(tally.fail_first == 3, "--fail-first answers seen: %d" % tally.fail_first)
        rc = agent.stop()
        check(rc == 0, "supervisor exit status %s" % rc)

    rc = run_case(body, holder)
    agent.cleanup()
    sink[0].stop()
    shutil.rmtree(tmp, ignore_errors=True)
    if rc == 0:
        print("ok logs chaos: 0 lost, %d duplicates" % tally.dups())
    return rc


if __name__ == "__main__":
    sys.exit(main())
