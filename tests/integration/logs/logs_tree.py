"""logs_tree.py - helpers of the tfo-logs whole-tree tests (test_logs_tree.py,
bench/logs): numbered lines written to files, the real tree started on a temp
dir with tfo-sink as the far end, and an exact tally of what tfo-sink
accepted. Python standard library only.

Every line the tests write is "<tag> <number, 8 digits> <level> <text>\\n":
the tag names the file (or the writer), the number is unique within a tag,
so the tally can say which lines of which file arrived how often."""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import tfo_e2e  # noqa: E402
from tfo_e2e import (Fail, Sink, Agent, check, wait_for, ranges, sink_yaml,  # noqa: E402,F401
                     yaml_of, OFF)

# what test_logs_tree and bench_logs_idle take from here, tfo_e2e's included
__all__ = ["Fail", "Sink", "Agent", "check", "wait_for", "ranges", "sink_yaml", "yaml_of", "OFF",
           "ROLES", "line", "lines", "append", "Tally", "tree_yaml", "indent", "Writer",
           "numbers_in", "copytruncate"]

LINE = re.compile(r"^(\S+) (\d{8}) ")      # a tagged line: its tag and number
ROLES = ["logs", "buffer", "exporter"]


def line(tag, n, pad=0):
    return "%s %08d INFO line %d of %s%s\n" % (tag, n, n, tag, " " + "x" * pad if pad else "")


def lines(tag, start, end, pad=0):
    return "".join(line(tag, n, pad) for n in range(start, end)).encode()


def append(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


class Tally(tfo_e2e.Tally):
    """tfo-sink's --out file read incrementally: how often each (tag, number)
    arrived in an accepted logs request, and every record's attributes."""

    def __init__(self, path):
        super().__init__(path, LINE, keep_attrs=True)

    def seen(self, tag):
        return {n: c for (t, n), c in self.count.items() if t == tag}

    def has_all(self, expect):
        """expect: {tag: iterable of numbers}; True once each arrived."""
        self.update()
        return all((t, n) in self.count for t, ns in expect.items() for n in ns)

    def check_exact(self, expect, may_miss=None, may_repeat=None):
        """Every expected line exactly once, nothing else of those tags. may_miss
        and may_repeat: {tag: set of numbers} the case allows (logrotate's race)."""
        may_miss = may_miss or {}
        may_repeat = may_repeat or {}
        report, bad = [], False
        totals = [0, 0, 0, 0]     # written, received, lost, duplicated
        for tag, nums in sorted(expect.items()):
            nums = set(nums)
            got = self.seen(tag)
            lost = sorted(n for n in nums if n not in got and n not in may_miss.get(tag, ()))
            dup = sorted(n for n, c in got.items() if c > 1 and n not in may_repeat.get(tag, ()))
            extra = sorted(n for n in got if n not in nums)
            raced = len([n for n in may_miss.get(tag, ()) if n not in got]) + \
                len([n for n in may_repeat.get(tag, ()) if got.get(n, 0) > 1])
            totals = [totals[0] + len(nums), totals[1] + len(got), totals[2] + len(lost),
                      totals[3] + len(dup)]
            if len(expect) <= 20 or lost or dup or extra:
                report.append("%s: %d written, %d received, %d lost, %d duplicated, %d unknown, "
                              "%d in the allowed race" % (tag, len(nums), len(got), len(lost),
                                                           len(dup), len(extra), raced))
            if lost or dup or extra:
                bad = True
                report.append("  lost: %s; duplicated: %s; unknown: %s" %
                              (ranges(lost), ranges(dup), ranges(extra)))
        if len(expect) > 20:
            report.append("%d files: %d lines written, %d received, %d lost, %d duplicated" %
                          (len(expect), totals[0], totals[1], totals[2], totals[3]))
        print("\n".join(report[:40]))
        check(not bad, "inexact delivery (see above)")
        check(not self.refused, "logs requests refused: %s" % self.refused[:3])


def tree_yaml(port, logs, extra=""):
    """The agent's config: tfo-logs with the logs section given (indented
    under collectors.logs), the exporter to tfo-sink over OTLP/HTTP, fast
    flushes; system and process collectors off. The export timeout is long:
    these tests count every line exactly once, and a request that outlives its
    timeout on a loaded machine is sent again (a duplicate from an export in
    flight, allowed by design and counted apart by chaos.logs, not what a
    rotation test is about)."""
    return sink_yaml(port, timeout="15s") + yaml_of({
        "heartbeat": OFF,
        "collectors": {"system": OFF, "process": OFF,
                       "logs": {"enabled": True, "batch_max_ms": 50}}}) + logs + yaml_of({
        "exporter": {"flush_interval": "100ms", "shutdown_drain": "5s"}}) + extra


def indent(text, n=4):
    return "".join(" " * n + ln + "\n" for ln in text.strip("\n").split("\n"))


class Writer(tfo_e2e.Writer):
    """Appends numbered lines of tag to path at rate per second."""

    def __init__(self, path, tag, rate, pad=20):
        super().__init__(path, rate, lambda n: line(tag, n, pad))
        self.tag = tag


def numbers_in(data, tag):
    """The numbers of tag's lines that start in data (bytes), complete or not."""
    out = []
    for ln in data.split(b"\n"):
        m = LINE.match(ln.decode(errors="replace"))
        if m and m.group(1) == tag:
            out.append(int(m.group(2)))
    return out


def copytruncate(w, keep=9):
    """logrotate's copytruncate, as it does it: older copies shifted
    (app.log.1 -> .2 ...), the live file copied to app.log.1 while the writer
    goes on, then truncated. Returns the numbers of the lines that logrotate's
    own race puts at risk: those written after the copy read its last byte and
    before the truncation (they are in the live file only, and only until the
    truncation), and the line the copy may have cut."""
    for k in range(keep, 0, -1):
        src = "%s.%d" % (w.path, k)
        if os.path.exists(src):
            os.rename(src, "%s.%d" % (w.path, k + 1))
    dst = "%s.1" % w.path
    with open(w.path, "rb") as src, open(dst, "xb") as out:
        os.fchmod(out.fileno(), 0o644)
        while True:
            buf = src.read(65536)
            if not buf:
                break
            out.write(buf)
        copied = out.tell()
    with w.lock:
        with open(w.path, "rb") as f:
            data = f.read()
        os.truncate(w.path, 0)
    cut = data.rfind(b"\n", 0, copied) + 1     # start of the line the copy may have cut
    return numbers_in(data[cut:], w.tag)
