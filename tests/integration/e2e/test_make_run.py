#!/usr/bin/env python3
"""test_make_run.py SRCDIR BINDIR - the `make run` smoke test, as root.

Runs a temp copy of tools/run-dev on a temp copy of configs/dev.yaml, in a
temp dir (run-dev keeps its state under ./.run/). The copies differ from the originals
only in the port: 4318 becomes a free port, so a developer's `make run` on the
same machine does not collide. BINDIR is given to run-dev through small
wrappers (rc_wrap.py) that record how tfo-sink and tfo-supervisor exited and
add --out to tfo-sink.

Asserts, within 20 s of start: system metrics, process metrics, the three
demo log lines and a heartbeat carrying the persisted agent id reached
tfo-sink. Then SIGINT to run-dev's process group (what Ctrl-C does):
run-dev, tfo-sink and tfo-supervisor exit 0, every worker stopped with
exit 0, and nothing is left running."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (Fail, check, require_root_and_users, free_port, read_records,  # noqa: E402
                     accepted, iter_metrics, iter_log_records, wait_for, pid_gone, ROLES)

SRC, BINDIR = sys.argv[1], os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = ["INFO demo: service started", "WARN demo: cache miss ratio above 20%",
        "ERROR demo: upstream timed out after 5s"]


def copy_with_port(src, dst, port):
    with open(src) as f:
        text = f.read()
    check("4318" in text, "%s no longer names port 4318: update this test" % src)
    with open(dst, "w") as f:
        f.write(text.replace("4318", str(port)))


def wrapper(t, name, extra):
    path = os.path.join(t, "bin", name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec python3 %s %s %s %s -- \"$@\"\n" %
                (os.path.join(HERE, "rc_wrap.py"), os.path.join(BINDIR, name),
                 os.path.join(t, name + ".rc"), " ".join(extra)))
    os.chmod(path, 0o755)


def arrived(out, agent_id_path):
    recs = read_records(out)
    scopes = {scope for r in accepted(recs, "metrics") for _, scope, _ in iter_metrics(r)}
    bodies = [lr["body"] for r in accepted(recs, "logs") for _, lr in iter_log_records(r)]
    beats = [r["agent_id"] for r in accepted(recs, "heartbeat")]
    got = {
        "system metrics": "tfo-agent/system" in scopes,
        "process metrics": "tfo-agent/process" in scopes,
        "demo logs": all(any(b.endswith(d) for b in bodies) for d in DEMO),
        "heartbeat": bool(beats),
    }
    return got, beats, bodies


def main():
    require_root_and_users()
    t = tempfile.mkdtemp(prefix="tfo-makerun-")
    os.chmod(t, 0o755)
    os.makedirs(os.path.join(t, "configs"))
    os.makedirs(os.path.join(t, "bin"))
    port = free_port()
    copy_with_port(os.path.join(SRC, "configs", "dev.yaml"),
                   os.path.join(t, "configs", "dev.yaml"), port)
    copy_with_port(os.path.join(SRC, "tools", "run-dev"), os.path.join(t, "run-dev"), port)
    out = os.path.join(t, "sink.jsonl")
    wrapper(t, "tfo-sink", ["--out", out])
    wrapper(t, "tfo-supervisor", [])
    # tfoctl is run by the test itself, against the copy's runtime dir.
    logf = open(os.path.join(t, "run-dev.log"), "w")
    rd = subprocess.Popen(["sh", os.path.join(t, "run-dev"), t], cwd=t,
                          stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    rc = 1
    try:
        start = time.monotonic()
        last = [None]

        def all_arrived():
            check(rd.poll() is None, "run-dev exited early (rc=%s)" % rd.returncode)
            last[0] = arrived(out, os.path.join(t, ".run", "state", "agent-id"))
            return all(last[0][0].values())
        try:
            wait_for(all_arrived, "system, process, logs and heartbeat at tfo-sink", 20)
        except Fail as e:
            raise Fail("%s; got %s" % (e, last[0][0] if last[0] else None))
        print("all four arrived after %.1f s" % (time.monotonic() - start))
        with open(os.path.join(t, ".run", "state", "agent-id")) as f:
            agent_id = f.read().strip()
        check(set(last[0][1]) == {agent_id},
              "heartbeat agent ids %s != persisted %s" % (set(last[0][1]), agent_id))

        st = subprocess.run([os.path.join(BINDIR, "tfoctl"), "--config", "configs/dev.yaml",
                             "status", "--json"], cwd=t, capture_output=True, text=True,
                            timeout=30)
        check(st.returncode == 0, "tfoctl --config configs/dev.yaml status: %s" % st.stderr)
        workers = {w["role"]: w for w in json.loads(st.stdout)["workers"]}
        check(all(workers[r]["state"] == "ready" for r in ROLES), "all six ready: %s" % st.stdout)
        pids = [workers[r]["pid"] for r in ROLES]

        os.killpg(rd.pid, signal.SIGINT)        # Ctrl-C
        rd.wait(timeout=60)
        check(rd.returncode == 0, "run-dev exit status %d after Ctrl-C, expected 0" % rd.returncode)
        for name in ("tfo-sink", "tfo-supervisor"):
            with open(os.path.join(t, name + ".rc")) as f:
                code = int(f.read())
            check(code == 0, "%s exited with %d after SIGINT" % (name, code))
        wait_for(lambda: all(pid_gone(p) for p in pids), "every worker gone", 10)
        with open(os.path.join(t, "run-dev.log")) as f:
            log = f.read()
        for r in ROLES:
            check("%s: pid %d stopped (exit 0)" % (r, workers[r]["pid"]) in log,
                  "%s did not stop with exit 0" % r)
        check("tfo-supervisor exiting with status 0" in log, "supervisor exit line")
        rc = 0
        print("ok make_run")
    except Fail as e:
        print("FAIL: %s" % e)
        logf.flush()
        with open(os.path.join(t, "run-dev.log")) as f:
            print("---- run-dev output (tail) ----\n" + f.read()[-6000:])
    finally:
        if rd.poll() is None:
            os.killpg(rd.pid, signal.SIGTERM)
            try:
                rd.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(rd.pid, signal.SIGKILL)
                rd.wait()
        logf.close()
        shutil.rmtree(t, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
