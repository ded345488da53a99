#!/usr/bin/env python3
"""bench_fleet.py BINDIR [options] - what a fleet of agents does to its collector
tier together (issue 20 §2): N real agents (fleet_drive: a tfo-buffer and a
tfo-exporter each, with its own state and runtime dir, fed by one synthetic
writer) against tools/tfo-sink on 127.0.0.1, which records every request's
arrival (--out: ts, agent id, status, items). Prints, per scenario, the request
rate at the sink per second (peak, mean, peak/mean) and the time to drain:

  start     all N exporters start in the same second: the rate over the first
            5 export intervals (peak/mean; the goal is <= 1.5);
  outage    the sink is killed for --outage seconds (default 300), then back:
            the steady rate before, the peak while the backlog drains (goal
            <= 3x steady), how long each agent waited for its first delivery
            once the sink was back (goal <= its max backoff, 60 s by default)
            and how long until it had delivered everything queued before the
            sink came back (goal <= 120 s);
  failover  two sinks, the first killed for --primary-outage seconds (default
            120): when each agent's data first reached the second, and when
            it returned to the first (docs/exporter.md: 5 minutes after it
            left it). A run takes about 7 minutes.
  cap       the sink is down from before the agents start until --outage
            seconds after the last is ready, so no agent ever had an answer and each one's cap
            after the outage starts at --max-in-flight batches a flush
            interval (docs/exporter.md, Fleet): counts each agent's requests
            at the sink in its first 1, 2 and 3 intervals from its first
            arrival once the sink is back, against the cap (the probe + F,
            + 2F, + 4F for F = --max-in-flight). Arrival at the sink is never
            before the send, so a loaded machine only lowers the counts: this
            is a bound on behaviour, not on timing. It also prints the peak
            rate after the outage. Not in the default set (the smoke runs it
            with one entry a batch, so that the backlog is many batches).

Every scenario ends by stopping the writer and waiting until the sink holds
every agent's data; what is missing or doubled is printed. With --check the
run fails (exit 1) when data is missing or doubled, an agent never failed over
or an agent never caught up; that is all it checks (the 5-agent ctest smoke):
the figures are printed, never asserted. A bench: run it when the machine is
quiet; it prints the load average it saw.

Options: --drive PATH (fleet_drive; default BINDIR/../bench/fleet_drive)
  --agents N (200)  --scenario start,outage,failover (all)  --flush MS (10000)
  --outage S (300)  --primary-outage S (120)  --steady S (120)
  --log-records N (200 a second)  --metrics-points N (200 every 10 s)
  --logs-every-ms MS (1000)  --batch-max-bytes N (256 KiB, exporter.batch_max_bytes)
  --max-in-flight F (2)
  --retry-initial MS (1000)  --retry-max MS (60000): telemetryflow.retry.*, as the
  config's defaults; the goals follow them
  --check  --keep DIR (keep the sink records there)

Run as root or not (the workers keep the caller's uid). Never run by ctest
except as the smoke above:
  cmake --build build --target bench-fleet
  python3 bench/fleet/bench_fleet.py build/bin --agents 200"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "lib"))
from tfo_e2e import Fail, Sink  # noqa: E402


class Drive:
    """fleet_drive: the agents and the writer; its stdout lines read as they come."""

    def __init__(self, path, bindir, n, endpoints, a, log):
        args = [path, "--bin", bindir, "--agents", str(n), "--flush-ms", str(a.flush),
                "--log-records", str(a.log_records), "--metrics-points", str(a.metrics_points)]
        for e in endpoints:
            args += ["--endpoint", e]
        args += ["--retry-initial-ms", str(a.retry_initial), "--retry-max-ms", str(a.retry_max)]
        args += ["--logs-every-ms", str(a.logs_every), "--batch-max-bytes", str(a.batch_max_bytes),
                 "--max-in-flight", str(a.max_in_flight)]
        self.errf = open(log, "a")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errf, text=True)
        self.feeds = []          # (unix ts the round ended, signal, items, agents failed)
        self.started = None      # (first exec, last Ready), unix seconds
        self.lines = []
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            f = line.split()
            with self.cv:
                self.lines.append(line.rstrip())
                if f and f[0] == "feed":
                    self.feeds.append((float(f[1]), f[2], int(f[3]), int(f[4])))
                elif f and f[0] == "exporters":
                    self.started = (float(f[2]), float(f[3]))
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)
            self.cv.notify_all()

    def wait_started(self, timeout):
        end = time.monotonic() + timeout
        with self.cv:
            while self.started is None:
                if None in self.lines or time.monotonic() > end:
                    raise Fail("fleet_drive did not start its agents: %s" %
                               " | ".join(x for x in self.lines if x))
                self.cv.wait(1)
        return self.started

    def say(self, what):
        self.proc.stdin.write(what + "\n")
        self.proc.stdin.flush()

    def given(self, before=None):
        """{signal: items every agent was given} by rounds ended before `before`."""
        out = {"metrics": 0, "logs": 0}
        with self.cv:
            for ts, sig, items, failed in self.feeds:
                if before is None or ts < before:
                    out[sig] += items
        return out

    def failed_puts(self):
        with self.cv:
            return sum(f[3] for f in self.feeds)

    def quit(self):
        try:
            self.say("quit")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.errf.close()
        return self.proc.returncode


class Arrivals:
    """The sinks' --out files, read as they grow: one tuple per request."""

    def __init__(self):
        self.files = {}          # label -> [path, offset]
        self.reqs = []           # (ts, label, agent, signal, status, items)

    def add(self, label, path):
        self.files[label] = [path, 0]

    def poll(self):
        for label, fo in self.files.items():
            try:
                with open(fo[0]) as f:
                    f.seek(fo[1])
                    data = f.read()
            except FileNotFoundError:
                continue
            cut = data.rfind("\n") + 1
            fo[1] += len(data[:cut].encode())
            for line in data[:cut].splitlines():
                r = json.loads(line)
                agent = r.get("headers", {}).get("x-telemetryflow-agent-id", "-")
                items = r.get("points", 0) + r.get("records", 0)
                self.reqs.append((r["ts"], label, agent, r["signal"], r["status"], items))
        return self.reqs

    def received(self):
        """{agent: {signal: items}} of accepted requests."""
        out = {}
        for ts, label, agent, sig, status, items in self.poll():
            if status == 200:
                d = out.setdefault(agent, {"metrics": 0, "logs": 0})
                d[sig] = d.get(sig, 0) + items
        return out


def agents_of(n):
    return ["fleet-%04d" % i for i in range(n)]


def rate(reqs, t0, t1, label=None, items=False):
    """(peak per-second count, mean per second, bins) of requests in [t0, t1)
    (to sink `label`, or to any); of the items (points, records) they carried
    if `items`: a request of 1 MiB weighs what it costs the collector."""
    nb = max(1, int(round(t1 - t0)))
    bins = [0] * nb
    for r in reqs:
        if t0 <= r[0] < t1 and (label is None or r[1] == label):
            bins[min(nb - 1, int(r[0] - t0))] += r[5] if items else 1
    return max(bins), sum(bins) / float(nb), bins


def quantiles(xs):
    if not xs:
        return "-"
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]  # noqa: E731
    return "median %.1f, p90 %.1f, max %.1f" % (q(0.5), q(0.9), xs[-1])


def spark(bins, width=10):
    """requests a second, averaged over `width`-second steps, as numbers"""
    out = []
    for i in range(0, len(bins), width):
        chunk = bins[i:i + width]
        out.append("%.0f" % (sum(chunk) / float(len(chunk))))
    return " ".join(out)


class Load:
    """The 1-minute load average, sampled every 10 s while a scenario runs."""

    def __init__(self):
        self.samples = [os.getloadavg()[0]]
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop.wait(10):
            self.samples.append(os.getloadavg()[0])

    def done(self):
        self.stop.set()
        s = self.samples
        return "load average (1 min) %.1f at the start, mean %.1f, max %.1f over %d samples" % (
            s[0], sum(s) / len(s), max(s), len(s))


def fleet_rss_mib(pid):
    """RSS of fleet_drive's children (the workers), MiB; 0 if unreadable"""
    total = 0
    try:
        kids = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
    except OSError:
        return 0.0
    for k in kids:
        try:
            for line in open("/proc/%s/status" % k):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024.0


class Run:
    """One scenario's sinks, agents and records, in a temp dir."""

    def __init__(self, a, name, n_sinks, down_at_start=False):
        self.a = a
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="tfo-fleet-%s-" % name)
        self.arr = Arrivals()
        self.sinks = []
        for i in range(n_sinks):
            out = os.path.join(self.dir, "sink%d.jsonl" % i)
            self.arr.add(i, out)
            self.sinks.append(self._sink(out, 0))
        self.ports = [s.port for s in self.sinks]
        if down_at_start:        # its port is known: it comes back on it
            self.sink_down(0)
        self.drive = Drive(a.drive, a.bindir, a.agents,
                           ["http://127.0.0.1:%d" % p for p in self.ports], a,
                           os.path.join(self.dir, "agents.log"))
        self.load = Load()

    def _sink(self, out, port):
        return Sink(self.a.bindir, out, port=port, count_only=True, quiet=True,
                    log=os.path.join(self.dir, "sink.log"))

    def steady_then_down(self, what):
        """Run steady for a.steady s, then take sink 0 down; (first exec, down)."""
        first, ready = self.drive.wait_started(300)
        time.sleep(self.a.steady)
        t_down = self.sink_down(0)
        print("%s; down %.0f s after the start" % (what, t_down - first))
        return first, t_down

    def sink_down(self, i):
        """the collector dies: connections reset, then refused"""
        s = self.sinks[i]
        s.proc.kill()
        s.proc.wait()
        s.stop()
        return time.time()

    def sink_up(self, i):
        self.sinks[i] = self._sink(os.path.join(self.dir, "sink%d.jsonl" % i), self.ports[i])
        return time.time()

    def back_up(self):
        """Sink 0 back; watched until every agent caught up, for at least
        a.watch s (the drain window), at most a.after. Returns (the time it
        came back, what each agent was given before, the agents, requests)."""
        a = self.a
        t_up = self.sink_up(0)
        given = self.drive.given(t_up)
        agents = agents_of(a.agents)
        settle = 5 * a.flush / 1000.0 + 2
        while time.time() < t_up + a.after:
            time.sleep(1)
            caught = catch_up(self.arr.poll(), agents, given, t_up)
            # and 5 intervals more once all caught up: the phases they keep
            if len(caught) == a.agents and time.time() >= t_up + max(
                    a.watch, max(caught.values()) + settle):
                break
        return t_up, given, agents, self.arr.poll()

    def complete(self, timeout):
        """Stop the writer; wait until every agent's data is at the sinks.
        Returns (missing, doubled) as lists of 'agent signal n' texts."""
        self.drive.say("stop")
        end = time.monotonic() + timeout
        while True:
            time.sleep(1)
            with self.drive.cv:
                stopped = "stopped" in self.drive.lines
            if not stopped:
                continue
            given, got = self.drive.given(), self.arr.received()
            missing, doubled = [], []
            for ag in agents_of(self.a.agents):
                for sig in ("metrics", "logs"):
                    d = got.get(ag, {}).get(sig, 0) - given[sig]
                    if d < 0:
                        missing.append("%s %s %d" % (ag, sig, -d))
                    elif d > 0:
                        doubled.append("%s %s %d" % (ag, sig, d))
            if not missing or time.monotonic() > end:
                return missing, doubled

    def finish(self, problems):
        missing, doubled = self.complete(self.a.complete_timeout)
        failed = self.drive.failed_puts()
        rss = fleet_rss_mib(self.drive.proc.pid)
        self.drive.quit()
        for s in self.sinks:
            s.stop()
        print("  data: %s; %s; %d puts failed at the writer" % (
            "every agent's data arrived" if not missing else
            "%d agent/signal pairs MISSING data (%s)" % (len(missing), ", ".join(missing[:5])),
            "none doubled" if not doubled else "%d DOUBLED (%s)" % (len(doubled),
                                                                   ", ".join(doubled[:5])),
            failed))
        print("  agents' RSS at the end %.0f MiB (%.1f MiB an agent)" % (
            rss, rss / max(1, self.a.agents)))
        print("  " + self.load.done())
        if missing:
            problems.append("%s: data missing" % self.name)
        if doubled:
            problems.append("%s: data doubled" % self.name)
        if self.a.keep:
            dst = os.path.join(self.a.keep, self.name)
            shutil.copytree(self.dir, dst, dirs_exist_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def random_phase_ratio(n, offsets, iv, at=0.0, spread=0.0, feed=0.0, trials=200):
    """peak/mean of 1-second bins over 5 intervals from 0 if each of n agents,
    started at a uniform point of [at, at + spread), sent one request at each of
    `offsets` (seconds, within an interval) after its own uniform random
    phase, every interval, from `feed` on (no data before it): the floor of
    any scheme without coordination (median, p90). offsets [0, 0] is two
    requests at once, [0, iv / 2] two half an interval apart."""
    rnd = random.Random(20)
    out = []
    nb = int(5 * iv)
    for _ in range(trials):
        bins = [0] * nb
        for _ in range(n):
            start = at + rnd.random() * spread
            ph = rnd.random() * iv
            for o in offsets:
                t = start + (ph + o) % iv
                while t < nb:
                    if t >= feed:
                        bins[int(t)] += 1
                    t += iv
        mean = sum(bins) / float(nb)
        out.append(max(bins) / mean if mean else 0)
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.9)]


def start_figures(reqs, n, iv, first, ready):
    """scenario start's figures from the sink's records (also for --keep'd
    sink0.jsonl files: tools below)"""
    t0 = int(first)          # the second they were started in
    peak, mean, bins = rate(reqs, t0, t0 + 5 * iv)
    print("  requests/s over the first 5 export intervals (%.0f s): peak %d, mean %.1f, "
          "peak/mean %.2f (goal <= 1.5)" % (5 * iv, peak, mean, peak / mean if mean else 0))
    print("  per second: %s" % " ".join(str(b) for b in bins))
    by = {}
    for r in reqs:
        if t0 <= r[0] < t0 + 5 * iv:
            by.setdefault(r[3], [0] * int(5 * iv))[int(r[0] - t0)] += 1
    for sig in sorted(by):
        print("  %s per second: %s" % (sig, " ".join(str(b) for b in by[sig])))
    # the writer starts at the last Ready: before it no agent has anything to
    # send, so the first interval is part empty (the window keeps it)
    rp, rm, _ = rate(reqs, ready, ready + 5 * iv)
    print("  the same from the last Ready (the writer's first round): peak %d, mean %.1f, "
          "peak/mean %.2f" % (rp, rm, rp / rm if rm else 0))
    spread, feed = ready - first, ready - t0
    for what, offs in (("2 requests at once", [0, 0]),
                       ("2 requests half an interval apart", [0, iv / 2.0])):
        med, p90 = random_phase_ratio(n, offs, iv, at=first - t0, spread=spread, feed=feed)
        smed, sp90 = random_phase_ratio(n, offs, iv)
        print("  simulated, %d agents, %s at independent random phases: peak/mean median "
              "%.2f, p90 %.2f in this window (started over %.1f s, data from %.1f s); "
              "%.2f, %.2f when all have data from the first second" % (
                  n, what, med, p90, spread, feed, smed, sp90))


def scenario_start(a, problems):
    r = Run(a, "start", 1)
    try:
        first, ready = r.drive.wait_started(300)
        iv = a.flush / 1000.0
        time.sleep(max(0, ready + 5 * iv + 2 - time.time()))
        print("start: %d exporters started within %.2f s (first exec to last Ready)" % (
            a.agents, ready - first))
        start_figures(r.arr.poll(), a.agents, iv, first, ready)
    finally:
        r.finish(problems)


def first_after(reqs, t, label=None, status=200):
    """{agent: ts of its first request at or after t} (to sink `label`)"""
    out = {}
    for ts, lab, agent, sig, st, items in reqs:
        if ts >= t and (label is None or lab == label) and (status is None or st == status):
            if agent not in out or ts < out[agent]:
                out[agent] = ts
    return out


def catch_up(reqs, agents, given_before, t):
    """{agent: seconds after t when it had delivered all it was given before t}"""
    need = given_before
    out = {}
    per = {ag: [] for ag in agents}
    for ts, lab, agent, sig, st, items in reqs:
        if st == 200 and agent in per:
            per[agent].append((ts, sig, items))
    for ag in agents:
        have = {"metrics": 0, "logs": 0}
        done = None
        for ts, sig, items in sorted(per[ag]):
            have[sig] += items
            if all(have[s] >= need[s] for s in need):
                done = ts
                break
        if done is not None:
            out[ag] = max(0.0, done - t)
    return out


def scenario_outage(a, problems):
    r = Run(a, "outage", 1)
    try:
        _, t_down = r.steady_then_down("outage: %d agents; the sink down for %d s" % (
            a.agents, a.outage))
        time.sleep(a.outage)
        t_up, given, agents, reqs = r.back_up()
        win = min(a.steady, 60)
        s_peak, s_mean, _ = rate(reqs, t_down - win, t_down)
        d_end = min(t_up + 120, time.time())
        d_peak, d_mean, bins = rate(reqs, t_up, d_end)
        waits = {ag: t - t_up for ag, t in first_after(reqs, t_up).items()}
        caught = catch_up(reqs, agents, given, t_up)
        print("  steady (the %d s before): mean %.1f requests/s, peak %d" % (win, s_mean, s_peak))
        print("  after the sink is back (%.0f s): peak %d requests/s = %.2fx steady (goal <= 3), "
              "mean %.1f" % (d_end - t_up, d_peak, d_peak / s_mean if s_mean else 0, d_mean))
        print("  requests/s in 10 s steps after: %s" % spark(bins))
        si_peak, si_mean, _ = rate(reqs, t_down - win, t_down, items=True)
        di_peak, di_mean, ibins = rate(reqs, t_up, d_end, items=True)
        print("  items (points + records)/s: steady mean %.0f, peak %d; after the sink is back "
              "peak %d = %.2fx steady mean, mean %.0f" % (
                  si_mean, si_peak, di_peak, di_peak / si_mean if si_mean else 0, di_mean))
        print("  items/s in 10 s steps after: %s" % spark(ibins))
        print("  first delivery after the sink is back, s: %s; over %d s: %d agents; "
              "none: %d" % (quantiles(list(waits.values())), a.max_backoff,
                            sum(1 for w in waits.values() if w > a.max_backoff),
                            a.agents - len(waits)))
        print("  caught up (all queued before the sink was back delivered), s: %s; "
              "over 120 s: %d agents; not caught up: %d" % (
                  quantiles(list(caught.values())),
                  sum(1 for c in caught.values() if c > 120), a.agents - len(caught)))
        if len(caught) < a.agents:
            problems.append("outage: %d agents never caught up" % (a.agents - len(caught)))
        if len(caught) == a.agents:
            # an exporter that re-armed its flush from the moment its queue
            # was empty kept the phase the catch-up gave it: agents answered
            # together flushed together ever after
            iv = a.flush / 1000.0
            c0 = t_up + max(caught.values()) + 1
            if time.time() >= c0 + 5 * iv:
                pk, mn, _ = rate(reqs, c0, c0 + 5 * iv)
                bp, bm, _ = rate(reqs, t_down - 5 * iv, t_down)
                print("  after every agent caught up (5 intervals from +%.0f s): requests/s "
                      "peak %d, mean %.1f, peak/mean %.2f; the 5 intervals before the outage: "
                      "%.2f" % (c0 - t_up, pk, mn, pk / mn if mn else 0, bp / bm if bm else 0))
    finally:
        r.finish(problems)


def scenario_failover(a, problems):
    r = Run(a, "failover", 2)
    try:
        _, t_down = r.steady_then_down(
            "failover: %d agents, endpoints [A, B]; A down for %d s" % (a.agents,
                                                                       a.primary_outage))
        time.sleep(a.primary_outage)
        t_up = r.sink_up(0)
        end = time.monotonic() + a.failback_wait
        while time.monotonic() < end:
            time.sleep(5)
            if len(first_after(r.arr.poll(), t_up, 0)) == a.agents:
                break
        reqs = r.arr.poll()
        at_b = first_after(reqs, t_down, 1)
        back = first_after(reqs, t_up, 0)
        strays = {}
        for ts, lab, agent, sig, st, items in reqs:
            if lab == 1 and agent in back and ts > back[agent]:
                strays[agent] = strays.get(agent, 0) + 1
        bound = a.flush / 1000.0 + a.first_retry_cap
        print("  first delivery to B after A went down, s: %s (bound: flush interval + first "
              "retry cap = %.1f s); over it: %d; never: %d" % (
                  quantiles([t - t_down for t in at_b.values()]), bound,
                  sum(1 for t in at_b.values() if t - t_down > bound), a.agents - len(at_b)))
        print("  back at A after it returned, s: %s; not back: %d; agents that sent to B "
              "after their return: %d" % (quantiles([t - t_up for t in back.values()]),
                                          a.agents - len(back), len(strays)))
        left = [at_b[ag] for ag in at_b]
        if back and left:
            print("  time away from A (first at B to first back at A), s: %s" % quantiles(
                [back[ag] - at_b[ag] for ag in back if ag in at_b]))
        pk, mn, _ = rate(reqs, t_down, t_up, 1)
        print("  during A's outage: %.1f requests/s at B, peak %d" % (mn, pk))
        if len(at_b) < a.agents:
            problems.append("failover: %d agents never reached B" % (a.agents - len(at_b)))
    finally:
        r.finish(problems)


def scenario_cap(a, problems):
    r = Run(a, "cap", 1, down_at_start=True)
    try:
        first, ready = r.drive.wait_started(300)
        print("cap: %d agents; the sink down from before their start until %d s after the "
              "last was ready; max_in_flight %d, batch_max_bytes %d, logs every %d ms" % (
                  a.agents, a.outage, a.max_in_flight, a.batch_max_bytes, a.logs_every))
        time.sleep(max(0, ready + a.outage - time.time()))
        t_up, given, agents, reqs = r.back_up()
        iv = a.flush / 1000.0
        f = a.max_in_flight
        # the probe, then at most F, 2F, 4F ... batches in the intervals after
        # its answer (pace.c); the answer comes after the probe's arrival
        bounds = [1 + f * ((1 << k) - 1) for k in (1, 2, 3)]
        t_a = first_after(reqs, t_up, status=None)
        worst = [0, 0, 0]
        over = {}
        for ag, t0 in t_a.items():
            ts = [q[0] for q in reqs if q[2] == ag and q[0] >= t0]
            for k in range(3):
                c = sum(1 for t in ts if t < t0 + (k + 1) * iv)
                worst[k] = max(worst[k], c)
                if c > bounds[k]:
                    over.setdefault(ag, []).append("%d in %d intervals" % (c, k + 1))
        backlog = len([q for q in reqs if q[0] >= t_up])
        caught = catch_up(reqs, agents, given, t_up)
        d_peak, d_mean, _ = rate(reqs, t_up, max(t_up + 1, min(t_up + 60, time.time())))
        print("  requests after the sink was back: %d; peak %d/s, mean %.1f/s" % (
            backlog, d_peak, d_mean))
        print("  most requests of one agent from its first arrival in 1, 2, 3 flush intervals: "
              "%s (cap: %s); agents over the cap: %d%s" % (
                  ", ".join(map(str, worst)), ", ".join(map(str, bounds)), len(over),
                  "" if not over else " (%s)" % "; ".join(
                      "%s %s" % (ag, ", ".join(v)) for ag, v in sorted(over.items())[:5])))
        print("  caught up (all queued before the sink was back delivered), s: %s; "
              "not caught up: %d" % (quantiles(list(caught.values())), a.agents - len(caught)))
        if len(t_a) < a.agents:
            problems.append("cap: %d agents sent nothing after the outage" % (
                a.agents - len(t_a)))
        if over:
            problems.append("cap: %d agents above the cap after the outage" % len(over))
        if len(caught) < a.agents:
            problems.append("cap: %d agents never caught up" % (a.agents - len(caught)))
    finally:
        r.finish(problems)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("bindir")
    ap.add_argument("--drive")
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--scenario", default="start,outage,failover")
    ap.add_argument("--flush", type=int, default=10000)
    ap.add_argument("--outage", type=int, default=300)
    ap.add_argument("--primary-outage", type=int, default=120)
    ap.add_argument("--steady", type=int, default=120)
    ap.add_argument("--after", type=int, default=240,
                    help="outage: seconds at most to watch after the sink is back")
    ap.add_argument("--watch", type=int, default=120,
                    help="outage: seconds at least to watch after the sink is back")
    ap.add_argument("--failback-wait", type=int, default=420,
                    help="failover: seconds at most to wait for the return to A")
    ap.add_argument("--log-records", type=int, default=200)
    ap.add_argument("--metrics-points", type=int, default=200)
    ap.add_argument("--retry-initial", type=int, default=1000,
                    help="telemetryflow.retry.initial_interval, ms (the config's default)")
    ap.add_argument("--retry-max", type=int, default=60000,
                    help="telemetryflow.retry.max_interval, ms (the config's default)")
    ap.add_argument("--logs-every-ms", dest="logs_every", type=int, default=1000)
    ap.add_argument("--batch-max-bytes", type=int, default=262144)
    ap.add_argument("--max-in-flight", type=int, default=2)
    ap.add_argument("--complete-timeout", type=int, default=180)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--keep")
    a = ap.parse_args()
    a.bindir = os.path.abspath(a.bindir)
    # the goals' bounds follow the retry settings (outcome.c: full jitter,
    # attempt k waits at most min(max, initial * multiplier^k))
    a.max_backoff = a.retry_max / 1000.0
    a.first_retry_cap = a.retry_initial / 1000.0
    if a.drive is None:
        a.drive = os.path.join(a.bindir, "..", "bench", "fleet_drive")
    print("bench/fleet: %d agents (tfo-buffer + tfo-exporter each), OTLP/HTTP to tfo-sink "
          "--count-only on 127.0.0.1; each agent given %d metric points every 10 s and %d log "
          "records every %d ms; exporter.flush_interval %d ms; %d CPUs, load average %.1f" % (
              a.agents, a.metrics_points + 1 if a.metrics_points else 0, a.log_records,
              a.logs_every, a.flush, os.cpu_count(), os.getloadavg()[0]))
    problems = []
    runs = {"start": scenario_start, "outage": scenario_outage, "failover": scenario_failover,
            "cap": scenario_cap}
    for name in a.scenario.split(","):
        if name not in runs:
            print("unknown scenario %r" % name)
            return 2
        try:
            runs[name](a, problems)
        except Fail as e:
            print("%s: failed: %s" % (name, e))
            problems.append("%s: %s" % (name, e))
    if problems:
        print("problems: " + "; ".join(problems))
    return 1 if (a.check and problems) else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
