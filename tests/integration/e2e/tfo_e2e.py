"""tfo_e2e.py - shared helpers of the whole-tree tests (tests/integration/e2e,
tests/chaos) and benches (bench/tree, bench/logs_e2e): the real tfo-supervisor
with the real workers and a real tfo-sink on 127.0.0.1, in temp dirs, as root.
Python standard library only. Every wait is bounded and says what it waited for."""
import json
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROLES = ["system", "process", "logs", "buffer", "exporter", "heartbeat"]
SKIP = 77


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def require_root_and_users():
    """Exit 77 (ctest SKIP_RETURN_CODE) when not root; fail when the role users
    are missing (make test creates them with tools/make-users)."""
    if os.geteuid() != 0:
        print("SKIP: needs root (role users, uid changes)")
        sys.exit(SKIP)
    for r in ROLES:
        try:
            pwd.getpwnam("tfo-" + r)
        except KeyError:
            print("FAIL: user tfo-%s missing: run tools/make-users" % r)
            sys.exit(1)


def sanitizer_env():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def free_port():
    """A port the kernel just handed out (for the rare caller that must name
    the port before the listener exists)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, what, timeout, step=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise Fail("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(step)


def pid_gone(pid):
    """True when pid no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True


def ranges(nums):
    """"3-7, 9" for a sorted list of numbers, cut after 20 ranges."""
    out, start, prev = [], None, None
    for x in nums:
        if start is None:
            start = prev = x
        elif x == prev + 1:
            prev = x
        else:
            out.append("%d-%d" % (start, prev) if start != prev else str(start))
            start = prev = x
    if start is not None:
        out.append("%d-%d" % (start, prev) if start != prev else str(start))
    return ", ".join(out[:20]) + (" ..." if len(out) > 20 else "")


# ------------------------------------------------------------------ tfo-sink

class Sink:
    """tools/tfo-sink on 127.0.0.1 (port 0 = ephemeral), --out JSON lines."""

    def __init__(self, bindir, out, port=0, fail_first=0, quiet=True, log=None,
                 count_only=False, strict_utf8=False, fail_status=None):
        self.out = out
        args = [os.path.join(bindir, "tfo-sink"), "--listen", "127.0.0.1:%d" % port]
        if out:
            args += ["--out", out]
        if count_only:
            args.append("--count-only")
        if strict_utf8:
            args.append("--strict-utf8")
        if fail_first:
            args += ["--fail-first", str(fail_first)]
        if fail_status:
            args += ["--fail-status", str(fail_status)]
        if quiet:
            args.append("--quiet")
        self.errf = open(log, "a") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.errf,
                                     text=True, env=sanitizer_env())
        line = self.proc.stdout.readline()
        if not line.startswith("listening on 127.0.0.1:"):
            self.proc.kill()
            self.proc.wait()
            raise Fail("tfo-sink did not start: %r" % line)
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        if self.errf is not subprocess.DEVNULL:
            self.errf.close()
        return self.proc.returncode


def read_records(path):
    """The --out lines written so far (a half-written last line is left for later)."""
    recs = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    recs.append(json.loads(line))
    except FileNotFoundError:
        pass
    return recs


def accepted(recs, signal_name):
    return [r for r in recs if r["signal"] == signal_name and r["status"] == 200]


def iter_metrics(rec):
    """(resource attrs, scope name, metric) for every metric of one request."""
    for rm in rec["body"]["resource_metrics"]:
        for sm in rm["scope_metrics"]:
            for m in sm["metrics"]:
                yield rm["resource"], sm["scope"].get("name", ""), m


def iter_log_records(rec):
    for rl in rec["body"]["resource_logs"]:
        for sl in rl["scope_logs"]:
            for lr in sl["log_records"]:
                yield rl["resource"], lr


def sink_yaml(port, timeout="3s", retry_initial="100ms", retry_max="1s"):
    """The telemetryflow: section sending OTLP/HTTP and heartbeats to a tfo-sink
    on 127.0.0.1:port, with short retries."""
    return f"""telemetryflow:
  endpoint: http://127.0.0.1:{port}
  protocol: http
  api_endpoint: http://127.0.0.1:{port}/api/v1
  timeout: {timeout}
  retry:
    initial_interval: {retry_initial}
    max_interval: {retry_max}
"""


# ------------------------------------------------------------------ the agent

class Agent:
    """tfo-supervisor --foreground with a temp config; state and runtime dirs
    in a temp dir readable by the role users. yaml: the config text after the
    agent: section (agent keys go in agent_extra)."""

    def __init__(self, bindir, yaml, agent_extra="", root=None, prefix="tfo-e2e-"):
        self.bindir = bindir
        self.dir = root or tempfile.mkdtemp(prefix=prefix)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.state = os.path.join(self.dir, "state")
        self.run = os.path.join(self.dir, "run")
        os.makedirs(self.state, exist_ok=True)
        if os.geteuid() == 0:       # role users share group tfo-agent
            os.chown(self.state, 0, grp.getgrnam("tfo-agent").gr_gid)
            os.chmod(self.state, 0o750)     # as the supervisor makes it
        self.cfg = os.path.join(self.dir, "tfo-agent.yaml")
        self.sock = os.path.join(self.run, "control.ipc")
        self.log = os.path.join(self.dir, "supervisor.log")
        with open(os.open(self.cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("agent:\n  state_dir: %s\n  runtime_dir: %s\n%s%s" %
                    (self.state, self.run, agent_extra, yaml))
        self.proc = None
        self.logf = None

    def start(self):
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "tfo-supervisor"), "--foreground", "--config", self.cfg],
            stdout=self.logf, stderr=subprocess.STDOUT, env=sanitizer_env())
        return self

    def tfoctl(self, *args):
        p = subprocess.run([os.path.join(self.bindir, "tfoctl"), "--socket", self.sock] +
                           list(args), capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def status(self):
        """{role: worker} from tfoctl status --json, or None when unavailable."""
        try:
            rc, out, _ = self.tfoctl("status", "--json")
            if rc != 0:
                return None
            return {w["role"]: w for w in json.loads(out)["workers"]}
        except (ValueError, subprocess.TimeoutExpired):
            return None

    def wait(self, pred, what, timeout=30.0):
        last = [None]

        def probe():
            check(self.proc.poll() is None,
                  "supervisor exited (rc=%s) while waiting for %s" % (self.proc.returncode, what))
            last[0] = self.status()
            return last[0] if last[0] and pred(last[0]) else None
        try:
            return wait_for(probe, what, timeout, 0.05)
        except Fail as e:
            raise Fail("%s; last status: %s" % (e, json.dumps(last[0])))

    def wait_ready(self, roles, timeout=30.0):
        return self.wait(lambda s: all(s[r]["state"] == "ready" for r in roles),
                         "%s ready" % ",".join(roles), timeout)

    def kill9_role(self, role, roles):
        """kill -9 one worker by the pid tfoctl reports; wait for its new pid ready."""
        s = self.wait_ready(roles)
        old = s[role]["pid"]
        os.kill(old, signal.SIGKILL)
        return self.wait(lambda t: t[role]["state"] == "ready" and t[role]["pid"] not in (0, old)
                         and all(t[r]["state"] == "ready" for r in roles),
                         "%s back after kill -9" % role)

    def kill9_tree(self, roles):
        """kill -9 the supervisor and every worker at once; wait until all are gone."""
        s = self.wait_ready(roles)
        pids = [self.proc.pid] + [s[r]["pid"] for r in roles]
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
        wait_for(lambda: all(pid_gone(p) for p in pids[1:]), "killed workers gone", 20)
        self.logf.close()
        return pids

    def stop(self, timeout=60):
        """SIGTERM (or SIGINT); returns the supervisor's exit status."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.logf and not self.logf.closed:
            self.logf.close()
        return self.proc.returncode if self.proc else None

    def logtext(self):
        if self.logf and not self.logf.closed:
            self.logf.flush()
        try:
            with open(self.log, errors="replace") as f:   # logged file names may not be UTF-8
                return f.read()
        except FileNotFoundError:
            return ""

    def agent_id(self):
        with open(os.path.join(self.state, "agent-id")) as f:
            return f.read().strip()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_case(fn, agent_holder):
    """Run fn(); on Fail print it with the supervisor log tail; 0/1."""
    try:
        fn()
    except (Fail, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        for a in agent_holder:
            if a is not None:
                print("---- supervisor log (tail) ----")
                print(a.logtext()[-6000:])
        return 1
    return 0
