#!/usr/bin/env python3
"""gen_corpus.py - regenerate tfo-sink's fuzz seeds (committed in corpus/).
Each seed is one mode byte (see fuzz_sink_decode.c) followed by a body."""
import gzip
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "sink"))
import otlp  # noqa: E402

METRICS, LOGS, HEARTBEAT, JSON, GZIP = 0, 1, 2, 4, 8


def gz(b):
    return gzip.compress(b, mtime=0)


def main():
    deep = {"stringValue": "x"}
    for _ in range(10):
        deep = {"arrayValue": {"values": [deep]}}
    deep_json = ('{"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":%s}]}}]}'
                 % str(deep).replace("'", '"')).encode()
    seeds = {
        "metrics.pb": bytes([METRICS]) + otlp.sample_metrics(),
        "metrics.pb.gz": bytes([METRICS | GZIP]) + gz(otlp.sample_metrics()),
        "histogram.pb": bytes([METRICS]) + otlp.sample_histogram(),
        "logs.pb": bytes([LOGS]) + otlp.sample_logs(n=2),
        "logs.pb.gz": bytes([LOGS | GZIP]) + gz(otlp.sample_logs(n=2)),
        "metrics.json": bytes([METRICS | JSON]) + otlp.sample_metrics_json(),
        "metrics-deep.json": bytes([METRICS | JSON]) + deep_json,
        "logs.json": bytes([LOGS | JSON]) + otlp.sample_logs_json(),
        "heartbeat.json": bytes([HEARTBEAT | JSON]) + otlp.sample_heartbeat(),
        "heartbeat.json.gz": bytes([HEARTBEAT | JSON | GZIP]) + gz(otlp.sample_heartbeat()),
        "empty.pb": bytes([LOGS]),
    }
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
