#!/usr/bin/env python3
"""test_sandbox.py - the proof of issue 8 (run as root by ctest, test builds
only): the real role executables under the real tfo-supervisor, each asked
through the hidden test hook (tfoctl test-action -> supervisor -> fd 3) to
attempt forbidden actions. Every attempt must be denied (EACCES/EPERM) or
kill the worker with SIGSYS, after which the supervisor must restart it,
except the documented residual risks of tfo-process (no Landlock: see
residual_cells), which must succeed and are marked ALLOWED*.
Prints the matrix (roles x actions). Usage: test_sandbox.py BINDIR CASE."""
import ctypes
import errno
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROLES = ["system", "process", "logs", "buffer", "exporter", "heartbeat"]
ACTIONS = ["open_shadow", "write_tmp", "write_state", "exec", "connect", "kill",
           "ptrace", "proc_mem", "setuid"]
# the system call seccomp must name when an action kills the worker
KILL_SYSCALL = {"exec": "execve", "setuid": "setuid", "ptrace": "ptrace", "kill": "kill",
                "connect": "socket"}
NET_ROLES = ("exporter", "heartbeat")
BASE_PORT = 19900          # this test's fixed range is 19900-19999
UNRELATED_PORT = BASE_PORT + 3
# CapEff each role must hold (DESIGN §1): CAP_DAC_READ_SEARCH = 2, CAP_SYS_PTRACE = 19
CAPS = {"system": 0, "process": (1 << 19) | (1 << 2), "logs": 1 << 2, "buffer": 0,
        "exporter": 0, "heartbeat": 0}
# roles without a Landlock domain and the status text they report
# (common/sandbox_profiles.c; docs/security.md "Known limits")
NO_LANDLOCK = {"process": "skipped: ptrace-mode /proc reads (see docs/security.md)"}


def yama_scope():
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0


# Documented residual risks (docs/security.md "Known limits"): cells where the
# action SUCCEEDS. tfo-process has no Landlock domain and keeps
# CAP_DAC_READ_SEARCH (io is mode 0400) + CAP_SYS_PTRACE: it reads every file
# and, unless Yama's ptrace_scope is 3 (no attach for anyone), opens any
# process's mem read-only (here: the exporter's). The matrix states this; it must not drift from
# the docs either way, so a residual cell that is suddenly denied fails too.
def residual_cells():
    cells = {("process", "open_shadow")}
    if yama_scope() < 3:
        cells.add(("process", "proc_mem"))
    return cells


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def landlock_abi():
    """The kernel's Landlock ABI (landlock_create_ruleset VERSION), -1 if none."""
    libc = ctypes.CDLL(None, use_errno=True)
    nr = {"x86_64": 444, "aarch64": 444}.get(os.uname().machine, 444)
    return libc.syscall(nr, None, ctypes.c_size_t(0), ctypes.c_uint32(1))


class Agent:
    def __init__(self, bindir, seccomp="kill"):
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="tfo-sandbox-")
        os.chmod(self.dir, 0o755)
        self.run = os.path.join(self.dir, "run")
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.state)
        self.cfg = os.path.join(self.dir, "tfo-agent.yaml")
        self.sock = os.path.join(self.run, "control.ipc")
        self.log = os.path.join(self.dir, "supervisor.log")
        with open(os.path.join(self.dir, "demo.log"), "w") as f:
            f.write("2026-01-01T00:00:00Z INFO sandbox demo line\n")
        os.chmod(os.path.join(self.dir, "demo.log"), 0o644)
        with open(self.cfg, "w") as f:
            f.write(f"""agent:
  state_dir: {self.state}
  runtime_dir: {self.run}
telemetryflow:
  endpoint: http://localhost:{BASE_PORT + 1}
  protocol: http
  api_endpoint: http://localhost:{BASE_PORT + 2}/api/v1
heartbeat:
  interval: 1s
  timeout: 500ms
collectors:
  system:
    interval: 1s
  process:
    interval: 1s
  logs:
    enabled: true
    paths: [{self.dir}/demo.log]
exporter:
  shutdown_drain: 1s
supervisor:
  ping_interval: 200ms
  hung_timeout: 5s
  sandbox:
    seccomp: {seccomp}
  restart:
    backoff_initial: 50ms
    backoff_max: 500ms
    max_restarts: 1000
    window: 60s
""")
        self.proc = None

    def start(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "tfo-supervisor"), "--foreground", "--config", self.cfg],
            stdout=self.logf, stderr=subprocess.STDOUT, env=env)

    def tfoctl(self, *args):
        p = subprocess.run([os.path.join(self.bindir, "tfoctl"), "--socket", self.sock] +
                           list(args), capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def status(self):
        rc, out, err = self.tfoctl("status", "--json")
        check(rc == 0, f"tfoctl status --json failed rc={rc}: {err}")
        return {w["role"]: w for w in json.loads(out)["workers"]}

    def wait(self, pred, what, timeout=30.0):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            check(self.proc.poll() is None,
                  f"supervisor exited (rc={self.proc.returncode}) waiting for {what}")
            try:
                last = self.status()
                if pred(last):
                    return last
            except (Fail, ValueError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.02)
        raise Fail(f"timed out waiting for {what}; last status: {json.dumps(last)}")

    def all_ready(self):
        return self.wait(lambda s: all(s[r]["state"] == "ready" for r in ROLES), "all ready")

    def logtext(self):
        self.logf.flush()
        with open(self.log) as f:
            return f.read()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def proc_status(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


def proc_limit(pid, name):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith(name):
                return line[len(name):].split()[:2]
    return None


# ---------------------------------------------------------------- checks

def check_status_columns(a, s, abi):
    """tfoctl status shows what the kernel says (and Landlock what Ready said)."""
    for r in ROLES:
        w = s[r]
        pid = w["pid"]
        sb = w["sandbox"]
        uid = pwd.getpwnam(f"tfo-{r}").pw_uid
        check(proc_status(pid, "Uid").split() == [str(uid)] * 4, f"{r}: uid")
        check(sb["no_new_privs"] is True and proc_status(pid, "NoNewPrivs") == "1", f"{r}: nnp")
        check(proc_status(pid, "Seccomp") == "2", f"{r}: /proc Seccomp is not 2 (filter)")
        check(sb["seccomp"] == "filter/kill", f"{r}: status seccomp {sb['seccomp']!r}")
        check(int(sb["cap_eff"], 16) == CAPS[r] and
              int(proc_status(pid, "CapEff"), 16) == CAPS[r],
              f"{r}: CapEff {sb['cap_eff']} != {CAPS[r]:016x}")
        check(int(proc_status(pid, "CapBnd"), 16) == 0, f"{r}: bounding set not empty")
        if r in NO_LANDLOCK:
            want = NO_LANDLOCK[r]
        elif abi >= 1:
            want = f"abi {abi}: fs" + (" net" if abi >= 4 else "") + (" scope" if abi >= 6 else "")
        else:
            want = "unsupported by kernel"
        check(sb.get("landlock") == want, f"{r}: landlock {sb.get('landlock')!r} != {want!r}")
        # not dumpable: the kernel hands /proc/<pid>/* (not the dir) to root
        check(os.stat(f"/proc/{pid}/environ").st_uid == 0, f"{r}: /proc/{pid}/environ "
              "not owned by root (PR_SET_DUMPABLE 0 missing)")
        check(proc_limit(pid, "Max core file size") == ["0", "0"], f"{r}: RLIMIT_CORE")
        nproc = proc_limit(pid, "Max processes")
        check(nproc == ["512", "512"], f"{r}: RLIMIT_NPROC {nproc}")
    return True


def attempt(a, role, action, arg):
    rc, out, err = a.tfoctl("test-action", role, action, arg)
    check(rc == 0, f"{role} {action}: tfoctl test-action rc={rc}: {err.strip()}")
    parts = out.strip().split(" ", 2)
    check(len(parts) >= 2 and parts[0] == action and parts[1].startswith("err="),
          f"{role} {action}: bad output {out!r}")
    return int(parts[1][4:]), parts[2] if len(parts) > 2 else ""


def judge(a, role, action, arg, old_pid, residual):
    """One cell: 'EACCES', 'EPERM' or 'SIGSYS(<syscall>)', or 'ALLOWED*' for a
    documented residual risk; Fail otherwise."""
    e, detail = attempt(a, role, action, arg)
    if (role, action) in residual:
        check(e == 0, f"{role} {action}: documented as a residual risk (ALLOWED) but now "
              f"{detail}: update docs/security.md and residual_cells()")
        s = a.status()
        check(s[role]["pid"] == old_pid and s[role]["state"] == "ready",
              f"{role}: not ready after {action}")
        return "ALLOWED*", s
    check(e != 0, f"{role} {action}: ALLOWED by the sandbox ({detail})")
    if e > 0:
        check(e in (errno.EACCES, errno.EPERM),
              f"{role} {action}: failed with {errno.errorcode.get(e, e)} ({detail}), "
              "not a sandbox denial")
        # still the same, healthy worker
        s = a.status()
        check(s[role]["pid"] == old_pid and s[role]["state"] == "ready",
              f"{role}: not ready after a denied {action}")
        return errno.errorcode[e], s
    check(e == -signal.SIGSYS, f"{role} {action}: worker died otherwise: {detail}")
    s = a.wait(lambda t: t[role]["state"] == "ready" and t[role]["pid"] not in (0, old_pid),
               f"{role} restarted after SIGSYS ({action})")
    reason = s[role]["last_exit"]["reason"]
    check(reason.startswith("seccomp violation"), f"{role}: last exit {reason!r}")
    check(s[role]["last_exit"]["signal"] == "SIGSYS", f"{role}: {s[role]['last_exit']}")
    # the call is named when the kernel's audit record was readable
    if "(syscall " in reason:
        name = reason.rsplit(" ", 1)[1].rstrip(")")
        check(name == KILL_SYSCALL.get(action), f"{role} {action}: killed for {name}, "
              f"expected {KILL_SYSCALL.get(action)}")
        return f"SIGSYS({name})", s
    return "SIGSYS(?)", s


def case_matrix(a):
    abi = landlock_abi()
    print(f"kernel {os.uname().release}: landlock ABI {abi if abi > 0 else 'unsupported'}")
    # something listening on the unrelated port: only the sandbox can refuse
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", UNRELATED_PORT))
    lst.listen(64)
    a.start()
    s = a.all_ready()
    # Only the sandbox may stop a write in the state dir: open it to everyone
    # once the supervisor has started (it refuses a state dir others may write
    # and sets it to 0750 root:tfo-agent, docs/security.md); root-owned sticky.
    os.chmod(a.state, 0o1777)
    check_status_columns(a, s, abi)
    residual = residual_cells()
    matrix = {}
    named = 0
    for r in ROLES:
        for act in ACTIONS:
            s = a.all_ready()
            other = s["system" if r != "system" else "buffer"]["pid"]
            # memory of the worker that holds the API key (pid 1 may be
            # specially protected in a container or VM: not a fair target)
            secret = s["exporter" if r != "exporter" else "heartbeat"]["pid"]
            arg = {"write_state": a.state, "connect": str(UNRELATED_PORT),
                   "kill": str(other), "ptrace": str(other),
                   "proc_mem": str(secret)}.get(act, "")
            cell, s = judge(a, r, act, arg, s[r]["pid"], residual)
            matrix[(r, act)] = cell
            named += cell.startswith("SIGSYS(") and cell != "SIGSYS(?)"
        # nothing the worker tried to create is left behind
        left = [n for n in os.listdir(a.state) if n.startswith("tfo-sandbox-")]
        check(not left, f"{r}: files left in the state dir: {left}")
    lst.close()
    print("\n%-10s" % "role" + "".join("%-18s" % x for x in ACTIONS))
    for r in ROLES:
        print("%-10s" % r + "".join("%-18s" % matrix[(r, x)] for x in ACTIONS))
    print("\nALLOWED* = documented residual risk (docs/security.md, Known limits): "
          "tfo-process runs without Landlock")
    print(f"{named} SIGSYS deaths named by the kernel's audit record")
    # the roles still work after all this: every one ready, status sane
    s = a.all_ready()
    check_status_columns(a, s, abi)
    check("seccomp violation in " in a.logtext(), "no 'seccomp violation in <role>' log line")


def case_release_refused(a):
    """tfoctl test-action against a role that is not ready is refused clearly."""
    a.start()
    a.all_ready()
    rc, out, err = a.tfoctl("test-action", "nosuchrole", "exec")
    check(rc == 1 and "needs a role" in err, f"bad role accepted: {rc} {out} {err}")


CASES = {"matrix": case_matrix, "bad_request": case_release_refused}


def main():
    bindir, name = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("FAIL: the sandbox tests must run as root (role users, uid changes)")
        return 1
    try:
        pwd.getpwnam("tfo-system")
    except KeyError:
        print("FAIL: role users missing: run tools/make-users")
        return 1
    a = Agent(bindir)
    try:
        CASES[name](a)
    except (Fail, subprocess.TimeoutExpired) as e:
        print(f"FAIL {name}: {e}")
        if a.proc:
            print("---- supervisor log (tail) ----")
            print(a.logtext()[-6000:])
        return 1
    finally:
        a.cleanup()
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
