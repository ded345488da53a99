#!/usr/bin/env python3
"""test_buffer_stall.py BINDIR CASE - issue 16 §2, fault injection with the
whole tree, as root: tfo-system (1 s), tfo-logs following a file of numbered
lines written at a steady rate, the exporter to tools/tfo-sink. The buffer is
stopped (SIGSTOP) while everything runs:

  resume   for 20 s, then SIGCONT, under a hung_timeout of 30 s: the buffer is
           not killed, it serves again;
  forever  for good, under a hung_timeout of 10 s: the supervisor kills it as
           hung and restarts it, and tfoctl status says so;
  stop     for good, then SIGTERM to the supervisor: every worker keeps its
           stop deadline (the collectors and the exporter wait on the buffer
           with deadlines, the stopped buffer is killed at its own), so the
           whole stop ends within the bound docs/operations.md gives, no
           worker is left behind, and a restart delivers the rest.

In the first two the collectors recover without restarting themselves (same
pids, no restart) and tfo-system's cycles reach the sink again. In all three
every numbered line written is at the sink (lines tfo-logs had stored before
the stop too: nothing acknowledged is lost); duplicates are counted (only
exports in flight may repeat) and printed."""
import os
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (Fail, check, require_root_and_users, Sink, Agent, Tally, Writer,  # noqa: E402
                     numbered, wait_for, run_case, pid_gone, sink_yaml, yaml_of, follow, touch,
                     scratch, OFF, ROLES)

RATE = 100                 # lines per second
CASES = {"resume": (30, 20.0), "forever": (10, None), "stop": (30, None)}  # hung_timeout s, stop s
DRAIN_S = 5                # exporter.shutdown_drain
GRACE_S = 5                # SV_STOP_GRACE_MS: a worker's deadline -> SIGKILL
COUNT_S = 1                # SV_COUNT_WAIT_MS: the buffer's count at the stop
# docs/operations.md "Shutdown": collectors 5 s + grace, the drain + grace,
# the count, the buffer 5 s + grace
STOP_BOUND_S = (5 + GRACE_S) + (DRAIN_S + GRACE_S) + COUNT_S + (5 + GRACE_S)


def metric_batches(tally):
    return tally.update().accepted.get("metrics", 0)


def stop_stalled(agent, w, tally, t0, pids):
    """SIGTERM with the buffer stopped: bounded, nobody left, then a restart
    with a live buffer delivers every line."""
    time.sleep(2)
    n = w.finish()
    t1 = time.monotonic()
    agent.proc.send_signal(signal.SIGTERM)
    print("%6.1f s  SIGTERM to the supervisor, %d lines written" % (t1 - t0, n))
    try:
        rc = agent.proc.wait(timeout=STOP_BOUND_S + 30)
    except Exception:
        raise Fail("the stop did not end %d s after SIGTERM (bound %d s)" %
                   (STOP_BOUND_S + 30, STOP_BOUND_S))
    took = time.monotonic() - t1
    agent.logf.close()
    print("%6.1f s  supervisor exited %d after %.1f s (bound %d s)" %
          (time.monotonic() - t0, rc, took, STOP_BOUND_S))
    # 2 s of slack for the load of a shared machine: the bound is made of
    # timers, and a late tick must not fail the run
    check(took <= STOP_BOUND_S + 2, "the stop took %.1f s, over the bound of %d s"
          % (took, STOP_BOUND_S))
    wait_for(lambda: all(pid_gone(p) for p in pids), "every worker gone after the stop", 10)
    check("buffer: still running after its stop deadline: SIGKILL" in agent.logtext(),
          "the stopped buffer was not killed at its deadline")
    agent.start()
    agent.wait_ready([r for r in ROLES if r != "process"], timeout=60)
    tally.wait_complete(n, 90, first=1)
    time.sleep(1)
    tally.update()
    print("%d of %d lines at the sink after the restart, %d duplicated (exports in flight)"
          % (len(tally.count), n, len(tally.repeats)))


def main():
    bindir, name = sys.argv[1], sys.argv[2]
    hung_s, stop_s = CASES[name]
    require_root_and_users()
    tmp = scratch("tfo-stall-")
    app = os.path.join(tmp, "app.log")
    touch(app)
    out = os.path.join(tmp, "sink.jsonl")
    sink = Sink(bindir, out, log=os.path.join(tmp, "sink.log"))
    agent = Agent(bindir, sink_yaml(sink.port, retry_initial=None, retry_max=None) + yaml_of({
        "heartbeat": {"interval": "60s"},
        "collectors": {"system": {"enabled": True, "interval": "1s"}, "process": OFF,
                       "logs": follow(app)},
        "exporter": {"flush_interval": "200ms", "shutdown_drain": "%ds" % DRAIN_S},
        "supervisor": {"ping_interval": "1s", "hung_timeout": "%ds" % hung_s}}),
        root=os.path.join(tmp, "agent"))
    tally = Tally(out)
    holder = [agent]
    roles = [r for r in ROLES if r != "process"]

    def case():
        w = Writer(app, RATE, numbered("stall"), first=1, step=0.02)
        agent.start()
        before = agent.wait_ready(roles, timeout=60)
        w.start()
        wait_for(lambda: len(tally.update().count) >= RATE * 3 and metric_batches(tally) >= 2,
                 "lines and metrics flowing", 60)
        old = {r: before[r]["pid"] for r in roles}
        buf = old["buffer"]
        t0 = time.monotonic()
        os.kill(buf, signal.SIGSTOP)
        print("%6.1f s  SIGSTOP tfo-buffer (pid %d), line %d" % (0, buf, w.n))
        if name == "stop":
            stop_stalled(agent, w, tally, t0, [before[r]["pid"] for r in roles])
            return
        if stop_s is not None:
            time.sleep(stop_s)
            os.kill(buf, signal.SIGCONT)
            print("%6.1f s  SIGCONT, line %d" % (time.monotonic() - t0, w.n))
            s = agent.status()
            check(s["buffer"]["pid"] == buf and s["buffer"]["restarts"] == 0,
                  "a buffer stopped %.0f s (hung_timeout %d s) was restarted: %s"
                  % (stop_s, hung_s, s["buffer"]))
        else:
            s = agent.wait(lambda t: t["buffer"]["state"] == "ready" and
                           t["buffer"]["pid"] not in (0, buf), "the stopped buffer replaced",
                           timeout=hung_s + 30)
            le = s["buffer"]["last_exit"]
            print("%6.1f s  buffer killed and restarted: %s, %s" %
                  (time.monotonic() - t0, le["reason"], le["signal"]))
            check(le["reason"] == "hung" and le["signal"] == "SIGKILL",
                  "last exit of the stopped buffer: %s" % le)
            check("buffer: no pong for" in agent.logtext(), "hung kill not logged")
        batches = metric_batches(tally)
        wait_for(lambda: metric_batches(tally) >= batches + 3, "tfo-system's cycles again", 60)
        time.sleep(3)
        n = w.finish()
        tally.wait_complete(n, 90, first=1)
        time.sleep(1)
        tally.update()
        count, dups = tally.count, len(tally.repeats)
        s = agent.status()
        for r in ("system", "logs"):
            check(s[r]["pid"] == old[r] and s[r]["restarts"] == 0,
                  "%s restarted: %s" % (r, s[r]))
        print("%d of %d lines at the sink, %d duplicated (exports in flight); "
              "collectors not restarted; buffer restarts %d" %
              (len(count), n, dups, s["buffer"]["restarts"]))

    rc = run_case(case, holder)
    agent.cleanup()
    sink.stop()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
