#!/usr/bin/env python3
"""test_buffer_faults.py EXP_FAULTBUF TFO_EXPORTER TFO_SINK [--entries N]
[--records R] [--phase-ms MS] - a failing buffer must not turn the exporter into
a resend storm (issue 23 item 6, docs/exporter.md "A buffer that fails").

The real tfo-exporter sends OTLP/HTTP to tools/tfo-sink and fetches from
exp_faultbuf (faultbuf.c), a buffer that answers every Ack with Error and
reloads its queue from the head (a delete that cannot be committed: the disk
is full), then every Fetch with Error, then nothing at all, then recovers.
Each phase adds numbered log lines ("line <entry>-<record>").

Fails when:
  - any line is missing at the sink, or arrives twice (a delivered batch sent
    again because its ack did not take effect);
  - the sink gets more requests in a second of a failing phase than the
    exporter has in flight (max_in_flight 2): a resend storm;
  - after the first second of a failing phase, the buffer gets more than
    BUFFER_MAX_PER_S requests in a second, or more than BUFFER_MEAN_PER_S on
    average: fetches or acks without a pause, or a pause that does not grow
    while the failure lasts (the storm measured in issue 23 was thousands of
    requests a second);
  - the exporter's counters count attempts: sent_points must equal the lines
    delivered, once each."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import Fail, check, Sink, read_records, accepted, iter_log_records  # noqa: E402

MAX_IN_FLIGHT = 2         # faultbuf.c's exporter config
# faultbuf.c's retry: 200 ms doubling to 4 s, each pause uniform in [0, cap]
# (full jitter). Once the pauses have grown they average about 2 s: a fetch
# and an ack every 2 s; a pause that starts over after every successful fetch
# averages 100 ms (over 10 requests a second). Simulated, these bounds fail a
# correct exporter about once in 10,000 phases.
BUFFER_MAX_PER_S = 10
BUFFER_MEAN_PER_S = 4.0
FAILING = ("ack_fail", "fetch_fail", "silent")


def per_second(ts_list, start, end):
    """requests per whole second of [start, end)"""
    n = max(1, int(end - start + 0.999))
    counts = [0] * n
    for t in ts_list:
        if start <= t < end:
            counts[min(n - 1, int(t - start))] += 1
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("faultbuf")
    ap.add_argument("exporter")
    ap.add_argument("sink")
    ap.add_argument("--entries", type=int, default=500)
    ap.add_argument("--records", type=int, default=4)
    ap.add_argument("--phase-ms", type=int, default=4000)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tfo-bufaults-")
    try:
        run(a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(a, tmp):
    out = os.path.join(tmp, "sink.jsonl")
    sink = Sink(os.path.dirname(a.sink), out, log=os.path.join(tmp, "sink.log"))
    try:
        p = subprocess.run([a.faultbuf, a.exporter, sink.url, str(a.entries), str(a.records),
                            str(a.phase_ms)], stdout=subprocess.PIPE,
                           timeout=a.phase_ms * 5 / 1000 + 90, text=True)
    finally:
        sink.stop()
    check(p.stdout.strip() != "", "exp_faultbuf printed nothing (exit %d)" % p.returncode)
    rep = json.loads(p.stdout.strip().splitlines()[-1])
    phases = rep["phases"]
    recs = read_records(out)
    ok = accepted(recs, "logs")
    print("buffer: %d fetches, %d acks, %d nacks, %d errors sent, %d unanswered, %d batches out, "
          "%d offered again" % (rep["fetches"], rep["acks"], rep["nacks"], rep["errors_sent"],
                                rep["unanswered"], rep["batches_out"], rep["reoffers"]))
    print("exporter: " + ", ".join("%s %s" % (k, rep[k]) for k in (
        "sent_batches", "sent_points", "retries", "buffer_errors", "skipped_entries",
        "requeued_batches", "ledger_entries") if k in rep))

    seen = {}
    for r in ok:
        for _, lr in iter_log_records(r):
            seen[lr["body"]] = seen.get(lr["body"], 0) + 1
    want = {"line %d-%d" % (i, j) for i in range(a.entries) for j in range(a.records)}
    missing = sorted(want - set(seen))
    dups = sorted(k for k, n in seen.items() if n > 1)
    extra = sorted(set(seen) - want)
    print("sink: %d requests (%d accepted), %d records, %d distinct lines of %d, %d twice or "
          "more" % (len(recs), len(ok), sum(seen.values()), len(set(seen) & want), len(want),
                    len(dups)))

    # per second of each failing phase, at the sink and at the buffer
    ts = [r["ts"] for r in recs]
    rates = []
    for i, ph in enumerate(phases[:-1]):
        if ph["name"] not in FAILING:
            continue
        start, end = ph["start"], phases[i + 1]["start"]
        at_sink = per_second(ts, start, end)
        # the buffer's counts are per second from the first phase's start:
        # the seconds of this phase, not the one after it (a phase that ends
        # a few ms late has a partial last second at the sink, and the next
        # phase's first second must not be counted as its own)
        s0 = int(round(start - phases[0]["start"]))
        s1 = int(round(end - phases[0]["start"]))
        at_buf = rep["buffer_per_s"][s0:s1]
        print("%-10s sink requests/s %s, buffer requests/s %s" % (ph["name"], at_sink, at_buf))
        rates.append((ph["name"], at_sink, at_buf[1:] or [0]))

    check(p.returncode == 0, "exp_faultbuf exit %d: acked to %d of %d entries" % (
        p.returncode, rep["acked_to"], rep["entries"]))
    check(not missing, "%d lines never arrived, first %s" % (len(missing), missing[:5]))
    check(not dups, "%d lines arrived more than once, first %s" % (len(dups), dups[:5]))
    check(not extra, "lines nobody wrote: %s" % extra[:5])
    check(rep.get("sent_points") == len(want),
          "sent_points %s, %d lines delivered: counters count attempts" % (
              rep.get("sent_points"), len(want)))
    for name, at_sink, later in rates:
        check(max(at_sink) <= MAX_IN_FLIGHT,
              "%s: %d requests in one second at the sink: resent while the buffer fails" % (
                  name, max(at_sink)))
        check(max(later) <= BUFFER_MAX_PER_S,
              "%s: %d requests in one second at the buffer: no backoff" % (name, max(later)))
        check(sum(later) / len(later) <= BUFFER_MEAN_PER_S,
              "%s: %.1f requests a second at the buffer: the pause does not grow" % (
                  name, sum(later) / len(later)))
    print("PASS")


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)
