#!/usr/bin/env python3
"""test_sandbox.py - the forbidden-action matrix of issues 8 and 17 (run as
root by ctest, test builds only): the real role executables under the real
tfo-supervisor, each asked through the hidden test hook (tfoctl test-action
-> supervisor -> fd 3) to attempt every action of ACTIONS; tfo-procpriv,
tfo-process's privileged reader, is asked through tfo-process
("procpriv.<action>"). Every attempt must be denied (EACCES/EPERM) or kill
the process with SIGSYS, after which the supervisor must restart the role;
the only attempts that must SUCCEED are the ones a role's job needs (NEEDED,
one row per role), so that the matrix cannot pass by testing nothing.
Prints the matrix (action x role). Usage: test_sandbox.py BINDIR CASE
[--write-doc]: the matrix case also compares its table with the one in
docs/security.md (when made on the same kind of kernel and build) and, with
--write-doc, writes it there (tests/sandbox/gen-matrix-doc.sh)."""
import ctypes
import difflib
import errno
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tfo_e2e import (Fail, check, Supervisor, proc_status, run_named,  # noqa: E402
                     require_root_and_users, ROLES)
HELPER = "procpriv"             # tfo-process's helper, reached through it
COLUMNS = ROLES + [HELPER]
# columns run by two agent trees at once (about the same time each)
COLUMN_GROUPS = [["system", "process", HELPER], ["logs", "buffer", "exporter", "heartbeat"]]
BASE_PORT = 19900               # this test's fixed range is 19900-19999
ENDPOINT_PORT, API_PORT = BASE_PORT + 1, BASE_PORT + 2   # configured; nothing listens

# (matrix name, hook action, what it tries, the argument: see args_for)
ACTIONS = [
    ("open_shadow", "open_shadow", "open /etc/shadow", ""),
    ("open_root_shadow", "open_root_shadow", "open /proc/1/root/etc/shadow", ""),
    ("open_outside", "open_state", "open a world-readable file outside the role's paths",
     "outside"),
    ("open_fd_dir", "open_fd_dir", "open /proc/self/fd/N/etc/shadow, N an O_PATH fd of /", ""),
    ("open_state", "open_state", "open another role's state file (made world-readable)",
     "state"),
    ("write_tmp", "write_tmp", "create a file in /tmp", ""),
    ("write_state", "write_state", "create a file in the state dir (mode 01777)", "statedir"),
    ("self_mem_write", "self_mem_write", "open /proc/self/mem for writing", ""),
    ("proc_mem", "proc_mem", "open the exporter's /proc/<pid>/mem (the API key)", "secret"),
    ("exec", "exec", "execve /bin/sh", ""),
    ("connect_other", "connect", "TCP connect to 127.0.0.1, a port nobody configured "
     "(a listener there)", "unrelated"),
    ("connect_endpoint", "connect", "TCP connect to the exporter's endpoint port", "endpoint"),
    ("connect_api", "connect", "TCP connect to the heartbeat API's port", "api"),
    ("socket_inet", "socket_inet", "socket(AF_INET)", ""),
    ("socket_inet6", "socket_inet6", "socket(AF_INET6)", ""),
    ("netlink_route", "netlink_route", "socket(AF_NETLINK, NETLINK_ROUTE)", ""),
    ("netlink_diag", "netlink_diag", "socket(AF_NETLINK, NETLINK_SOCK_DIAG): every socket",
     ""),
    ("ptrace", "ptrace", "ptrace(PTRACE_SEIZE) a sibling", "sibling"),
    ("vm_readv", "vm_readv", "process_vm_readv a sibling", "sibling"),
    ("vm_writev", "vm_writev", "process_vm_writev a sibling", "sibling"),
    ("kill_supervisor", "kill", "kill(supervisor, 0)", "supervisor"),
    ("kill_sibling", "kill", "kill(sibling, 0)", "sibling"),
    ("setuid", "setuid", "setuid(0)", ""),
    ("mount", "mount", "mount a tmpfs on /tmp", ""),
    ("unshare", "unshare", "unshare(CLONE_NEWUSER)", ""),
    ("setns", "setns", "setns into a network namespace", ""),
    ("bpf", "bpf", "bpf(BPF_MAP_CREATE)", ""),
    ("io_uring", "io_uring", "io_uring_setup", ""),
    ("userfaultfd", "userfaultfd", "userfaultfd", ""),
    ("perf_event", "perf_event", "perf_event_open on itself", ""),
    ("keyctl", "keyctl", "keyctl(KEYCTL_GET_KEYRING_ID)", ""),
    ("add_key", "add_key", "add_key to the process keyring", ""),
]

# What each role's job needs: the only cells that must SUCCEED (shown as
# "needed"). Since issue 18 §1 the exporter sends the heartbeat too: the one
# role with network egress; the heartbeat keeps netlink (getifaddrs) only.
NET = {"socket_inet", "socket_inet6", "netlink_route"}
NEEDED = {
    "exporter": NET | {"connect_endpoint", "connect_api"},
    "heartbeat": {"netlink_route"},
}

# the system call seccomp must name when an action kills (the first
# forbidden call of the attempt); when the kernel's record is lost to its
# rate limit, the cell shows this one
OPENS = ("openat",)
KILL_SYSCALL = {
    "exec": ("execve",), "setuid": ("setuid",), "ptrace": ("ptrace",),
    "kill_supervisor": ("kill",), "kill_sibling": ("kill",), "connect_other": ("socket",),
    "connect_endpoint": ("socket",), "connect_api": ("socket",), "socket_inet": ("socket",),
    "socket_inet6": ("socket",), "netlink_route": ("socket",), "netlink_diag": ("socket",),
    "vm_readv": ("process_vm_readv",), "vm_writev": ("process_vm_writev",),
    "mount": ("mount",), "unshare": ("unshare",), "setns": ("setns",),
    "bpf": ("bpf",), "io_uring": ("io_uring_setup",), "userfaultfd": ("userfaultfd",),
    "perf_event": ("perf_event_open",), "keyctl": ("keyctl",), "add_key": ("add_key",),
    "open_shadow": OPENS, "open_root_shadow": OPENS, "open_outside": OPENS,
    "open_fd_dir": OPENS, "open_state": OPENS, "write_tmp": OPENS, "write_state": OPENS,
    "self_mem_write": OPENS, "proc_mem": OPENS,
}
# tfo-procpriv dies at the open that comes first: every open is pinned
HELPER_KILL_SYSCALL = {"setns": OPENS}
# CapEff each process must hold (DESIGN §1): CAP_DAC_READ_SEARCH = 2, CAP_SYS_PTRACE = 19
CAPS = {"system": 0, "process": 0, "logs": 1 << 2, "buffer": 0, "exporter": 0,
        "heartbeat": 0, HELPER: (1 << 19) | (1 << 2)}
DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                   "security.md")
DOC_BEGIN, DOC_END = "<!-- matrix:begin", "<!-- matrix:end -->"


def landlock_abi():
    """The kernel's Landlock ABI (landlock_create_ruleset VERSION), -1 if none."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))


def sanitized(bindir):
    """a sanitizer build (exec is refused with EACCES there, killed otherwise)"""
    with open(os.path.join(bindir, "tfo-system"), "rb") as f:
        return b"__asan_init" in f.read()


def syscall_name(nr):
    """a syscall number's name, through libseccomp"""
    try:
        lib = ctypes.CDLL("libseccomp.so.2")
        lib.seccomp_syscall_resolve_num_arch.restype = ctypes.c_char_p
        name = lib.seccomp_syscall_resolve_num_arch(0, nr)
        return name.decode() if name else str(nr)
    except OSError:
        return str(nr)


class Kmsg:
    """the kernel's seccomp audit records (type=1326), read as they come"""

    def __init__(self):
        try:
            self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self.fd, 0, os.SEEK_END)
        except OSError:
            self.fd = -1
        self.seen = []

    def _read(self):
        """one record, "" when none is queued"""
        while self.fd >= 0:
            try:
                return os.read(self.fd, 8192).decode(errors="replace")
            except BlockingIOError:
                return ""
            except OSError:         # EPIPE: records overwritten meanwhile; go on
                continue
        return ""

    def mark(self):
        """forget every record so far: pids are reused, often, in this test"""
        while self._read():
            pass
        self.seen = []

    def syscall_of(self, pid, comm, timeout=1.0):
        """the syscall a SIGSYS record since mark() names for pid (running
        comm), None when there is none (no /dev/kmsg, or the kernel's rate
        limit dropped it)"""
        pat = re.compile(r" pid=%d comm=\"%s\" .* sig=31 .* syscall=(\d+)" %
                         (pid, re.escape(comm[:15])))
        end = time.monotonic() + timeout
        while self.fd >= 0:
            rec = self._read()
            if "type=1326" in rec:
                self.seen.append(rec)
            for r in self.seen:
                m = pat.search(r)
                if m:
                    return syscall_name(int(m.group(1)))
            if rec:
                continue
            if time.monotonic() > end:
                break
            time.sleep(0.02)
        return None


class Agent(Supervisor):
    LOGMODE = "w"
    STEP = 0.02

    def __init__(self, bindir, seccomp="kill"):
        super().__init__(bindir, prefix="tfo-sandbox-")
        os.mkdir(self.state)
        # a world-readable file in no role's paths: only the sandbox may refuse it
        self.outside_dir = tempfile.mkdtemp(prefix="tfo-sandbox-outside-")
        os.chmod(self.outside_dir, 0o755)
        self.outside = os.path.join(self.outside_dir, "secret")
        with open(self.outside, "w") as f:
            f.write("not for any role\n")
        os.chmod(self.outside, 0o644)
        # the tailed log in a directory of its own: tfo-logs' Landlock rule is
        # that directory, and must not cover the state dir
        self.logs = os.path.join(self.dir, "logs")
        os.mkdir(self.logs, 0o755)
        with open(os.path.join(self.logs, "demo.log"), "w") as f:
            f.write("2026-01-01T00:00:00Z INFO sandbox demo line\n")
        os.chmod(os.path.join(self.logs, "demo.log"), 0o644)
        self.write_config(f"""telemetryflow:
  endpoint: http://localhost:{ENDPOINT_PORT}
  protocol: http
  api_endpoint: http://localhost:{API_PORT}/api/v1
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
    paths: [{self.logs}/demo.log]
exporter:
  shutdown_drain: 1s
supervisor:
  ping_interval: 200ms
  hung_timeout: 5s
  sandbox:
    seccomp: {seccomp}
  restart:
    backoff_initial: 10ms
    backoff_max: 100ms
    max_restarts: 1000
    window: 60s
""", mode=0o644)

    def status(self):
        return self.status_doc()[0]

    def all_ready(self):
        return self.wait_ready(ROLES)

    def cleanup(self):
        self.stop(timeout=30)
        super().cleanup()
        shutil.rmtree(self.outside_dir, ignore_errors=True)


def proc_limit(pid, name):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith(name):
                return line[len(name):].split()[:2]
    return None


def helper_of(worker):
    """the tfo-procpriv child of tfo-process, or None"""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if proc_status(d, "Name") == "tfo-procpriv" and \
               proc_status(d, "PPid") == str(worker):
                return int(d)
        except OSError:
            continue
    return None


# ---------------------------------------------------------------- checks

def check_identity(name, pid, uid, caps, nproc):
    check(proc_status(pid, "Uid").split() == [str(uid)] * 4, f"{name}: uid")
    check(proc_status(pid, "NoNewPrivs") == "1", f"{name}: no_new_privs")
    check(proc_status(pid, "Seccomp") == "2", f"{name}: /proc Seccomp is not 2 (filter)")
    check(int(proc_status(pid, "CapEff"), 16) == caps,
          f"{name}: CapEff {proc_status(pid, 'CapEff')} != {caps:016x}")
    check(int(proc_status(pid, "CapBnd"), 16) == 0, f"{name}: bounding set not empty")
    # not dumpable: the kernel hands /proc/<pid>/* (not the dir) to root
    check(os.stat(f"/proc/{pid}/environ").st_uid == 0, f"{name}: /proc/{pid}/environ "
          "not owned by root (PR_SET_DUMPABLE 0 missing)")
    check(proc_limit(pid, "Max core file size") == ["0", "0"], f"{name}: RLIMIT_CORE")
    got = proc_limit(pid, "Max processes")
    check(nproc is None or got == [nproc, nproc], f"{name}: RLIMIT_NPROC {got}")


def check_status_columns(a, s, abi):
    """tfoctl status shows what the kernel says (and Landlock what Ready said);
    tfo-procpriv, not a role of its own, is read from /proc"""
    for r in ROLES:
        w = s[r]
        sb = w["sandbox"]
        check(sb["no_new_privs"] is True, f"{r}: status no_new_privs")
        check(sb["seccomp"] == "filter/kill", f"{r}: status seccomp {sb['seccomp']!r}")
        check(int(sb["cap_eff"], 16) == CAPS[r], f"{r}: status CapEff {sb['cap_eff']}")
        check_identity(r, w["pid"], pwd.getpwnam(f"tfo-{r}").pw_uid, CAPS[r], "512")
        if abi >= 1:
            want = f"abi {abi}: fs" + (" net" if abi >= 4 else "") + (" scope" if abi >= 6 else "")
        else:
            want = "unsupported by kernel"
        check(sb.get("landlock") == want, f"{r}: landlock {sb.get('landlock')!r} != {want!r}")
    helper = helper_of(s["process"]["pid"])
    check(helper is not None, "tfo-process has no tfo-procpriv child")
    check_identity(HELPER, helper, pwd.getpwnam("tfo-process").pw_uid, CAPS[HELPER], None)
    check(proc_limit(helper, "Max open files") == ["64", "64"], "procpriv: RLIMIT_NOFILE")
    return helper


def attempt(a, role, action, arg):
    target, act = ("process", "procpriv." + action) if role == HELPER else (role, action)
    rc, out, err = a.tfoctl("test-action", target, act, arg)
    check(rc == 0, f"{role} {action}: tfoctl test-action rc={rc}: {err.strip()}")
    parts = out.strip().split(" ", 2)
    check(len(parts) >= 2 and parts[0] == act and parts[1].startswith("err="),
          f"{role} {action}: bad output {out!r}")
    return int(parts[1][4:]), parts[2] if len(parts) > 2 else ""


def killed(a, kmsg, role, name, old, detail):
    """after a SIGSYS: the role is back (for the helper: tfo-process exited,
    saying why, and both are back); the cell text"""
    target = "process" if role == HELPER else role
    s = a.wait(lambda t: t[target]["state"] == "ready" and
               t[target]["pid"] not in (0, old[target]),
               f"{target} restarted after SIGSYS ({name})")
    if role == HELPER:
        m = re.search(r"procpriv \(pid (\d+)\) died: signal 31", detail)
        check(m is not None, f"procpriv {name}: {detail!r}")
        pid = int(m.group(1))
        check("privileged reader closed its channel: killed by signal 31 (seccomp "
              "violation)" in a.logtext(), "tfo-process did not report its helper's death")
    else:
        reason = s[role]["last_exit"]["reason"]
        check(reason.startswith("seccomp violation"), f"{role}: last exit {reason!r}")
        check(s[role]["last_exit"]["signal"] == "SIGSYS", f"{role}: {s[role]['last_exit']}")
        pid = old[role]
    got = kmsg.syscall_of(pid, "tfo-" + role)
    want = (HELPER_KILL_SYSCALL if role == HELPER else {}).get(name) or KILL_SYSCALL[name]
    if got is not None:
        check(got in want, f"{role} {name}: killed for {got}, expected one of {want}")
    return f"SIGSYS({got or want[0]})", s, got is not None


def unchanged(a, old, role, name):
    """the status after an attempt that returned: the same, healthy processes"""
    s = a.status()
    for r in ROLES:
        check(s[r]["pid"] == old[r] and s[r]["state"] == "ready",
              f"{r}: not ready after {role} {name}")
    return s


def judge(a, kmsg, role, name, act, arg, s):
    """One cell: 'needed' for what the role's job needs (it must work),
    else 'EACCES', 'EPERM' or 'SIGSYS(<syscall>)'; Fail otherwise."""
    old = {r: s[r]["pid"] for r in ROLES}
    kmsg.mark()
    e, detail = attempt(a, role, act, arg)
    if name in NEEDED.get(role, ()):
        check(e == 0, f"{role} {name}: the role's job needs it, but {detail}")
        return "needed", unchanged(a, old, role, name), False
    check(e != 0, f"{role} {name}: ALLOWED by the sandbox ({detail})")
    if e > 0:
        check(e in (errno.EACCES, errno.EPERM),
              f"{role} {name}: failed with {errno.errorcode.get(e, e)} ({detail}), "
              "not a sandbox denial")
        return errno.errorcode[e], unchanged(a, old, role, name), False
    check(e == -signal.SIGSYS, f"{role} {name}: died otherwise: {detail}")
    return killed(a, kmsg, role, name, old, detail)


def args_for(a, s, role, kind):
    """the argument of an action for role, from the live status"""
    sibling = "system" if role not in ("system",) else "buffer"
    if role == HELPER:
        sibling = "process"         # its parent
    secret = "exporter" if role != "exporter" else "heartbeat"
    return {
        "": "", "outside": a.outside, "statedir": a.state,
        "state": os.path.join(a.state, "agent-id") if role == "buffer" else
        os.path.join(a.state, "buffer", "queue", "CURRENT"),
        "secret": str(s[secret]["pid"]), "sibling": str(s[sibling]["pid"]),
        "supervisor": str(a.proc.pid), "unrelated": str(a.unrelated_port),
        "endpoint": str(ENDPOINT_PORT), "api": str(API_PORT),
    }[kind]


def open_state_files(a):
    """another role's state, made readable by every uid: only the sandbox
    may refuse it (the buffer's store is 0700 tfo-buffer otherwise)"""
    store = os.path.join(a.state, "buffer")
    for p in (store, os.path.join(store, "queue"), os.path.join(store, "queue", "CURRENT"),
              os.path.join(a.state, "agent-id")):
        check(os.path.exists(p), f"{p} missing")
        os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)


def render(matrix, abi, build):
    """the matrix as the markdown table docs/security.md carries"""
    lines = [f"{DOC_BEGIN} (tests/sandbox/gen-matrix-doc.sh; Landlock ABI {abi}, "
             f"{build} build) -->", "",
             "| action | " + " | ".join(COLUMNS) + " |",
             "|---|" + "---|" * len(COLUMNS)]
    for name, _, what, _ in ACTIONS:
        lines.append(f"| `{name}`: {what} | " +
                     " | ".join(matrix[(r, name)] for r in COLUMNS) + " |")
    lines += ["", DOC_END]
    return "\n".join(lines)


def doc_section():
    with open(DOC) as f:
        text = f.read()
    b, e = text.find(DOC_BEGIN), text.find(DOC_END)
    return text, b, e


def release_from_sanitizer(doc_table):
    """the doc's table (made by a sanitizer build) as a release build must
    show it: the two differ only where the doc says, exec (an errno rule in
    sanitizer builds so that ASan reports are not cut short, SIGSYS otherwise)"""
    out = []
    for line in doc_table.split("\n"):
        if line.startswith("| `exec`:"):
            line = re.sub(r"\| EACCES(?= \|)", "| SIGSYS(execve)", line)
        out.append(line)
    return "\n".join(out).replace("sanitizer build) -->", "release build) -->", 1)


def compare_or_write(table, abi, build, write):
    text, b, e = doc_section()
    check(b >= 0 and e > b, f"{DOC}: no matrix section ({DOC_BEGIN} ... {DOC_END})")
    old = text[b:e + len(DOC_END)]
    if write:
        with open(DOC, "w") as f:
            f.write(text[:b] + table + text[e + len(DOC_END):])
        print(f"wrote the matrix into {DOC}")
        return
    made = re.search(r"Landlock ABI (-?\d+), (\w+) build", old)
    if made is not None and (int(made.group(1)), made.group(2), build) == \
            (abi, "sanitizer", "release"):
        old = release_from_sanitizer(old)
        made = re.search(r"Landlock ABI (-?\d+), (\w+) build", old)
    if made is None or (int(made.group(1)), made.group(2)) != (abi, build):
        print(f"matrix not compared with {DOC}: it was made with "
              f"{made.group(0) if made else '?'}, this run has Landlock ABI {abi}, {build}")
        return
    if old != table:
        print("".join(difflib.unified_diff(old.splitlines(True), table.splitlines(True),
                                           "docs/security.md", "this run")))
    check(old == table, f"{DOC}: the matrix differs from this run's (above): run "
          "tests/sandbox/gen-matrix-doc.sh and review the change")


def run_columns(a, columns, abi, out):
    """one agent tree: its status, then every action for each of columns;
    the cells, kills and names into out"""
    kmsg = Kmsg()
    a.start()
    s = a.all_ready()
    # Only the sandbox may stop a write in the state dir: open it to everyone
    # once the supervisor has started (it refuses a state dir others may write
    # and sets it to 0750 root:tfo-agent, docs/security.md); root-owned sticky.
    os.chmod(a.state, 0o1777)
    check_status_columns(a, s, abi)
    open_state_files(a)
    for r in columns:
        t0 = time.monotonic()
        for name, act, _, kind in ACTIONS:
            cell, s, was_named = judge(a, kmsg, r, name, act, args_for(a, s, r, kind), s)
            if cell.startswith("SIGSYS"):
                s = a.all_ready()   # a restart may restart others (rest-for-one)
            out["matrix"][(r, name)] = cell
            out["named"] += was_named
            out["kills"] += cell.startswith("SIGSYS")
        out["took"][r] = time.monotonic() - t0
        # nothing the process tried to create is left behind
        left = [n for n in os.listdir(a.state) if n.startswith("tfo-sandbox-")]
        check(not left, f"{r}: files left in the state dir: {left}")
    # the roles still work after all this: every one ready, status sane
    s = a.all_ready()
    check_status_columns(a, s, abi)
    check("seccomp violation in " in a.logtext(), "no 'seccomp violation in <role>' log line")


def case_matrix(agents, write_doc=False):
    """two agent trees at once, each with half of the columns: most of a
    cell's time is a restart's wait, which the other tree uses"""
    abi = landlock_abi()
    build = "sanitizer" if sanitized(agents[0].bindir) else "release"
    print(f"kernel {os.uname().release}: landlock ABI {abi if abi > 0 else 'unsupported'}, "
          f"{build} build")
    # something listening on a port nobody configured (any free one: other
    # trees run this test at the same time): only the sandbox can refuse
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    for a in agents:
        a.unrelated_port = lst.getsockname()[1]
    out = {"matrix": {}, "named": 0, "kills": 0, "took": {}}
    errors = []

    def run(a, cols):
        try:
            run_columns(a, cols, abi, out)
        except (Fail, subprocess.TimeoutExpired) as e:
            errors.append((a, e))

    threads = [threading.Thread(target=run, args=(a, cols))
               for a, cols in zip(agents, COLUMN_GROUPS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lst.close()
    if errors:
        for a, e in errors[1:]:
            print(f"FAIL matrix (also): {e}\n---- its supervisor log (tail) ----\n"
                  f"{a.logtext()[-3000:]}")
        raise errors[0][1]
    matrix = out["matrix"]
    print("\n%-18s" % "action" + "".join("%-26s" % r for r in COLUMNS))
    for name, _, _, _ in ACTIONS:
        print("%-18s" % name + "".join("%-26s" % matrix[(r, name)] for r in COLUMNS))
    print(f"\nneeded = the role's job (NEEDED): it must succeed. {out['kills']} SIGSYS deaths, "
          f"{out['named']} named by the kernel's audit record (the others by the expected call)")
    print("seconds per column: " + ", ".join(f"{r} {out['took'][r]:.1f}" for r in COLUMNS))
    compare_or_write(render(matrix, abi, build), abi, build, write_doc)


def case_release_refused(a):
    """tfoctl test-action against a role that is not ready is refused clearly."""
    a.start()
    a.all_ready()
    rc, out, err = a.tfoctl("test-action", "nosuchrole", "exec")
    check(rc == 1 and "needs a role" in err, f"bad role accepted: {rc} {out} {err}")


def main():
    bindir, name = sys.argv[1], sys.argv[2]
    write_doc = "--write-doc" in sys.argv[3:]
    require_root_and_users(skip=False)      # the sandbox tests must run
    agents = [Agent(bindir) for _ in (COLUMN_GROUPS if name == "matrix" else [0])]

    def case():
        if name == "matrix":
            case_matrix(agents, write_doc)
        elif name == "bad_request":
            case_release_refused(agents[0])
        else:
            raise Fail(f"no case {name}")
    return run_named(name, case, agents)


if __name__ == "__main__":
    sys.exit(main())
