#!/usr/bin/env python3
"""test_metrics.py BINDIR http|grpc [TESTS_DIR] - the full metrics pipeline, as root:
tfo-supervisor with tfo-system (interval 1s) + tfo-buffer + tfo-exporter (+
tfo-heartbeat), process and logs collectors off.
  http  the exporter speaks OTLP/HTTP to tools/tfo-sink
  grpc  the exporter speaks OTLP/gRPC (h2c) to the Node receiver of
        tests/interop (grpc_sink.js), which decodes with the official
        opentelemetry-proto classes; heartbeats still go to tfo-sink
Asserts: every family's metric names, units, instruments, point attribute keys
and values (docs/metrics.md, from the semconv v1.44 model) reach the far end;
the self metrics (every 1 s here) reach it too and decode, their histograms
with buckets that add up to their count;
cumulative sums never go backwards over >= 3 cycles (per series and start
time); the resource carries service.instance.id = telemetryflow.agent.id =
the heartbeat's agent id = the id persisted in state_dir/agent-id."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (Fail, check, require_root_and_users, Sink, Agent, read_records,  # noqa: E402
                     accepted, iter_metrics, wait_for, run_case)

HERE = os.path.dirname(os.path.abspath(__file__))
ROLES = ["system", "buffer", "exporter", "heartbeat"]

# name: (family, unit, instrument, point attribute keys). counter = cumulative
# monotonic sum, updown = cumulative non-monotonic sum (docs/metrics.md).
DEV, DIR = "system.device", "disk.io.direction"
IF, NDIR = "network.interface.name", "network.io.direction"
FS = {"system.device", "system.filesystem.type", "system.filesystem.mode",
      "system.filesystem.mountpoint"}
EXPECT = {
    "system.cpu.time": ("cpu", "s", "counter", {"cpu.mode", "cpu.logical_number"}),
    "system.cpu.utilization": ("cpu", "1", "gauge", {"cpu.mode", "cpu.logical_number"}),
    "system.cpu.logical.count": ("cpu", "{cpu}", "updown", set()),
    "system.cpu.physical.count": ("cpu", "{cpu}", "updown", set()),
    "system.cpu.frequency": ("cpufreq", "Hz", "gauge", {"cpu.logical_number"}),
    "system.cpu.load_average.1m": ("load", "{thread}", "gauge", set()),
    "system.cpu.load_average.5m": ("load", "{thread}", "gauge", set()),
    "system.cpu.load_average.15m": ("load", "{thread}", "gauge", set()),
    "system.memory.usage": ("memory", "By", "updown", {"system.memory.state"}),
    "system.memory.utilization": ("memory", "1", "gauge", {"system.memory.state"}),
    "system.memory.limit": ("memory", "By", "updown", set()),
    "system.memory.linux.available": ("memory", "By", "updown", set()),
    "system.memory.linux.shared": ("memory", "By", "updown", set()),
    "system.memory.linux.slab.usage": ("memory", "By", "updown",
                                       {"system.memory.linux.slab.state"}),
    "system.paging.usage": ("swap", "By", "updown", {DEV, "system.paging.state"}),
    "system.paging.utilization": ("swap", "1", "gauge", {DEV, "system.paging.state"}),
    "system.paging.operations": ("paging", "{operation}", "counter",
                                 {"system.paging.fault.type", "system.paging.direction"}),
    "system.paging.faults": ("paging", "{fault}", "counter", {"system.paging.fault.type"}),
    "system.disk.io": ("disk", "By", "counter", {DEV, DIR}),
    "system.disk.operations": ("disk", "{operation}", "counter", {DEV, DIR}),
    "system.disk.operation_time": ("disk", "s", "counter", {DEV, DIR}),
    "system.disk.merged": ("disk", "{operation}", "counter", {DEV, DIR}),
    "system.disk.io_time": ("disk", "s", "counter", {DEV}),
    "system.filesystem.usage": ("filesystem", "By", "updown", FS | {"system.filesystem.state"}),
    "system.filesystem.utilization": ("filesystem", "1", "gauge",
                                      FS | {"system.filesystem.state"}),
    "system.filesystem.limit": ("filesystem", "By", "updown", FS),
    "system.filesystem.inodes.usage": ("inodes", "{inodes}", "updown",
                                       FS | {"system.filesystem.state"}),
    "system.network.io": ("network", "By", "counter", {IF, NDIR}),
    "system.network.packet.count": ("network", "{packet}", "counter", {DEV, NDIR}),
    "system.network.packet.dropped": ("network", "{packet}", "counter", {IF, NDIR}),
    "system.network.errors": ("network", "{error}", "counter", {IF, NDIR}),
    "system.network.connection.count": ("network", "{connection}", "updown",
                                        {"network.transport", "network.connection.state"}),
    "system.process.count": ("processes", "{process}", "updown", {"process.state"}),
    "system.process.created": ("processes", "{process}", "counter", set()),
    "system.uptime": ("processes", "s", "gauge", set()),
}
VALUES = {
    "cpu.mode": {"user", "system", "nice", "idle", "iowait", "interrupt", "steal", "kernel"},
    "system.memory.state": {"used", "free", "buffers", "cached"},
    "system.memory.linux.slab.state": {"reclaimable", "unreclaimable"},
    "system.paging.state": {"used", "free"},
    "system.paging.direction": {"in", "out"},
    "system.paging.fault.type": {"major", "minor"},
    "disk.io.direction": {"read", "write"},
    "network.io.direction": {"receive", "transmit"},
    "system.filesystem.state": {"used", "free", "reserved"},
    "system.filesystem.mode": {"rw", "ro"},
    "network.transport": {"tcp"},
    "network.connection.state": {"closed", "close_wait", "closing", "established",
                                 "fin_wait_1", "fin_wait_2", "last_ack", "listen",
                                 "syn_received", "syn_sent", "time_wait"},
    "process.state": {"running", "sleeping", "stopped", "defunct"},
}
PSEUDO_FS = {"autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs",
             "devpts", "devtmpfs", "efivarfs", "erofs", "fusectl", "hugetlbfs", "iso9660",
             "mqueue", "nsfs", "overlay", "proc", "procfs", "pstore", "ramfs", "rpc_pipefs",
             "securityfs", "selinuxfs", "squashfs", "sysfs", "tracefs"}


def families_present():
    """The optional families this host has, read from the kernel independently."""
    fams = {"cpu", "load", "memory", "paging", "network", "processes"}
    with open("/proc/swaps") as f:
        if len(f.read().strip().splitlines()) > 1:
            fams.add("swap")
    with open("/proc/diskstats") as f:
        if any(int(x.split()[3]) + int(x.split()[7]) > 0 for x in f if len(x.split()) >= 8):
            fams.add("disk")
    with open("/proc/self/mountinfo") as f:
        for line in f:
            post = line.split(" - ", 1)[1].split()
            mnt = line.split()[4].replace("\\040", " ")
            if post[0] not in PSEUDO_FS:
                try:
                    st = os.statvfs(mnt)
                except OSError:
                    continue
                if st.f_blocks > 0:
                    fams.add("filesystem")
                    if st.f_files > 0:
                        fams.add("inodes")
    if os.path.exists("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq"):
        fams.add("cpufreq")
    return fams


# ---------------------------------------------------------------- normalising
# Both far ends are turned into rows: {resource, scope, name, unit, kind
# (counter/updown/gauge/?), points: [{attrs, value, time, start}]}, arrival order.

def rows_from_sink(recs):
    rows = []
    for r in accepted(recs, "metrics"):
        for res, scope, m in iter_metrics(r):
            if m["type"] == "sum":
                kind = "counter" if m["is_monotonic"] else "updown"
                if m["aggregation_temporality"] != "cumulative":
                    kind = "not-cumulative"
            else:
                kind = m["type"]
            rows.append({"resource": res, "scope": scope, "name": m["name"], "unit": m["unit"],
                         "kind": kind,
                         "points": [{"attrs": p["attributes"], "value": p.get("value", p),
                                     "time": int(p["time_unix_nano"]),
                                     "start": int(p["start_time_unix_nano"])}
                                    for p in m["data_points"]]})
    return rows


def rows_from_node(lines):
    rows = []
    for req in lines:
        for e in req["entries"]:
            for m in e["metrics"]:
                if m["kind"] == "sum":
                    kind = "counter" if m["monotonic"] else "updown"
                    if m["temporality"] != "AGGREGATION_TEMPORALITY_CUMULATIVE":
                        kind = "not-cumulative"
                else:
                    kind = m["kind"]
                rows.append({"resource": e["resource"], "scope": m["scope"], "name": m["name"],
                             "unit": m["unit"], "kind": kind,
                             "points": [{"attrs": a, "value": v, "time": None, "start": None}
                                        for a, v in zip(m["pointAttrs"], m["values"])]})
    return rows


def cycles(rows):
    """Cycles seen: distinct times of system.cpu.time (sink), or its rows (node)."""
    cpu = [r for r in rows if r["name"] == "system.cpu.time"]
    if cpu and cpu[0]["points"] and cpu[0]["points"][0]["time"] is not None:
        return len({r["points"][0]["time"] for r in cpu if r["points"]})
    return len(cpu)


# ---------------------------------------------------------------- assertions

def check_names(rows, fams):
    seen = {}
    for r in rows:
        if r["scope"] != "tfo-agent/system":
            continue
        check(r["name"] in EXPECT, "unexpected metric %s" % r["name"])
        fam, unit, kind, keys = EXPECT[r["name"]]
        check(r["unit"] == unit, "%s: unit %r, expected %r" % (r["name"], r["unit"], unit))
        check(r["kind"] == kind, "%s: instrument %s, expected %s" % (r["name"], r["kind"], kind))
        check(r["points"], "%s: no data points" % r["name"])
        for p in r["points"]:
            check(set(p["attrs"]) == keys, "%s: point attributes %s, expected %s" %
                  (r["name"], sorted(p["attrs"]), sorted(keys)))
            for k, v in p["attrs"].items():
                if k in VALUES:
                    check(v in VALUES[k], "%s: %s=%r not in %s" % (r["name"], k, v, VALUES[k]))
                else:
                    check(v not in ("", None), "%s: empty %s" % (r["name"], k))
            check(isinstance(p["value"], (int, float)) and p["value"] >= 0,
                  "%s: value %r" % (r["name"], p["value"]))
        seen[r["name"]] = seen.get(r["name"], 0) + 1
    missing = sorted(n for n, e in EXPECT.items() if e[0] in fams and n not in seen)
    check(not missing, "metrics never received: %s" % missing)
    extra = sorted(n for n in seen if EXPECT[n][0] not in fams)
    check(not extra, "metrics of families this host lacks: %s" % extra)
    modes = {p["attrs"]["cpu.mode"] for r in rows if r["name"] == "system.cpu.time"
             for p in r["points"]}
    check({"user", "system", "idle"} <= modes, "cpu.mode values %s" % modes)
    mem = {p["attrs"]["system.memory.state"] for r in rows if r["name"] == "system.memory.usage"
           for p in r["points"]}
    check(mem == VALUES["system.memory.state"], "memory states %s" % mem)
    return seen


def check_monotonic(rows):
    """Per series (name, attributes, start time), counters never go backwards;
    with timestamps, points are also ordered by time and start <= time."""
    series = {}
    for r in rows:
        if r["kind"] != "counter":
            continue
        for p in r["points"]:
            key = (r["name"], json.dumps(p["attrs"], sort_keys=True), p["start"])
            series.setdefault(key, []).append(p)
    check(series, "no cumulative series")
    multi = 0
    for key, pts in series.items():
        if pts[0]["time"] is not None:
            pts = sorted({p["time"]: p for p in pts}.values(), key=lambda p: p["time"])
            for p in pts:
                check(0 < p["start"] <= p["time"], "%s: start %d after time %d" %
                      (key[0], p["start"], p["time"]))
        for a, b in zip(pts, pts[1:]):
            check(b["value"] >= a["value"], "%s %s went backwards: %r -> %r" %
                  (key[0], key[1], a["value"], b["value"]))
        multi += len(pts) >= 3
    check(multi > 0, "no series with 3 points")
    return len(series), multi


def check_self(rows):
    """The self metrics decoded at the far end: tfo.* names only, and the
    exporter's request histogram with one more bucket than bounds, adding up."""
    own = [r for r in rows if r["scope"] == "tfo-agent/self"]
    check(own, "no self metrics")
    check(all(r["name"].startswith("tfo.") for r in own), "self metric outside tfo.")
    hist = [p["value"] for r in own if r["name"] == "tfo.exporter.request.duration"
            for p in r["points"]]
    check(hist and all(r["kind"] == "histogram" for r in own
                       if r["name"] == "tfo.exporter.request.duration"), "no request histogram")
    for h in hist:
        buckets = h.get("bucket_counts", h.get("buckets"))
        bounds = h.get("explicit_bounds", h.get("bounds"))
        check(len(buckets) == len(bounds) + 1 and sum(int(b) for b in buckets) == int(h["count"]),
              "histogram point %s" % h)
    return len({r["name"] for r in own})


def check_resource(rows, agent_id, beats, case):
    res = [r["resource"] for r in rows if r["scope"] in ("tfo-agent/system", "tfo-agent/self")]
    for rs in res:
        for k in ("host.name", "host.id", "host.arch", "os.description", "service.version",
                  "telemetryflow.agent.name", "deployment.environment.name"):
            check(rs.get(k) not in (None, ""), "resource %s missing: %s" % (k, rs))
        check(rs.get("os.type") == "linux", "os.type %r" % rs.get("os.type"))
        check(rs.get("service.name") == "tfo-agent", "service.name %r" % rs.get("service.name"))
        check(rs.get("service.instance.id") == agent_id,
              "service.instance.id %r != agent id %r" % (rs.get("service.instance.id"), agent_id))
        check(rs.get("telemetryflow.agent.id") == agent_id, "telemetryflow.agent.id")
        check(rs.get("e2e.case") == case, "tag e2e.case missing: %s" % rs)
    check(beats and set(beats) == {agent_id},
          "heartbeat agent ids %s != persisted %s" % (set(beats), agent_id))


# ---------------------------------------------------------------- the run

class NodeSink:
    """grpc_sink.js: the interop receiver, accepted requests as JSON lines."""

    def __init__(self, out):
        self.out = out
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "grpc_sink.js"), out],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        try:
            self.grpc_port = json.loads(line)["grpc"]
        except (ValueError, KeyError):
            self.proc.kill()
            raise Fail("grpc_sink.js did not start: %r" % line)

    def lines(self):
        return read_records(self.out)

    def stop(self):
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=20)
        self.proc.stdout.close()
        return rc


def main():
    bindir, case = sys.argv[1], sys.argv[2]
    require_root_and_users()
    fams = families_present()
    tmp = tempfile.mkdtemp(prefix="tfo-e2em-")
    sink = Sink(bindir, os.path.join(tmp, "sink.jsonl"), log=os.path.join(tmp, "sink.log"))
    node = NodeSink(os.path.join(tmp, "node.jsonl")) if case == "grpc" else None
    endpoint = "127.0.0.1:%d" % node.grpc_port if node else sink.url
    agent = Agent(bindir, f"""  tags:
    e2e.case: {case}
  self_metrics:
    interval: 1s
telemetryflow:
  endpoint: {endpoint}
  protocol: {case}
  api_endpoint: {sink.url}/api/v1
  retry:
    initial_interval: 100ms
    max_interval: 1s
heartbeat:
  interval: 2s
  timeout: 1s
collectors:
  system:
    interval: 1s
  process:
    enabled: false
  logs:
    enabled: false
exporter:
  flush_interval: 200ms
  max_in_flight: 1
  shutdown_drain: 3s
""")
    holder = [agent]

    def rows():
        return rows_from_node(node.lines()) if node else rows_from_sink(read_records(sink.out))

    def body():
        agent.start()
        s = agent.wait_ready(ROLES)
        check(all(r not in s for r in ("process", "logs")) or
              all(s[r]["state"] in ("stopped", "disabled") for r in ("process", "logs") if r in s),
              "process and logs are off")

        def enough():
            rs = rows()
            have = {r["name"] for r in rs}
            beats = accepted(read_records(sink.out), "heartbeat")
            return (cycles(rs) >= 3 and "system.cpu.utilization" in have and beats and
                    "tfo.exporter.request.duration" in have)
        wait_for(enough, "3 cycles of system metrics and a heartbeat", 40, 0.2)
        rc = agent.stop()
        check(rc == 0, "supervisor exit status %s" % rc)
        rs = rows()
        seen = check_names(rs, fams)
        nseries, multi = check_monotonic(rs)
        beats = [r["agent_id"] for r in accepted(read_records(sink.out), "heartbeat")]
        check_resource(rs, agent.agent_id(), beats, case)
        nself = check_self(rs)
        print("%s: %d metrics over %d cycles, %d cumulative series (%d with >= 3 points), "
              "families %s; %d self metrics" % (case, len(seen), cycles(rs), nseries, multi,
                                                 sorted(fams), nself))
        if node:
            check(not [x for x in node.lines() if x.get("decodeError")], "receiver decode errors")

    rc = run_case(body, holder)
    agent.cleanup()
    if node and node.stop() != 0 and rc == 0:
        print("FAIL: grpc_sink.js reported decode errors")
        rc = 1
    check_rc = sink.stop()
    if check_rc != 0 and rc == 0:
        print("FAIL: tfo-sink exit status %d" % check_rc)
        rc = 1
    shutil.rmtree(tmp, ignore_errors=True)
    if rc == 0:
        print("ok metrics.%s" % case)
    return rc


if __name__ == "__main__":
    sys.exit(main())
