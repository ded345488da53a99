#!/usr/bin/env python3
"""logs_chaos.py BINDIR [--long] [--seconds N] [--rate N] [--seed N] - zero loss
and no duplicate but from exports in flight, for log lines through the whole
tree under chaos, as root (DESIGN §8 "loss" and "duplicates"; issues 10, 16
§3, 23 §4; docs/logs.md "Full-tree integration", docs/exporter.md "In flight").

tfo-supervisor with every worker, tfo-logs following one file, the exporter
speaking OTLP/HTTP to tools/tfo-sink. A writer thread appends numbered lines
at a steady rate while the test causes events:

default (ctest, tens of seconds): in turn, rename+create rotation,
  copytruncate, delete (and create), kill -9 of tfo-logs, tfo-buffer and
  tfo-exporter (pids from tfoctl status --json), a tfo-sink outage (back
  with --fail-first), a graceful restart of the whole agent (SIGTERM, then
  start), kill -9 of the supervisor alone (the workers follow it: fd-3 EOF
  and PR_SET_PDEATHSIG) with a rotation while it is down, kill -9 of the
  whole tree at once; each followed by a few seconds of steady writing.
--long (the held-out probe's shape, default 120 s at 3400 lines/s): kill -9
  of a random worker every ~2 s, the sink down 5 s of every 20, a graceful
  restart and a kill -9 of the supervisor alternately every 40 s, and a
  supervisor that exits (a fatal role stops the agent) started again 2 s
  later, as the unit's Restart=on-failure does.

Accounting: every numbered line must have arrived at tfo-sink in a request it
accepted (status 200): any loss fails. Every delivery of a line after its
first is a duplicate; it is charged to the event that lost the ack of the
first delivery: the first event from just before that delivery on (sink
time stamps). Duplicates are reported per kind of event. Only events
that kill an export in flight may cause them: kill -9 of tfo-exporter, of
the whole tree (the exporter with it), a sink outage, and a kill of the
buffer followed by one of the supervisor before a new buffer took the
exporter's acks (it leaves with exports it could not settle); at most one
in-flight window each (exporter.max_in_flight batches). Any duplicate
charged to another event (a collector, the buffer, the supervisor alone, a
graceful restart, a rotation) fails the test."""
import argparse
import os
import random
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tfo_e2e import (Fail, check, require_root_and_users, Sink, Agent, Tally, Writer,  # noqa: E402
                     run_case, gone_within, ranges, sink_yaml, yaml_of, follow, touch,
                     tree_dirs, ROLES)

GAP = 3.0            # default mode: seconds of steady writing after each event
SLACK = 1.0          # s: an event this long after a delivery may have lost its ack
MAX_IN_FLIGHT = 2    # the exporter's in-flight window in the config below (batches)
# One window in lines: MAX_IN_FLIGHT batches, each at most exporter.batch_max_bytes
# (256 KiB; no record here is under 40 bytes) or one stored entry when larger
# (collectors.logs.batch_max_lines, 10000). A death of the exporter or the sink
# re-sends at most that (docs/exporter.md, "Duplicates").
WINDOW_LINES = MAX_IN_FLIGHT * max(10000, 256 * 1024 // 40)

# Events that end an export in flight: the only ones allowed to cause duplicates.
# The last: the buffer killed, then the supervisor killed before a new buffer
# took the exporter's acks: the exporter leaves with exports it could not
# settle (its ledger is memory).
COMPOUND = "kill -9 buffer, then supervisor"
IN_FLIGHT_KINDS = ("kill -9 exporter", "kill -9 whole tree", "sink outage", COMPOUND)


class ChaosWriter(Writer):
    """Numbered lines at `rate` per second; rotations happen under its lock,
    between two writes, as logrotate does them."""

    def __init__(self, path, rate):
        super().__init__(path, rate, lambda i: "%08d chaos INFO line %d of the logs chaos "
                         "test, padding %s\n" % (i, i, "x" * (i % 23)))
        self.rotations = 0

    def rename_create(self):
        with self.lock:
            self.rotations += 1
            os.rename(self.path, "%s.%d" % (self.path, self.rotations))
            os.close(self.fd)
            self.fd = self.open()

    def copytruncate(self):
        with self.lock:
            self.rotations += 1
            shutil.copyfile(self.path, "%s.%d" % (self.path, self.rotations))
            os.chmod("%s.%d" % (self.path, self.rotations), 0o644)
            os.truncate(self.path, 0)

    def delete_create(self):
        with self.lock:
            os.close(self.fd)
            os.unlink(self.path)
            self.fd = self.open()


class Chaos:
    """The agent, the sink, the writer and the timeline of events."""

    def __init__(self, bindir, tmp, app, out, sinklog, rate):
        self.bindir = bindir
        self.tmp, self.app, self.out, self.sinklog = tmp, app, out, sinklog
        self.sink = Sink(bindir, self.out, log=self.sinklog)
        self.port = self.sink.port
        self.sink_up = True
        self.agent = Agent(bindir, sink_yaml(self.port) + yaml_of({
            "heartbeat": {"interval": "10s", "timeout": "2s"},
            "collectors": {"logs": follow(self.app)},
            "exporter": {"flush_interval": "200ms", "max_in_flight": MAX_IN_FLIGHT,
                         "shutdown_drain": "5s"}}), root=os.path.join(tmp, "agent"))
        self.tally = Tally(self.out)
        self.rate = rate
        self.writer = None
        self.t0 = time.monotonic()
        self.events = []        # (wall time, kind, text)
        self.timeline = []

    def note(self, kind, text=None):
        """An event happens now (see charge)."""
        self.events.append((time.time(), kind, text or kind))
        self.timeline.append("%6.1f s  %s (line %d)" % (time.monotonic() - self.t0,
                                                         text or kind,
                                                         self.writer.n if self.writer else 0))

    def say(self, text):
        self.timeline.append("%6.1f s  %s" % (time.monotonic() - self.t0, text))

    def running(self):
        return self.agent.proc is not None and self.agent.proc.poll() is None

    # ---- events
    def kill_role(self, role):
        """kill -9 one worker by the pid tfoctl reports; False when it has none now."""
        s = self.agent.status()
        pid = s[role]["pid"] if s and s.get(role, {}).get("state") == "ready" else 0
        if not pid:
            return False
        self.note("kill -9 " + role)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return True

    def sink_down(self):
        self.note("sink outage", "tfo-sink stopped")
        rc = self.sink.stop()
        check(rc == 0, "tfo-sink exit status %d" % rc)
        self.sink_up = False

    def sink_back(self, fail_first=0):
        self.sink = Sink(self.bindir, self.out, port=self.port, fail_first=fail_first,
                         log=self.sinklog)
        self.sink_up = True
        self.say("tfo-sink back%s" % (" with --fail-first %d" % fail_first if fail_first else ""))

    def workers_gone(self, pids, timeout, strict=False):
        """Wait for the old tree's workers; strict: fail past timeout."""
        took, left = gone_within(pids, timeout)
        if left:
            check(not strict, "workers of a killed supervisor still there after %.0f s: %s" %
                  (timeout, left))
            self.say("timed out after %.0f s waiting for %s gone (still there: %s)" %
                     (timeout, pids, left))
        return took

    def graceful_restart(self, rotate=False, strict=True):
        """SIGTERM (what systemctl restart does), wait for the exit, start again.
        strict: the exit status must be 0 (in --long a fatal role may have
        begun its own stop at that moment)."""
        self.note("graceful restart", "SIGTERM to the supervisor (graceful restart)")
        t = time.monotonic()
        rc = self.agent.stop()
        self.say("supervisor exited %s after %.1f s" % (rc, time.monotonic() - t))
        check(rc == 0 or not strict, "supervisor exit status %s after SIGTERM" % rc)
        if rotate:
            self.writer.rename_create()
        self.agent.start()

    def kill9_supervisor(self, rotate=False, strict=False):
        """kill -9 of the supervisor alone: its workers see fd 3 close (and
        PR_SET_PDEATHSIG) and stop on their own (within 2 s; strict: fail
        past 10 s); started again 2 s later."""
        s = self.agent.status() or {}
        pids = [s[r]["pid"] for r in ROLES if s.get(r, {}).get("pid")]
        self.note("kill -9 supervisor")
        self.agent.kill9()
        took = self.workers_gone(pids, 10 if strict else 20, strict)
        self.say("its workers were gone %.1f s after it" % took)
        if rotate:
            self.writer.rename_create()
        time.sleep(2.0)
        self.agent.start()

    def kill9_tree(self, rotate=False):
        """kill -9 of the supervisor and every worker at once."""
        self.agent.kill9_tree(ROLES, on_kill=lambda: self.note("kill -9 whole tree"))
        if rotate:
            self.writer.rename_create()
        time.sleep(1.0)
        self.agent.start()

    # ---- accounting
    def charge(self):
        """{kind: duplicates}, {event index: duplicates}. A line sent again lost
        the ack of its first delivery: the repeat goes to the first event from
        just before that delivery (SLACK: a request the sink recorded as its
        sender died) up to the repeat, else to the last event before it."""
        per_kind, per_event = {}, {}
        times = [e[0] for e in self.events]
        for ts, k in self.tally.repeats:
            t1 = self.tally.first[k] - SLACK
            near = [j for j, t in enumerate(times) if t1 <= t <= ts]
            kinds = [self.events[j][1] for j in near]
            # a death of the exporter in that span explains it first
            dead = [j for j in near if self.events[j][1] in IN_FLIGHT_KINDS]
            i = dead[0] if dead else (near[0] if near else -1)
            kind = self.events[i][1] if i >= 0 else "no event (steady state)"
            if kind == "kill -9 buffer" and "kill -9 supervisor" in kinds[kinds.index(kind):]:
                kind = COMPOUND
            if i < 0:
                i = max((j for j, t in enumerate(times) if t <= ts), default=-1)
                kind = self.events[i][1] if i >= 0 else kind
            per_kind[kind] = per_kind.get(kind, 0) + 1
            per_event[i] = per_event.get(i, 0) + 1
        return per_kind, per_event

    def report(self, n):
        """Prints the timeline and the duplicates per kind; returns charge()."""
        per_kind, per_event = self.charge()
        counts = {}
        for _, kind, _ in self.events:
            counts[kind] = counts.get(kind, 0) + 1
        print("\n".join(self.timeline))
        print("lines written %d, received %d distinct, lost %d, duplicated %d, "
              "foreign records %d, refused logs requests %d" %
              (n, len(self.tally.count), len(self.tally.missing(n)), len(self.tally.repeats),
               self.tally.foreign, len(self.tally.refused)))
        print("duplicates per kind of event (events: duplicates, worst single event; one "
              "window is at most %d lines):" % WINDOW_LINES)
        for kind in sorted(set(counts) | set(per_kind)):
            if kind == COMPOUND and not per_kind.get(kind):
                continue
            worst = max((per_event.get(i, 0) for i, e in enumerate(self.events)
                         if e[1] == kind), default=0)
            print("  %-26s %3d events: %6d duplicates, worst %d%s" %
                  (kind, counts.get(kind, 0), per_kind.get(kind, 0), worst,
                   "" if kind in IN_FLIGHT_KINDS else "   (must be 0)"))
        dup = sorted(set(k for _, k in self.tally.repeats))
        if dup:
            print("duplicated lines: %s" % ranges(dup))
        return per_kind, per_event

    def verdict(self, n, per_kind, per_event):
        lost = self.tally.missing(n)
        check(not lost, "%d lines lost: %s" % (len(lost), ranges(lost)))
        check(all(k < n for k in self.tally.count), "numbers beyond what was written")
        bad = {k: v for k, v in per_kind.items() if k not in IN_FLIGHT_KINDS}
        check(not bad, "duplicates from events that kill no export in flight: %s" % bad)
        over = ["%s: %d" % (self.events[i][2], d) for i, d in per_event.items()
                if d > WINDOW_LINES]
        check(not over, "more than one in-flight window (%d lines) sent again by one death: %s"
              % (WINDOW_LINES, ", ".join(over)))


def settle(ch, n, timeout):
    try:
        ch.tally.wait_complete(n, timeout)
    except Fail:
        pass
    ch.tally.update()


def scenario_short(ch):
    agent, gap = ch.agent, GAP

    def event(fn):
        fn()
        agent.wait_ready(ROLES)
        time.sleep(gap)

    w = ch.writer
    event(lambda: (ch.note("rotation", "rename+create rotation"), w.rename_create()))
    event(lambda: (ch.note("rotation", "copytruncate"), w.copytruncate()))
    event(lambda: (ch.note("rotation", "delete + create"), w.delete_create()))
    for role in ("logs", "buffer", "exporter"):
        event(lambda role=role: check(ch.kill_role(role), "%s not running" % role))

    def outage():
        ch.sink_down()
        time.sleep(gap)
        ch.sink_back(fail_first=3)
    event(outage)
    event(ch.graceful_restart)
    event(lambda: ch.kill9_supervisor(rotate=True, strict=True))
    event(lambda: ch.kill9_tree(rotate=True))


def scenario_long(ch, seconds, rng):
    """Random worker kills every ~2 s, sink down 5 s of every 20, a graceful
    restart and a supervisor kill -9 alternately every 40 s, and a supervisor
    that exits started again 2 s later."""
    start = time.monotonic()
    next_kill = start + rng.uniform(1.5, 2.5)
    next_whole, whole_kind = start + 40, 0
    restart_at = None
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        phase = (now - start) % 20
        if ch.sink_up and phase >= 15:
            ch.sink_down()
        elif not ch.sink_up and phase < 15:
            ch.sink_back()
        if not ch.running():
            if restart_at is None:
                rc = agent_exit(ch)
                ch.note("supervisor exited", "supervisor exited by itself (status %s)" % rc)
                restart_at = now + 2.0
            elif now >= restart_at:
                ch.agent.start()
                ch.say("supervisor started again")
                restart_at = None
        elif now >= next_whole:
            if whole_kind == 0:
                ch.graceful_restart(strict=False)
            else:
                ch.kill9_supervisor()
            whole_kind ^= 1
            next_whole = time.monotonic() + 40
        elif now >= next_kill:
            ch.kill_role(rng.choice(ROLES))
            next_kill = now + rng.uniform(1.5, 2.5)
        time.sleep(0.05)
    if not ch.sink_up:
        ch.sink_back()
    if not ch.running():
        if restart_at is not None:
            time.sleep(max(0.0, restart_at - time.monotonic()))
        ch.agent.start()
        ch.say("supervisor started again")


def agent_exit(ch):
    rc = ch.agent.proc.wait(timeout=10)
    if ch.agent.logf and not ch.agent.logf.closed:
        ch.agent.logf.close()
    return rc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--long", action="store_true", help="the 120 s random-kill probe")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--rate", type=int, default=0, help="lines/s (1000, or 3400 with --long)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp dir (supervisor log, sink records) and print it")
    args = ap.parse_args()
    require_root_and_users()
    rate = args.rate or (3400 if args.long else 1000)
    seed = args.seed or int(time.time())
    tmp, app, out, sinklog = tree_dirs("tfo-chaos-")
    ch = Chaos(args.bindir, tmp, app, out, sinklog, rate)
    result = {}

    def body():
        touch(ch.app)
        ch.agent.start()
        ch.agent.wait_ready(ROLES)
        ch.writer = ChaosWriter(ch.app, rate)
        ch.writer.start()
        ch.t0 = time.monotonic()
        time.sleep(GAP)
        if args.long:
            print("long chaos: %.0f s, %d lines/s, seed %d" % (args.seconds, rate, seed))
            scenario_long(ch, args.seconds, random.Random(seed))
        else:
            scenario_short(ch)
        n = ch.writer.finish()
        ch.say("writer stopped after %d lines" % n)
        ch.agent.wait_ready(ROLES, 60)
        settle(ch, n, 90 if args.long else 60)
        ch.say("accounting done")
        s = ch.agent.status() or {}
        per_kind, per_event = ch.report(n)
        result["dups"] = len(ch.tally.repeats)
        check(all(s.get(r, {}).get("state") == "ready" for r in ROLES),
              "every worker ready at the end: %s" % {r: s.get(r, {}).get("state") for r in ROLES})
        ch.verdict(n, per_kind, per_event)
        if not args.long:
            check(ch.tally.fail_first == 3, "--fail-first answers seen: %d" % ch.tally.fail_first)
        rc = ch.agent.stop()
        check(rc == 0, "supervisor exit status %s" % rc)

    rc = run_case(body, [ch.agent])
    if args.keep:
        ch.agent.stop()
        print("kept %s" % tmp)
    else:
        ch.agent.cleanup()
    if ch.sink_up:
        ch.sink.stop()
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    if rc == 0:
        print("ok logs chaos: 0 lost, %d duplicates, all from exports in flight" %
              result.get("dups", 0))
    return rc


if __name__ == "__main__":
    sys.exit(main())
