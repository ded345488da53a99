#!/usr/bin/env python3
"""test_selfmet.py BINDIR CASE - the agent's self metrics (docs/metrics.md,
"Self metrics") end to end, as root: the real tree, self metrics every 1 s,
tools/tfo-sink as the far end (its decoder checks every request, histograms
included).
  catalogue  every role on: every metric documented in docs/metrics.md arrives
             with its unit, instrument and attribute keys, and no other tfo.*
             metric does; counters never go backwards per (series, start) and
             start at the role's process start (tfoctl status) or, restarts,
             at the supervisor's; a kill -9 of tfo-process is one
             restart{reason=crash} at the sink and in tfoctl status, and its
             counters start again with the new process's start time
  drop       buffer.max_size_mb 1 and the endpoint down while a writer fills
             the buffer with logs: tfo.buffer.entry.dropped{reason=size} at the
             sink equals the buffer's stat in tfoctl status, and is > 0
  permanent  the sink answers the first requests 400: the points and records
             it refused are exactly tfo.exporter.*.failed{error.type=permanent},
             the refused beats tfo.heartbeat.beat.failed
  retryable  the same with 503: exactly tfo.exporter.*.failed{retryable}, and
             tfo.exporter.retry.count{signal} = the refused requests
  ride       self metrics every 1 s, system every 1 s: each snapshot rides in a
             cycle's put (system.puts = system.cycles while self metrics are
             put: no put of their own), and every snapshot put reaches the sink
             exactly once, the one held at the stop included"""
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (Fail, check, require_root_and_users, Sink, Agent, read_records,  # noqa: E402
                     iter_metrics, sink_yaml, wait_for, run_case, free_port)

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "..", "..", "docs", "metrics.md")
SCOPE = "tfo-agent/self"
ALL = ["system", "process", "logs", "buffer", "exporter", "heartbeat"]


def documented():
    """{name: (unit, instrument, attribute keys)} of the doc's self metrics table."""
    out, inside = {}, False
    with open(DOC) as f:
        for line in f:
            if line.startswith("## "):
                inside = line.strip() == "## Self metrics"
            if not inside or not line.startswith("| `tfo.") or line.count("|") != 6:
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            keys = set() if cells[3] == "–" else {k.strip(" `") for k in cells[3].split(",")}
            out[cells[0].strip("`")] = (cells[1], cells[2], keys)
    check(len(out) >= 15, "docs/metrics.md: self metrics table not found")
    return out


def self_rows(path, statuses=(200,)):
    """Self-metric points at the sink, arrival order: {name, unit, kind, attrs,
    value, start, time, hist}."""
    rows = []
    for r in read_records(path):
        if r["signal"] != "metrics" or r["status"] not in statuses or "body" not in r:
            continue
        for res, scope, m in iter_metrics(r):
            if scope != SCOPE:
                continue
            kind = m["type"]
            if kind == "sum":
                check(m["aggregation_temporality"] == "cumulative", "%s not cumulative" % m["name"])
                kind = "counter" if m["is_monotonic"] else "updown"
            for p in m["data_points"]:
                rows.append({"name": m["name"], "unit": m["unit"], "kind": kind, "res": res,
                             "attrs": p["attributes"], "value": p.get("value"),
                             "start": int(p["start_time_unix_nano"]),
                             "time": int(p["time_unix_nano"]),
                             "hist": p if kind == "histogram" else None})
    return rows


def latest(rows, name, **attrs):
    """The value of the newest point of name whose attributes include attrs."""
    v = None
    for r in rows:
        if r["name"] == name and all(r["attrs"].get(k) == x for k, x in attrs.items()):
            v = r["value"]
    return v


def base_yaml(port, extra=""):
    """the sink as endpoint; pings every second so a Pong is at most 1 s old"""
    return sink_yaml(port) + """supervisor:
  ping_interval: 1s
heartbeat:
  interval: 2s
  timeout: 1s
exporter:
  flush_interval: 200ms
  max_in_flight: 1
  shutdown_drain: 3s
""" + extra


SELF_EVERY_SECOND = "  self_metrics:\n    interval: 1s\n"


def agent_with_log(bindir, tmp, holder, port, collectors, text="", extra=""):
    """An agent with self metrics every second tailing tmp/app.log (text
    written first) from its beginning; collectors: the rest of collectors:,
    extra: more sections"""
    log = os.path.join(tmp, "app.log")
    with open(log, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.chmod(log, 0o644)
    agent = Agent(bindir, base_yaml(port, """collectors:
  system:
    interval: 1s
%s  logs:
    enabled: true
    start_at: beginning
    batch_max_lines: 100
    paths: [%s]
%s""" % (collectors, log, extra)), agent_extra=SELF_EVERY_SECOND)
    holder.append(agent)
    return agent, log


# ---------------------------------------------------------------- catalogue

def check_catalogue(rows, doc):
    seen = {}
    for r in rows:
        check(r["name"] in doc, "%s is emitted but not in docs/metrics.md" % r["name"])
        unit, inst, keys = doc[r["name"]]
        check((r["unit"], r["kind"]) == (unit, inst), "%s: %s %s, documented %s %s" %
              (r["name"], r["unit"], r["kind"], unit, inst))
        check(set(r["attrs"]) == keys, "%s: attributes %s, documented %s" %
              (r["name"], sorted(r["attrs"]), sorted(keys)))
        seen[r["name"]] = 1
    missing = sorted(set(doc) - set(seen))
    check(not missing, "documented but never received: %s" % missing)


def check_series(rows, status, sv_start):
    """Counters never go backwards per (series, start); a role's start is its
    process's start, restarts start at the supervisor's."""
    starts = {int(w["started_unix_nano"]) for w in status.values()}
    series = {}
    for r in rows:
        if r["kind"] not in ("counter", "histogram"):
            continue
        if r["name"] == "tfo.role.restart.count":
            check(r["start"] == sv_start, "restart count start %d != supervisor's %d" %
                  (r["start"], sv_start))
        check(0 < r["start"] <= r["time"], "%s: start %d after %d" % (r["name"], r["start"],
                                                                       r["time"]))
        v = r["value"] if r["kind"] == "counter" else r["hist"]["count"]
        key = (r["name"], json.dumps(r["attrs"], sort_keys=True), r["start"])
        series.setdefault(key, []).append((r["time"], v))
    for key, pts in series.items():
        pts.sort()
        for a, b in zip(pts, pts[1:]):
            check(b[1] >= a[1], "%s %s went backwards %s -> %s" % (key[0], key[1], a, b))
    return len(series), starts


def check_hist(rows):
    for r in rows:
        if r["kind"] != "histogram":
            continue
        h = r["hist"]
        check(len(h["bucket_counts"]) == len(h["explicit_bounds"]) + 1 and
              sum(h["bucket_counts"]) == h["count"], "%s: buckets %s" % (r["name"], h))


def case_catalogue(bindir, tmp, holder):
    sink = Sink(bindir, os.path.join(tmp, "sink.jsonl"), log=os.path.join(tmp, "sink.log"))
    agent, log = agent_with_log(bindir, tmp, holder, sink.port,
                                "  process:\n    interval: 1s\n    top_n: 3\n")
    doc = documented()
    try:
        agent.start()
        agent.wait_ready(ALL)
        with open(log, "a") as f:
            for i in range(100):
                f.write("line %d\n" % i)

        def have_all():
            names = {r["name"] for r in self_rows(sink.out)}
            return set(doc) <= names
        wait_for(have_all, "every documented self metric at the sink", 40, 0.3)
        # a crash of tfo-process: counted at the supervisor, exported, restarted
        old = agent.status()["process"]
        agent.kill9_role("process", ALL)

        def crash_seen():
            rows = self_rows(sink.out)
            st = agent.status()
            v = latest(rows, "tfo.role.restart.count", **{"tfo.role": "process",
                                                          "tfo.restart.reason": "crash"})
            new = [r for r in rows if r["name"] == "tfo.collector.cycle.lost" and
                   r["attrs"].get("tfo.role") == "process" and
                   r["start"] == int(st["process"]["started_unix_nano"])]
            return st if v == 1 and new else None
        st = wait_for(crash_seen, "the crash of tfo-process counted at the sink", 30, 0.3)
        check(st["process"]["restart_reasons"]["crash"] == 1,
              "tfoctl status: %s" % st["process"]["restart_reasons"])
        check(int(st["process"]["started_unix_nano"]) > int(old["started_unix_nano"]),
              "process start time did not move")
        rc, out, _ = agent.tfoctl("status", "--json")
        sv_start = int(json.loads(out)["supervisor"]["started_unix_nano"])
        rows = self_rows(sink.out)
        check_catalogue(rows, doc)
        check_hist(rows)
        nseries, _ = check_series(rows, agent.status(), sv_start)
        res = rows[-1]["res"]
        check(res.get("service.instance.id") == agent.agent_id() and
              res.get("service.name") == "tfo-agent", "self metrics resource %s" % res)
        check(any(r["status"] == 200 for r in read_records(sink.out)), "sink accepted")
        check(not [r for r in read_records(sink.out) if r["status"] != 200],
              "the sink refused a request")
        print("catalogue: %d metrics, %d series, %d points" % (len(doc), nseries, len(rows)))
    finally:
        agent.stop()
        check(sink.stop() == 0, "tfo-sink exit status")


# ---------------------------------------------------------------- drop

def case_drop(bindir, tmp, holder):
    port = free_port()              # the endpoint, down until the buffer drops
    agent, log = agent_with_log(bindir, tmp, holder, port, "  process:\n    enabled: false\n",
                                extra="buffer:\n  max_size_mb: 1\n")
    sink = None
    try:
        agent.start()
        agent.wait_ready(["system", "logs", "buffer", "exporter"])
        # 3 MiB of lines that do not compress, the endpoint down: logs fill
        # the buffer (refused when full), metrics then drop the oldest
        with open(log, "a") as f:
            for i in range(3 * 1024):
                f.write("%06d %s\n" % (i, os.urandom(500).hex()[:1000]))

        def dropped():
            st = agent.status()
            b = st["buffer"]["stats"] if st else {}
            return b if b.get("logs.drops.size", 0) + b.get("metrics.drops.size", 0) > 0 else None
        wait_for(dropped, "the buffer dropping for size", 60, 0.3)
        sink = Sink(bindir, os.path.join(tmp, "sink.jsonl"), port=port,
                    log=os.path.join(tmp, "sink.log"))

        def same():
            rows = self_rows(sink.out)
            b = agent.status()["buffer"]["stats"]
            got = {s: latest(rows, "tfo.buffer.entry.dropped", **{
                "tfo.signal": s, "tfo.drop.reason": "size"}) for s in ("metrics", "logs")}
            want = {s: b["%s.drops.size" % s] for s in ("metrics", "logs")}
            return (got, want) if got == want and sum(want.values()) > 0 else None
        got, want = wait_for(same, "tfo.buffer.entry.dropped at the sink = tfoctl status", 90, 0.5)
        rows = self_rows(sink.out)
        retried = latest(rows, "tfo.exporter.retry.count", **{"tfo.signal": "logs"}) or 0
        retried += latest(rows, "tfo.exporter.retry.count", **{"tfo.signal": "metrics"}) or 0
        check(retried > 0, "no retry counted while the endpoint was down")
        print("drop: dropped for size %s (tfoctl %s), %d retries while down" % (got, want, retried))
    finally:
        agent.stop()
        if sink:
            check(sink.stop() == 0, "tfo-sink exit status")


# ---------------------------------------------------------------- ride

def snapshots(rows):
    """{time: count} of tfo.role.up{tfo.role=system}: one point per snapshot"""
    n = {}
    for r in rows:
        if r["name"] == "tfo.role.up" and r["attrs"].get("tfo.role") == "system":
            n[r["time"]] = n.get(r["time"], 0) + 1
    return n


def case_ride(bindir, tmp, holder):
    sink = Sink(bindir, os.path.join(tmp, "sink.jsonl"), log=os.path.join(tmp, "sink.log"))
    agent, _ = agent_with_log(bindir, tmp, holder, sink.port, "  process:\n    enabled: false\n")
    try:
        agent.start()
        agent.wait_ready(["system", "logs", "buffer", "exporter"])

        def ridden():
            st = agent.status()
            s = st["system"]["stats"] if st else {}
            return s if s.get("self_metrics.puts", 0) >= 5 else None
        s = wait_for(ridden, "5 self-metrics snapshots put", 40, 0.3)
        # one stats reply: the counters are of the same moment
        check(s["system.puts"] == s["system.cycles"],
              "system.puts %d, system.cycles %d: self metrics were put on their own (%d)" %
              (s["system.puts"], s["system.cycles"], s["self_metrics.puts"]))
        check(s["self_metrics.errors"] == 0, "self_metrics.errors %d" % s["self_metrics.errors"])
        put = s["self_metrics.puts"]
    finally:
        agent.stop()
        check(sink.stop() == 0, "tfo-sink exit status")
    snaps = snapshots(self_rows(sink.out))
    twice = {t: n for t, n in snaps.items() if n != 1}
    check(not twice, "self-metrics snapshots delivered more than once: %s" % twice)
    check(len(snaps) >= put, "%d snapshots at the sink, %d put before the stop" %
          (len(snaps), put))
    print("ride: system.puts = cycles = %d with %d snapshots riding; %d at the sink, each once" %
          (s["system.puts"], put, len(snaps)))


# ---------------------------------------------------------------- failures

def refused(path, status):
    """Points, records and requests per signal the sink refused with status."""
    n = {"metrics": [0, 0], "logs": [0, 0], "heartbeat": [0, 0]}
    for r in read_records(path):
        if r["status"] == status and r.get("fail_first"):
            n[r["signal"]][0] += r.get("points", 0) + r.get("records", 0)
            n[r["signal"]][1] += 1
    return n


def case_failure(bindir, tmp, holder, status):
    cls = "permanent" if status == 400 else "retryable"
    sink = Sink(bindir, os.path.join(tmp, "sink.jsonl"), fail_first=8,
                log=os.path.join(tmp, "sink.log"), fail_status=status)
    agent, _ = agent_with_log(bindir, tmp, holder, sink.port,
                              "  process:\n    enabled: false\n",
                              "".join("before %d\n" % i for i in range(50)))
    try:
        agent.start()
        wait_for(lambda: sum(x[1] for x in refused(sink.out, status).values()) >= 8,
                 "the sink refusing its first 8 requests", 40, 0.2)
        ref = refused(sink.out, status)
        check(ref["metrics"][1] > 0, "no metrics request refused: %s" % ref)

        def same():
            rows = self_rows(sink.out)
            got = {
                "metrics": latest(rows, "tfo.exporter.data_point.failed", **{"error.type": cls}),
                "logs": latest(rows, "tfo.exporter.log_record.failed", **{"error.type": cls}),
            }
            want = {"metrics": ref["metrics"][0], "logs": ref["logs"][0]}
            if status == 503:
                got["retries"] = [latest(rows, "tfo.exporter.retry.count", **{"tfo.signal": s})
                                  for s in ("metrics", "logs")]
                want["retries"] = [ref["metrics"][1], ref["logs"][1]]
            beats = latest(rows, "tfo.heartbeat.beat.failed") or 0
            # a beat may also fail before the exporter takes it: at least
            return (got, want) if got == want and beats >= ref["heartbeat"][1] else None
        try:
            got, want = wait_for(same, "the refused items counted exactly at the sink", 40, 0.5)
        except Fail:
            rows = self_rows(sink.out)
            raise Fail("refused at the sink %s; self metrics say points %s records %s "
                       "retries %s beats %s" % (
                           ref, latest(rows, "tfo.exporter.data_point.failed",
                                       **{"error.type": cls}),
                           latest(rows, "tfo.exporter.log_record.failed", **{"error.type": cls}),
                           [latest(rows, "tfo.exporter.retry.count", **{"tfo.signal": s})
                            for s in ("metrics", "logs")],
                           latest(rows, "tfo.heartbeat.beat.failed")))
        other = "retryable" if cls == "permanent" else "permanent"
        rows = self_rows(sink.out)
        check(latest(rows, "tfo.exporter.data_point.failed", **{"error.type": other}) == 0,
              "%s failures counted too" % other)
        st = agent.status()["exporter"]["stats"]
        check(st["metrics.failed_points.%s" % cls] == want["metrics"],
              "tfoctl status says %s" % st["metrics.failed_points.%s" % cls])
        print("%s: refused at the sink %s = self metrics %s" % (cls, want, got))
    finally:
        agent.stop()
        check(sink.stop() == 0, "tfo-sink exit status")


def main():
    bindir, case = sys.argv[1], sys.argv[2]
    require_root_and_users()
    tmp = tempfile.mkdtemp(prefix="tfo-selfmet-")
    holder = []
    cases = {
        "catalogue": lambda: case_catalogue(bindir, tmp, holder),
        "drop": lambda: case_drop(bindir, tmp, holder),
        "permanent": lambda: case_failure(bindir, tmp, holder, 400),
        "retryable": lambda: case_failure(bindir, tmp, holder, 503),
        "ride": lambda: case_ride(bindir, tmp, holder),
    }
    rc = run_case(cases[case], holder)
    for a in holder:
        a.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
    if rc == 0:
        print("ok selfmet.%s" % case)
    return rc


if __name__ == "__main__":
    sys.exit(main())
