#!/usr/bin/env python3
"""bench_restart.py - median time from kill -9 of a worker to that worker being
ready again (DESIGN §8 budget: <= 50 ms median, first restart). Runs a real
tfo-supervisor as root with tfo-testworker in every slot (the real tfo-process
in the process slot), kills the process worker N times and reads the ready
instant from the supervisor's own log timestamps. Prints figures only.
Usage: bench_restart.py BINDIR [N]"""
import datetime
import os
import re
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "integration", "supervisor"))
import test_supervisor as ts  # noqa: E402

READY = re.compile(r"^(\S+) supervisor\[\d+\] info: process: ready \(pid (\d+),")


def ready_at(agent, pid, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for line in agent.logtext().splitlines():
            m = READY.match(line)
            if m and int(m.group(2)) != pid and m.group(1) not in agent.seen:
                agent.seen.add(m.group(1))
                return int(m.group(2)), datetime.datetime.strptime(
                    m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                        tzinfo=datetime.timezone.utc).timestamp()
        time.sleep(0.005)
    raise ts.Fail("process worker not ready again")


def main():
    bindir = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    if os.geteuid() != 0:
        print("bench_restart: needs root")
        return 1
    env = {"TFO_WORKER_PROCESS": os.path.join(bindir, "tfo-process")}
    a = ts.Agent(bindir, env_extra=env)
    a.write_config(extra_yaml="")
    with open(a.cfg) as f:
        text = f.read().replace("max_restarts: 3", "max_restarts: 1000")
    with open(a.cfg, "w") as f:
        f.write(text)
    a.seen = set()
    samples = []
    try:
        a.start()
        s = a.wait_all_ready()
        pid, _ = ready_at(a, 0)
        for _ in range(n):
            # An operator restart ends the backoff streak, so every kill
            # below is a first death (restarted at once).
            t0 = time.time()
            os.kill(pid, signal.SIGKILL)
            pid, t1 = ready_at(a, pid)
            samples.append((t1 - t0) * 1000.0)
            a.tfoctl("restart", "process")
            pid, _ = ready_at(a, pid)
            s = a.status()[0]
            ts.check(s["process"]["state"] == "ready", "not ready")
    finally:
        a.cleanup()
    samples.sort()
    print(f"restart after kill -9 (process worker, {len(samples)} kills): "
          f"median {statistics.median(samples):.1f} ms, min {samples[0]:.1f} ms, "
          f"max {samples[-1]:.1f} ms (budget 50 ms median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
