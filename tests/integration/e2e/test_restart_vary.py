#!/usr/bin/env python3
"""test_restart_vary.py BINDIR early|catchup|kill_catchup - restarts the
outside probes vary (findings 1 and 2 of their first week), as root.

tfo-supervisor with tfo-system (1 s), tfo-logs following one file a writer
appends numbered lines to throughout, tfo-buffer, tfo-exporter (OTLP/HTTP to
tools/tfo-sink) and tfo-heartbeat, one state dir for the whole case.
integration.e2e.restart stops a tree that is ready and caught up; these stop
one that is not:

  early         SIGTERM 0 .. 0.4 s after the start, before the workers are
                ready (some half-started), 6 times in a row, then a start
                that stays: every line arrives, none twice (every stop is
                graceful), the supervisor exits 0 each time.
  catchup       the receiver down while ~30,000 lines queue up, then back;
                SIGTERM while the exporter is catching up (part of the
                backlog delivered), twice, and a start that stays: every
                line once (a graceful stop drains or keeps, never resends).
  kill_catchup  the same backlog; kill -9 of the supervisor and every
                worker at once while catching up, twice: every line
                arrives, duplicates only from exports in flight at a kill
                (at most exporter.max_in_flight runs of lines per kill)."""
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (Fail, check, require_root_and_users, Sink, Agent, Tally, Writer,  # noqa: E402
                     wait_for, run_case, ranges, sink_yaml, yaml_of, follow, numbered, touch,
                     tree_dirs, OFF)

ROLES = ["system", "logs", "buffer", "exporter", "heartbeat"]
MAX_IN_FLIGHT = 2


def nruns(nums):
    return sum(1 for i, k in enumerate(nums) if i == 0 or nums[i - 1] != k - 1)


def main():
    bindir, case = sys.argv[1], sys.argv[2]
    check_case = case in ("early", "catchup", "kill_catchup")
    if not check_case:
        print("usage: test_restart_vary.py BINDIR early|catchup|kill_catchup")
        return 2
    require_root_and_users()
    tmp, app, out, sinklog = tree_dirs("tfo-restart-vary-")
    sink = [Sink(bindir, out, log=sinklog)]
    port = sink[0].port
    agent = Agent(bindir, sink_yaml(port, retry_max="500ms") + yaml_of({
        "heartbeat": {"interval": "10s", "timeout": "2s"},
        "collectors": {"system": {"interval": "1s"}, "process": OFF,
                       "logs": follow(app, batch_max_ms=50)},
        # small batches: the backlog takes many requests to deliver, so a
        # stop lands in the middle of it
        "exporter": {"flush_interval": "200ms", "max_in_flight": MAX_IN_FLIGHT,
                     "batch_max_bytes": "64KiB", "shutdown_drain": "10s"}}),
        root=os.path.join(tmp, "agent"))
    tally = Tally(out)
    timeline = []
    t0 = time.monotonic()
    w = {}

    def note(what):
        timeline.append("%6.1f s  %s (line %d, %d at the sink)" % (
            time.monotonic() - t0, what, w["w"].n if "w" in w else 0, len(tally.update().count)))

    def backlog(nlines):
        """The receiver down while nlines more are written and queued; then back."""
        sink[0].stop()
        note("receiver down")
        target = w["w"].n + nlines
        wait_for(lambda: w["w"].n >= target, "%d lines written" % nlines, 60)
        st = agent.wait(lambda s: s["logs"]["stats"].get("logs.lines", 0) >= target - 200,
                        "tfo-logs read the backlog", 60)
        note("backlog queued (logs.lines %s)" % st["logs"]["stats"].get("logs.lines"))
        sink[0] = Sink(bindir, out, port=port, log=sinklog)
        note("receiver back")

    def mid_catchup(total):
        """Wait until part of the backlog (not all) is at the sink."""
        have = len(tally.update().count)
        want = have + max(500, (total - have) // 5)
        wait_for(lambda: len(tally.update().count) >= want, "catch-up under way", 60, 0.02)
        left = total - len(tally.count)
        check(left > 1000, "the backlog was delivered before the stop (%d left): "
              "the case tests nothing" % left)
        note("catching up, %d left" % left)

    def early():
        agent.start()
        agent.wait_ready(ROLES, timeout=60)
        time.sleep(1.5)
        for i, delay in enumerate([0.0, 0.02, 0.05, 0.1, 0.2, 0.4]):
            rc = agent.stop()
            check(rc == 0, "supervisor exit status %s after SIGTERM" % rc)
            agent.start()
            time.sleep(delay)
            st = agent.workers() or {}
            note("SIGTERM %.2f s after start %d (%s)" % (
                delay, i + 1, ",".join("%s:%s" % (r, st[r]["state"]) for r in ROLES if r in st)
                or "no status yet"))
        agent.wait_ready(ROLES, timeout=60)
        time.sleep(1.5)
        return 0

    def catchup(kill):
        agent.start()
        agent.wait_ready(ROLES, timeout=60)
        time.sleep(1.0)
        for i in range(2):
            backlog(15000)
            mid_catchup(w["w"].n)
            if kill:
                agent.kill9_tree(ROLES)
                note("kill -9 of the whole tree %d" % (i + 1))
            else:
                rc = agent.stop()
                check(rc == 0, "supervisor exit status %s after SIGTERM" % rc)
                note("SIGTERM %d" % (i + 1))
            agent.start()
            agent.wait_ready(ROLES, timeout=60)
            note("started again")
        return 2 if kill else 0

    def body():
        touch(app)
        writer = w["w"] = Writer(app, 3000 if case != "early" else 400, numbered("vary"))
        writer.start()
        kills = early() if case == "early" else catchup(case == "kill_catchup")
        time.sleep(1.0)
        n = writer.finish()
        note("writer stopped")
        try:
            tally.wait_complete(n, 90, 0.3)
        finally:
            print("\n".join(timeline))
        time.sleep(1.0)           # a duplicate would come with the rest
        rc = agent.stop()
        tally.update()
        dup = tally.dups()
        print("lines written %d, received %d distinct, duplicated %d (%s), foreign %d" %
              (n, len(tally.count), len(dup), ranges(dup), tally.foreign))
        check(all(k < n for k in tally.count), "line numbers beyond what was written")
        if kills == 0:
            check(not dup, "lines delivered twice across graceful stops: %s" % ranges(dup))
        else:
            check(nruns(dup) <= kills * MAX_IN_FLIGHT,
                  "duplicates beyond one in-flight window per kill -9: %s" % ranges(dup))
        check(rc == 0, "supervisor exit status %s" % rc)

    rc = run_case(body, [agent], case)
    agent.cleanup()
    sink[0].stop()
    shutil.rmtree(tmp, ignore_errors=True)
    if rc == 0:
        print("ok restart_vary %s" % case)
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)
