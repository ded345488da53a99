#!/usr/bin/env python3
"""bench_logs_e2e.py BINDIR [MIB] [LINE_BYTES] [gzip|none] [count|full] [varied|filler] - end-to-end log
throughput (DESIGN §8: >= 100 MiB/s of lines): file -> tfo-logs -> tfo-buffer ->
tfo-exporter -> OTLP/HTTP -> tools/tfo-sink --quiet, under the real tfo-supervisor.

The sink runs with --count-only by default (framing walk and counts, no
protobuf-c decode), so the bench measures the agent and not the sink; "full"
makes it decode every request as tests do. The output names the mode.

A file of MIB MiB (default 256) of numbered LINE_BYTES-byte lines (default 120,
newline included; "varied" log-like text by default, "filler" a repeated pad) is written next to the followed path first, then renamed
into place once every worker is ready, so the clock starts with the file's
appearance and no start-up cost is counted. The run ends when the sink has
received every line (it prints one line per request, read as it comes).
Prints MiB/s, lines/s, and the CPU seconds of each process over the run
(wall time on a shared machine is noisy; MiB per CPU second of the pipeline
is printed too). Compression defaults to none (a local sink); gzip is the
agent's default for real endpoints.

The exporter's window for an A/B: BENCH_MAX_IN_FLIGHT, BENCH_BATCH_MAX_BYTES
(exporter.max_in_flight, exporter.batch_max_bytes), printed with the result;
BENCH_PIN_WORKERS=false for supervisor.pin_workers (each worker on one CPU by
default).

Never run by ctest. Run as root on a Release build:
  cmake --build build --target bench-logs-e2e     (or python3 bench/logs_e2e/bench_logs_e2e.py build/bin)"""
import os
import random
import select
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "lib"))
from tfo_e2e import Fail, Sink, Agent, wait_for, yaml_of, follow, OFF  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
ROLES = ["logs", "buffer", "exporter"]


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / TICK


def machine_s():
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat:
    what ran beside the agent during a run (other trees' tests, builds) and
    what the hypervisor took (steal) are what make wall-clock figures of a
    shared VM differ by 2x between runs of the same build."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / TICK, v[7] / TICK


def peak_rss_mib(pid):
    """VmHWM: the most memory the process held resident at once."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


LEVELS = ["INFO"] * 12 + ["DEBUG"] * 4 + ["WARN"] * 2 + ["ERROR", "TRACE"]
COMPONENTS = ["http", "db.pool", "auth", "scheduler", "cache", "grpc", "worker", "billing",
              "kafka.consumer", "search", "mailer", "api.v2", "session", "storage", "gc"]
TEMPLATES = [
    "GET /api/v2/items/{n} 200 {ms}ms bytes={b} ua=Mozilla/5.0 ip=10.{o}.{p}.{q}",
    "POST /login user=u{n} result=ok took={ms}ms session={h}",
    "query SELECT * FROM orders WHERE id = {n} rows={b} took {ms} ms",
    "cache miss key=item:{n} fill={ms}ms size={b}",
    "retrying request id={h} attempt={o} backoff={ms}ms peer=10.{p}.{q}.{o}:8443",
    "job {h} finished status=done duration={ms}ms processed={b}",
    "connection from 192.168.{o}.{p}:{b} closed after {ms} ms",
    "consumer lag partition={o} offset={n} lag={b}",
]


def write_file(path, mib, line_bytes, varied):
    """Numbered lines of exactly line_bytes bytes; returns (bytes, lines).
    varied: log-like lines (levels, components, numbers, hex ids) that
    compress about as real logs do; otherwise one repeated filler, which
    compresses far better than any real log (its LZ4 ratio is printed)."""
    rnd = random.Random(1)
    pad = "x" * line_bytes
    lines, size, target = 0, 0, mib * 1024 * 1024
    with open(path, "w") as f:
        while size < target:
            chunk = []
            for _ in range(4096):
                if varied:
                    r = rnd.getrandbits(64)
                    body = "%010d 2026-11-25T12:%02d:%02d.%03dZ %s [%s] %s" % (
                        lines, r % 60, (r >> 6) % 60, (r >> 12) % 1000,
                        LEVELS[(r >> 22) % len(LEVELS)], COMPONENTS[(r >> 27) % len(COMPONENTS)],
                        TEMPLATES[(r >> 31) % len(TEMPLATES)].format(
                            n=(r >> 34) % 100000, ms=(r >> 20) % 900, b=(r >> 40) % 65536,
                            h="%016x" % rnd.getrandbits(64), o=r % 256, p=(r >> 8) % 256,
                            q=(r >> 16) % 256))
                    line = (body + " " + pad)[:line_bytes - 1] + "\n"
                else:
                    head = "%010d INFO bench " % lines
                    line = head + pad[:max(0, line_bytes - len(head) - 1)] + "\n"
                chunk.append(line)
                lines += 1
            text = "".join(chunk)
            f.write(text)
            size += len(text)
    os.chmod(path, 0o644)
    return size, lines


def sink_wait(sink, lines, timeout):
    """Block on the sink's per-request lines until `lines` log records have
    arrived; the count. Reading the pipe costs nothing while waiting, where
    polling `tfoctl status` every 50 ms took about a tenth of a core from the
    pipeline on a 2-core machine (exec, supervisor and workers' stats)."""
    end = time.monotonic() + timeout
    fd = sink.proc.stdout.fileno()
    got, tail = 0, b""
    while got < lines:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise Fail("timed out after %.0f s: %d of %d lines at the sink" % (timeout, got, lines))
        chunk = os.read(fd, 65536)
        if not chunk:
            raise Fail("tfo-sink exited: %d of %d lines at the sink" % (got, lines))
        *done, tail = (tail + chunk).split(b"\n")
        for line in done:
            f = line.split()
            if len(f) >= 3 and f[0] == b"logs" and f[2] == b"records":
                got += int(f[1])
    return got


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) >= 2 else 2
    bindir = sys.argv[1]
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    line_bytes = max(40, int(sys.argv[3]) if len(sys.argv) > 3 else 120)
    comp = sys.argv[4] if len(sys.argv) > 4 else "none"
    mode = sys.argv[5] if len(sys.argv) > 5 else "count"
    text = sys.argv[6] if len(sys.argv) > 6 else "varied"
    if mode not in ("count", "full"):
        print("sink mode must be count or full, not %r" % mode)
        return 2
    if text not in ("varied", "filler"):
        print("line text must be varied or filler, not %r" % text)
        return 2
    sink = Sink(bindir, None, count_only=mode == "count", quiet=False)
    agent = None
    try:
        agent = Agent(bindir, "", prefix="tfo-benchlogs-")
        logdir = os.path.join(agent.dir, "logs")
        os.mkdir(logdir)
        os.chmod(logdir, 0o755)
        app = os.path.join(logdir, "app.log")
        staged = os.path.join(logdir, "staged.tmp")
        size, lines = write_file(staged, mib, line_bytes, text == "varied")
        # start_at: beginning - the file is renamed in after the workers are
        # ready; if tfo-logs' first scan came later, `end` would skip it all
        # (that race was the bench's occasional hang).
        # A/B of the exporter's in-flight window (docs/exporter.md):
        # BENCH_MAX_IN_FLIGHT=1 BENCH_BATCH_MAX_BYTES=256KiB
        with open(agent.cfg, "a") as f:
            f.write(yaml_of({
                "telemetryflow": {"endpoint": sink.url, "protocol": "http", "compression": comp,
                                  "api_endpoint": sink.url + "/api/v1"},
                "heartbeat": OFF,
                "collectors": {"system": OFF, "process": OFF,
                               "logs": follow(app, rescan_interval=None, batch_max_ms=None)},
                "buffer": {"max_size_mb": max(1024, 4 * mib)},
                "exporter": {"flush_interval": "100ms",
                             "max_in_flight": os.environ.get("BENCH_MAX_IN_FLIGHT") or None,
                             "batch_max_bytes": os.environ.get("BENCH_BATCH_MAX_BYTES") or None},
                "supervisor": {"ping_interval": "100ms",
                               "pin_workers": os.environ.get("BENCH_PIN_WORKERS") or None}}))
        agent.start()
        s = agent.wait_ready(ROLES)
        pids = {"supervisor": agent.proc.pid}
        pids.update({r: s[r]["pid"] for r in ROLES})
        pids["tfo-sink"] = sink.proc.pid
        c0 = {k: cpu_s(p) for k, p in pids.items()}
        m0 = machine_s()
        t0 = time.monotonic()
        os.rename(staged, app)

        received = sink_wait(sink, lines, 600)
        wall = time.monotonic() - t0
        cpu = {k: cpu_s(p) - c0[k] for k, p in pids.items()}
        m1 = machine_s()
        if received > lines:
            raise Fail("the sink received %d records for %d lines" % (received, lines))

        def stats_in():
            st = agent.status()
            return st and st["exporter"]["stats"].get("sent_points", 0) >= lines
        wait_for(stats_in, "the exporter's stats", 10, 0.05)
        rss = {r: peak_rss_mib(pids[r]) for r in ROLES}
        st = agent.status()
        rc = agent.stop()
    except Fail as e:
        print("bench failed: %s" % e)
        if agent:
            print(agent.logtext()[-3000:])
        return 1
    finally:
        if agent:
            agent.cleanup()
        sink.stop()
    pipe = cpu["logs"] + cpu["buffer"] + cpu["exporter"]
    print("file -> tfo-logs -> tfo-buffer -> tfo-exporter -> tfo-sink (OTLP/HTTP, %s)" % comp)
    print("  sink mode: %s" % ("--count-only (framing walk + counts, no protobuf-c decode)"
                               if mode == "count" else "full decode (default tfo-sink)"))
    print("  %.0f MiB, %d %s lines of %d bytes in %.2f s (supervisor exit %s)" %
          (size / 1048576.0, lines, text, line_bytes, wall, rc))
    print("  throughput  %.1f MiB/s, %.0f lines/s   (budget >= 100 MiB/s)" %
          (size / 1048576.0 / wall, lines / wall))
    print("  CPU seconds: " + ", ".join("%s %.2f" % (k, v) for k, v in cpu.items()))
    others = m1[0] - m0[0] - sum(cpu.values())
    print("  beside it on the machine: %.2f CPU s busy, %.2f s stolen (%d CPUs; a quiet "
          "run has both near 0, else compare builds only between runs alike)" %
          (max(0.0, others), m1[1] - m0[1], os.cpu_count()))
    print("  peak RSS MiB: " + ", ".join("%s %.1f" % (k, v) for k, v in rss.items()))
    print("  pipeline (logs+buffer+exporter) %.2f CPU s = %.1f MiB per CPU second" %
          (pipe, size / 1048576.0 / pipe if pipe else 0.0))
    lg = st["logs"]["stats"] if st else {}
    bu = st["buffer"]["stats"] if st else {}
    print("  logs: %s puts, %s busy, %s failed; buffer: %s commits, lz4 %s -> %s bytes" %
          (lg.get("logs.puts"), lg.get("logs.put_busy"), lg.get("logs.put_errors"),
           bu.get("commits"), bu.get("lz4_raw_bytes"), bu.get("lz4_stored_bytes")))
    ex = st["exporter"]["stats"] if st else {}
    print("  exporter: %s batches, %s payload bytes, %s wire bytes, %s retries" %
          (ex.get("sent_batches"), ex.get("sent_bytes"), ex.get("wire_bytes"), ex.get("retries")))
    print("  supervisor.pin_workers: %s" % os.environ.get("BENCH_PIN_WORKERS", "default (true)"))
    print("  exporter window: max_in_flight %s, batch_max_bytes %s" %
          (os.environ.get("BENCH_MAX_IN_FLIGHT", "default"),
           os.environ.get("BENCH_BATCH_MAX_BYTES", "default")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
