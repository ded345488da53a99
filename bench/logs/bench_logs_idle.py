#!/usr/bin/env python3
"""bench_logs_idle.py BINDIR [SECONDS] [FILES ...] - what tfo-logs costs while
the files it follows do not change (issue 25 §3: budget 0.02 % of a core per
1,000 idle files).

For each count of files (default 1, 1000, 2000): the real tree (supervisor,
tfo-logs, tfo-buffer, tfo-exporter to a local tfo-sink; system and process
collectors off) following that many files of 3 lines each in one directory,
every line delivered first; then after a warm-up SECONDS (default 60) of
tfo-logs' CPU time (schedstat of every thread, in ns) as % of one core. The
one-file run is the worker's own idle cost (health pings, stats); the cost
per 1,000 files is what more files add to it, and is the figure against the
budget.

Prints figures, asserts nothing (never run by ctest). Run as root (role
users) on a Release build; a loaded machine inflates every figure.
  cmake --build build --target bench-logs-idle"""
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "logs"))
sys.path.insert(0, os.path.join(HERE, "..", "tree"))
from logs_tree import Tally, Sink, Agent, ROLES, tree_yaml, indent, lines, append, wait_for  # noqa
from bench_tree import cpu_s  # noqa: E402

WARMUP = 5.0


def run(bindir, nfiles, seconds):
    tmp = tempfile.mkdtemp(prefix="tfo-bench-logs-idle-")
    os.chmod(tmp, 0o755)
    logdir = os.path.join(tmp, "logs")
    os.mkdir(logdir)
    os.chmod(logdir, 0o755)
    for i in range(nfiles):
        append(os.path.join(logdir, "f%05d.log" % i), lines("f%05d" % i, 0, 3))
    out = os.path.join(tmp, "sink.jsonl")
    sink = Sink(bindir, out)
    agent = Agent(bindir, tree_yaml(sink.port, indent(
        "paths: [%s/f*.log]\nstart_at: beginning\n" % logdir)), root=os.path.join(tmp, "agent"))
    try:
        agent.start()
        st = agent.wait_ready(ROLES, timeout=60)
        tally = Tally(out)
        wait_for(lambda: tally.has_all({"f%05d" % i: range(3) for i in range(nfiles)}),
                 "every line of %d files" % nfiles, 300, 0.5)
        pid = st["logs"]["pid"]
        time.sleep(WARMUP)
        c0, t0 = cpu_s(pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_s(pid), time.monotonic()
        s = agent.status() or {}
        return 100.0 * (c1 - c0) / (t1 - t0), s.get("logs", {}).get("stats", {})
    finally:
        agent.cleanup()
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    bindir = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    counts = [int(x) for x in sys.argv[3:]] or [1, 1000, 2000]
    if 1 not in counts:
        counts = [1] + counts
    res = {}
    for n in sorted(counts):
        pct, st = run(bindir, n, seconds)
        res[n] = pct
        print("%5d files: tfo-logs %.4f %% of a core over %.0f s (files_open %s, watch %s)" %
              (n, pct, seconds, st.get("logs.files_open"), st.get("logs.watch")), flush=True)
    base = res[1]
    for n in sorted(res):
        if n >= 1000:
            print("%5d files: %.4f %% of a core per 1,000 idle files beyond the worker's own "
                  "(%.4f %%); budget 0.02 %%" % (n, (res[n] - base) * 1000.0 / (n - 1), base))


if __name__ == "__main__":
    main()
