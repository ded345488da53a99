#!/usr/bin/env python3
"""The real tfo-heartbeat under the real tfo-supervisor (tfo-testworker in the
other role slots), run as root. Usage: test_hb_supervisor.py BINDIR CASE.
  beats     heartbeats reach tfo-sink with the agent id persisted in the state
            dir, the headers, and the stats in tfoctl status
  api_down  the API refuses connections: beats fail, nothing restarts, every
            other worker stays ready
Every wait is bounded; assertions are on behaviour, not timing."""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

BINDIR, CASE = sys.argv[1], sys.argv[2]
ROLES = ["system", "process", "buffer", "exporter", "heartbeat"]
SECRET = "tfs_hb_supervisor_secret"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def skip_unless_possible():
    if os.geteuid() != 0:
        print("skip: needs root")
        sys.exit(77)
    for r in ROLES:
        try:
            pwd.getpwnam("tfo-" + r)
        except KeyError:
            print("skip: user tfo-%s missing" % r)
            sys.exit(77)


class Run:
    def __init__(self, endpoint):
        self.dir = tempfile.mkdtemp(prefix="tfo-hbsv-")
        os.chmod(self.dir, 0o751)
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.state)
        self.sock = os.path.join(self.dir, "run", "control.ipc")
        self.cfg = os.path.join(self.dir, "tfo-agent.yaml")
        with open(os.open(self.cfg, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(f"""agent:
  state_dir: {self.state}
  runtime_dir: {self.dir}/run
telemetryflow:
  api_endpoint: {endpoint}
  api_key_id: tfk_hb
  api_key_secret: {SECRET}
heartbeat:
  interval: 1s
  timeout: 400ms
supervisor:
  ping_interval: 200ms
""")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        for r in ROLES + ["logs"]:
            env["TFO_WORKER_" + r.upper()] = os.path.join(BINDIR, "tfo-testworker")
        env["TFO_WORKER_HEARTBEAT"] = os.path.join(BINDIR, "tfo-heartbeat")
        self.log = os.path.join(self.dir, "supervisor.log")
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([os.path.join(BINDIR, "tfo-supervisor"), "--foreground",
                                      "--config", self.cfg], stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env)

    def status(self):
        r = subprocess.run([os.path.join(BINDIR, "tfoctl"), "--socket", self.sock, "status",
                            "--json"], capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            return None
        return {w["role"]: w for w in json.loads(r.stdout)["workers"]}

    def wait(self, pred, what, timeout=30.0):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            check(self.proc.poll() is None, "supervisor exited while waiting for " + what)
            try:
                last = self.status()
                if last and pred(last):
                    return last
            except (ValueError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.05)
        fail("timed out waiting for %s; last: %s" % (what, json.dumps(last)))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        with open(self.log) as f:
            text = f.read()
        shutil.rmtree(self.dir, ignore_errors=True)
        return text


def stat(w, name):
    return w.get("stats", {}).get(name, 0)


def case_beats():
    out_dir = tempfile.mkdtemp(prefix="tfo-hbsink-")
    out = os.path.join(out_dir, "sink.jsonl")
    sink = subprocess.Popen([os.path.join(BINDIR, "tfo-sink"), "--listen", "127.0.0.1:0",
                             "--out", out, "--quiet"], stdout=subprocess.PIPE, text=True)
    run = None
    try:
        line = sink.stdout.readline()
        check(line.startswith("listening on 127.0.0.1:"), "tfo-sink: " + line)
        port = int(line.strip().rsplit(":", 1)[1])
        run = Run("http://127.0.0.1:%d/api/v1" % port)
        run.wait(lambda s: all(s[r]["state"] == "ready" for r in ROLES), "all ready")
        s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.sent") >= 2, "two beats sent")
        check(stat(s["heartbeat"], "heartbeat.last_status") == 200, "last status 200")
        check(stat(s["heartbeat"], "heartbeat.last_success") > 0, "last success time")
        with open(os.path.join(run.state, "agent-id")) as f:
            agent_id = f.read().strip()
        st = os.stat(os.path.join(run.state, "agent-id"))
        check(st.st_mode & 0o777 == 0o644, "agent-id mode 0644")
    finally:
        log = run.stop() if run else ""
        sink.terminate()
        sink.wait(timeout=10)
    recs = [json.loads(x) for x in open(out)]
    shutil.rmtree(out_dir, ignore_errors=True)
    check(len(recs) >= 2, "sink saw the beats")
    r = recs[0]
    check(r["status"] == 200 and r["signal"] == "heartbeat", "sink accepted a heartbeat")
    check(r["agent_id"] == agent_id, "path agent id %s = state file %s" % (r["agent_id"], agent_id))
    check(r["headers"].get("x-api-key-id") == "tfk_hb", "X-API-Key-ID")
    check(r["headers"].get("x-api-key-secret") == SECRET, "X-API-Key-Secret")
    check(r["headers"].get("user-agent", "").startswith("tfo-agent/"), "User-Agent")
    check(r["fields"] >= 100, "100+ systemInfo fields")
    check(SECRET not in log, "secret never logged")


def case_api_down():
    run = Run("http://127.0.0.1:1/api/v1")   # port 1: connection refused
    try:
        run.wait(lambda s: all(s[r]["state"] == "ready" for r in ROLES), "all ready")
        s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.failed") >= 3, "three failed beats")
        for r in ROLES:
            check(s[r]["state"] == "ready", "%s still ready with the API down" % r)
            check(s[r].get("restarts", 0) == 0, "%s not restarted" % r)
        check(stat(s["heartbeat"], "heartbeat.sent") == 0, "nothing sent")
        check(stat(s["heartbeat"], "heartbeat.last_status") == 0, "no HTTP status")
    finally:
        log = run.stop()
    check(log.count("giving up this beat") == 1, "failure logged once, not per beat")
    check(SECRET not in log, "secret never logged")


def main():
    skip_unless_possible()
    {"beats": case_beats, "api_down": case_api_down}[CASE]()
    print("ok")


if __name__ == "__main__":
    main()
