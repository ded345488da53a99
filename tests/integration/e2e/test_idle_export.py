#!/usr/bin/env python3
"""test_idle_export.py BINDIR CASE - the exporter <-> buffer export link of an
idle agent (issue 18 §3, docs/exporter.md "Acks at idle"), as root: the real
tree, tfo-system every 1 s, exporter.flush_interval 2 s, tfo-logs tailing a
quiet file, tools/tfo-sink as the far end.
  requests  a delivered batch costs the buffer one export request, not two:
            its ack rides on the next flush's Fetch. Over 8 flushes the
            buffer's export_requests grow by fewer than 1.5 a batch the
            exporter sent (a Fetch and an Ack each before: 2 a batch)
  stranded  a log line written while the logs are quiet (their last fetch
            said empty, every flush a fetch of metrics carrying the last ack)
            still leaves within a few flush intervals: five lines, each
            written once the one before arrived, at different points of the
            flush; each arrives (within 5 intervals: none waits for another
            put of its signal), exactly once; and at the stop the kept ack
            goes, so a restart delivers none of them again"""
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (check, require_root_and_users, Sink, Agent, read_records,  # noqa: E402
                     iter_log_records, sink_yaml, yaml_of, follow, wait_for, run_case, OFF)

FLUSH_S = 2
STATS = ["system", "logs", "buffer", "exporter"]


def agent_for(bindir, tmp, holder, port, log):
    agent = Agent(bindir, sink_yaml(port) + yaml_of({
        "heartbeat": {"enabled": False},
        "collectors": {"system": {"interval": "1s"}, "process": OFF,
                       "logs": follow(log)},
        "exporter": {"flush_interval": "%ds" % FLUSH_S, "shutdown_drain": "5s"}}),
        root=os.path.join(tmp, "agent"))
    holder.append(agent)
    return agent


def stats(agent):
    st = agent.status() or {}
    return st.get("buffer", {}).get("stats", {}), st.get("exporter", {}).get("stats", {})


def lines_at(path):
    """{body: times} of the log records the sink accepted"""
    seen = {}
    for r in read_records(path):
        if r["signal"] != "logs" or r["status"] != 200 or "body" not in r:
            continue
        for _, lr in iter_log_records(r):
            b = lr.get("body") or ""
            seen[b] = seen.get(b, 0) + 1
    return seen


def start(bindir, tmp, holder):
    log = os.path.join(tmp, "app.log")
    with open(log, "w"):
        pass
    os.chmod(tmp, 0o755)
    os.chmod(log, 0o644)
    sink = Sink(bindir, os.path.join(tmp, "sink.jsonl"), log=os.path.join(tmp, "sink.log"))
    agent = agent_for(bindir, tmp, holder, sink.port, log)
    agent.start()
    agent.wait_ready(STATS)
    # steady: a few flushes delivered, the logs' first flush found nothing
    wait_for(lambda: stats(agent)[1].get("sent_batches", 0) >= 3, "3 batches sent", 40, 0.3)
    return sink, agent, log


def case_requests(bindir, tmp, holder):
    sink, agent, _ = start(bindir, tmp, holder)
    try:
        b0, e0 = stats(agent)
        time.sleep(8 * FLUSH_S)
        b1, e1 = stats(agent)
    finally:
        agent.stop()
        check(sink.stop() == 0, "tfo-sink exit status")
    req = b1["export_requests"] - b0["export_requests"]
    sent = e1["sent_batches"] - e0["sent_batches"]
    print("requests: %d export requests for %d batches sent in %d s (fetches %d, acks %d, "
          "acks riding %d)" % (req, sent, 8 * FLUSH_S, b1["fetches"] - b0["fetches"],
                               b1["acks"] - b0["acks"],
                               e1.get("acks_later", 0) - e0.get("acks_later", 0)))
    check(sent >= 4, "only %d batches sent in %d s" % (sent, 8 * FLUSH_S))
    check(req < 1.5 * sent, "%d export requests for %d batches: more than one a batch "
          "(an Ack of its own each?)" % (req, sent))


def case_stranded(bindir, tmp, holder):
    sink, agent, log = start(bindir, tmp, holder)
    try:
        for i in range(5):
            body = "quiet line %d" % i
            # written at a different point of the flush each time
            time.sleep(0.45 * i)
            with open(log, "a") as f:
                f.write(body + "\n")
            wait_for(lambda: lines_at(sink.out).get(body, 0) >= 1,
                     "%r at the sink within %d flush intervals" % (body, 5), 5 * FLUSH_S, 0.1)
        time.sleep(FLUSH_S)
        agent.stop()
        agent.start()
        agent.wait_ready(STATS)
        wait_for(lambda: stats(agent)[1].get("sent_batches", 0) >= 2, "2 batches sent again",
                 40, 0.3)
    finally:
        agent.stop()
        check(sink.stop() == 0, "tfo-sink exit status")
    seen = lines_at(sink.out)
    twice = {b: n for b, n in seen.items() if n != 1}
    check(not twice, "log lines delivered more than once: %s" % twice)
    print("stranded: 5 quiet lines each at the sink within %d s, each once across a "
          "restart" % (5 * FLUSH_S))


def main():
    bindir, case = sys.argv[1], sys.argv[2]
    require_root_and_users()
    tmp = tempfile.mkdtemp(prefix="tfo-idle-export-")
    holder = []
    cases = {
        "requests": lambda: case_requests(bindir, tmp, holder),
        "stranded": lambda: case_stranded(bindir, tmp, holder),
    }
    rc = run_case(cases[case], holder)
    for a in holder:
        a.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
    if rc == 0:
        print("ok idle_export.%s" % case)
    return rc


if __name__ == "__main__":
    sys.exit(main())
