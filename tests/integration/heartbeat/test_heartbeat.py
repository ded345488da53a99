#!/usr/bin/env python3
"""Heartbeat end to end: the real collector + sender (hb-once) against a fake
TelemetryFlow API on 127.0.0.1:<ephemeral>. Checks the path and headers, that
the body's numbers agree with /proc read by this test when the request
arrives (within tolerance), 503-then-retry, and an API that is down."""
import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

HB_ONCE = sys.argv[1]
SINK = sys.argv[2] if len(sys.argv) > 2 else None   # tools/tfo-sink, when built
AGENT_ID = "5f0c2a9e-7d41-5b6a-9c3e-1a2b3c4d5e6f"
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def proc_snapshot():
    """/proc figures read at the moment a heartbeat arrives."""
    mem = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            mem[k] = int(v.split()[0]) * 1024
    stat = {}
    with open("/proc/stat") as f:
        for line in f:
            p = line.split()
            if p[0] in ("ctxt", "btime", "intr", "softirq"):
                stat[p[0]] = int(p[1])
    rx = tx = 0
    with open("/proc/net/dev") as f:
        for line in f.readlines()[2:]:
            name, rest = line.split(":", 1)
            if name.strip() == "lo":
                continue
            v = rest.split()
            rx += int(v[0])
            tx += int(v[8])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    with open("/proc/loadavg") as f:
        threads = int(f.read().split()[3].split("/")[1])
    pids = sum(1 for d in os.listdir("/proc") if d.isdigit())
    return dict(mem=mem, stat=stat, rx=rx, tx=tx, uptime=uptime, threads=threads, pids=pids)


class Api(HTTPServer):
    def __init__(self, fail_first):
        super().__init__(("127.0.0.1", 0), Handler)
        self.fail_first = fail_first
        self.requests = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        snap = proc_snapshot()
        self.server.requests.append((self.path, dict(self.headers), body, snap))
        code = 503 if len(self.server.requests) <= self.server.fail_first else 200
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def run(port, timeout_ms="5000"):
    return subprocess.run([HB_ONCE, "http://127.0.0.1:%d/api/v1" % port, AGENT_ID, timeout_ms],
                          capture_output=True, text=True, timeout=60)


def serve(fail_first):
    api = Api(fail_first)
    t = threading.Thread(target=api.serve_forever, daemon=True)
    t.start()
    return api


def near(a, b, tol):
    return abs(a - b) <= tol


def compare(si, snap):
    mem = snap["mem"]
    check(si["memoryTotal"] == mem["MemTotal"], "memoryTotal = MemTotal")
    used = mem["MemTotal"] - mem["MemAvailable"]
    check(near(si["memoryUsed"], used, max(64 << 20, used // 10)), "memoryUsed ~ Total-Available")
    check(si["swapTotal"] == mem.get("SwapTotal", 0), "swapTotal")
    check(near(si["uptime"], snap["uptime"], 10), "uptime within 10 s")
    check(si["bootTime"] == snap["stat"]["btime"], "bootTime = btime")
    check(0 < si["contextSwitches"] <= snap["stat"]["ctxt"], "contextSwitches <= ctxt at arrival")
    check(si["contextSwitches"] >= snap["stat"]["ctxt"] * 0.9, "contextSwitches recent")
    check(si["interrupts"] <= snap["stat"]["intr"], "interrupts <= intr at arrival")
    check(si["networkBytesRecv"] <= snap["rx"] and si["networkBytesRecv"] >= snap["rx"] - (8 << 20),
          "networkBytesRecv ~ /proc/net/dev")
    check(si["networkBytesSent"] <= snap["tx"] and si["networkBytesSent"] >= snap["tx"] - (8 << 20),
          "networkBytesSent ~ /proc/net/dev")
    check(near(si["processCount"], snap["pids"], max(10, snap["pids"] // 5)), "processCount ~ /proc pids")
    check(near(si["threadCount"], snap["threads"], max(20, snap["threads"] // 5)), "threadCount ~ loadavg")
    check(si["cpuLogicalCores"] == os.cpu_count(), "cpuLogicalCores = cpu_count")
    check(len(si["cpuPerCore"]) == os.cpu_count(), "one cpuPerCore entry per cpu")
    check(0 <= si["cpuUsage"] <= 100, "cpuUsage is a percentage")
    check(si["hostname"] == socket.gethostname(), "hostname")
    check(si["kernelVersion"] == os.uname().release, "kernelVersion")
    check(si["os"] == "linux", "os")
    st = os.statvfs("/")
    check(si["diskTotal"] == st.f_blocks * st.f_frsize, "diskTotal = statvfs(/)")
    check(si["agentVersion"] != "" and si["agentUptime"] >= 0, "agent fields")
    names = {i["name"] for i in si["networkInterfaces"]}
    check(names == {ln.split(":")[0].strip() for ln in open("/proc/net/dev").readlines()[2:]},
          "networkInterfaces = /proc/net/dev")


def sink_scenario():
    """The same beat through tools/tfo-sink: 503 (Retry-After: 1) then 200."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "sink.jsonl")
        sink = subprocess.Popen([SINK, "--listen", "127.0.0.1:0", "--out", out, "--fail-first", "1",
                                 "--quiet"], stdout=subprocess.PIPE, text=True)
        try:
            line = sink.stdout.readline()
            check(line.startswith("listening on 127.0.0.1:"), "tfo-sink listening: " + line)
            port = int(line.strip().rsplit(":", 1)[1])
            r = run(port, "5000")
            check(r.returncode == 0, "sink: accepted after one 503 (rc=%d)" % r.returncode)
        finally:
            sink.terminate()
            sink.wait(timeout=10)
        recs = [json.loads(x) for x in open(out)]
    check(len(recs) == 2, "sink saw two requests (%d)" % len(recs))
    if len(recs) == 2:
        check(recs[0]["status"] == 503 and recs[0]["fail_first"], "first answered 503")
        check(recs[1]["status"] == 200 and recs[1]["signal"] == "heartbeat", "second accepted")
        check(recs[1]["agent_id"] == AGENT_ID, "agent id in path")
        check(recs[1]["headers"].get("x-api-key-id") == "tfk_integration", "sink: key id header")
        check(recs[1]["headers"].get("user-agent", "").startswith("tfo-agent/"), "sink: UA")
        check(recs[1]["fields"] >= 100, "sink counted 100+ systemInfo fields (%d)" % recs[1]["fields"])


def main():
    # 1. success, headers, values
    api = serve(0)
    r = run(api.server_port)
    api.shutdown()
    check(r.returncode == 0, "beat accepted (rc=%d, %s)" % (r.returncode, r.stderr.strip()))
    check(len(api.requests) == 1, "one request")
    if api.requests:
        path, headers, body, snap = api.requests[0]
        check(path == "/api/v1/agents/%s/heartbeat" % AGENT_ID, "path " + path)
        check(headers.get("Content-Type") == "application/json", "Content-Type")
        check(headers.get("X-API-Key-ID") == "tfk_integration", "X-API-Key-ID")
        check(headers.get("X-API-Key-Secret") == "tfs_integration_secret", "X-API-Key-Secret")
        check(headers.get("User-Agent", "").startswith("tfo-agent/"), "User-Agent")
        check(headers.get("X-Agent-Version", "") != "", "X-Agent-Version")
        doc = json.loads(body)
        check(list(doc) == ["systemInfo"], "body is {systemInfo: ...}")
        compare(doc["systemInfo"], snap)
    check("tfs_integration_secret" not in r.stderr + r.stdout, "secret never logged")

    # 2. 503 then retry within the beat
    api = serve(1)
    r = run(api.server_port)
    api.shutdown()
    check(r.returncode == 0, "503 then 200 is accepted")
    check(len(api.requests) == 2, "exactly one retry after 503 (%d requests)" % len(api.requests))
    if r.returncode == 0:
        stats = json.loads(r.stdout)
        check(stats["retries"] == 1 and stats["sent"] == 1, "stats after retry %s" % stats)

    # 3. API down: the beat gives up within its timeout, the process exits
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = run(port, "500")
    check(r.returncode == 2, "API down: beat given up (rc=%d)" % r.returncode)
    check("tfs_integration_secret" not in r.stderr + r.stdout, "secret never logged (down)")

    if SINK:
        sink_scenario()

    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
