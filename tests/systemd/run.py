#!/usr/bin/env python3
"""run.py - `make test-systemd`: the Debian package under a real systemd.

Boots a Debian root (debootstrap minbase, cached under the build dir) as a
container with systemd-nspawn, systemd as its PID 1, and checks as an
operator meets it: lintian; install (users, dirs, modes, enabled and
running with the shipped config, STATUS=, no secret warning); the unit's
hardening (`systemd-analyze security` <= 3.5, no SIGSYS or EPERM); reload
(changed interval applied, a broken file refused with file:line while the
old config keeps running); kill -9 of a worker and of the supervisor;
SIGSTOP of the supervisor (watchdog); the watchdog holding 2 minutes; a stop
that drains; an upgrade that keeps config, queue and agent id; purge.

Commands run inside through `nsenter -t <container PID 1> -a`; the test
reads the container's files through the overlay mount on the host. Each run
starts from the cached root under a fresh overlay. Exit 0 all passed,
1 a check failed, 77 the host cannot run the container (reason printed).

    tests/systemd/run.py --deb build/deb/tfo-agent_0.1.0_amd64.deb \
        --sink build/bin/tfo-sink --cache build/systemd [--keep]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

SKIP = 77
CFG = "/etc/tfo-agent/tfo-agent.yaml"
STATE = "/var/lib/tfo-agent"
UNIT = "tfo-agent.service"
SINK_PORT = 4318
NSPAWN_SYSCALLS = "landlock_create_ruleset landlock_add_rule landlock_restrict_self"
# The journal words that mean the unit's own hardening refused something.
HARDENING_WORDS = re.compile(r"SIGSYS|seccomp violation|Operation not permitted|EPERM|"
                             r"Bad system call", re.I)


def log(msg):
    print(msg, flush=True)


class Failed(Exception):
    pass


# ------------------------------------------------------------------ checks

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def ok(self, cond, name, detail=""):
        if cond:
            self.passed += 1
            log(f"ok - {name}")
        else:
            self.failed.append(name)
            log(f"FAIL - {name}" + (f": {detail}" if detail else ""))
        return cond

    def must(self, cond, name, detail=""):
        """a check the later steps depend on: stop the run when it fails"""
        if not self.ok(cond, name, detail):
            raise Failed(name)


def wait_for(fn, timeout, step=0.5):
    """fn() until truthy or timeout; returns the last value"""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


# ------------------------------------------------------------------ host side

def host_can_run(args):
    """None when this host can boot the container, else the reason"""
    if os.geteuid() != 0:
        return "needs root (debootstrap, overlay mount, systemd-nspawn)"
    for tool in ("systemd-nspawn", "debootstrap", "nsenter", "lintian", "dpkg-deb"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (tools/install-deps installs it)"
    if not os.path.exists("/proc/filesystems") or "overlay" not in open("/proc/filesystems").read():
        if subprocess.run(["modprobe", "overlay"], capture_output=True).returncode != 0:
            return "the kernel has no overlay filesystem"
    if not os.path.isfile(args.deb):
        return f"no package at {args.deb} (make deb)"
    return None


def apt_mirror(suite):
    """the Debian mirror apt uses here (deb822 .sources or one-line .list)"""
    files = ["/etc/apt/sources.list"]
    d = "/etc/apt/sources.list.d"
    if os.path.isdir(d):
        files += sorted(os.path.join(d, f) for f in os.listdir(d))
    for f in files:
        try:
            text = open(f).read()
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and suite in suites.group(1).split() and "/debian" in uris.group(1):
                return uris.group(1)
        for line in text.splitlines():
            m = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)\s", line)
            if m and m.group(2) == suite and "/debian" in m.group(1):
                return m.group(1)
    return "http://deb.debian.org/debian"


def host_suite():
    for line in open("/etc/os-release"):
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "bookworm"


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], capture_output=True, text=True,
                          check=True).stdout.strip()


def runtime_packages(deb, sink):
    """what the root needs beyond systemd: the package's Depends (first of each
    alternative) and the packages of the libraries tfo-sink links"""
    pkgs = {"systemd", "systemd-sysv", "dbus", "procps"}
    for dep in deb_field(deb, "Depends").split(","):
        name = dep.split("|")[0].strip().split(" ")[0].split(":")[0]
        if name:
            pkgs.add(name)
    libs = subprocess.run(["ldd", sink], capture_output=True, text=True).stdout
    for path in re.findall(r"=> (/\S+)", libs):
        out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True).stdout
        if not out:      # merged /usr: dpkg knows the /lib path
            out = subprocess.run(["dpkg", "-S", re.sub(r"^/usr", "", path)],
                                 capture_output=True, text=True).stdout
        if out:
            pkgs.add(out.split(":")[0].strip())
    pkgs.discard("libc6")
    return sorted(pkgs)


def ensure_root(cache, pkgs):
    """the debootstrap root, rebuilt only when the package list changed"""
    root = os.path.join(cache, "root")
    stamp = os.path.join(cache, "root.stamp")
    suite = host_suite()
    want = suite + " " + " ".join(pkgs)
    if os.path.isdir(root) and os.path.exists(stamp) and open(stamp).read() == want:
        log(f"# cached root {root}")
        return root
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(cache, exist_ok=True)
    mirror = apt_mirror(suite)
    log(f"# debootstrap {suite} from {mirror} into {tmp} (once; cached)")
    with open(os.path.join(cache, "debootstrap.log"), "w") as lf:
        r = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(pkgs),
                            suite, tmp, mirror], stdout=lf, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise Failed(f"debootstrap failed: see {cache}/debootstrap.log")
    # no package cache inside: the container never downloads
    subprocess.run(["chroot", tmp, "apt-get", "clean"], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)
    os.rename(tmp, root)
    with open(stamp, "w") as f:
        f.write(want)
    return root


def newer_deb(deb, out_dir):
    """the same package under a higher version: an upgrade runs every
    maintainer script path (prerm upgrade, postinst configure OLD)"""
    ver = deb_field(deb, "Version")
    new = ver + "+systemdtest1"
    work = os.path.join(out_dir, "newer")
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-R", deb, work], check=True)
    ctl = os.path.join(work, "DEBIAN", "control")
    text = open(ctl).read()
    open(ctl, "w").write(re.sub(r"^Version: .*$", "Version: " + new, text, flags=re.M))
    path = os.path.join(out_dir, f"tfo-agent_{new}.deb")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", work, path], check=True,
                   capture_output=True)
    shutil.rmtree(work)
    return path, new


# ------------------------------------------------------------------ the container

class Container:
    def __init__(self, root, run_dir):
        self.lower = root
        self.run_dir = run_dir
        self.merged = os.path.join(run_dir, "merged")
        self.proc = None
        self.pid1 = None

    def mount(self):
        self.cleanup_stale()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        for d in ("upper", "work", "merged"):
            os.makedirs(os.path.join(self.run_dir, d))
        opts = "lowerdir={},upperdir={},workdir={}".format(
            self.lower, os.path.join(self.run_dir, "upper"), os.path.join(self.run_dir, "work"))
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, self.merged], check=True)

    def cleanup_stale(self):
        """a run that was killed left its container or its mount"""
        pidfile = os.path.join(self.run_dir, "nspawn.pid")
        if os.path.exists(pidfile):
            try:
                pid = int(open(pidfile).read())
                if "systemd-nspawn" in open(f"/proc/{pid}/cmdline").read():
                    os.kill(pid, signal.SIGKILL)
                    time.sleep(1)
            except (OSError, ValueError):
                pass
        if os.path.ismount(self.merged):
            subprocess.run(["umount", "-l", self.merged])

    def boot(self):
        self.console = open(os.path.join(self.run_dir, "console.log"), "w")
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-D", self.merged, "-b", "--console=pipe", "--register=no",
             "--keep-unit", "--private-network", "--system-call-filter=" + NSPAWN_SYSCALLS],
            stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT,
            start_new_session=True)
        with open(os.path.join(self.run_dir, "nspawn.pid"), "w") as f:
            f.write(str(self.proc.pid))

        def child():
            """nspawn's child once it is systemd (an intermediate child
            comes and goes first)"""
            try:
                kids = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
                if kids and open(f"/proc/{kids[0]}/comm").read().strip() == "systemd":
                    return int(kids[0])
            except OSError:
                pass
            return None
        self.pid1 = wait_for(child, 30)
        if self.pid1 is None:
            raise Failed("systemd-nspawn started no container (console.log)")
        def booted():
            st = self.sh("systemctl is-system-running", check=False).stdout.strip()
            return st in ("running", "degraded")
        if not wait_for(booted, 90, 1):
            raise Failed("the container's systemd did not finish booting in 90 s: " +
                         self.sh("systemctl is-system-running; systemctl --failed --no-pager",
                                 check=False).stdout)

    def sh(self, cmd, check=True, timeout=120):
        r = subprocess.run(["nsenter", "-t", str(self.pid1), "-a", "/bin/sh", "-c", cmd],
                           capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise Failed(f"`{cmd}` exited {r.returncode}: {r.stdout}{r.stderr}")
        return r

    def out(self, cmd, **kw):
        return self.sh(cmd, **kw).stdout.strip()

    def path(self, p):
        return os.path.join(self.merged, p.lstrip("/"))

    def read(self, p, default=None):
        try:
            with open(self.path(p)) as f:
                return f.read()
        except OSError:
            return default

    def write(self, p, text, mode=0o600):
        with open(self.path(p), "w") as f:
            f.write(text)
        os.chmod(self.path(p), mode)

    def shutdown(self, keep):
        if self.proc is not None and self.proc.poll() is None:
            self.sh("systemctl poweroff", check=False, timeout=30)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if os.path.ismount(self.merged):
            subprocess.run(["umount", self.merged])
        if not keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)


# ------------------------------------------------------------------ the agent inside

class Agent:
    def __init__(self, c):
        self.c = c

    def show(self, *props):
        out = self.c.out("systemctl show " + UNIT + " " + " ".join("-p " + p for p in props))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def main_pid(self):
        return int(self.show("MainPID")["MainPID"])

    def running(self):
        s = self.show("ActiveState", "SubState")
        return s.get("ActiveState") == "active" and s.get("SubState") == "running"

    def status(self):
        r = self.c.sh("tfoctl status --json", check=False, timeout=30)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def workers(self):
        st = self.status()
        return {w["role"]: w for w in st["workers"]} if st else {}

    def all_ready(self):
        ws = self.workers()
        return ws and all(w["state"] in ("ready", "disabled") for w in ws.values()) and ws

    def worker_pids(self):
        return {r: w["pid"] for r, w in self.workers().items() if w.get("pid")}

    def queued(self, wait=15):
        """metrics entries in the buffer (its stats come with its first pong)"""
        def get():
            b = self.workers().get("buffer", {}).get("stats", {})
            return b.get("metrics.entries")
        n = wait_for(lambda: get() is not None, wait)
        return get() if n else None

    def agent_id(self):
        return (self.c.read(STATE + "/agent-id") or "").strip()

    def cursor(self):
        out = self.c.out("journalctl -u " + UNIT + " -n 0 --show-cursor --no-pager", check=False)
        m = re.search(r"-- cursor: (\S+)", out)
        return m.group(1) if m else None

    def journal(self, cursor=None):
        after = f"--after-cursor='{cursor}'" if cursor else ""
        return self.c.out(f"journalctl -u {UNIT} {after} -o cat --no-pager", check=False)

    def tree_alive(self, pids):
        return [p for p in pids if os.path.exists(self.c.path(f"/proc/{p}"))
                and self.c.sh(f"kill -0 {p}", check=False).returncode == 0]


class Sink:
    """tools/tfo-sink inside the container as a transient unit, OTLP/HTTP"""

    def __init__(self, c, binary):
        self.c = c
        shutil.copy(binary, c.path("/root/tfo-sink"))
        self.out = "/root/sink.jsonl"

    def start(self):
        self.c.sh("systemctl reset-failed tfo-sink.service 2>/dev/null; "
                  f"systemd-run --unit=tfo-sink --collect /root/tfo-sink --listen 127.0.0.1:{SINK_PORT} "
                  f"--out {self.out} --quiet")
        if not wait_for(lambda: self.c.sh("journalctl -u tfo-sink -o cat | grep -q 'listening on'",
                                          check=False).returncode == 0, 10):
            raise Failed("tfo-sink did not start in the container")

    def stop(self):
        self.c.sh("systemctl stop tfo-sink.service", check=False)

    def lines(self):
        text = self.c.read(self.out, "")
        res = []
        for line in text.splitlines():
            try:
                res.append(json.loads(line))
            except ValueError:
                pass            # a line being written
        return res

    def cycles(self):
        """collection times (s) of tfo-system's cycles that arrived (status 200)"""
        times = set()
        for ln in self.lines():
            if ln.get("status") != 200 or ln.get("signal") != "metrics":
                continue
            for rm in ln.get("body", {}).get("resource_metrics", []):
                for sm in rm.get("scope_metrics", []):
                    if sm.get("scope", {}).get("name") != "tfo-agent/system":
                        continue
                    for m in sm.get("metrics", []):
                        for dp in m.get("data_points", []):
                            t = int(dp.get("time_unix_nano", 0))
                            if t:
                                times.add(round(t / 1e9, 1))
        return sorted(times)

    def agent_ids(self):
        return {ln.get("headers", {}).get("x-telemetryflow-agent-id") for ln in self.lines()
                if ln.get("status") == 200 and ln.get("signal") == "metrics"}


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def missed_ticks(times):
    """ticks of a 1 s cadence with no cycle. A tick is stamped when it runs and
    the next one stays on the whole second, so under load a cycle may carry
    x.7 and its successor (x+1).0: a gap of the stamps says nothing, a second
    with no stamp in it is a lost cycle."""
    secs = sorted({int(x) for x in times})
    return sum(b - a - 1 for a, b in zip(secs, secs[1:]))


def sink_config(interval, broken=False):
    """the shipped file's overrides the test needs; line 8 carries the interval"""
    value = "1x" if broken else interval
    return ("# tfo-agent test configuration (tests/systemd/run.py)\n"
            "telemetryflow:\n"
            "  protocol: http\n"
            f"  endpoint: http://127.0.0.1:{SINK_PORT}\n"
            f"  api_endpoint: http://127.0.0.1:{SINK_PORT}/api/v1\n"
            "collectors:\n"
            "  system:\n"
            f"    interval: {value}\n")


def snapshot(c):
    """every path on the container's root fs but the volatile ones: among them
    what Debian's own daily timers write (dpkg-db-backup.timer: /var/backups,
    logrotate.timer: /var/lib/logrotate), which fire at midnight whatever the
    test does (a run across 00:00 UTC failed the purge check on
    /var/backups/dpkg.status.0)"""
    out = c.out("find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /tmp "
                "-o -path /var/tmp -o -path /root -o -path /var/log -o -path /var/cache "
                "-o -path /var/lib/dpkg -o -path /var/lib/systemd -o -path /run/systemd "
                "-o -path /run/log -o -path /run/user -o -path /var/lib/apt "
                "-o -path /var/backups -o -path /var/lib/logrotate \\) -prune -o -print")
    return set(out.splitlines())


# ------------------------------------------------------------------ the steps

def step_lintian(ck, deb):
    changes = re.sub(r"\.deb$", ".changes", deb)
    target = changes if os.path.exists(changes) else deb
    r = subprocess.run(["lintian", "--display-info", "--pedantic", "--show-overrides", target],
                       capture_output=True, text=True)
    tags = [ln for ln in (r.stdout + r.stderr).splitlines() if re.match(r"^[EWIPOX]: ", ln)]
    for t in tags:
        log("# lintian " + t)
    bad = [t for t in tags if t[0] in "EW"]
    ck.ok(not bad, "lintian: no error, every warning explained in debian/tfo-agent.lintian-overrides",
          "; ".join(bad))


def step_install(ck, c, a, deb_in, ver):
    r = c.sh(f"dpkg -i {deb_in}", check=False, timeout=300)
    ck.must(r.returncode == 0, "dpkg -i installs the package", r.stdout + r.stderr)
    ck.ok(c.out("dpkg-query -W -f='${Status} ${Version}' tfo-agent") ==
          f"install ok installed {ver}", "dpkg records the package installed")
    sysusers = c.read("/usr/lib/sysusers.d/tfo-agent.conf", "")
    names = re.findall(r"^([ug])\s+(\S+)", sysusers, re.M)
    ck.ok(len(names) >= 8, "sysusers.d file lists the groups and role users", sysusers)
    for kind, name in names:
        db = "passwd" if kind == "u" else "group"
        ck.ok(c.sh(f"getent {db} {name}", check=False).returncode == 0,
              f"{'user' if kind == 'u' else 'group'} {name} created on install")
    tmpfiles = c.read("/usr/lib/tmpfiles.d/tfo-agent.conf", "")
    for path, mode, user, group in re.findall(r"^d\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)", tmpfiles, re.M):
        got = c.out(f"stat -c '%a %U %G' {path}", check=False)
        ck.ok(got == f"{int(mode, 8):o} {user} {group}", f"{path} is {mode} {user}:{group}", got)
    ck.ok(c.out(f"stat -c '%a %U %G' {CFG}") == "600 root root", f"{CFG} is 0600 root:root",
          c.out(f"stat -c '%a %U %G' {CFG}"))
    ck.ok(CFG in c.out("dpkg-query -W -f='${Conffiles}' tfo-agent"), f"{CFG} is a conffile")
    # svpaths (issue 24): every directory above a path the root supervisor
    # trusts is root-owned and not writable by group or others
    for p in ("/etc/tfo-agent", "/var/lib", "/var", "/run", "/etc", "/usr/libexec/tfo-agent",
              "/usr/libexec", "/usr/bin"):
        got = c.out(f"stat -c '%u %a' {p}")
        uid, mode = got.split()
        ck.ok(uid == "0" and not int(mode, 8) & 0o022, f"{p} root-owned, no group/other write",
              got)
    upstream = re.sub(r"[-+~].*$", "", ver)
    progs = c.out("ls /usr/bin/tfo-supervisor /usr/bin/tfoctl /usr/libexec/tfo-agent/*").split()
    ck.ok(len(progs) >= 8, "the supervisor, tfoctl and every worker are installed", " ".join(progs))
    for p in progs:
        name = os.path.basename(p)
        v = c.out(f"{p} --version", check=False)
        ck.ok(re.fullmatch(re.escape(f"{name} {upstream} (protocol ") + r"\d+\)", v) is not None,
              f"{name} --version", v)


def step_started(ck, c, a):
    ck.ok(c.out(f"systemctl is-enabled {UNIT}", check=False) == "enabled",
          "the unit is enabled on install")
    ck.must(wait_for(a.running, 60), "systemctl: active (running) with the shipped config",
            c.out(f"systemctl status {UNIT} --no-pager", check=False))
    ready = wait_for(a.all_ready, 60)
    ck.ok(bool(ready), "every worker ready (tfoctl status)", json.dumps(a.status()))
    status = c.out(f"systemctl status {UNIT} --no-pager", check=False)
    ck.ok(re.search(r'Status: "\d+/\d+ workers ready"', status) is not None,
          "systemctl status shows the STATUS= line", status)
    ck.ok("readable by other users" not in a.journal(),
          "no secret warning on a fresh install")
    ck.ok("localhost:4317" in c.read(CFG, ""), "the shipped config exports to localhost:4317")


def step_security(ck, c):
    out = c.out(f"systemd-analyze security {UNIT} --no-pager", check=False)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    level = float(m.group(1)) if m else 99
    log(f"# systemd-analyze security: {m.group(0) if m else out[-500:]}")
    ck.ok(level <= 3.5, f"systemd-analyze security {level} <= 3.5")


def set_config(c, text):
    c.write(CFG, text, 0o600)
    os.chown(c.path(CFG), 0, 0)


def step_reload(ck, c, a, sink, main_pid):
    sink.start()
    set_config(c, sink_config("5s"))
    t = time.time()
    r = c.sh(f"systemctl reload {UNIT}", check=False)
    ck.ok(r.returncode == 0, "systemctl reload", r.stderr)
    # cycles of the new tfo-system only (the old one's, queued, arrive too)
    # (>= 5: the old worker's last cycle may come just before the new one's first)
    got = wait_for(lambda: len([x for x in sink.cycles() if x > t + 0.5]) >= 5, 60)
    ck.must(bool(got), "after reload, metrics arrive at the new endpoint (OTLP/HTTP)")
    ck.ok(sink.agent_ids() == {a.agent_id()}, "the exports carry the persisted agent id",
          f"{sink.agent_ids()} vs {a.agent_id()}")
    before = gaps([x for x in sink.cycles() if x > t + 0.5])
    set_config(c, sink_config("1s"))
    t = time.time()
    c.sh(f"systemctl reload {UNIT}")
    wait_for(lambda: len([x for x in sink.cycles() if x > t + 2]) >= 8, 40)
    after = gaps([x for x in sink.cycles() if x > t + 2])
    ck.ok(before and 4.0 <= statistics.median(before) <= 6.0 and after and
          0.8 <= statistics.median(after) <= 1.3,
          "reload applies a changed interval (5s -> 1s between cycles)",
          f"gaps before {before}, after {after}")
    ck.ok(a.main_pid() == main_pid, "reload keeps the supervisor (same MainPID)")

    cur = a.cursor()
    set_config(c, sink_config("1s", broken=True))
    t = time.time()
    c.sh(f"systemctl reload {UNIT}", check=False)
    msg = wait_for(lambda: re.search(re.escape(CFG) + r":8:\d+: collectors\.system\.interval: [^\n]*",
                                     a.journal(cur)), 15)
    ck.ok(msg is not None, "a broken config is refused; the journal says why with file:line",
          a.journal(cur)[-800:])
    if msg:
        log("# journal: " + msg.group(0))
    # what the old config collects after the refused reload (the exporter
    # sends once per flush interval: wait for it)
    wait_for(lambda: len([x for x in sink.cycles() if x > t + 1]) >= 4, 40)
    late = [x for x in sink.cycles() if x > t + 1]
    ck.ok(a.running() and a.main_pid() == main_pid and len(late) >= 3 and
          missed_ticks(late) == 0, "the old config keeps running after the refused reload",
          f"cycles after: {late}")
    set_config(c, sink_config("1s"))
    c.sh(f"systemctl reload {UNIT}")


def step_worker_kill(ck, c, a, main_pid):
    old = a.worker_pids().get("system")
    ck.must(old is not None, "tfoctl status shows tfo-system's pid")
    c.sh(f"kill -9 {old}")
    new = wait_for(lambda: (lambda p: p if p and p != old and
                            a.workers()["system"]["state"] == "ready" else None)(
        a.worker_pids().get("system")), 20)
    ck.ok(new is not None, "kill -9 of a worker: the supervisor restarts it",
          json.dumps(a.workers().get("system")))
    ck.ok(a.main_pid() == main_pid and a.running(), "kill -9 of a worker leaves the service running")


def step_watchdog_holds(ck, c, a, main_pid, t0, hold):
    left = t0 + hold - time.monotonic()
    if left > 0:
        log(f"# holding {left:.0f} s more: the watchdog must not fire for {hold} s")
        time.sleep(left)
    s = a.show("MainPID", "NRestarts", "ActiveState")
    j = a.journal()
    ck.ok(int(s["MainPID"]) == main_pid and s["NRestarts"] == "0" and s["ActiveState"] == "active"
          and "Watchdog timeout" not in j,
          f"the watchdog holds for {hold} s (same MainPID, no restart, no timeout)", str(s))


def outage(a, sink, secs):
    """the receiver down for secs while cycles pile up in the queue; returns
    (the time it went down, the queue then). The buffer's stats come with
    its pongs (every 5 s): secs > 5 makes them cover part of the outage."""
    sink.stop()
    t = time.time()
    time.sleep(secs)
    return t, a.queued()


def reopened(a, cursor):
    """metrics entries the restarted buffer found in its store (its log line)"""
    m = wait_for(lambda: re.search(r"queue open: (\d+) metrics", a.journal(cursor)), 30)
    return int(m.group(1)) if m else None


def outage_delivered(ck, sink, t_down, t_end, name):
    """every cycle of [t_down, t_end] arrives once the receiver is back"""
    sink.start()

    def covered():
        cs = [x for x in sink.cycles() if t_down - 1 <= x <= t_end]
        return cs if cs and cs[0] <= t_down + 1.6 and cs[-1] >= t_end - 1.6 and \
            missed_ticks(cs) == 0 else None
    cs = wait_for(covered, 60, 1)
    if not ck.ok(cs is not None, name, f"down {t_down:.1f}..{t_end:.1f}, got "
                 f"{[x for x in sink.cycles() if t_down - 1 <= x <= t_end]}"):
        log("# tfoctl status:\n" + sink.c.out("tfoctl status", check=False))


def step_idle_looks(ck, a):
    """an idle worker is looked at, not pinged, under the unit's sandbox too:
    the supervisor reads its /proc files there (CAP_SYS_PTRACE kept)"""
    w = a.workers()
    for r in ("system", "process"):
        looks, pings = w[r].get("idle_looks", 0), w[r].get("pings", 0)
        ck.ok(looks > pings, f"idle {r}: seen idle in its loop more often than pinged "
              f"({looks} looks, {pings} pings)", json.dumps(w[r]))


def step_supervisor_kill9(ck, c, a, sink):
    aid = a.agent_id()
    t_down, q = outage(a, sink, 8)
    ck.ok(q is not None and q > 0, "the receiver down: entries wait in the queue", str(q))
    pids = list(a.worker_pids().values())
    main = a.main_pid()
    n0 = int(a.show("NRestarts")["NRestarts"])
    cur = a.cursor()
    t_kill = time.time()
    c.sh(f"kill -9 {main}")
    back = wait_for(lambda: a.main_pid() not in (0, main) and a.running() and a.all_ready(), 60)
    ck.ok(bool(back), "kill -9 of the supervisor: systemd restarts the service",
          c.out(f"systemctl status {UNIT} --no-pager", check=False))
    ck.ok(int(a.show("NRestarts")["NRestarts"]) == n0 + 1, "... counted as one restart")
    ck.ok(not a.tree_alive(pids), "... the workers of the old tree are gone",
          str(a.tree_alive(pids)))
    ck.ok(a.agent_id() == aid, "... the agent id survives", f"{aid} -> {a.agent_id()}")
    q2 = reopened(a, cur)
    ck.ok(q2 is not None and q2 >= q, "... the queue survives (the restarted buffer's count)",
          f"{q} before, {q2} after")
    outage_delivered(ck, sink, t_down, t_kill,
                     "... and what was queued before the kill -9 is delivered")
    flows_again(ck, c, a, sink, time.time(), "... and what it collects now reaches the receiver")


def step_sigstop(ck, c, a, sink):
    main = a.main_pid()
    pids = list(a.worker_pids().values())
    cur = a.cursor()
    c.sh(f"kill -STOP {main}")
    back = wait_for(lambda: a.main_pid() not in (0, main) and a.running(), 120, 1)
    j = a.journal(cur)
    ck.ok(bool(back) and "Watchdog timeout" in j,
          "SIGSTOP of the supervisor: the watchdog kills it and systemd restarts it", j[-600:])
    ck.ok(not a.tree_alive(pids + [main]), "... the old tree is gone", str(a.tree_alive(pids)))
    ck.ok(bool(wait_for(a.all_ready, 60)), "... and the new tree is ready")
    flows_again(ck, c, a, sink, time.time(), "... and what it collects reaches the receiver")


def flows_again(ck, c, a, sink, t, name):
    """cycles collected after t reach the receiver (it is up)"""
    got = wait_for(lambda: len([x for x in sink.cycles() if x > t]) >= 3, 45, 1)
    if not ck.ok(bool(got), name, "nothing collected after the restart arrived"):
        log("# tfoctl status:\n" + c.out("tfoctl status", check=False))


def step_stop_drains(ck, c, a, sink):
    wait_for(a.all_ready, 30)
    time.sleep(4)
    cur = a.cursor()
    t = time.time()
    r = c.sh(f"systemctl stop {UNIT}", check=False, timeout=180)
    took = time.time() - t
    s = a.show("ActiveState", "Result", "TimeoutStopUSec", "ExecMainStatus")
    limit = 60.0
    m = re.match(r"(?:(\d+)min ?)?(?:(\d+)s)?$", s.get("TimeoutStopUSec", ""))
    if m and (m.group(1) or m.group(2)):
        limit = int(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    ck.ok(r.returncode == 0 and s["ActiveState"] == "inactive" and s["Result"] == "success" and
          took < limit, f"systemctl stop ends cleanly within TimeoutStopSec ({limit:.0f} s)",
          f"took {took:.1f} s, {s}")
    j = a.journal(cur)
    ck.ok("timed out" not in j and "Killing process" not in j, "... without SIGKILL from systemd",
          j[-600:])
    last = max(sink.cycles() or [0])
    ck.ok(last >= t - 1.6, "systemctl stop drains: every cycle collected before the stop "
          "reached the receiver (issue 16)", f"last cycle {t - last:.1f} s before the stop")
    c.sh(f"systemctl start {UNIT}")
    ck.must(bool(wait_for(a.all_ready, 60)), "started again")


def step_upgrade(ck, c, a, sink, deb_in, new_ver):
    aid = a.agent_id()
    cfg = c.read(CFG)
    t_down, q = outage(a, sink, 8)
    main = a.main_pid()
    cur = a.cursor()
    r = c.sh(f"dpkg -i {deb_in}", check=False, timeout=300)
    t_up = time.time()
    ck.ok(r.returncode == 0, f"upgrade to {new_ver} with dpkg -i", r.stdout + r.stderr)
    ck.ok(c.out("dpkg-query -W -f='${Version}' tfo-agent") == new_ver, "... the new version is installed")
    ck.ok(bool(wait_for(lambda: a.main_pid() not in (0, main) and a.running() and a.all_ready(),
                        60)), "... the service was restarted and runs")
    ck.ok(a.agent_id() == aid, "... the agent id is kept")
    ck.ok(c.read(CFG) == cfg and c.out(f"stat -c %a {CFG}") == "600", "... the edited config is kept")
    q2 = reopened(a, cur)
    ck.ok(q is not None and q > 0 and q2 is not None and q2 >= q, "... the queue is kept",
          f"{q} before, {q2} after")
    # the old tree collected until the upgrade stopped it (SIGTERM), and dpkg
    # may take seconds after that to return: the window ends at the stop
    t_end = t_up - 2
    try:
        mono = int(a.show("ActiveExitTimestampMonotonic")["ActiveExitTimestampMonotonic"])
        if mono > 0:
            t_end = min(t_end, time.time() - (time.monotonic() - mono / 1e6) - 1)
    except (KeyError, ValueError):
        pass
    outage_delivered(ck, sink, t_down, t_end, "... and what was queued before it is delivered")


def step_hardening(ck, a):
    j = a.journal()
    bad = [ln for ln in j.splitlines() if HARDENING_WORDS.search(ln)]
    ck.ok(not bad, "no SIGSYS or EPERM in the unit's journal", "\n".join(bad[:10]))


def step_purge(ck, c, a, before):
    r = c.sh("dpkg --purge tfo-agent", check=False, timeout=300)
    ck.ok(r.returncode == 0, "dpkg --purge", r.stdout + r.stderr)
    ck.ok(c.sh("pgrep -f '(^|/)tfo-(supervisor|system|process|logs|buffer|exporter|heartbeat)'",
               check=False).returncode == 1, "no agent process left")
    ck.ok(c.sh(f"systemctl cat {UNIT}", check=False).returncode != 0, "the unit is gone")
    left = sorted(snapshot(c) - before)
    ck.ok(not left, "purge leaves no file behind", "\n".join(left[:20]))
    named = c.out("find / -xdev \\( -path /proc -o -path /root -o -path /var/log \\) -prune -o "
                  "-name '*tfo*' -print", check=False)
    ck.ok(not named, "no path named *tfo* anywhere", named)
    ck.ok(not any(os.path.exists(c.path(p)) for p in (STATE, "/etc/tfo-agent", "/run/tfo-agent")),
          "state, config and runtime dirs removed")


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deb", required=True)
    ap.add_argument("--sink", required=True, help="tools/tfo-sink binary (release build)")
    ap.add_argument("--cache", required=True, help="where the debootstrap root is kept")
    ap.add_argument("--hold", type=int, default=120, help="seconds the watchdog must hold")
    ap.add_argument("--keep", action="store_true", help="keep the overlay for a look")
    args = ap.parse_args()

    why = host_can_run(args)
    if why:
        log(f"test-systemd: SKIPPED: {why}")
        return SKIP
    ck = Checks()
    t_start = time.monotonic()
    step_lintian(ck, args.deb)
    root = ensure_root(args.cache, runtime_packages(args.deb, args.sink))
    new_deb, new_ver = newer_deb(args.deb, args.cache)
    ver = deb_field(args.deb, "Version")
    c = Container(root, os.path.join(args.cache, "run"))
    try:
        c.mount()
        c.boot()
        log(f"# container up: PID 1 is {c.pid1} on the host")
        a = Agent(c)
        shutil.copy(args.deb, c.path("/root/old.deb"))
        shutil.copy(new_deb, c.path("/root/new.deb"))
        sink = Sink(c, args.sink)
        before = snapshot(c)
        step_install(ck, c, a, "/root/old.deb", ver)
        t0 = time.monotonic()
        step_started(ck, c, a)
        main_pid = a.main_pid()
        step_security(ck, c)
        step_reload(ck, c, a, sink, main_pid)
        step_worker_kill(ck, c, a, main_pid)
        step_watchdog_holds(ck, c, a, main_pid, t0, args.hold)
        step_idle_looks(ck, a)
        step_supervisor_kill9(ck, c, a, sink)
        step_sigstop(ck, c, a, sink)
        step_stop_drains(ck, c, a, sink)
        step_upgrade(ck, c, a, sink, "/root/new.deb", new_ver)
        step_hardening(ck, a)
        sink.stop()
        step_purge(ck, c, a, before)
    except Failed as e:
        log(f"# stopped: {e}")
        if not ck.failed:
            ck.failed.append(str(e))
    except subprocess.TimeoutExpired as e:
        ck.failed.append(f"timeout: {e}")
        log(f"FAIL - timeout: {e}")
    finally:
        if c.pid1:
            j = c.out(f"journalctl -u {UNIT} --no-pager -o short-precise", check=False)
            with open(os.path.join(args.cache, "journal.log"), "w") as f:
                f.write(j)
        c.shutdown(args.keep)
    log(f"# {time.monotonic() - t_start:.0f} s; the unit's journal: {args.cache}/journal.log")
    log(f"test-systemd: {ck.passed} passed, {len(ck.failed)} failed")
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
