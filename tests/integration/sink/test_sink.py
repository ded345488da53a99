#!/usr/bin/env python3
"""test_sink.py - integration test of tfo-sink: starts it on port 0, POSTs
with the curl CLI (protobuf, gzip, OTLP/JSON, heartbeat, garbage, oversize,
--fail-first) and checks the replies, the stdout lines and the --out JSON
lines; then speaks raw HTTP/1.1 on sockets for what curl hides (keep-alive,
pipelining, chunked bodies, 100-continue, framing errors).
Usage: test_sink.py /path/to/tfo-sink"""
import gzip
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import otlp  # noqa: E402

PB = "application/x-protobuf"
JS = "application/json"


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


class Sink:
    """One running tfo-sink with its stdout read line by line."""

    def __init__(self, binary, tmp, name, *args):
        self.tmp = tmp
        self.out = os.path.join(tmp, name + ".jsonl")
        self.errpath = os.path.join(tmp, name + ".stderr")
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--out", self.out] + list(args),
            stdout=subprocess.PIPE, stderr=self.err)
        self.buf = b""
        line = self.line()
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line)
        check(m is not None, "first stdout line: %r" % line)
        self.port = int(m.group(1))
        check(self.port > 0, "real port printed")

    def line(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            check(left > 0, "timed out waiting for a stdout line")
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                check(chunk, "tfo-sink closed stdout (exited %r)" % self.proc.poll())
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def post(self, path, body=b"", ctype=PB, encoding=None, headers=None, method="POST"):
        """-> (status, response headers dict (lowercase), response body)"""
        req = os.path.join(self.tmp, "req.bin")
        resp = os.path.join(self.tmp, "resp.bin")
        hdrs = os.path.join(self.tmp, "resp.hdr")
        with open(req, "wb") as f:
            f.write(body)
        cmd = ["curl", "-sS", "--max-time", "30", "-o", resp, "-D", hdrs,
               "-w", "%{http_code}", "-X", method, "-H", "Expect:"]
        if ctype is not None:
            cmd += ["-H", "Content-Type: " + ctype]
        if encoding is not None:
            cmd += ["-H", "Content-Encoding: " + encoding]
        for k, v in (headers or {}).items():
            cmd += ["-H", "%s: %s" % (k, v)]
        if method != "GET":
            cmd += ["--data-binary", "@" + req]
        cmd.append("http://127.0.0.1:%d%s" % (self.port, path))
        res = subprocess.run(cmd, capture_output=True, timeout=60)
        eq(res.returncode, 0, "curl exit (%s)" % res.stderr.decode().strip())
        rh = {}
        with open(hdrs, "rb") as f:
            for raw in f.read().decode("latin-1").splitlines()[1:]:
                if ":" in raw:
                    k, v = raw.split(":", 1)
                    rh[k.strip().lower()] = v.strip()
        with open(resp, "rb") as f:
            return int(res.stdout), rh, f.read()

    def records(self):
        with open(self.out, encoding="utf-8") as f:
            return [json.loads(x) for x in f.read().splitlines()]

    def last(self):
        return self.records()[-1]

    def stop(self):
        """SIGTERM: must exit 0 with no sanitizer report; returns rest of stdout"""
        self.proc.send_signal(signal.SIGTERM)
        rest = self.proc.stdout.read()
        rc = self.proc.wait(timeout=20)
        self.err.close()
        with open(self.errpath, encoding="utf-8", errors="replace") as f:
            err = f.read()
        check("Sanitizer" not in err and "runtime error" not in err, "sanitizer report:\n" + err)
        eq(rc, 0, "exit status after SIGTERM (stderr: %s)" % err[-2000:])
        return (self.buf + rest).decode()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def find_metric(rec, name):
    for rm in rec["body"]["resource_metrics"]:
        for sm in rm["scope_metrics"]:
            for m in sm["metrics"]:
                if m["name"] == name:
                    return m
    raise Fail("metric %s not in body" % name)


def test_protobuf(s):
    body = otlp.sample_metrics()
    st, rh, rb = s.post("/v1/metrics", body, headers={
        "X-TelemetryFlow-Key-ID": "tfk_1", "X-TelemetryFlow-Key-Secret": "tfs_1",
        "X-TelemetryFlow-Agent-ID": "agent-9", "User-Agent": "tfo-agent/0.1"})
    eq(st, 200, "metrics status")
    eq(rh.get("content-type"), PB, "metrics reply content-type")
    eq(rb, b"", "empty ExportMetricsServiceResponse")
    eq(s.line(), "metrics  5 points  host=itest-host  %d bytes (protobuf)" % len(body), "stdout")
    r = s.last()
    eq((r["signal"], r["status"], r["path"], r["method"]), ("metrics", 200, "/v1/metrics", "POST"),
       "record head")
    eq((r["points"], r["metrics"], r["resources"], r["records"]), (5, 2, 1, 0), "counts")
    eq((r["bytes"], r["decoded_bytes"], r["format"], r["encoding"]),
       (len(body), len(body), "protobuf", "identity"), "sizes")
    eq(r["host"], "itest-host", "host")
    eq(r["headers"], {"content-type": PB, "user-agent": "tfo-agent/0.1",
                      "x-telemetryflow-key-id": "tfk_1", "x-telemetryflow-key-secret": "tfs_1",
                      "x-telemetryflow-agent-id": "agent-9"}, "recorded headers")
    eq(r["fail_first"], False, "fail_first")
    check("error" not in r, "no error on success")
    rm = r["body"]["resource_metrics"][0]
    eq(rm["resource"], {"host.name": "itest-host"}, "resource attributes")
    eq(rm["scope_metrics"][0]["scope"]["name"], "itest", "scope name")
    g = find_metric(r, "system.memory.usage")
    eq((g["unit"], g["type"]), ("By", "gauge"), "gauge")
    eq([p["value"] for p in g["data_points"]], [1024.5, 2048.0], "gauge values")
    eq(g["data_points"][0]["attributes"], {"system.memory.state": "used"}, "point attributes")
    eq(g["data_points"][0]["time_unix_nano"], "1700000000000000001", "time as string")
    c = find_metric(r, "system.cpu.time")
    eq((c["unit"], c["type"], c["is_monotonic"], c["aggregation_temporality"]),
       ("s", "sum", True, "cumulative"), "sum")
    eq([p["value"] for p in c["data_points"]], [9007199254740993, 7, -3], "exact int values")
    eq([p["value_type"] for p in c["data_points"]], ["int"] * 3, "value types")
    eq(c["data_points"][0]["start_time_unix_nano"], "1", "start time")


def test_histogram(s):
    body = otlp.sample_histogram()
    st, _, _ = s.post("/v1/metrics", body)
    eq(st, 200, "histogram status")
    eq(s.line(), "metrics  1 points  host=itest-host  %d bytes (protobuf)" % len(body), "stdout")
    h = find_metric(s.last(), "tfo.exporter.request.duration")
    eq((h["unit"], h["type"], h["aggregation_temporality"]), ("s", "histogram", "cumulative"),
       "histogram metric")
    eq(h["data_points"], [{"attributes": {"tfo.signal": "metrics"}, "start_time_unix_nano": "1",
                           "time_unix_nano": "2", "count": 6, "sum": 4.5,
                           "bucket_counts": [1, 2, 3], "explicit_bounds": [0.1, 1.0],
                           "flags": 0}], "histogram point")
    # A count the buckets do not add up to is refused.
    bad = otlp.metrics_request("itest-host", [otlp.histogram("h", "s", [
        otlp.hist_point(5, 1.0, [1, 2, 3], [0.1, 1.0])])])
    st, _, _ = s.post("/v1/metrics", bad)
    eq(st, 400, "inconsistent histogram status")
    check("count 5, buckets hold 6" in s.line(), "inconsistent histogram stdout")


def test_gzip_and_logs(s):
    raw = otlp.sample_metrics("gz-host")
    gz = gzip.compress(raw)
    st, _, _ = s.post("/v1/metrics", gz, encoding="gzip")
    eq(st, 200, "gzip metrics status")
    eq(s.line(), "metrics  5 points  host=gz-host  %d bytes (protobuf, gzip)" % len(gz), "stdout")
    r = s.last()
    eq((r["bytes"], r["decoded_bytes"], r["encoding"]), (len(gz), len(raw), "gzip"), "gzip sizes")
    eq(r["headers"].get("content-encoding"), "gzip", "content-encoding recorded")

    logs = otlp.sample_logs(n=3)
    st, rh, rb = s.post("/v1/logs", gzip.compress(logs), encoding="gzip")
    eq(st, 200, "logs status")
    check(s.line().startswith("logs  3 records  host=itest-host  "), "logs stdout line")
    r = s.last()
    eq((r["signal"], r["records"], r["points"]), ("logs", 3, 0), "logs counts")
    recs = r["body"]["resource_logs"][0]["scope_logs"][0]["log_records"]
    eq([x["body"] for x in recs], ["line 0", "line 1", "line 2"], "log bodies")
    eq([(x["severity_number"], x["severity_text"]) for x in recs[:2]],
       [(13, "WARN"), (9, "INFO")], "severity")
    eq(recs[0]["attributes"], {"log.file.path": "/var/log/x.log"}, "log attributes")
    eq(recs[1]["time_unix_nano"], "1001", "log time")


def test_json(s):
    st, rh, rb = s.post("/v1/metrics", otlp.sample_metrics_json(), ctype=JS)
    eq((st, rb, rh.get("content-type")), (200, b"{}", JS), "json metrics reply")
    check(s.line().startswith("metrics  3 points  host=json-host  "), "json metrics line")
    r = s.last()
    eq((r["format"], r["points"]), ("json", 3), "json metrics record")
    n = find_metric(r, "system.network.io")
    eq([p["value"] for p in n["data_points"]], [100, 200], "json int values")
    eq(n["data_points"][0]["attributes"], {"network.io.direction": "receive"}, "json attrs")

    st, _, rb = s.post("/v1/logs", otlp.sample_logs_json(), ctype=JS + "; charset=utf-8")
    eq((st, rb), (200, b"{}"), "json logs reply")
    check(s.line().startswith("logs  1 records  host=json-host  "), "json logs line")
    rec = s.last()["body"]["resource_logs"][0]["scope_logs"][0]["log_records"][0]
    eq((rec["body"], rec["severity_number"]), ("boom", 17), "json log record")

    st, _, _ = s.post("/v1/logs", b"")
    eq(st, 200, "empty protobuf request")
    eq(s.line(), "logs  0 records  host=-  0 bytes (protobuf)", "empty request line")
    eq((s.last()["host"], s.last()["body"]), ("", {"resource_logs": []}), "empty request record")


def test_heartbeat(s):
    hb = otlp.sample_heartbeat()
    st, rh, rb = s.post("/api/v1/agents/agent-123/heartbeat", hb, ctype=JS, headers={
        "X-API-Key-ID": "tfk_x", "X-API-Key-Secret": "tfs_x", "X-Agent-Version": "0.1.0"})
    eq((st, json.loads(rb)), (200, {"status": "ok"}), "heartbeat reply")
    eq(s.line(), "heartbeat agent=agent-123 host=hb-host fields=3", "heartbeat line")
    r = s.last()
    eq((r["signal"], r["agent_id"], r["fields"], r["host"]),
       ("heartbeat", "agent-123", 3, "hb-host"), "heartbeat record")
    eq(r["body"], json.loads(hb), "heartbeat body is the JSON sent")
    eq({k: r["headers"][k] for k in ("x-api-key-id", "x-api-key-secret", "x-agent-version")},
       {"x-api-key-id": "tfk_x", "x-api-key-secret": "tfs_x", "x-agent-version": "0.1.0"},
       "heartbeat headers")
    st, _, _ = s.post("/agents/b7e0c9d2-1f/heartbeat", b'{"hostname":"h2"}', ctype=JS)
    eq(st, 200, "heartbeat without prefix")
    eq(s.line(), "heartbeat agent=b7e0c9d2-1f host=h2 fields=1", "flat heartbeat line")


def test_rejections(s):
    st, rh, rb = s.post("/v1/metrics", b"garbage!!")
    eq(st, 400, "garbage protobuf")
    eq(rh.get("content-type"), PB, "error as google.rpc.Status")
    check(rb.startswith(b"\x08\x03\x12") and b"unsupported wire type" in rb, "Status body %r" % rb)
    eq(s.line(), "metrics  status=400 protobuf: unsupported wire type 7  9 bytes", "garbage line")
    r = s.last()
    eq((r["status"], r["error"]), (400, "protobuf: unsupported wire type 7"), "garbage record")
    check("body" not in r, "no body for a rejected request")

    st, _, rb = s.post("/v1/metrics", b'{"foo": 1}', ctype=JS)
    eq((st, json.loads(rb)["code"]), (400, 3), "non-OTLP JSON")
    check(s.line().startswith("metrics  status=400 json: resourceMetrics missing"), "json line")

    st, _, _ = s.post("/v1/logs", gzip.compress(otlp.sample_logs())[:-9], encoding="gzip")
    eq(st, 400, "truncated gzip")
    check(s.line().startswith("logs  status=400 gzip: "), "gzip line")

    bomb = gzip.compress(bytes(65 << 20), compresslevel=9)
    st, _, _ = s.post("/v1/metrics", bomb, encoding="gzip")
    eq(st, 413, "zip bomb")
    check(s.line().startswith("metrics  status=413 gzip: inflates past"), "bomb line")

    st, _, _ = s.post("/v1/metrics", b"{}", ctype="text/plain")
    eq(st, 415, "unsupported media type")
    s.line()
    st, _, _ = s.post("/v1/metrics", b"", encoding="br")
    eq(st, 415, "unsupported encoding")
    s.line()

    st, _, rb = s.post("/v1/traces", b"x")
    eq(st, 404, "unknown path")
    eq(s.line(), "unknown  status=404 no route for POST /v1/traces  1 bytes", "404 line")
    st, rh, _ = s.post("/v1/metrics", method="GET", ctype=None)
    eq((st, rh.get("allow")), (405, "POST"), "GET")
    eq(s.line(), "metrics  status=405 GET not allowed, use POST  0 bytes", "405 line")
    st, _, _ = s.post("/agents/bad%2Fid!/heartbeat", b"{}", ctype=JS)
    eq(st, 400, "bad agent id")
    eq(s.line(), "heartbeat  status=400 bad agent id in path  2 bytes", "bad id line")
    statuses = [x["status"] for x in s.records()[-9:]]
    eq(statuses, [400, 400, 400, 413, 415, 415, 404, 405, 400], "recorded statuses")

    # Over the 16 MiB wire cap: the HTTP layer answers 413 itself (not recorded).
    n = len(s.records())
    st, _, _ = s.post("/v1/metrics", bytes(17 << 20))
    eq(st, 413, "oversized body")
    eq(len(s.records()), n, "oversized body is not recorded")

    # Client bytes that are not UTF-8 still give --out lines that parse
    # ("\udcff" reaches curl's argv as the raw byte 0xff).
    body = otlp.sample_metrics(b"bad\xff\xfehost")
    st, _, _ = s.post("/v1/metrics", body, headers={"User-Agent": "ua\udcff"})
    eq(st, 200, "invalid UTF-8 host")
    eq(s.line(), "metrics  5 points  host=bad??host  %d bytes (protobuf)" % len(body),
       "invalid UTF-8 line")
    r = s.last()
    eq(r["host"], "bad\ufffd\ufffdhost", "host sanitised in --out")
    eq(r["headers"]["user-agent"], "ua\ufffd", "header sanitised in --out")
    st, _, rb = s.post("/v1/metrics", b"{}", ctype="text/\udce9")
    eq(st, 415, "non-ASCII content type")
    check(b"\xe9" not in rb, "error message is ASCII")
    eq(s.line(), "metrics  status=415 unsupported content type 'text/?'  2 bytes", "415 line")

    # Still serving after all that.
    st, _, _ = s.post("/v1/metrics", otlp.sample_metrics())
    eq(st, 200, "alive after bad input")
    check(s.line().startswith("metrics  5 points"), "alive line")
    seqs = [x["seq"] for x in s.records()]
    eq(seqs, list(range(1, len(seqs) + 1)), "seq numbers")


def http_request(path, body=b"", method="POST", headers=(), version="HTTP/1.1", ctype=PB,
                 length=True):
    """Bytes of one request; headers: (name, value) pairs sent as given."""
    head = "%s %s %s\r\nHost: sink\r\n" % (method, path, version)
    if ctype is not None:
        head += "Content-Type: %s\r\n" % ctype
    if length:
        head += "Content-Length: %d\r\n" % len(body)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    return head.encode("latin-1") + b"\r\n" + body


def chunked(body, sizes):
    """body in chunks of the given sizes (the rest in one more), with an
    extension on the first chunk and a trailer field"""
    out, pos = [], 0
    for i, n in enumerate(list(sizes) + [len(body)]):
        part = body[pos:pos + n]
        pos += len(part)
        if part:
            out.append(b"%x%s\r\n%s\r\n" % (len(part), b";ext=1" if i == 0 else b"", part))
    return b"".join(out) + b"0\r\nX-Trailer: t\r\n\r\n"


class Raw:
    """One client connection on a plain socket, reading replies by Content-Length."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def fill(self):
        chunk = self.sock.recv(65536)
        check(chunk, "server closed before a whole reply (have %r)" % self.buf[:200])
        self.buf += chunk

    def reply(self, head_only=False):
        """-> (status, headers with lowercase names, body)"""
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ")[:2]
        eq(version, "HTTP/1.1", "reply version")
        hdrs = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        n = 0 if head_only or int(status) < 200 else int(hdrs["content-length"])
        while len(self.buf) < n:
            self.fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(status), hdrs, body

    def is_open(self, wait=0.3):
        """Nothing to read and no FIN within wait seconds."""
        r, _, _ = select.select([self.sock], [], [], wait)
        return not r and self.buf == b""

    def closed(self):
        """The server sent its FIN (not a RST) and nothing more."""
        rest = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return self.buf + rest == b""
            rest += chunk

    def close(self):
        self.sock.close()


def test_keepalive(s):
    body = otlp.sample_metrics()
    c = Raw(s.port)
    try:
        for i in range(2):
            c.send(http_request("/v1/metrics", body))
            st, rh, rb = c.reply()
            eq((st, rh.get("content-type"), rb), (200, PB, b""), "keep-alive reply %d" % i)
            check("connection" not in rh, "no Connection header on HTTP/1.1 keep-alive")
            eq(s.line(), "metrics  5 points  host=itest-host  %d bytes (protobuf)" % len(body),
               "keep-alive line %d" % i)
            check(c.is_open(), "connection kept open after reply %d" % i)
        # HEAD: headers only, so the next reply on the connection still parses.
        c.send(http_request("/v1/metrics", method="HEAD", ctype=None, length=False))
        st, rh, rb = c.reply(head_only=True)
        eq((st, rh.get("allow")), (405, "POST"), "HEAD reply")
        check(int(rh.get("content-length", "0")) > 0, "HEAD reply announces its body length")
        eq(s.line(), "metrics  status=405 HEAD not allowed, use POST  0 bytes", "HEAD line")
        c.send(http_request("/v1/logs"))
        eq(c.reply()[0], 200, "request after HEAD")
        eq(s.line(), "logs  0 records  host=-  0 bytes (protobuf)", "line after HEAD")
    finally:
        c.close()
    # HTTP/1.0 keeps the connection only when asked to.
    c = Raw(s.port)
    try:
        c.send(http_request("/v1/logs", version="HTTP/1.0", headers=[("Connection", "keep-alive")]))
        st, rh, _ = c.reply()
        eq((st, rh.get("connection", "").lower()), (200, "keep-alive"), "HTTP/1.0 keep-alive")
        s.line()
        check(c.is_open(), "HTTP/1.0 keep-alive connection open")
        c.send(http_request("/v1/logs", version="HTTP/1.0"))
        st, rh, _ = c.reply()
        eq((st, rh.get("connection", "").lower()), (200, "close"), "HTTP/1.0 default")
        s.line()
        check(c.closed(), "HTTP/1.0 connection closed by the sink")
    finally:
        c.close()


def test_pipelined(s):
    body = otlp.sample_metrics()
    c = Raw(s.port)
    try:
        c.send(http_request("/v1/metrics", body) + http_request("/v1/traces", b"x") +
               http_request("/v1/metrics", method="GET", ctype=None, length=False) +
               http_request("/v1/logs", otlp.sample_logs(n=2)))
        got = [c.reply() for _ in range(4)]
        eq([g[0] for g in got], [200, 404, 405, 200], "pipelined replies in order")
        eq(got[2][1].get("allow"), "POST", "405 of the pipelined GET")
        eq(s.line(), "metrics  5 points  host=itest-host  %d bytes (protobuf)" % len(body),
           "pipelined line 1")
        eq(s.line(), "unknown  status=404 no route for POST /v1/traces  1 bytes", "pipelined line 2")
        eq(s.line(), "metrics  status=405 GET not allowed, use POST  0 bytes", "pipelined line 3")
        check(s.line().startswith("logs  2 records  host=itest-host  "), "pipelined line 4")
        check(c.is_open(), "open after a pipelined batch")
    finally:
        c.close()


def test_connection_close(s):
    c = Raw(s.port)
    try:
        # The request after the one that asks to close is never answered.
        c.send(http_request("/v1/logs", headers=[("Connection", "close")]) +
               http_request("/v1/logs"))
        st, rh, _ = c.reply()
        eq((st, rh.get("connection")), (200, "close"), "Connection: close reply")
        s.line()
        check(c.closed(), "closed after Connection: close")
    finally:
        c.close()


def test_chunked(s):
    body = otlp.sample_metrics()
    n = len(s.records())
    c = Raw(s.port)
    try:
        wire = http_request("/v1/metrics", length=False,
                            headers=[("Transfer-Encoding", "chunked")]) + chunked(body, [1, 7, 30])
        # In odd pieces, so that sizes, data and CRLFs are split across reads.
        for i in range(0, len(wire), 37):
            c.send(wire[i:i + 37])
            time.sleep(0.002)
        eq(c.reply()[0], 200, "chunked POST")
        eq(s.line(), "metrics  5 points  host=itest-host  %d bytes (protobuf)" % len(body),
           "chunked line")
        r = s.last()
        eq((r["bytes"], r["points"], r["status"]), (len(body), 5, 200), "chunked record")
        check(c.is_open(), "open after a chunked request")
        # A chunk past the 16 MiB cap is refused before its data comes.
        c.send(http_request("/v1/metrics", length=False, headers=[("Transfer-Encoding", "chunked")])
               + b"1000001\r\n")
        st, rh, _ = c.reply()
        eq((st, rh.get("connection")), (413, "close"), "chunk over the cap")
        check(c.closed(), "closed after the 413")
    finally:
        c.close()
    # curl's own chunked upload.
    logs = otlp.sample_logs(n=4)
    st, _, _ = s.post("/v1/logs", logs, headers={"Transfer-Encoding": "chunked"})
    eq(st, 200, "curl chunked POST")
    check(s.line().startswith("logs  4 records  host=itest-host  %d bytes" % len(logs)),
          "curl chunked line")
    eq(len(s.records()), n + 2, "chunked requests recorded, the refused one not")


def refused(s, wire, status, what, split=None):
    """A request the sink answers itself with status, then closes."""
    n = len(s.records())
    c = Raw(s.port)
    try:
        c.send(wire)
        st, rh, _ = c.reply()
        eq((st, rh.get("connection")), (status, "close"), what)
        check(c.closed(), "closed after: " + what)
    finally:
        c.close()
    eq(len(s.records()), n, "not recorded: " + what)


def test_framing_errors(s):
    head = b"POST /v1/metrics HTTP/1.1\r\nHost: sink\r\n"
    refused(s, head + b"Content-Length: %d\r\n\r\nabc" % ((16 << 20) + 1), 413,
            "Content-Length over 16 MiB")
    refused(s, head + b"Content-Length: 99999999999999999999999999\r\n\r\n", 413,
            "Content-Length overflowing 64 bits")
    for bad in (b"HELLO\r\n\r\n", b"GET  /v1/metrics HTTP/1.1\r\n\r\n",
                b"GET /v1/metrics FTP/1.1\r\n\r\n", b"GET /v1/metrics HTTP/1.1 x\r\n\r\n",
                b"GET /v1/\x00metrics HTTP/1.1\r\n\r\n", b"GET v1/metrics HTTP/1.1\r\n\r\n",
                b"GET /v1/metrics HTTP/1.1\r\nBad Header: x\r\n\r\n",
                b"GET /v1/metrics HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
                b"GET /v1/metrics HTTP/1.1\r\nX: a\x01b\r\n\r\n"):
        refused(s, bad, 400, "malformed head %r" % bad)
    refused(s, b"GET /v1/metrics HTTP/2.0\r\n\r\n", 505, "HTTP/2.0 request line")
    # 431 both for a head that never ends and for a whole one that is too long.
    refused(s, head + b"X-Big: " + b"a" * (70 << 10), 431, "endless head over 64 KiB")
    refused(s, head + b"".join(b"X-%d: %s\r\n" % (i, b"b" * 1000) for i in range(70)) +
            b"\r\n", 431, "head over 64 KiB")
    for cl in (b"abc", b"-1", b"+5", b"1 2", b"0x10", b"", b"5, 5"):
        refused(s, head + b"Content-Length: " + cl + b"\r\n\r\nhello", 400,
                "Content-Length %r" % cl)
    refused(s, head + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400,
            "disagreeing Content-Lengths")
    refused(s, head + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400, "Content-Length with chunked")
    refused(s, head + b"Transfer-Encoding: gzip\r\n\r\n", 501, "unknown transfer coding")
    refused(s, head + b"Expect: 200-ok\r\nContent-Length: 1\r\n\r\n", 417, "unknown Expect")
    refused(s, head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "bad chunk size")
    # Agreeing duplicates are fine.
    c = Raw(s.port)
    try:
        c.send(head + b"Content-Type: application/x-protobuf\r\nContent-Length: 0\r\n"
               b"content-length: 0\r\n\r\n")
        eq(c.reply()[0], 200, "agreeing Content-Lengths")
        eq(s.line(), "metrics  0 points  host=-  0 bytes (protobuf)", "agreeing line")
    finally:
        c.close()


def test_expect_continue(s):
    body = otlp.sample_metrics()
    c = Raw(s.port)
    try:
        c.send(http_request("/v1/metrics", b"", headers=[("Expect", "100-continue")])
               .replace(b"Content-Length: 0", b"Content-Length: %d" % len(body)))
        st, _, rb = c.reply()
        eq((st, rb), (100, b""), "100 Continue before the body")
        check(c.is_open(), "nothing more before the body")
        c.send(body)
        st, rh, _ = c.reply()
        eq((st, rh.get("content-type")), (200, PB), "final reply after 100")
        eq(s.line(), "metrics  5 points  host=itest-host  %d bytes (protobuf)" % len(body),
           "100-continue line")
    finally:
        c.close()


def test_fail_first(binary, tmp):
    s = Sink(binary, tmp, "failfirst", "--fail-first", "2")
    try:
        body = otlp.sample_metrics()
        got = []
        for _ in range(3):
            st, rh, _ = s.post("/v1/metrics", body)
            got.append((st, rh.get("retry-after")))
        eq(got, [(503, "1"), (503, "1"), (200, None)], "fail-first replies")
        eq(s.line(), "metrics  status=503 fail-first 1/2  %d bytes" % len(body), "line 1")
        eq(s.line(), "metrics  status=503 fail-first 2/2  %d bytes" % len(body), "line 2")
        check(s.line().startswith("metrics  5 points"), "line 3")
        recs = s.records()
        eq([(r["status"], r["fail_first"]) for r in recs], [(503, True), (503, True), (200, False)],
           "fail-first records")
        eq([r["points"] for r in recs], [5, 5, 5], "refused requests are still decoded")
        eq(recs[0]["error"], "fail-first 1/2", "fail-first error")
        rest = s.stop()
        eq(rest, "", "nothing more on stdout")
    finally:
        s.kill()

    q = Sink(binary, tmp, "quiet", "--quiet", "--fail-first", "1", "--fail-status", "429")
    try:
        st, rh, _ = q.post("/v1/logs", b"", encoding=None)
        eq((st, rh.get("retry-after")), (429, "1"), "--fail-status 429")
        st, _, _ = q.post("/v1/logs", b"")
        eq(st, 200, "empty protobuf request after fail-first")
        eq([r["status"] for r in q.records()], [429, 200], "quiet records")
        eq(q.stop(), "", "--quiet prints no request lines")
    finally:
        q.kill()


def test_bad_options(binary):
    for args in (["--listen", "nonsense"], ["--listen", "127.0.0.1:70000"],
                 ["--fail-status", "42"], ["--fail-first", "-1"], ["extra"]):
        res = subprocess.run([binary] + args, capture_output=True, timeout=20)
        eq(res.returncode, 2, "exit status for %s" % args)


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        test_bad_options(binary)
        s = Sink(binary, tmp, "main")
        try:
            test_protobuf(s)
            test_gzip_and_logs(s)
            test_histogram(s)
            test_json(s)
            test_heartbeat(s)
            test_rejections(s)
            test_keepalive(s)
            test_pipelined(s)
            test_connection_close(s)
            test_chunked(s)
            test_framing_errors(s)
            test_expect_continue(s)
            check(s.post("/v1/metrics", otlp.sample_metrics())[0] == 200, "alive after raw tests")
            check(s.line().startswith("metrics  5 points"), "alive line after raw tests")
            seqs = [x["seq"] for x in s.records()]
            eq(seqs, list(range(1, len(seqs) + 1)), "seq numbers after raw tests")
            # A half-sent request and an idle connection are open at SIGTERM.
            half = socket.create_connection(("127.0.0.1", s.port))
            half.sendall(b"POST /v1/metrics HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/x-protobuf\r\nContent-Length: 99\r\n\r\nab")
            idle = socket.create_connection(("127.0.0.1", s.port))
            eq(s.stop(), "", "nothing unexpected on stdout")
            half.close()
            idle.close()
        finally:
            s.kill()
        test_fail_first(binary, tmp)
    print("tfo-sink integration: ok")


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
