#!/usr/bin/env python3
"""test_stop.py BINDIR up|down|slow - a stop delivers what was collected before
it (issue 16 §1, DESIGN §2 SIGTERM, docs/exporter.md "Stop"), as root.

tfo-supervisor with tfo-system every 1 s and tfo-logs following a file a
writer appends numbered lines to at a steady rate, the exporter speaking
OTLP/HTTP to tools/tfo-sink with the default flush interval (10 s: a stop
that waited for it, or did not drain, leaves the last seconds behind).
The SIGTERM comes in the middle of a second, so the cycle of that second was
collected before it and the next one not.

  up    the sink is up: when the supervisor has exited, every line written
        before the SIGTERM and every metrics cycle collected before it are
        at the sink, each exactly once.
  down  the sink is gone at the stop: the stop ends within the drain bound,
        nothing is deleted, one line says what stays queued; started again
        with the sink back, everything arrives, nothing twice.
  slow  the sink is stopped (SIGSTOP) while the agent stops: tfoctl status
        says the exporter is "draining"; once the sink runs again the drain
        completes and everything is there when the supervisor exits."""
import os
import re
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (check, require_root_and_users, Sink, Agent, Tally, Writer,  # noqa: E402
                     numbered, wait_for, run_case, sink_yaml, yaml_of, follow, touch, scratch, OFF)

ROLES = ["system", "logs", "buffer", "exporter", "heartbeat"]
RATE = 400           # lines per second
DRAIN_S = 5          # exporter.shutdown_drain in the config below


def check_lines(tally, n):
    """Lines 0 .. n-1 at the sink, each once."""
    tally.update()
    missing = tally.missing(n)
    twice = tally.dups()
    check(not missing, "%d of %d lines missing (first %s)" % (len(missing), n, missing[:5]))
    check(not twice, "%d lines arrived more than once (first %s)" % (len(twice), twice[:5]))


def check_cycles(cycles, t_term):
    """Every cycle before the SIGTERM, each once: after the first (1 s after
    the start), one in every wall-clock second up to the SIGTERM's."""
    before = sorted(t for t in cycles if t < t_term * 1e9)
    check(len(before) >= 3, "only %d metrics cycles before the stop" % len(before))
    twice = sorted(t for t, c in cycles.items() if c > 1)
    check(not twice, "metrics cycles arrived more than once: %s" % twice)
    secs = {t // 10**9 for t in before[1:]}
    gaps = [t for t in range(before[1] // 10**9, int(t_term) + 1) if t not in secs]
    check(not gaps, "metrics cycles of %s missing (the SIGTERM came at %.3f; cycles %s)" %
          (gaps, t_term, [t / 1e9 for t in sorted(cycles)]))
    return len(before)


def sigterm_mid_second():
    """Sleep to the middle of a wall-clock second: the cycle of this second has
    run, the next has not."""
    now = time.time()
    frac = now - int(now)
    time.sleep((0.5 - frac) % 1.0)


def main():
    bindir, case = sys.argv[1], sys.argv[2]
    require_root_and_users()
    tmp = scratch("tfo-stop-")
    app = os.path.join(tmp, "app.log")
    touch(app)
    out = os.path.join(tmp, "sink.jsonl")
    sinklog = os.path.join(tmp, "sink.log")
    sink = [Sink(bindir, out, log=sinklog)]
    port = sink[0].port
    agent = Agent(bindir, sink_yaml(port, timeout="10s", retry_initial="200ms") + yaml_of({
        "heartbeat": {"interval": "30s"},
        "collectors": {"system": {"interval": "1s"}, "process": OFF,
                       "logs": follow(app, rescan_interval=None, batch_max_ms=None)},
        "exporter": {"shutdown_drain": "%ds" % DRAIN_S}}), root=os.path.join(tmp, "agent"))
    tally = Tally(out)
    holder = [agent]

    def run_and_stop(before_stop=None, during_stop=None):
        """Start, write for a few seconds, SIGTERM mid-second; returns
        (lines written, SIGTERM wall time, seconds the stop took)."""
        agent.start()
        agent.wait_ready(ROLES)
        w = Writer(app, RATE, numbered("stop test"), step=0.005)
        w.start()
        time.sleep(4.0)
        if before_stop:
            before_stop()
        sigterm_mid_second()
        n = w.finish()
        t_term = time.time()
        t0 = time.monotonic()
        agent.proc.send_signal(signal.SIGTERM)
        if during_stop:
            during_stop()
        rc = agent.proc.wait(timeout=60)
        took = time.monotonic() - t0
        agent.logf.close()
        check(rc == 0, "supervisor exit status %s" % rc)
        return n, t_term, took

    def case_up():
        n, t_term, took = run_and_stop()
        check_lines(tally, n)
        nc = check_cycles(tally.cycles, t_term)
        check("drained: the buffer is empty" in agent.logtext(), "no 'drained' line")
        check("stopping with nothing queued" in agent.logtext(), "no 'nothing queued' line")
        print("up: %d lines and %d cycles collected before the SIGTERM all delivered once; "
              "stop took %.2f s" % (n, nc, took))

    def case_down():
        def sink_down():
            check(sink[0].stop() == 0, "tfo-sink exit status")
        n, t_term, took = run_and_stop(before_stop=sink_down)
        check(took < DRAIN_S + 5, "stop with the sink down took %.1f s" % took)
        m = re.search(r"stopping with (\d+) metric and (\d+) log entries queued; they are sent "
                      r"at the next start", agent.logtext())
        check(m and int(m.group(1)) + int(m.group(2)) > 0, "no line saying what stays queued")
        sink[0] = Sink(bindir, out, port=port, log=sinklog)
        agent.start()
        agent.wait_ready(ROLES)

        wait_for(lambda: tally.complete(n) and max(tally.cycles, default=0) > t_term * 1e9,
                 "everything at the sink after the restart", 40, 0.5)
        rc = agent.stop()
        check(rc == 0, "supervisor exit status %s" % rc)
        check_lines(tally, n)
        nc = check_cycles(tally.cycles, t_term)
        print("down: stop took %.2f s with %s metric and %s log entries queued; after the "
              "restart %d lines and %d cycles delivered once" %
              (took, m.group(1), m.group(2), n, nc))

    def case_slow():
        seen = {}

        def pause_sink():
            os.kill(sink[0].proc.pid, signal.SIGSTOP)

        def watch():
            def draining():
                s = agent.status()
                return s and s["exporter"]["state"] == "draining"
            try:
                seen["draining"] = wait_for(draining, "exporter draining", 8, 0.05)
            finally:
                os.kill(sink[0].proc.pid, signal.SIGCONT)
        n, t_term, took = run_and_stop(before_stop=pause_sink, during_stop=watch)
        check(seen.get("draining"), "tfoctl status never said draining")
        check_lines(tally, n)
        nc = check_cycles(tally.cycles, t_term)
        print("slow: status said draining; %d lines and %d cycles delivered once; stop took "
              "%.2f s" % (n, nc, took))

    rc = run_case({"up": case_up, "down": case_down, "slow": case_slow}[case], holder)
    agent.cleanup()
    sink[0].stop()
    shutil.rmtree(tmp, ignore_errors=True)
    if rc == 0:
        print("ok stop.%s" % case)
    return rc


if __name__ == "__main__":
    sys.exit(main())
