#!/usr/bin/env python3
"""test_upgrade.py BINDIR - the installed binaries replaced while the tree
runs under load, as a package upgrade does it, as root (test builds: the
workers are taken from TFO_WORKER_DIR).

The tree (tfo-system 1 s, tfo-logs following a file a writer appends
numbered lines to, tfo-buffer, tfo-exporter to tools/tfo-sink,
tfo-heartbeat) runs from a copy of BINDIR, root's, 0755, in a 0755 dir.
Then, as dpkg unpacks: every executable is written anew as
<name>.dpkg-new (the same build with a trailer, so its bytes differ, as a
rebuild's do), and renamed over the old one. Then kill -9 of tfo-logs and
of tfo-exporter: the supervisor respawns each from the new file (its exe is
the new inode; the executable trust rule, docs/security.md, accepts a file
replaced by root's rename and refuses nothing). Then SIGTERM and a start, as
the package's `systemctl restart`: every worker runs the new files, the
supervisor exits 0, nothing is refused or fatal in its log. Every line
written arrives; duplicates only from the exporter's kill -9, at most
exporter.max_in_flight runs of lines (docs/exporter.md "Duplicates")."""
import os
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (check, require_root_and_users, Sink, Agent, Tally, Writer,  # noqa: E402
                     wait_for, run_named, ranges, sink_yaml, yaml_of, follow, numbered, touch,
                     tree_dirs, nruns, OFF)

ROLES = ["system", "logs", "buffer", "exporter", "heartbeat"]
MAX_IN_FLIGHT = 2
EXES = ["tfo-supervisor", "tfoctl", "tfo-system", "tfo-process", "tfo-procpriv", "tfo-logs",
        "tfo-buffer", "tfo-exporter", "tfo-heartbeat"]


def install(src, dst, trailer=b""):
    """src copied to dst the way dpkg does: dst.dpkg-new written and synced,
    then renamed over dst."""
    tmp = dst + ".dpkg-new"
    with open(src, "rb") as f:
        data = f.read()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, 0o755)
    try:
        os.write(fd, data + trailer)
        os.fchmod(fd, 0o755)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, dst)


def exe_ino(pid):
    return os.stat("/proc/%d/exe" % pid).st_ino


def main():
    bindir = sys.argv[1]
    require_root_and_users()
    tmp, app, out, sinklog = tree_dirs("tfo-upgrade-")
    inst = os.path.join(tmp, "bin")
    os.mkdir(inst)
    os.chmod(inst, 0o755)
    for e in EXES:
        install(os.path.join(bindir, e), os.path.join(inst, e))
    sink = Sink(bindir, out, log=sinklog)
    agent = Agent(inst, sink_yaml(sink.port, retry_max="500ms") + yaml_of({
        "heartbeat": {"interval": "10s", "timeout": "2s"},
        "collectors": {"system": {"interval": "1s"}, "process": OFF,
                       "logs": follow(app, batch_max_ms=50)},
        "exporter": {"flush_interval": "200ms", "max_in_flight": MAX_IN_FLIGHT,
                     "batch_max_bytes": "64KiB"},
        "supervisor": {"restart": {"backoff_max": "2s"}}}),
        root=os.path.join(tmp, "agent"))
    env = {"TFO_WORKER_DIR": inst}
    tally = Tally(out)
    notes = []
    t0 = time.monotonic()

    def note(what):
        notes.append("%6.1f s  %s (%d lines at the sink)" % (
            time.monotonic() - t0, what, len(tally.update().count)))

    def on_new(st, roles):
        """Each of roles runs the installed file as it is now."""
        for r in roles:
            want = os.stat(os.path.join(inst, "tfo-" + r)).st_ino
            check(exe_ino(st[r]["pid"]) == want,
                  "tfo-%s (pid %d) does not run the replaced file" % (r, st[r]["pid"]))

    def body():
        touch(app)
        w = Writer(app, 1000, numbered("upgrade"))
        w.start()
        agent.start(env=env)
        st = agent.wait_ready(ROLES, timeout=60)
        wait_for(lambda: len(tally.update().count) >= 1000, "lines at the sink", 30)
        note("flowing")
        old = {r: exe_ino(st[r]["pid"]) for r in ROLES}
        for e in EXES:
            install(os.path.join(bindir, e), os.path.join(inst, e), b"\0" * 4096 + b"upgrade\n")
        note("binaries replaced (write .dpkg-new, rename over)")
        for r in ROLES:
            check(os.stat(os.path.join(inst, "tfo-" + r)).st_ino != old[r],
                  "the replacement kept the inode")
        for r in ("logs", "exporter"):
            time.sleep(1.0)
            st = agent.kill9_role(r, ROLES)
            on_new(st, [r])
            note("kill -9 of tfo-%s: respawned from the new file" % r)
        # install(1) / a hand copy: the file missing for a moment, and a
        # respawn due in that moment: refused (not run), retried after
        # restart.backoff_max, not fatal
        hb = os.path.join(inst, "tfo-heartbeat")
        st = agent.wait_ready(ROLES)
        os.unlink(hb)
        os.kill(st["heartbeat"]["pid"], signal.SIGKILL)
        time.sleep(0.5)
        install(os.path.join(bindir, "tfo-heartbeat"), hb, b"\0" * 4096 + b"again\n")
        st = agent.wait(lambda t: t["heartbeat"]["state"] == "ready" and
                        t["heartbeat"]["pid"] not in (0, st["heartbeat"]["pid"]),
                        "tfo-heartbeat back after its file was missing at a respawn", 30)
        on_new(st, ["heartbeat"])
        note("tfo-heartbeat missing at its respawn: retried, back from the new file")
        time.sleep(1.0)
        rc = agent.stop()
        note("SIGTERM: exit %s" % rc)
        check(rc == 0, "supervisor exit status %s after SIGTERM" % rc)
        agent.start(env=env)
        st = agent.wait_ready(ROLES, timeout=60)
        on_new(st, ROLES)
        check(exe_ino(agent.proc.pid) == os.stat(os.path.join(inst, "tfo-supervisor")).st_ino,
              "the supervisor does not run the replaced file")
        note("started again: every worker runs the new files")
        time.sleep(2.0)
        n = w.finish()
        note("writer stopped at %d" % n)
        tally.wait_complete(n, 90, 0.3)
        time.sleep(1.0)           # a duplicate would come with the rest
        rc = agent.stop()
        tally.update()
        dup = tally.dups()
        print("lines written %d, received %d distinct, duplicated %d (%s)" %
              (n, len(tally.count), len(dup), ranges(dup)))
        check(all(k < n for k in tally.count), "line numbers beyond what was written")
        check(nruns(dup) <= MAX_IN_FLIGHT,
              "duplicates beyond the exporter's kill -9 window: %s" % ranges(dup))
        check(rc == 0, "supervisor exit status %s" % rc)
        log = agent.logtext()
        # supervisor/workers.c: the trust rule's refusal and the restart
        # limit; the heartbeat's missing file is expected to be refused once
        bad = [ln for ln in log.splitlines()
               if ("refusing the worker executable" in ln or ": fatal" in ln or
                   "is fatal" in ln or (" error: " in ln and "supervisor[" in ln))
               and "heartbeat: " not in ln]
        hb_refused = [ln for ln in log.splitlines() if "heartbeat: " in ln and
                      ("refusing the worker executable" in ln or "cannot start" in ln)]
        print("the supervisor on the missing tfo-heartbeat:\n%s" % "\n".join(hb_refused[:4]))
        # one line with the reason, not a second blaming a permission
        check(hb_refused and not any("Operation not permitted" in ln for ln in hb_refused),
              "the missing tfo-heartbeat's refusal: %s" % hb_refused[:4])
        check(not any("fatal" in ln for ln in log.splitlines() if "heartbeat" in ln),
              "tfo-heartbeat fatal after its file was missing at a respawn")
        check(not bad, "the supervisor refused or gave up on something:\n%s" % "\n".join(bad[:10]))

    def after():
        print("\n".join(notes))
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return run_named("upgrade", body, [agent], after=after)


if __name__ == "__main__":
    sys.exit(main())
