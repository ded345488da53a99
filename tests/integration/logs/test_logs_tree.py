#!/usr/bin/env python3
"""test_logs_tree.py BINDIR CASE - tfo-logs through the whole tree, as root:
tfo-supervisor with tfo-logs, tfo-buffer and tfo-exporter, and tools/tfo-sink
--strict-utf8 as the far end (a request with a string that is not UTF-8 is
refused, as protobuf-go refuses it). Each case writes numbered lines and
checks at tfo-sink that every line arrived exactly once (docs/logs.md).

Cases:
  utf8_name   a file called caf\\xe9.log: its records arrive, log.file.name
              and log.file.path carry U+FFFD for the raw byte (issue 25 §4)
  copytruncate_glob, copytruncate_live
              a writer at 2000 lines/s, logrotate's copytruncate every 5 s
              (older copies shifted, copy, then truncate), with paths
              [app.log*] (the copies match too) and [app.log]: every line
              exactly once but those of logrotate's own race (issue 25 §2)
  many_files, many_files_capped
              2,000 matched files, 3 lines each, then one more line in each
              while followed: every line of every file exactly once, with the
              default open-file limit (from RLIMIT_NOFILE; before, 512 and the
              rest never read) and with max_open_files: 100 (files at their end
              take turns) (issue 25 §3)
  restart_h0, restart_h300, restart_h4000
              the agent stopped (SIGTERM) and started again on the same state
              dir while its file is grown, truncated (shorter than the stored
              offset), rewritten in place (longer, same inode), replaced (unlink
              + create) and rotated (rename + create, late lines to the old
              one); every file starts with 0, 300 or 4,000 identical header
              bytes: every line read once (issues 23 §3, 25 §1)
  links       as throw-away ordinary users (made and removed here): a user's
              symlink, in their own watched dir, to another user's 0600 file,
              and a hard link to it, are not shipped; a root-owned link into a
              collectors.logs.link_target_dirs directory is read (Landlock lets
              it through); a root-owned link elsewhere is refused; each refusal
              logged once and counted in tfoctl status (issue 24 §3)
"""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logs_tree import (Tally, Sink, Agent, ROLES, tree_yaml, indent, lines,  # noqa: E402
                       append, check, wait_for, Fail, Writer, copytruncate)
from tfo_e2e import require_root_and_users, run_case  # noqa: E402


class Tree:
    """One temp dir: logs/ (0755) for the files, the agent's dirs, the sink's out."""

    def __init__(self, bindir, name):
        self.bindir = bindir
        self.tmp = tempfile.mkdtemp(prefix="tfo-logs-%s-" % name)
        os.chmod(self.tmp, 0o755)
        self.logdir = os.path.join(self.tmp, "logs")
        os.mkdir(self.logdir)
        os.chmod(self.logdir, 0o755)
        self.out = os.path.join(self.tmp, "sink.jsonl")
        self.sink = Sink(bindir, self.out, log=os.path.join(self.tmp, "sink.log"),
                         strict_utf8=True)
        self.tally = Tally(self.out)
        self.agent = None

    def start(self, logs_yaml):
        if self.agent is None:
            self.agent = Agent(self.bindir, tree_yaml(self.sink.port, indent(logs_yaml)),
                               root=os.path.join(self.tmp, "agent"))
        self.agent.start()
        self.agent.wait_ready(ROLES)
        return self.agent

    def wait_lines(self, expect, timeout=60):
        try:
            wait_for(lambda: self.tally.has_all(expect), "every line at tfo-sink", timeout, 0.2)
        except Fail as e:
            raise Fail("%s (%d lines in, requests refused: %s)" %
                       (e, len(self.tally.count), self.tally.refused[:3]))

    def stats(self, pred, what):
        """tfo-logs' stats once a health ping carried ones that satisfy pred"""
        return self.agent.wait(lambda s: pred(s["logs"]["stats"]), what)["logs"]["stats"]

    def close(self):
        if self.agent is not None:
            self.agent.cleanup()
        self.sink.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def case_utf8_name(t):
    path = os.path.join(t.logdir.encode(), b"caf\xe9.log")
    append(path, lines("cafe", 0, 50))
    t.start("paths: [%s/*.log]\nstart_at: beginning\n" % t.logdir)
    t.wait_lines({"cafe": range(50)}, timeout=30)
    t.tally.check_exact({"cafe": range(50)})
    attrs = t.tally.attrs[("cafe", 0)]
    check(attrs.get("log.file.name") == "caf\ufffd.log",
          "log.file.name %r" % attrs.get("log.file.name"))
    check(attrs.get("log.file.path") == t.logdir + "/caf\ufffd.log",
          "log.file.path %r" % attrs.get("log.file.path"))


ROTATIONS = int(os.environ.get("TFO_LOGS_ROTATIONS", "4"))


def copytruncate_case(t, glob):
    app = os.path.join(t.logdir, "app.log")
    w = Writer(app, "ct", 2000)
    t.start("paths: [%s]\nstart_at: beginning\nrescan_interval: 1s\n" %
            os.path.join(t.logdir, glob))
    w.start()
    risk = set()
    for _ in range(ROTATIONS):
        time.sleep(5)
        risk |= set(copytruncate(w))
    time.sleep(2)
    n = w.finish()
    want = {"ct": [i for i in range(n) if i not in risk]}
    t.wait_lines(want, timeout=60)
    time.sleep(1)               # duplicates, if any, arrive with the rest
    t.tally.update()
    print("%d lines, %d rotations, %d lines in logrotate's race" % (n, ROTATIONS, len(risk)))
    t.tally.check_exact({"ct": range(n)}, may_miss={"ct": risk}, may_repeat={"ct": risk})


def many_files_case(t, cap):
    nfiles = 2000
    for i in range(nfiles):
        append(os.path.join(t.logdir, "f%04d.log" % i), lines("f%04d" % i, 0, 3))
    t.start("paths: [%s/f*.log]\nstart_at: beginning\n%s" %
            (t.logdir, "max_open_files: %d\n" % cap if cap else ""))
    t.wait_lines({"f%04d" % i: range(3) for i in range(nfiles)}, timeout=120)
    for i in range(nfiles):
        append(os.path.join(t.logdir, "f%04d.log" % i), lines("f%04d" % i, 3, 4))
    t.wait_lines({"f%04d" % i: range(4) for i in range(nfiles)}, timeout=120)
    time.sleep(1)
    t.tally.update()
    t.tally.check_exact({"f%04d" % i: range(4) for i in range(nfiles)})
    st = t.stats(lambda s: s.get("logs.lines", 0) >= 4 * nfiles,
                 "tfo-logs' stats after the last line")
    print("logs stats: %s" % {k: v for k, v in st.items() if k.startswith("logs.")})
    if cap:
        check(st["logs.max_open_files"] == cap and st["logs.files_skipped"] >= nfiles - cap and
              st["logs.files_open"] <= cap, "the cap held and was counted: %s" % st)
    else:
        check(st["logs.max_open_files"] >= nfiles and st["logs.files_skipped"] == 0,
              "the default limit fits 2000 files: %s" % st)
    check(st["logs.files_waiting"] == 0 and st["logs.bytes_behind"] == 0,
          "nothing left behind: %s" % st)


def header(path, h):
    """h identical bytes at the start of every file: lines "H <n> ..." of
    100 bytes (the last one shorter), the same in every file"""
    out, n = b"", 0
    while len(out) < h:
        ln = ("H %08d %s" % (n, "-" * 100))[:min(100, h - len(out)) - 1] + "\n"
        out += ln.encode()
        n += 1
    append(path, out)
    return n


def restart_case(t, h, stopped=True):
    app = os.path.join(t.logdir, "app.log")
    old = app + ".1"
    heads = 0                   # header copies written: each must arrive once
    want = {}

    def lines_to(path, tag, a, b):
        append(path, lines(tag, a, b))
        want.setdefault(tag, set()).update(range(a, b))

    cfg = "paths: [%s]\nstart_at: beginning\n" % app
    t.start(cfg)
    for ev in ("grown", "truncated", "rewritten", "replaced", "rotated"):
        for p in (app, old):
            if os.path.exists(p):
                os.unlink(p)
        nh = header(app, h)
        heads += 1
        lines_to(app, ev, 0, 100)
        t.wait_lines({ev: range(100)})
        if stopped:
            check(t.agent.stop() == 0, "supervisor exit status")
        if ev == "grown":
            lines_to(app, ev, 100, 150)
        elif ev in ("truncated", "rewritten"):
            os.truncate(app, 0)
            header(app, h)
            heads += 1
            lines_to(app, ev, 100, 110 if ev == "truncated" else 220)
        elif ev == "replaced":
            os.unlink(app)
            header(app, h)
            heads += 1
            lines_to(app, ev, 100, 220)
        else:
            os.rename(app, old)
            lines_to(old, ev, 100, 150)
            header(app, h)
            heads += 1
            lines_to(app, ev, 150, 270)
        if stopped:
            t.start(cfg)
        t.wait_lines({ev: want[ev]})
    time.sleep(1)
    t.tally.update()
    t.tally.check_exact(want)
    got = sum(c for (tag, _), c in t.tally.count.items() if tag == "H")
    print("header: %d bytes, %d lines per file, %d copies written, %d header records "
          "received" % (h, nh, heads, got))
    check(got == heads * nh, "header lines: %d received, %d written" % (got, heads * nh))


class Users:
    """Throw-away system users, removed at the end whatever happened."""

    def __init__(self):
        self.names = []

    def add(self, tag):
        name = "tfolk%s%d" % (tag, os.getpid() % 100000)
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", name], check=True, capture_output=True)
        self.names.append(name)
        return pwd.getpwnam(name)

    def remove(self):
        for n in self.names:
            subprocess.run(["userdel", n], capture_output=True)


def as_user(pw, *argv):
    return subprocess.run(list(argv), user=pw.pw_uid, group=pw.pw_gid, capture_output=True)


def links_case(t):
    users = Users()
    try:
        links_body(t, users)
    finally:
        users.remove()


def links_body(t, users):
    a, v = users.add("a"), users.add("v")
    base = t.tmp
    home, pods, other = (os.path.join(base, d) for d in ("home", "pods", "other"))
    cont = os.path.join(base, "containers")
    for d in (home, pods, other, cont, os.path.join(pods, "p1")):
        os.makedirs(d)
        os.chmod(d, 0o755)
    adir, vdir = os.path.join(home, "a"), os.path.join(home, "v")
    for d, pw, mode in ((adir, a, 0o755), (os.path.join(adir, "logs"), a, 0o755), (vdir, v, 0o700)):
        os.mkdir(d)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(d, mode)
    secret = os.path.join(vdir, "secret.log")
    append(secret, lines("secret", 0, 10), 0o600)
    os.chown(secret, v.pw_uid, v.pw_gid)
    alogs = os.path.join(adir, "logs")
    check(as_user(a, "sh", "-c", "umask 022; printf '%%s' \"$0\" > %s/own.log" % alogs,
                  lines("own", 0, 10).decode()).returncode == 0, "user a writes own.log")
    check(as_user(a, "ln", "-s", secret, os.path.join(alogs, "steal.log")).returncode == 0,
          "user a plants a symlink")
    r = as_user(a, "ln", secret, os.path.join(alogs, "hard.log"))
    if r.returncode != 0:
        # fs.protected_hardlinks=1 stops the user; made as root, as on a system without it
        print("hard link as the user refused (%s): made as root" % r.stderr.decode().strip())
        os.link(secret, os.path.join(alogs, "hard.log"))
    pod = os.path.join(pods, "p1", "0.log")
    append(pod, lines("pod", 0, 10), 0o640)
    os.symlink(pod, os.path.join(cont, "p1.log"))              # root's, as the kubelet's
    elsewhere = os.path.join(other, "y.log")
    append(elsewhere, lines("elsewhere", 0, 10), 0o640)
    os.symlink(elsewhere, os.path.join(cont, "y.log"))         # root's, not configured
    t.start("paths: [%s/*/logs/*.log, %s/*.log]\nstart_at: beginning\nrescan_interval: 1s\n"
            "link_target_dirs: [%s]\n" % (home, cont, pods))
    t.wait_lines({"own": range(10), "pod": range(10)}, timeout=30)
    append(pod, lines("pod", 10, 20))      # the target lives outside the watched dir: polled
    t.wait_lines({"pod": range(20)}, timeout=30)
    time.sleep(3)                          # a few rescans: each refusal is logged once
    t.tally.update()
    check(not t.tally.seen("secret"), "the victim's lines were shipped: %s" % t.tally.seen("secret"))
    check(not t.tally.seen("elsewhere"), "a link outside the configured dirs was read")
    t.tally.check_exact({"own": range(10), "pod": range(20)})
    st = t.stats(lambda s: s.get("logs.lines", 0) >= 30, "tfo-logs' stats after the last line")
    errs = {k: v for k, v in st.items() if k.startswith("logs.open_errors.")}
    print("open errors: %s" % errs)
    check(errs.get("logs.open_errors.link_owner") == 1 and errs.get("logs.open_errors.hardlink") == 1
          and errs.get("logs.open_errors.outside_dirs") == 1, "refusals counted once each")
    log = t.agent.logtext()
    for name in ("steal.log", "hard.log", "y.log"):
        n = sum(1 for ln in log.splitlines() if name in ln and "is not read" in ln)
        check(n == 1, "%s: %d refusal lines (want 1)" % (name, n))


CASES = {
    "utf8_name": case_utf8_name,
    "copytruncate_glob": lambda t: copytruncate_case(t, "app.log*"),
    "copytruncate_live": lambda t: copytruncate_case(t, "app.log"),
    "many_files": lambda t: many_files_case(t, 0),
    "many_files_capped": lambda t: many_files_case(t, 100),
    "restart_h0": lambda t: restart_case(t, 0),
    "restart_h300": lambda t: restart_case(t, 300),
    "restart_h4000": lambda t: restart_case(t, 4000),
    "running_h0": lambda t: restart_case(t, 0, False),
    "running_h300": lambda t: restart_case(t, 300, False),
    "running_h4000": lambda t: restart_case(t, 4000, False),
    "links": links_case,
}


def main():
    bindir, name = sys.argv[1], sys.argv[2]
    require_root_and_users()
    t = Tree(bindir, name)
    holder = [None]

    def body():
        holder[0] = t.agent
        try:
            CASES[name](t)
        finally:
            holder[0] = t.agent
    rc = run_case(body, holder)
    t.close()
    if rc == 0:
        print("ok logs tree %s" % name)
    return rc


if __name__ == "__main__":
    sys.exit(main())
