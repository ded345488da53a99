#!/usr/bin/env python3
"""test_flood_roles.py BINDIR INGEST_FORGE - a compromised tfo-system floods the
buffer with valid metrics of its own role to push tfo-process's queued metrics
out: the next variation of the outside probes after integration.buffer.flood
(there the victim was another signal; here it is the same signal, put by
another role). As root with the real supervisor and every role user.

The receiver (tools/tfo-sink) is down: an outage, so everything waits in
tfo-buffer (buffer.max_size_mb: 4). Acting as tfo-process's uid, ingest_forge
puts numbered metrics batches (a gauge "tfo.forge.batch" holding the number,
16 KiB each: 80 of them, 1.25 MiB) before, during and after a flood of 64 MiB
(256 Puts of 256 KiB) that ingest_forge puts as tfo-system's uid, all valid
puts of each role's own signal; tfo-logs' numbered lines wait too. When the
receiver returns every tfo-process batch arrives exactly once, and every line:
the bound is shared per putting role, so tfo-system made room from its own
oldest (role.system.drops counts them, role.process.drops stays 0), and
tfo-buffer was never restarted. With the bound shared per signal (74465be)
metrics held the whole share of their signal and the flood pushed the oldest
metrics out, tfo-process's batches first."""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfo_e2e import (check, require_root_and_users, wait_for, ranges,  # noqa: E402
                     read_records, accepted, iter_metrics)
from flood_tree import FloodTree  # noqa: E402

BATCHES = 80               # tfo-process's numbered batches: 0..79
BATCH_KIB = 16
LINES = 1000


def batch_counts(path):
    """tfo.forge.batch number -> deliveries, of the accepted metrics requests."""
    got = {}
    for r in accepted(read_records(path), "metrics"):
        for _, _, m in iter_metrics(r):
            if m["name"] != "tfo.forge.batch":
                continue
            for p in m["data_points"]:
                n = int(p["value"])
                got[n] = got.get(n, 0) + 1
    return got


def main():
    bindir, forge = sys.argv[1], sys.argv[2]
    require_root_and_users()
    t = FloodTree(bindir, forge, "tfo-flood-roles-", "flood-roles genuine")
    agent, tally, write, logs_read = t.agent, t.tally, t.write, t.logs_read

    def put_batches(first, last, gap_ms):
        p = subprocess.run(t.forge_cmd("process", "batches", "process", first, last,
                                       BATCH_KIB, gap_ms),
                           capture_output=True, text=True, timeout=300)
        print("ingest_forge batches %d..%d as tfo-process: rc %d: %s" % (
            first, last, p.returncode, p.stdout.strip().splitlines()[-1:]))
        check(p.returncode == 3 and ("0 refused, %d accepted" % (last - first + 1)) in p.stdout,
              "tfo-process's batches %d..%d not all taken: rc %d\n%s%s" %
              (first, last, p.returncode, p.stdout[-1000:], p.stderr[-1000:]))

    def case():
        bpid = t.start(LINES)
        put_batches(0, 29, 0)
        flood = subprocess.Popen(t.forge_cmd("system", "flood", 256, 256),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        write(100)
        put_batches(30, 59, 100)        # while the flood runs
        write(100)
        fout, ferr = flood.communicate(timeout=300)
        print("ingest_forge flood as tfo-system: rc %d: %s" % (flood.returncode,
                                                              fout.strip().splitlines()[-1:]))
        check(flood.returncode == 3, "the flood's puts (valid, its own role) were not taken: "
              "rc %d\n%s%s" % (flood.returncode, fout[-1000:], ferr[-1000:]))
        put_batches(60, BATCHES - 1, 0)
        logs_read(t.written)
        time.sleep(1.0)                 # the last puts committed
        st = agent.wait(lambda s: s["buffer"]["stats"].get("metrics.drops.size", 0) > 0,
                        "the flood's drops counted")["buffer"]["stats"]
        shown = {k: v for k, v in st.items() if "drops" in k or "entries" in k or
                 k.startswith("role.")}
        print("buffer after the flood: %s" % shown)
        check(st.get("role.process.drops", 0) == 0 and st.get("role.logs.drops", 0) == 0,
              "tfo-process's or tfo-logs' data dropped for the flood: %s" % shown)
        t.sink_up()
        got = {}

        def all_batches():
            got.clear()
            got.update(batch_counts(t.out))
            return all(n in got for n in range(BATCHES)) and tally.complete(t.written)
        try:
            wait_for(all_batches, "every tfo-process batch and every line at the sink", 120, 0.5)
        finally:
            lost = [n for n in range(BATCHES) if n not in got]
            print("tfo-process batches put %d, arrived %d distinct, lost %d (%s), twice %s" %
                  (BATCHES, len([n for n in got if 0 <= n < BATCHES]), len(lost), ranges(lost),
                   ranges(sorted(n for n, c in got.items() if c > 1))))
            tally.update()
            lostl = tally.missing(t.written)
            print("lines written %d, arrived %d distinct, lost %d (%s)" %
                  (t.written, len(tally.count), len(lostl), ranges(lostl)))
        time.sleep(1.0)
        got = batch_counts(t.out)
        check(sorted(got) == list(range(BATCHES)),
              "batches that were never put arrived: %s" % sorted(set(got) - set(range(BATCHES))))
        check(all(c == 1 for c in got.values()),
              "batches delivered twice: %s" % ranges(sorted(n for n, c in got.items() if c > 1)))
        tally.update()
        check(not tally.dups(), "lines delivered twice: %s" % ranges(tally.dups()))
        check(st.get("role.system.drops", 0) > 0, "the flood's own drops not counted: %s" %
              shown)
        t.buffer_kept(bpid)
        print("%d tfo-process batches and %d lines once each through tfo-system's 64 MiB "
              "flood into a 4 MiB buffer" % (BATCHES, t.written))

    return t.run(case, "flood_roles")


if __name__ == "__main__":
    sys.exit(main())
