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
the flood made room from its own signal once metrics held their share of the
bound (metrics.drops.size counts it, logs.drops.size stays 0), the garbage
was refused and counted with at most 10 log lines, and tfo-buffer was never
restarted. Before the share rule the buffer dropped the oldest
entries of any signal: the queued lines, already checkpointed by tfo-logs,
were lost for good."""
import os
import pwd
import grp
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (check, require_root_and_users, Sink, Agent, Tally, numbered,  # noqa: E402
                     wait_for, run_case, sink_yaml, yaml_of, follow, scratch, ranges)

ROLES = ["system", "process", "logs", "buffer", "exporter", "heartbeat"]
LINES = 3000


def main():
    bindir, forge = sys.argv[1], sys.argv[2]
    require_root_and_users()
    tmp = scratch("tfo-flood-")
    app = os.path.join(tmp, "app.log")
    out = os.path.join(tmp, "sink.jsonl")
    sinklog = os.path.join(tmp, "sink.log")
    sink = [Sink(bindir, out, log=sinklog)]
    port = sink[0].port
    sink[0].stop()                      # down: the lines wait in the buffer
    agent = Agent(bindir, sink_yaml(port, retry_initial="200ms", retry_max="1s") + yaml_of({
        "heartbeat": {"interval": "60s"},
        "buffer": {"max_size_mb": 4},
        "collectors": {"logs": follow(app, batch_max_ms=50)},
        "exporter": {"flush_interval": "200ms"}}), root=os.path.join(tmp, "agent"))
    tally = Tally(out)
    text = numbered("flood genuine")
    written = [0]
    system = pwd.getpwnam("tfo-system").pw_uid
    group = grp.getgrnam("tfo-agent").gr_gid
    url = "ipc://%s/ingest.ipc" % agent.run

    def write(n):
        with open(app, "a") as f:
            f.write("".join(text(i) for i in range(written[0], written[0] + n)))
        os.chmod(app, 0o644)
        written[0] += n

    def logs_read(n):
        return agent.wait(lambda s: s["logs"]["stats"].get("logs.lines", 0) >= n,
                          "tfo-logs read %d lines" % n, 60)

    def case():
        write(LINES)
        agent.start()
        s = agent.wait_ready(ROLES, timeout=60)
        bpid = s["buffer"]["pid"]
        logs_read(LINES)
        time.sleep(1.0)                 # the last batch put and committed
        p = subprocess.Popen([forge, url, str(system), str(group), "flood", "256", "256"],
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
        p = subprocess.run([forge, url, str(system), str(group), "garbage", "3000"],
                           capture_output=True, text=True, timeout=120)
        print("ingest_forge garbage as tfo-system: rc %d: %s" % (
            p.returncode, p.stdout.strip().splitlines()[-1:]))
        check(p.returncode == 0, "garbage not all refused: rc %d\n%s%s" %
              (p.returncode, p.stdout[-1000:], p.stderr[-1000:]))
        write(500)
        logs_read(written[0])
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
        sink[0] = Sink(bindir, out, port=port, log=sinklog)
        try:
            wait_for(lambda: tally.complete(written[0]), "every line at the sink", 90, 0.3)
        finally:
            tally.update()
            lost = tally.missing(written[0])
            print("lines written %d, arrived %d distinct, lost %d (%s), duplicated %s" %
                  (written[0], len(tally.count), len(lost), ranges(lost), ranges(tally.dups())))
        time.sleep(1.0)
        tally.update()
        check(not tally.dups(), "lines delivered twice: %s" % ranges(tally.dups()))
        s = agent.status()
        check(s["buffer"]["pid"] == bpid and s["buffer"]["state"] == "ready",
              "tfo-buffer restarted or not ready: %s" % s["buffer"])
        print("%d lines once each through a 64 MiB flood into a 4 MiB buffer" % written[0])

    rc = run_case(case, [agent])
    agent.cleanup()
    sink[0].stop()
    if rc == 0:
        subprocess.run(["rm", "-rf", tmp])
        print("ok flood")
    return rc


if __name__ == "__main__":
    sys.exit(main())
