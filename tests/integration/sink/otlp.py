"""otlp.py - a hand-written OTLP protobuf/JSON encoder (python3 stdlib only)
for tfo-sink's integration test and fuzz seed generator. It is independent of
the C code under test on purpose: the field numbers come from the OTLP protos.
"""
import json
import struct


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field_len(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def field_varint(num, v):
    return varint(num << 3) + varint(v & 0xFFFFFFFFFFFFFFFF)


def field_fixed64(num, v, fmt="<Q"):
    return varint(num << 3 | 1) + struct.pack(fmt, v)


def any_value(v):
    if isinstance(v, bytes):  # raw string bytes, possibly not UTF-8
        return field_len(1, v)
    if isinstance(v, bool):
        return field_varint(2, int(v))
    if isinstance(v, int):
        return field_varint(3, v)
    if isinstance(v, float):
        return field_fixed64(4, v, "<d")
    return field_len(1, v.encode())


def key_value(k, v):
    return field_len(1, k.encode()) + field_len(2, any_value(v))


def attrs(num, d):
    return b"".join(field_len(num, key_value(k, v)) for k, v in d.items())


def point(value, attributes=None, start=0, time=0):
    p = attrs(7, attributes or {})
    if start:
        p += field_fixed64(2, start)
    if time:
        p += field_fixed64(3, time)
    if isinstance(value, float):
        p += field_fixed64(4, value, "<d")
    else:
        p += field_fixed64(6, value, "<q")
    return p


def metric(name, unit, kind, points, monotonic=False, temporality=2):
    """kind: 'gauge' or 'sum'; points: list of point() bytes"""
    dps = b"".join(field_len(1, p) for p in points)
    m = field_len(1, name.encode()) + field_len(3, unit.encode())
    if kind == "gauge":
        return m + field_len(5, dps)
    body = dps + field_varint(2, temporality) + field_varint(3, int(monotonic))
    return m + field_len(7, body)


def hist_point(count, total, buckets, bounds, attributes=None, start=0, time=0):
    """an explicit-bucket HistogramDataPoint (packed bucket_counts / bounds)"""
    p = attrs(9, attributes or {})
    if start:
        p += field_fixed64(2, start)
    if time:
        p += field_fixed64(3, time)
    p += field_fixed64(4, count) + field_fixed64(5, total, "<d")
    p += field_len(6, b"".join(struct.pack("<Q", b) for b in buckets))
    p += field_len(7, b"".join(struct.pack("<d", b) for b in bounds))
    return p


def histogram(name, unit, points, temporality=2):
    """a Histogram metric of hist_point() bytes"""
    body = b"".join(field_len(1, p) for p in points) + field_varint(2, temporality)
    return field_len(1, name.encode()) + field_len(3, unit.encode()) + field_len(9, body)


def sample_histogram(host="itest-host"):
    """tfo.exporter.request.duration: one point, 3 buckets"""
    return metrics_request(host, [histogram("tfo.exporter.request.duration", "s", [
        hist_point(6, 4.5, [1, 2, 3], [0.1, 1.0], {"tfo.signal": "metrics"}, 1, 2)])])


def metrics_request(host, metrics, scope="itest"):
    resource = attrs(1, {"host.name": host})
    sm = field_len(1, field_len(1, scope.encode())) + b"".join(
        field_len(2, m) for m in metrics)
    rm = field_len(1, resource) + field_len(2, sm)
    return field_len(1, rm)


def log_record(body, severity=9, text="INFO", attributes=None, time=0):
    r = b""
    if time:
        r += field_fixed64(1, time)
    r += field_varint(2, severity) + field_len(3, text.encode())
    r += field_len(5, any_value(body)) + attrs(6, attributes or {})
    return r


def logs_request(host, records):
    resource = attrs(1, {"host.name": host})
    sl = b"".join(field_len(2, r) for r in records)
    rl = field_len(1, resource) + field_len(2, sl)
    return field_len(1, rl)


def sample_metrics(host="itest-host"):
    """gauge system.memory.usage (2 double points), sum system.cpu.time
    (3 int points, monotonic cumulative; one is 2^53+1)"""
    g = metric("system.memory.usage", "By", "gauge", [
        point(1024.5, {"system.memory.state": "used"}, time=1700000000000000001),
        point(2048.0, {"system.memory.state": "free"}, time=1700000000000000001)])
    s = metric("system.cpu.time", "s", "sum", [
        point(9007199254740993, {"cpu.mode": "user"}, 1, 1700000000000000002),
        point(7, {"cpu.mode": "system"}, 1, 1700000000000000002),
        point(-3, {"cpu.mode": "idle"}, 1, 1700000000000000002)], monotonic=True)
    return metrics_request(host, [g, s])


def sample_logs(host="itest-host", n=3):
    return logs_request(host, [
        log_record("line %d" % i, 13 if i == 0 else 9, "WARN" if i == 0 else "INFO",
                   {"log.file.path": "/var/log/x.log"}, time=1000 + i)
        for i in range(n)])


def sample_metrics_json(host="json-host"):
    return json.dumps({"resourceMetrics": [{
        "resource": {"attributes": [
            {"key": "host.name", "value": {"stringValue": host}}]},
        "scopeMetrics": [{"scope": {"name": "j"}, "metrics": [
            {"name": "system.cpu.load_average.1m", "unit": "{thread}",
             "gauge": {"dataPoints": [{"asDouble": 0.25,
                                       "timeUnixNano": "1700000000000000000"}]}},
            {"name": "system.network.io", "unit": "By",
             "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                     "dataPoints": [
                         {"asInt": "100", "attributes": [
                             {"key": "network.io.direction",
                              "value": {"stringValue": "receive"}}]},
                         {"asInt": "200"}]}}]}]}]}).encode()


def sample_logs_json(host="json-host"):
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "host.name", "value": {"stringValue": host}}]},
        "scopeLogs": [{"logRecords": [
            {"timeUnixNano": "5", "severityNumber": 17, "severityText": "ERROR",
             "body": {"stringValue": "boom"}}]}]}]}).encode()


def sample_heartbeat(host="hb-host"):
    return json.dumps({"systemInfo": {"hostname": host, "os": "linux",
                                      "cpuCores": 8}}).encode()
