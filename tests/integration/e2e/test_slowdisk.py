#!/usr/bin/env python3
"""test_slowdisk.py BINDIR SLOWFS stall|stop|start - the whole tree with its state dir on
a disk that stalls (slowfs: a FUSE passthrough whose fsync/fdatasync sleeps as
long as a control file says), as root; exit 77 when FUSE cannot be mounted.

  stall  a writer appends numbered lines at 300 a second; then every sync
         takes 9 s for 20 s (the buffer's loop blocked in fdatasync far past
         supervisor.hung_timeout, 4 s here), then the disk heals.
  stop   the same stall, and a SIGTERM 6 s into it (what systemctl stop or
         restart does on a host whose disk hangs): the stop ends, bounded by
         its deadlines (the buffer's SIGKILL after its own), with exit status
         0; the disk heals and the agent starts again on the same state dir.
  start  the agent started on a disk whose every sync takes 6 s (the buffer
         opens its store, creating it, for longer than hung_timeout): no
         worker killed as hung; all ready; the disk heals; every line once.

The promise: a slow disk loses nothing and does not make the supervisor kill
the buffer (a restart blocks on the same disk, reopening the store adds to its
load, and a loop of them ends in `fatal`). So: the buffer keeps its pid and
has no restart, tfoctl status showed it as "disk-wait" and the summary named
the wait while it lasted, the log says the wait began and ended and never
"killing it as hung" nor "as stalled" (the buffer's own health probe, whose
echo waited for the held loop, once called the wait a stall); every line
arrives once. The old supervisor killed the buffer as hung 4 s into the first
slow sync, and tfo-system and tfo-logs after it."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (Fail, check, require_root_and_users, Sink, Agent, Tally, Writer,  # noqa: E402
                     wait_for, run_named, ranges, sink_yaml, yaml_of, follow, numbered, touch,
                     tree_dirs, OFF)

SKIP = 77
ROLES = ["system", "logs", "buffer", "exporter", "heartbeat"]
HUNG_S = 4
STALL_SYNC_MS = 9000
STALL_S = 20
START_SYNC_MS = 6000


def mount_slowfs(slowfs, src, mnt, ctl):
    """slowfs src on mnt, its control file ctl; the process, or exit 77."""
    if not os.path.exists("/dev/fuse"):
        print("SKIP: no /dev/fuse here: the slow-disk test needs a FUSE mount")
        sys.exit(SKIP)
    with open(ctl, "w") as f:
        f.write("0 0\n")
    p = subprocess.Popen([slowfs, src, mnt, ctl], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: os.path.ismount(mnt) or p.poll() is not None, "slowfs mounted", 10)
    except Fail:
        p.kill()
        raise
    if p.poll() is not None:
        print("SKIP: cannot mount slowfs here: %s" % p.stderr.read().strip())
        sys.exit(SKIP)
    return p


def set_sync_ms(ctl, ms):
    with open(ctl + ".new", "w") as f:
        f.write("%d 0\n" % ms)
    os.replace(ctl + ".new", ctl)


def main():
    bindir, slowfs, case = sys.argv[1], sys.argv[2], sys.argv[3]
    if case not in ("stall", "stop", "start"):
        print("usage: test_slowdisk.py BINDIR SLOWFS stall|stop|start")
        return 2
    require_root_and_users()
    tmp, app, out, sinklog = tree_dirs("tfo-slowdisk-")
    src, ctl = os.path.join(tmp, "disk"), os.path.join(tmp, "slowfs.ctl")
    state = os.path.join(tmp, "agent", "state")
    os.makedirs(src)
    os.makedirs(state)
    fs = mount_slowfs(slowfs, src, state, ctl)
    sink = Sink(bindir, out, log=sinklog)
    agent = Agent(bindir, sink_yaml(sink.port) + yaml_of({
        "supervisor": {"ping_interval": "2s", "hung_timeout": "%ds" % HUNG_S},
        "collectors": {"system": {"interval": "1s"}, "process": OFF, "logs": follow(app)},
        "exporter": {"flush_interval": "200ms"}}), root=os.path.join(tmp, "agent"))
    tally = Tally(out)

    def finish_once(writer):
        """stop the writer; every line at tfo-sink once; stop the agent
        (exit 0); its log"""
        n = writer.finish()
        tally.wait_complete(n, 120, 0.5)
        time.sleep(1)
        check(agent.stop() == 0, "supervisor exit status not 0")
        tally.update()
        dup = tally.dups()
        print("lines written %d, received %d distinct, duplicated %d (%s)" %
              (n, len(tally.count), len(dup), ranges(dup)))
        check(not dup, "lines delivered twice: %s" % ranges(dup))
        return agent.logtext()

    def start_case(writer, s):
        """started on the slow disk: nobody killed; then heal"""
        set_sync_ms(ctl, 0)
        print("ready on the slow disk, buffer after %.1f s" % s["buffer"]["uptime_s"])
        check(all(s[r]["restarts"] == 0 for r in ROLES),
              "a worker was restarted while the agent started on a slow disk: %s" %
              {r: s[r]["restarts"] for r in ROLES})
        time.sleep(2)
        log = finish_once(writer)
        check("killing it as" not in log, "a worker was killed as hung or stalled")
        check("buffer: no Ready for" in log and "its loop waits on the disk (in f" in log,
              "the log does not say the buffer's loop waited on the disk at its start")

    def stop_case(writer):
        """SIGTERM in the stall; heal; start again; the lines, once"""
        set_sync_ms(ctl, STALL_SYNC_MS)
        time.sleep(6)
        t0 = time.monotonic()
        rc = agent.stop()
        took = time.monotonic() - t0
        print("stop during the stall: exit %s after %.1f s" % (rc, took))
        check(rc == 0, "supervisor exit status %s after SIGTERM on a stalled disk" % rc)
        set_sync_ms(ctl, 0)
        agent.start()
        agent.wait_ready(ROLES, timeout=60)
        time.sleep(2)
        finish_once(writer)

    def body():
        touch(app)
        writer = Writer(app, 300, numbered("slowdisk"))
        writer.start()
        if case == "start":
            set_sync_ms(ctl, START_SYNC_MS)
        agent.start()
        s = agent.wait_ready(ROLES, timeout=90)
        if case == "start":
            return start_case(writer, s)
        pid = s["buffer"]["pid"]
        time.sleep(2)
        if case == "stop":
            return stop_case(writer)
        set_sync_ms(ctl, STALL_SYNC_MS)
        t0, states, summaries = time.monotonic(), set(), set()
        while time.monotonic() - t0 < STALL_S:
            rc, txt, _ = agent.tfoctl("status", "--json")
            if rc == 0:
                doc = json.loads(txt)
                w = {x["role"]: x for x in doc["workers"]}
                states.add((w["buffer"]["state"], w["buffer"]["pid"]))
                summaries.add(doc["supervisor"]["summary"])
            time.sleep(0.5)
        set_sync_ms(ctl, 0)
        print("buffer (state, pid) seen during the stall: %s" % sorted(states))
        check(any(st == "disk-wait" for st, _ in states),
              "tfoctl status never showed the buffer in disk-wait during the stall")
        check(any("buffer waiting on the disk" in x for x in summaries),
              "the status summary never named the wait: %s" % sorted(summaries))
        s = agent.wait_ready(ROLES, timeout=60)
        check(s["buffer"]["pid"] == pid and s["buffer"]["restarts"] == 0,
              "the buffer was restarted during the stall (pid %d -> %d, %d restarts)" %
              (pid, s["buffer"]["pid"], s["buffer"]["restarts"]))
        time.sleep(1)
        log = finish_once(writer)
        check("killing it as" not in log, "a worker was killed as hung or stalled")
        check("buffer: no pong for" in log and "its loop waits on the disk (in f" in log,
              "the log does not say the buffer's loop waited on the disk")
        check("buffer: answers again after waiting on the disk" in log,
              "the log does not say the wait ended")

    def after():
        sink.stop()
        subprocess.run(["umount", "-l", state], capture_output=True)
        try:
            fs.wait(timeout=10)
        except subprocess.TimeoutExpired:
            fs.kill()
            fs.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    return run_named("slowdisk %s" % case, body, [agent], after=after)


if __name__ == "__main__":
    sys.exit(main())
