#!/usr/bin/env python3
"""test_flood.py BINDIR INGEST_FORGE - a compromised collector floods the
buffer under its own role to push another role's data out (the variation of
issue 24 §1 outside probes try), as root with the real supervisor and every
role user.

tfo-logs follows a file of numbered lines; the receiver (tools/tfo-sink) is
down, so they wait in tfo-buffer (buffer.max_size_mb: 4). Acting as
tfo-system's uid, ingest_forge then puts 64 MiB of metrics (256 valid
Puts of 256 KiB of random bytes, its own role and signal: each is taken) as
fast as the buffer answers, then 3,000 requests of garbage. More lines are
written during and after the flood. When the receiver returns every numbered line arrives, each once:
the flood made room from its own oldest once its role held the most of the
bound (metrics.drops.size counts it, logs.drops.size stays 0), the garbage
was refused and counted with at most 10 log lines, and tfo-buffer was never
restarted. Before the share rule the buffer dropped the oldest
entries of any signal: the queued lines, already checkpointed by tfo-logs,
were lost for good."""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfo_e2e import check, require_root_and_users, wait_for, ranges  # noqa: E402
from flood_tree import FloodTree  # noqa: E402

LINES = 3000


def main():
    bindir, forge = sys.argv[1], sys.argv[2]
    require_root_and_users()
    t = FloodTree(bindir, forge, "tfo-flood-", "flood genuine")
    agent, tally, write, logs_read = t.agent, t.tally, t.write, t.logs_read

    def case():
        bpid = t.start(LINES)
        time.sleep(1.0)                 # the last batch put and committed
        p = subprocess.Popen(t.forge_cmd("system", "flood", 256, 256),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(5):              # lines written while the flood runs
            write(100)
            time.sleep(0.2)
        fout, ferr = p.communicate(timeout=120)
        print("ingest_forge flood as tfo-system: rc %d: %s" % (p.returncode,
                                                              fout.strip().splitlines()[-1:]))
        check(p.returncode == 3, "the flood's puts (valid, its own role) were not taken: "
              "rc %d\n%s%s" % (p.returncode, fout[-1000:], ferr[-1000:]))
        # garbage as fast as the buffer answers: refused and counted, the
        # journal not flooded (10 lines a minute), the buffer up
        p = subprocess.run(t.forge_cmd("system", "garbage", 3000),
                           capture_output=True, text=True, timeout=120)
        print("ingest_forge garbage as tfo-system: rc %d: %s" % (
            p.returncode, p.stdout.strip().splitlines()[-1:]))
        check(p.returncode == 0, "garbage not all refused: rc %d\n%s%s" %
              (p.returncode, p.stdout[-1000:], p.stderr[-1000:]))
        write(500)
        logs_read(t.written)
        agent.wait(lambda s: s["buffer"]["stats"].get("bad_ingest", 0) >= 3000,
                   "the garbage counted in bad_ingest")
        said = agent.logtext().count("ingest: bad request")
        check(said <= 10, "3000 garbage requests made %d log lines (at most 10 a minute)" % said)
        time.sleep(1.0)
        st = agent.wait(lambda s: s["buffer"]["stats"].get("metrics.drops.size", 0) > 0,
                        "the flood's own drops counted")["buffer"]
        stats = {k: v for k, v in st["stats"].items() if "drops" in k or "entries" in k}
        print("buffer after the flood: %s" % stats)
        check(st["stats"].get("logs.drops.size", 0) == 0 and
              st["stats"].get("logs.dropped_points", 0) == 0,
              "log records dropped for the flood: %s" % stats)
        t.sink_up()
        try:
            wait_for(lambda: tally.complete(t.written), "every line at the sink", 90, 0.3)
        finally:
            tally.update()
            lost = tally.missing(t.written)
            print("lines written %d, arrived %d distinct, lost %d (%s), duplicated %s" %
                  (t.written, len(tally.count), len(lost), ranges(lost), ranges(tally.dups())))
        time.sleep(1.0)
        tally.update()
        check(not tally.dups(), "lines delivered twice: %s" % ranges(tally.dups()))
        t.buffer_kept(bpid)
        print("%d lines once each through a 64 MiB flood into a 4 MiB buffer" % t.written)

    return t.run(case, "flood")


if __name__ == "__main__":
    sys.exit(main())
