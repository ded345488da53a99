#!/usr/bin/env python3
"""test_logs_switch.py BINDIR fast - a "current" symlink switched
across many files quickly, late lines still going to older files, through
the whole tree (tfo-supervisor, tfo-logs, tfo-buffer, tfo-exporter,
tools/tfo-sink --strict-utf8), as root. paths: [logs/current],
link_target_dirs: [logs], rescan_interval 1 s. Numbered lines, one tag per
file, counted exactly at the sink: every line of every file once.

  fast   2000 lines/s; the link moves to a new file every 0.3 s, 12 times
         (13 files, several switches within one rescan interval); after each
         switch 20 late lines go to the file before and 10 to the one before
         that (a writer's buffered lines, a second process still on it).

A file the link left is read to its end and kept open rescan_interval
after it went (docs/logs.md): the late lines are read at the last look
before it is let go. tfo-logs before closed it on the end it had seen at its
last poll (each second), losing the late lines written since: 10 lines of
3 of the 13 files.
"""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logs_tree import check, line  # noqa: E402
from test_logs_tree import Tree  # noqa: E402
from tfo_e2e import require_root_and_users, run_case  # noqa: E402


class Files:
    """app.log.<gen> files, each its own tag f<gen>; `current` links to one."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.fds, self.n = [], []
        self.new()

    def path(self, gen):
        return os.path.join(self.logdir, "app.log.%d" % gen)

    def new(self):
        gen = len(self.fds)
        fd = os.open(self.path(gen), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644)
        os.fchmod(fd, 0o644)
        self.fds.append(fd)
        self.n.append(0)
        tmp = os.path.join(self.logdir, ".current.tmp")
        os.symlink(self.path(gen), tmp)
        os.rename(tmp, os.path.join(self.logdir, "current"))
        return gen

    def write(self, gen, k):
        os.write(self.fds[gen], "".join(line("f%d" % gen, self.n[gen] + i, 20)
                                        for i in range(k)).encode())
        self.n[gen] += k

    def expect(self):
        return {"f%d" % g: range(n) for g, n in enumerate(self.n)}

    def close(self):
        for fd in self.fds:
            os.close(fd)


def logs_yaml(t):
    return ("paths: [%s/current]\nlink_target_dirs: [%s]\nstart_at: beginning\n"
            "rescan_interval: 1s\n" % (t.logdir, t.logdir))


def case_fast(t):
    f = Files(t.logdir)
    t.start(logs_yaml(t))
    rate, period = 2000, 0.3
    for _ in range(12):
        end = time.monotonic() + period
        while time.monotonic() < end:
            f.write(len(f.fds) - 1, int(rate * 0.01))
            time.sleep(0.01)
        g = f.new()
        time.sleep(0.02)
        f.write(g - 1, 20)              # late lines to the file before
        if g >= 2:
            f.write(g - 2, 10)          # and to the one before that
    for _ in range(100):
        f.write(len(f.fds) - 1, 20)
        time.sleep(0.01)
    return f


CASES = {"fast": case_fast}


def main():
    bindir, name = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    if name not in CASES:
        print("usage: test_logs_switch.py BINDIR %s" % "|".join(CASES))
        return 2
    require_root_and_users()
    t = Tree(bindir, "switch-" + name)

    def body():
        f = CASES[name](t)
        expect = f.expect()
        f.close()
        try:
            t.wait_lines(expect, timeout=60)
        finally:
            t.tally.update()
            print("files %d; lines written per file %s; distinct lines at the sink per file %s" %
                  (len(expect), [len(r) for r in expect.values()],
                   [len(t.tally.seen(tag)) for tag in expect]))
        time.sleep(1.5)             # duplicates, if any, arrive with the rest
        t.tally.update()
        t.tally.check_exact(expect)
        s = t.agent.status()
        check(s["logs"]["state"] == "ready", "tfo-logs not ready: %s" % s["logs"])
    class Started:              # the agent, once the case has started it
        def __iter__(self):
            return iter([t.agent])
    rc = run_case(body, Started(), name)
    t.close()
    if rc == 0:
        print("ok logs_switch %s" % name)
    return rc


if __name__ == "__main__":
    sys.exit(main())
