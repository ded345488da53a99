"""tfo_e2e.py - shared helpers of the whole-tree tests (tests/integration,
tests/chaos) and benches (bench/tree, bench/logs_e2e, bench/fleet): the real
tfo-supervisor with the real workers and a real tfo-sink on 127.0.0.1, in temp
dirs, as root; numbered lines written at a steady rate and an exact tally of
what tfo-sink accepted. Python standard library only. Every wait is bounded
and says what it waited for."""
import json
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROLES = ["system", "process", "logs", "buffer", "exporter", "heartbeat"]
SKIP = 77


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def require_root_and_users(skip=True):
    """Exit 77 (ctest SKIP_RETURN_CODE) when not root (skip=False: fail); fail
    when the role users are missing (make test creates them with tools/make-users)."""
    if os.geteuid() != 0:
        print("%s: needs root (role users, uid changes)" % ("SKIP" if skip else "FAIL"))
        sys.exit(SKIP if skip else 1)
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


def gone_within(pids, timeout):
    """Wait up to timeout for pids to end: (seconds waited, pids still there)."""
    t = time.monotonic()
    try:
        wait_for(lambda: all(pid_gone(p) for p in pids), "%s gone" % pids, timeout)
    except Fail:
        pass
    return time.monotonic() - t, [p for p in pids if not pid_gone(p)]


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


def nruns(nums):
    """How many runs of consecutive numbers a sorted list holds (a request
    carries one run of lines: duplicates in N runs came from N requests)."""
    return sum(1 for i, k in enumerate(nums) if i == 0 or nums[i - 1] != k - 1)


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


def yaml_of(tree, indent=0):
    """YAML text of nested dicts, keys in their order; a None value or a dict
    with nothing to say leaves its key out."""
    out = ""
    for k, v in tree.items():
        if isinstance(v, dict):
            sub = yaml_of(v, indent + 2)
            out += "%s%s:\n%s" % (" " * indent, k, sub) if sub else ""
        elif v is not None:
            v = {True: "true", False: "false"}.get(v, v) if isinstance(v, bool) else v
            out += "%s%s: %s\n" % (" " * indent, k, v)
    return out


def sink_yaml(port, timeout="3s", retry_initial="100ms", retry_max="1s"):
    """The telemetryflow: section sending OTLP/HTTP and heartbeats to a tfo-sink
    on 127.0.0.1:port, with short retries (None: the default)."""
    return yaml_of({"telemetryflow": {
        "endpoint": "http://127.0.0.1:%d" % port, "protocol": "http",
        "api_endpoint": "http://127.0.0.1:%d/api/v1" % port, "timeout": timeout,
        "retry": {"initial_interval": retry_initial, "max_interval": retry_max}}})


OFF = {"enabled": False}


def follow(path, **keys):
    """collectors.logs following one file from its beginning, rescanned every
    second, batches closed after 100 ms; keys add to that (None: leave out)."""
    d = {"enabled": True, "paths": "[%s]" % path, "start_at": "beginning",
         "rescan_interval": "1s", "batch_max_ms": 100}
    d.update(keys)
    return d


def touch(path, mode=0o644):
    """An empty file of that mode (whatever the umask)."""
    with open(path, "w"):
        pass
    os.chmod(path, mode)


def scratch(prefix):
    """A temp dir the role users may traverse."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    return tmp


def tree_dirs(prefix):
    """A scratch dir for a whole-tree run: (the dir, app.log in a logs/ dir of
    its own, tfo-sink's --out, tfo-sink's log)."""
    tmp = scratch(prefix)
    logdir = os.path.join(tmp, "logs")
    os.mkdir(logdir)
    os.chmod(logdir, 0o755)
    return (tmp, os.path.join(logdir, "app.log"), os.path.join(tmp, "sink.jsonl"),
            os.path.join(tmp, "sink.log"))


def proc_status(pid, name):
    """The value of one /proc/<pid>/status field, None when absent."""
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


# ------------------------------------------------------------------ numbered lines

LINE = re.compile(r"^(\d{8}) ")        # a numbered line: its number


def numbered(word):
    """A Writer's text: line i is "<i, 8 digits> <word> INFO line <i>"."""
    return lambda i: "%08d %s INFO line %d\n" % (i, word, i)


class Writer(threading.Thread):
    """Appends text(first), text(first + 1) ... to path at `rate` lines a
    second, what is due written every `step` s (as a busy application does),
    until finish(). n: how many it wrote. Rotations take the lock between two
    writes; pause() stops the clock, resume() starts it again (no burst)."""

    def __init__(self, path, rate, text, first=0, step=0.01):
        super().__init__(daemon=True)
        self.path, self.rate, self.text, self.first, self.step = path, rate, text, first, step
        self.n = 0
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.run_ev = threading.Event()
        self.run_ev.set()
        self.error = None
        self.fd = self.open()

    def open(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.fchmod(fd, 0o644)
        return fd

    def run(self):
        try:
            start, base = time.monotonic(), 0
            while not self.stop_ev.is_set():
                if not self.run_ev.is_set():
                    self.run_ev.wait(0.1)
                    start, base = time.monotonic(), self.n
                    continue
                due = base + int((time.monotonic() - start) * self.rate)
                with self.lock:
                    if due > self.n:
                        os.write(self.fd, "".join(self.text(self.first + i)
                                                  for i in range(self.n, due)).encode())
                        self.n = due
                time.sleep(self.step)
        except OSError as e:
            self.error = e

    def pause(self):
        """Stops writing; the lines written (none after this returns)."""
        self.run_ev.clear()
        time.sleep(0.05)
        return self.n

    def resume(self):
        self.run_ev.set()

    def finish(self):
        self.stop_ev.set()
        self.run_ev.set()
        self.join(10)
        os.close(self.fd)
        check(self.error is None, "writer: %s" % self.error)
        return self.n


class Tally:
    """tfo-sink's --out file read incrementally (update()). Of the accepted
    (status 200) logs requests: how often each numbered line arrived (key: the
    number pattern's group, or (tag, number) with two groups), when, and the
    records that are not numbered lines; of the accepted metrics requests: how
    often each cycle (system.cpu.time's time) arrived; of both, the agent ids
    of the resources."""

    def __init__(self, path, pattern=LINE, keep_attrs=False):
        self.path, self.pattern, self.keep_attrs = path, pattern, keep_attrs
        self.off = 0
        self.count = {}         # line -> deliveries
        self.first = {}         # line -> sink time of its first delivery
        self.repeats = []       # (sink time, line) of every delivery after the first
        self.attrs = {}         # line -> attributes of its first delivery (keep_attrs)
        self.requests = []      # (monotonic time read, numbered lines) per logs request
        self.cycles = {}        # metrics cycle (ns) -> deliveries
        self.ids = set()        # service.instance.id of every accepted resource
        self.refused = []       # the error of every logs request not accepted
        self.fail_first = 0     # requests of any kind answered by --fail-first
        self.accepted = {}      # signal -> accepted requests
        self.other = []         # bodies of accepted log records that are not numbered lines

    @property
    def foreign(self):
        return len(self.other)

    def update(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return self
        end = data.rfind(b"\n") + 1
        self.off += end
        now = time.monotonic()
        for raw in data[:end].splitlines():
            r = json.loads(raw)
            self.fail_first += bool(r.get("fail_first"))
            if r["status"] == 200:
                self.accepted[r["signal"]] = self.accepted.get(r["signal"], 0) + 1
            if r["signal"] == "logs" and r["status"] != 200:
                self.refused.append(r.get("error", r["status"]))
            elif r["signal"] == "logs":
                self.requests.append((now, self._logs(r)))
            elif r["signal"] == "metrics" and r["status"] == 200:
                self._metrics(r)
        return self

    def _logs(self, r):
        n = 0
        for rl in r["body"]["resource_logs"]:
            self.ids.add(rl["resource"].get("service.instance.id"))
        for _, lr in iter_log_records(r):
            body = lr.get("body") or ""
            m = self.pattern.match(body)
            if not m:
                self.other.append(body)
                continue
            k = int(m.group(1)) if m.lastindex == 1 else (m.group(1), int(m.group(2)))
            c = self.count[k] = self.count.get(k, 0) + 1
            if c == 1:
                self.first[k] = r["ts"]
                if self.keep_attrs:
                    self.attrs[k] = lr.get("attributes", {})
            else:
                self.repeats.append((r["ts"], k))
            n += 1
        return n

    def _metrics(self, r):
        for rm in r["body"]["resource_metrics"]:
            self.ids.add(rm["resource"].get("service.instance.id"))
        for _, _, m in iter_metrics(r):
            if m["name"] == "system.cpu.time" and m["data_points"]:
                t = int(m["data_points"][0]["time_unix_nano"])
                self.cycles[t] = self.cycles.get(t, 0) + 1

    def missing(self, n, first=0):
        """Lines first .. first + n - 1 not arrived."""
        return [i for i in range(first, first + n) if i not in self.count]

    def dups(self):
        """Lines that arrived more than once, sorted."""
        return sorted(k for k, c in self.count.items() if c > 1)

    def complete(self, n, first=0):
        self.update()
        return not self.missing(n, first)

    def wait_complete(self, n, timeout, step=0.5, first=0):
        """Wait for lines first .. first + n - 1; Fail names those that never came."""
        what = "lines %d-%d at tfo-sink" % (first, first + n - 1)
        try:
            wait_for(lambda: self.complete(n, first), what, timeout, step)
        except Fail as e:
            lost = self.missing(n, first)
            raise Fail("%s: %d never arrived: %s" % (e, len(lost), ranges(lost)))


# ------------------------------------------------------------------ the agent

class Supervisor:
    """tfo-supervisor --foreground on self.cfg in a temp dir (mode: who may
    traverse it), its output in self.log; tfoctl on its control socket.
    LOGMODE "w": each start's log replaces the last; STEP: how often wait()
    polls tfoctl status (a test that must catch a short state polls faster)."""
    LOGMODE = "a"
    STEP = 0.05

    def __init__(self, bindir, root=None, prefix="tfo-e2e-", mode=0o755):
        self.bindir = bindir
        self.dir = root or tempfile.mkdtemp(prefix=prefix)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, mode)
        self.state = os.path.join(self.dir, "state")
        self.run = os.path.join(self.dir, "run")
        self.cfg = os.path.join(self.dir, "tfo-agent.yaml")
        self.sock = os.path.join(self.run, "control.ipc")
        self.log = os.path.join(self.dir, "supervisor.log")
        self.proc = None
        self.logf = None

    def write_config(self, text, mode=0o600, agent=""):
        """The agent: section (state and runtime dirs, then agent: its other
        keys, indented by two), then text."""
        with open(os.open(self.cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
            f.write("agent:\n  state_dir: %s\n  runtime_dir: %s\n%s%s" %
                    (self.state, self.run, agent, text))

    def start(self, env=None, wrap=()):
        """env: added to the sanitizers' (TFO_WORKER_<ROLE> overrides);
        wrap: the command it runs under (setpriv ...)."""
        e = sanitizer_env()
        e.update(env or {})
        self.logf = open(self.log, self.LOGMODE)
        self.proc = subprocess.Popen(
            list(wrap) + [os.path.join(self.bindir, "tfo-supervisor"), "--foreground",
                          "--config", self.cfg],
            stdout=self.logf, stderr=subprocess.STDOUT, env=e)
        return self

    def tfoctl(self, *args, user=None):
        """user: run as that user (group tfo-agent), as an operator would."""
        cmd = [os.path.join(self.bindir, "tfoctl"), "--socket", self.sock] + list(args)
        if user:
            cmd = ["setpriv", "--reuid", user, "--regid", "tfo-agent", "--clear-groups"] + cmd
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def status_doc(self):
        """({role: worker}, the whole reply) of tfoctl status --json; Fail when it fails."""
        rc, out, err = self.tfoctl("status", "--json")
        check(rc == 0, "tfoctl status --json failed rc=%d: %s" % (rc, err))
        doc = json.loads(out)
        return {w["role"]: w for w in doc["workers"]}, doc

    def workers(self):
        """{role: worker} from tfoctl status --json, or None when unavailable."""
        try:
            return self.status_doc()[0]
        except (Fail, ValueError, subprocess.TimeoutExpired):
            return None

    def wait(self, pred, what, timeout=30.0):
        """The first status pred accepts; Fail when the supervisor exits or
        after timeout, with the last status seen."""
        last = [None]

        def probe():
            check(self.proc.poll() is None,
                  "supervisor exited (rc=%s) while waiting for %s" % (self.proc.returncode, what))
            last[0] = self.workers()
            return last[0] if last[0] and pred(last[0]) else None
        try:
            return wait_for(probe, what, timeout, self.STEP)
        except Fail as e:
            raise Fail("%s; last status: %s" % (e, json.dumps(last[0])))

    def wait_ready(self, roles, timeout=30.0):
        return self.wait(lambda s: all(s[r]["state"] == "ready" for r in roles),
                         "%s ready" % ",".join(roles), timeout)

    def stop(self, timeout=60):
        """SIGTERM; returns the supervisor's exit status."""
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

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Agent(Supervisor):
    """The real tree: state and runtime dirs in a temp dir readable by the
    role users. yaml: the config text after the agent: section (agent keys go
    in agent_extra)."""

    def __init__(self, bindir, yaml, agent_extra="", root=None, prefix="tfo-e2e-"):
        super().__init__(bindir, root, prefix)
        os.makedirs(self.state, exist_ok=True)
        if os.geteuid() == 0:       # role users share group tfo-agent
            os.chown(self.state, 0, grp.getgrnam("tfo-agent").gr_gid)
            os.chmod(self.state, 0o750)     # as the supervisor makes it
        self.write_config(agent_extra + yaml)

    def status(self):
        return self.workers()

    def kill9_role(self, role, roles):
        """kill -9 one worker by the pid tfoctl reports; wait for its new pid ready."""
        s = self.wait_ready(roles)
        old = s[role]["pid"]
        os.kill(old, signal.SIGKILL)
        return self.wait(lambda t: t[role]["state"] == "ready" and t[role]["pid"] not in (0, old)
                         and all(t[r]["state"] == "ready" for r in roles),
                         "%s back after kill -9" % role)

    def kill9_tree(self, roles, on_kill=None):
        """kill -9 the supervisor and every worker at once (on_kill() just
        before); wait until all are gone."""
        s = self.wait_ready(roles)
        pids = [self.proc.pid] + [s[r]["pid"] for r in roles]
        if on_kill:
            on_kill()
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
        wait_for(lambda: all(pid_gone(p) for p in pids[1:]), "killed workers gone", 20)
        self.logf.close()
        return pids

    def kill9(self):
        """kill -9 of the supervisor alone (its workers see it gone: fd 3 at
        EOF, PR_SET_PDEATHSIG)."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.logf.close()

    def agent_id(self):
        with open(os.path.join(self.state, "agent-id")) as f:
            return f.read().strip()


def run_case(fn, agent_holder, name="", tail=6000):
    """Run fn(); on Fail print it (naming the case) with the tail of each
    started supervisor's log; 0/1."""
    try:
        fn()
    except (Fail, subprocess.TimeoutExpired) as e:
        print("FAIL%s: %s" % (" " + name if name else "", e))
        for a in agent_holder:
            if a is not None and a.proc:
                print("---- supervisor log (tail) ----")
                print(a.logtext()[-tail:])
        return 1
    return 0


def run_named(name, fn, agents, tail=6000, after=None):
    """run_case(fn) under a case name; then, whatever happened, every agent
    cleaned up and after() called; "ok <name>" when it passed. The exit status."""
    try:
        rc = run_case(fn, agents, name, tail)
    finally:
        for a in agents:
            a.cleanup()
        if after:
            after()
    if rc == 0:
        print("ok %s" % name)
    return rc
