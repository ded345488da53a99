#!/usr/bin/env python3
"""test_paths.py - the root supervisor's trust in paths and in itself (issue 24
§2 and §4, issue 17 §3), played as the attacker would: a throw-away ordinary
user (created here, removed at the end) plants links, owns the config, owns a
directory on a configured path or a worker executable; a file name forges log
lines. Usage: test_paths.py BINDIR CASE (root; test builds: tfo-testworker in
the role slots). Each attack must fail AND leave its victim untouched."""
import grp
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_supervisor import (ROLES, Agent, Fail, check, run_named,  # noqa: E402
                             require_root_and_users)

SOCKET_ROLES = ["system", "process", "buffer", "exporter", "heartbeat"]   # logs is off


class Mallory:
    """A throw-away ordinary user, removed on exit."""

    def __init__(self):
        self.name = f"tfot-mal{os.getpid() % 100000}"
        subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--user-group", self.name],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    def run(self, *cmd, **kw):
        """cmd as this user (no groups of ours)."""
        return subprocess.run(["setpriv", "--reuid", self.name, "--regid", self.name,
                               "--clear-groups"] + list(cmd), capture_output=True, text=True,
                              **kw)

    def remove(self):
        subprocess.run(["userdel", self.name], capture_output=True)
        try:
            grp.getgrnam(self.name)
            subprocess.run(["groupdel", self.name], capture_output=True)
        except KeyError:
            pass


def config(a, state, run, extra=""):
    a.run, a.sock = run, os.path.join(run, "control.ipc")
    with open(a.cfg, "w") as f:
        f.write(f"""agent:
  state_dir: {state}
  runtime_dir: {run}
{extra}exporter:
  shutdown_drain: 1s
supervisor:
  ping_interval: 200ms
  hung_timeout: 1s
""")


def start_refused(a, want, timeout=20):
    """The supervisor must exit non-zero without starting, saying `want`."""
    a.start()
    try:
        rc = a.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail(f"supervisor kept running; expected a refusal saying {want!r}")
    log = a.logtext()
    check(rc != 0, f"supervisor exit status {rc}")
    check(want in log, f"refusal does not say {want!r}:\n{log}")
    check("started pid" not in log, f"a worker was started:\n{log}")
    return log


def check_says(a, want, ok=False):
    """--check and tfoctl config validate say the same thing."""
    sup = os.path.join(a.bindir, "tfo-supervisor")
    p = subprocess.run([sup, "--check", "--config", a.cfg], capture_output=True, text=True)
    check((p.returncode == 0) == ok and want in p.stdout + p.stderr,
          f"--check rc={p.returncode}, lacks {want!r}: {p.stdout}{p.stderr}")
    rc, out, err = a.tfoctl("config", "validate", a.cfg)
    check((rc == 0) == ok and want in out + err,
          f"tfoctl config validate rc={rc}, lacks {want!r}: {out}{err}")


def all_ready(a):
    """Every enabled role ready (collectors.logs is off in these configs)."""
    return a.wait(lambda s: all(s[r]["state"] == "ready" for r in ROLES if r != "logs"),
                  "all enabled roles ready")


def snap(path):
    st = os.lstat(path)
    return (st.st_mode, st.st_uid, st.st_gid)


def plant(a, m, where):
    """As the user, in `where`: run -> a root-only dir, buffer -> a root-only
    file; the config points runtime_dir and buffer.path there. Returns a
    function giving the victims' (mode, uid, gid) now."""
    vd = os.path.join(a.dir, "victim-dir")
    vf = os.path.join(a.dir, "victim-file")
    os.mkdir(vd, 0o700)
    with open(vf, "w") as f:
        f.write("root only\n")
    os.chmod(vf, 0o600)
    for target, name in ((vd, "run"), (vf, "buffer")):
        p = m.run("ln", "-s", target, os.path.join(where, name))
        check(p.returncode == 0, f"ln as {m.name}: {p.stderr}")
    config(a, a.state, os.path.join(where, "run"), f"buffer:\n  path: {where}/buffer\n")
    return lambda: (snap(vd), snap(vf))


# ---------------------------------------------------------------- issue 24 §2

def case_links_user_dir(a, m):
    """runtime_dir and buffer.path under a directory the user owns, holding
    run -> root-only dir and buffer -> root-only file."""
    home = os.path.join(a.dir, "home")
    os.mkdir(home, 0o755)
    os.chown(home, m.uid, m.gid)
    victims = plant(a, m, home)
    before = victims()
    want = f"{home} (0755 {m.name}:{m.name}) is not owned by root"
    start_refused(a, f"agent.runtime_dir: {home}/run: {want}")
    check(f"buffer.path: {home}/buffer: {want}" in a.logtext(), "buffer.path not named")
    check(victims() == before, f"victim changed: {before} -> {victims()}")
    check_says(a, want)


def case_links_sticky(a, m):
    """The same links planted in a root-owned sticky directory (as /tmp): the
    directory is safe, the user's links in it are not followed."""
    tmp = os.path.join(a.dir, "tmp")
    os.mkdir(tmp)
    os.chmod(tmp, 0o1777)
    victims = plant(a, m, tmp)
    before = victims()
    want = f"{tmp}/run is a symlink owned by {m.name}: not followed"
    start_refused(a, want)
    check(f"{tmp}/buffer is a symlink owned by {m.name}: not followed" in a.logtext(),
          "the buffer link is not named")
    check(victims() == before, f"victim changed: {before} -> {victims()}")
    check_says(a, want)
    # the supervisor's own directories in that sticky dir are fine, and made
    # with the owner and mode of docs/security.md
    config(a, os.path.join(tmp, "state"), os.path.join(tmp, "run2"))
    a.start()
    all_ready(a)
    gid = grp.getgrnam("tfo-agent").gr_gid
    check(snap(os.path.join(tmp, "state")) == (stat.S_IFDIR | 0o750, 0, gid),
          f"state_dir {oct(snap(os.path.join(tmp, 'state'))[0])}")
    check(snap(os.path.join(tmp, "run2")) == (stat.S_IFDIR | 0o1771, 0, gid),
          f"runtime_dir {oct(snap(os.path.join(tmp, 'run2'))[0])}")


def case_user_config(a, m):
    """A config the user owns, or in a directory the user owns, or that group
    or others may write, is refused; the package's 0640 root:tfo-agent is not."""
    config(a, a.state, a.run)
    os.chmod(a.cfg, 0o644)
    want = f"refused: {a.cfg} (0644 {m.name}:{m.name}) is not owned by root"
    # handed to the user while running: a reload refuses it, the old one runs on
    a.start()
    all_ready(a)
    os.chown(a.cfg, m.uid, m.gid)
    rc, out, err = a.tfoctl("reload")
    check(rc == 1 and want in out + err, f"reload of a user's config: rc={rc} {out}{err}")
    all_ready(a)
    check(a.proc.poll() is None, "the supervisor stopped")
    a.stop()
    start_refused(a, want)
    check_says(a, want)
    os.chown(a.cfg, 0, 0)
    os.chmod(a.cfg, 0o664)
    check_says(a, f"{a.cfg} (0664 root:root) is writable by group or other")
    os.chown(a.cfg, 0, grp.getgrnam("tfo-agent").gr_gid)
    os.chmod(a.cfg, 0o640)
    check_says(a, ": ok: ", ok=True)
    # the file is root's but the directory holding it is the user's
    etc = os.path.join(a.dir, "etc")
    os.mkdir(etc, 0o755)
    os.chown(etc, m.uid, m.gid)
    moved = os.path.join(etc, "tfo-agent.yaml")
    shutil.copy(a.cfg, moved)
    a.cfg = moved
    check_says(a, f"{etc} (0755 {m.name}:{m.name}) is not owned by root")
    start_refused(a, f"{etc} (0755 {m.name}:{m.name}) is not owned by root")


# ---------------------------------------------------------------- issue 17 §3

def case_reach(a, m):
    """Paths inside a 0700 root directory: one line per role user and path,
    before anything is spawned; --check and tfoctl say the same; nothing is
    made by a check. A state dir root made 0700 is fixed at start."""
    srv = os.path.join(a.dir, "srv")
    os.mkdir(srv, 0o700)
    config(a, f"{srv}/state", f"{srv}/run")
    lines = [f"agent.runtime_dir: {srv}/run: user tfo-{r} cannot search {srv} (0700 root:root)"
             for r in SOCKET_ROLES]
    # buffer.path is <state_dir>/buffer here: told at the key the file sets
    lines.append(f"agent.state_dir: {srv}/state/buffer: user tfo-buffer cannot search {srv} "
                 f"(0700 root:root)")
    for want in lines:
        check_says(a, want)
    check(os.listdir(srv) == [], f"a check made something: {os.listdir(srv)}")
    log = start_refused(a, lines[0])
    for want in lines:
        check(want in log, f"start does not say {want!r}")
    check(sum("cannot search" in ln for ln in log.splitlines()) == len(lines),
          f"one line per problem:\n{log}")
    check(os.listdir(srv) == [], f"a refused start made something: {os.listdir(srv)}")
    os.chmod(srv, 0o711)
    check_says(a, ": ok: ", ok=True)
    # buffer.path written elsewhere, under a directory only root may search
    lim = os.path.join(a.dir, "lim")
    os.mkdir(lim, 0o750)
    config(a, f"{srv}/state", f"{srv}/run", f"buffer:\n  path: {lim}/q\n")
    check_says(a, f"tfo-agent.yaml:5:3: buffer.path: {lim}/q: user tfo-buffer cannot search "
               f"{lim} (0750 root:root)")
    config(a, f"{srv}/state", f"{srv}/run")
    # a state dir that exists 0700 root:root: the start gives it 0750 root:tfo-agent,
    # so neither the check nor the start refuses it, and tfo-buffer reaches its dir
    os.mkdir(f"{srv}/state", 0o700)
    check_says(a, ": ok: ", ok=True)
    a.start()
    all_ready(a)
    gid = grp.getgrnam("tfo-agent").gr_gid
    check(snap(f"{srv}/state") == (stat.S_IFDIR | 0o750, 0, gid), "state_dir not fixed")


def case_reach_dev_mode(a, m):
    """The unprivileged dev mode (the user runs the supervisor): paths the user
    owns are trusted; the supervisor itself is not dumpable, has no core limit
    and umask 077 (issue 24 §4): the same user cannot read its environment."""
    home = os.path.join(a.dir, "dev")
    os.mkdir(home, 0o755)
    os.chown(home, m.uid, m.gid)
    os.mkdir(f"{home}/state", 0o700)      # the user's own, as it is kept
    os.chown(f"{home}/state", m.uid, m.gid)
    a.cfg = os.path.join(home, "tfo-agent.yaml")
    config(a, f"{home}/state", f"{home}/run")
    os.chown(a.cfg, m.uid, m.gid)
    a.start(wrap=["setpriv", "--reuid", m.name, "--regid", m.name, "--clear-groups"])
    end = time.monotonic() + 20
    while "started pid" not in a.logtext():
        check(a.proc.poll() is None and time.monotonic() < end,
              f"dev-mode supervisor did not start:\n{a.logtext()}")
        time.sleep(0.05)
    pid = a.proc.pid
    p = m.run("cat", f"/proc/{pid}/environ")
    check(p.returncode != 0 and "Permission denied" in p.stderr,
          f"{m.name} read its own supervisor's environment: rc={p.returncode}")
    check(os.stat(f"/proc/{pid}/environ").st_uid == 0, "/proc/<pid> not root's: dumpable")
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    check("\nUmask:\t0077\n" in status, "umask is not 077")
    with open(f"/proc/{pid}/limits") as f:
        core = [ln for ln in f if ln.startswith("Max core file size")][0].split()
    check(core[4:6] == ["0", "0"], f"core limit {core}")
    # the user's own paths were trusted and made for the user
    check(snap(f"{home}/run")[1] == m.uid, "runtime dir not the dev user's")
    a.proc.send_signal(signal.SIGTERM)
    a.proc.wait(timeout=30)


# ---------------------------------------------------------------- issue 24 §4

def case_worker_binary(a, m):
    """A worker executable, or a directory above it, that is not root's or
    that group/other may write is refused before anything runs."""
    config(a, a.state, a.run)
    lib = os.path.join(a.dir, "libexec")
    os.mkdir(lib, 0o755)
    exe = os.path.join(lib, "tfo-system")
    shutil.copy(os.path.join(a.bindir, "tfo-testworker"), exe)
    a.env_extra = {"TFO_WORKER_SYSTEM": exe}
    os.chmod(exe, 0o775)
    start_refused(a, f"system: refusing the worker executable: {exe} (0775 root:root) "
                  f"is writable by group or other")
    os.chmod(exe, 0o755)
    os.chown(exe, m.uid, m.gid)
    start_refused(a, f"{exe} (0755 {m.name}:{m.name}) is not owned by root")
    os.chown(exe, 0, 0)
    os.chown(lib, m.uid, m.gid)
    start_refused(a, f"{lib} (0755 {m.name}:{m.name}) is not owned by root")
    os.chown(lib, 0, 0)
    a.start()
    all_ready(a)


def case_log_forgery(a, m):
    """A file name with a newline and an ESC sequence cannot forge a line in
    the supervisor's log: it is escaped once, in the logger, in both formats."""
    forged = "2026-01-01T00:00:00.000Z supervisor[1] error: seccomp violation in exporter (pid 7)"
    name = os.path.join(a.dir, "x.yaml\n" + forged + "\x1b[2K")
    sup = os.path.join(a.bindir, "tfo-supervisor")
    # text: the error line about the missing file
    p = subprocess.run([sup, "--config", name], capture_output=True)
    out = p.stderr.decode("utf-8", "strict")
    check(p.returncode != 0, "started with a missing config")
    check(len(out.splitlines()) == 1, f"one event, one line:\n{out}")
    check(not any(ln.startswith("2026-01-01") for ln in out.splitlines()), f"forged:\n{out}")
    check("\x1b" not in out, "raw ESC in the log")
    check("x.yaml\\n2026-01-01T00:00:00.000Z supervisor[1] error: seccomp" in out and
          "\\x1b[2K" in out, f"not escaped:\n{out}")
    # json: a config at that very name, running: every line parses, the name
    # comes back whole from the JSON string
    a.cfg = name
    config(a, a.state, a.run, "logging:\n  format: json\n")
    a.start()
    all_ready(a)
    a.stop()
    lines = a.logtext().splitlines()
    check("\x1b" not in a.logtext(), "raw ESC in the JSON log")
    msgs = [json.loads(ln)["msg"] for ln in lines if ln.startswith("{")]
    check(any(name in msg for msg in msgs), f"the name is not in any message: {msgs[:5]}")
    check(all(ln.startswith("{") or not ln.startswith("2026-01-01") for ln in lines),
          "forged line in the JSON log")


CASES = {
    "links_user_dir": case_links_user_dir, "links_sticky": case_links_sticky,
    "user_config": case_user_config, "reach": case_reach, "dev_mode": case_reach_dev_mode,
    "worker_binary": case_worker_binary, "log_forgery": case_log_forgery,
}


def unreachable_by_others(path):
    """the first directory above path (or path) that a user neither owning it
    nor in its group cannot search, or None"""
    d = os.path.realpath(path)
    while True:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return d
        if d == "/":
            return None
        d = os.path.dirname(d)


def main():
    bindir, name = sys.argv[1], sys.argv[2]
    require_root_and_users()                # and a throw-away user
    # The dev mode runs the build tree's own supervisor as the throw-away
    # user: a checkout under a private directory (mktemp -d makes 0700) keeps
    # it from ever starting, which says nothing about the supervisor.
    shut = unreachable_by_others(bindir) if name == "dev_mode" else None
    if shut is not None:
        print(f"SKIP dev_mode: a user other than {pwd.getpwuid(os.stat(shut).st_uid).pw_name} "
              f"cannot search {shut} ({stat.S_IMODE(os.stat(shut).st_mode):04o}), above "
              f"the build tree's executables: clone where other users can reach")
        return 77                           # ctest SKIP_RETURN_CODE
    a = Agent(bindir)
    os.chmod(a.dir, 0o755)     # the throw-away user reaches its own corner
    m = Mallory()
    return run_named(name, lambda: CASES[name](a, m), [a], 4000, m.remove)


if __name__ == "__main__":
    sys.exit(main())
