#!/usr/bin/env python3
"""test_diskfull.py BINDIR a|b - tfo-buffer at a full disk (issue 23 items 6-10), as root.

The whole tree (tfo-logs following one file, tfo-buffer, tfo-exporter to
tools/tfo-sink) on a state dir that is a small tmpfs the test mounts itself
(exit 77 with the reason when mount is not permitted). A writer appends
numbered lines of poorly compressible text.

  a  the buffer fills its filesystem with the receiver down (it stops at its
     bound: half of what the filesystem can hold, dropping the oldest), a
     filler then takes the rest of the disk, and the receiver returns while
     the disk is still full (deletes of delivered batches fail); later the
     filler goes.
  b  the receiver healthy; the writer pauses, a filler takes the whole disk and
     a compaction runs while it is full (the buffer compacts when room runs
     low; buffer.max_age 60s makes its tick 1 s): LevelDB keeps that table
     write's error and fails every later write until the store is reopened;
     the writer resumes, then the filler goes.

Each: no line delivered twice (at most one delivery per batch while full:
the old buffer re-offered a batch whose delete could not be committed, at
full speed); every line not dropped arrives once room returns, without a
restart of any worker; the newest line arrives, and every missing line is
counted in logs.dropped_points (no more than the drops from batches in flight
arrived anyway); tfoctl status said "buffer: disk full at <path>
(N MiB free), dropping oldest" while full and stops saying it after; the
store opens clean afterwards (a new start, no quarantine)."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (Fail, check, require_root_and_users, Sink, Agent, Tally, Writer,  # noqa: E402
                     wait_for, run_case, ranges, sink_yaml, yaml_of, follow, touch, tree_dirs,
                     OFF, SKIP)

ROLES = ["logs", "buffer", "exporter", "heartbeat"]
FS_MB = 16


def noise():
    """A Writer's text: numbered lines, each with 96 random hex digits (LZ4
    cannot shrink them much), the same every run."""
    rnd = random.Random(7)
    return lambda i: "%08d diskfull %s\n" % (i, "%096x" % rnd.getrandbits(384))


def mount_tmpfs(path):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0770" % FS_MB, "tmpfs", path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print("SKIP: cannot mount a tmpfs here (%s): the full-disk test needs its own small "
              "filesystem" % (p.stderr.strip() or "mount exit %d" % p.returncode))
        sys.exit(SKIP)


def fill(path, append=False):
    """A file taking every free byte of path's filesystem; the bytes written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o600)
    chunk, n = b"\0" * 65536, 0
    try:
        while True:
            try:
                n += os.write(fd, chunk)
            except OSError:
                if len(chunk) == 1:
                    break
                chunk = chunk[:len(chunk) // 2]
    finally:
        os.close(fd)
    return n


class TopUp(threading.Thread):
    """Keeps the disk full as another busy process would: whatever LevelDB
    frees (obsolete logs and tables deleted after a compaction) is taken
    again within 0.1 s, so a table write of the buffer's meets ENOSPC."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.stop_ev = threading.Event()
        self.taken = 0

    def run(self):
        while not self.stop_ev.wait(0.1):
            self.taken += fill(self.path, append=True)

    def finish(self):
        self.stop_ev.set()
        self.join(10)


def stats(agent):
    s = agent.status() or {}
    return s.get("buffer", {}).get("stats", {}), s


def summary(agent):
    rc, out, _ = agent.tfoctl("status", "--json")
    try:
        return json.loads(out)["supervisor"].get("summary", "") if rc == 0 else ""
    except ValueError:
        return ""


def main():
    bindir, case = sys.argv[1], sys.argv[2]
    hold = float(sys.argv[sys.argv.index("--hold") + 1]) if "--hold" in sys.argv else \
        (8.0 if case == "a" else 3.0)
    require_root_and_users()
    tmp, app, out, sinklog = tree_dirs("tfo-diskfull-")
    state = os.path.join(tmp, "agent", "state")
    mount_tmpfs(state)
    sink = [Sink(bindir, out, log=sinklog)]
    port = sink[0].port
    rate = 5000 if case == "a" else 2000
    # a slow receiver (this machine is shared) must not time an export out:
    # its resend would be a duplicate that is no fault of the buffer's
    agent = Agent(bindir, sink_yaml(port, timeout="30s", retry_max="500ms") + yaml_of({
        "heartbeat": {"interval": "10s", "timeout": "2s"},
        "collectors": {"system": {"enabled": case == "a", "interval": "1s"}, "process": OFF,
                       "logs": follow(app, batch_max_lines=2000)},
        "exporter": {"flush_interval": "200ms", "shutdown_drain": "5s"},
        "buffer": {"max_age": "60s"}}), root=os.path.join(tmp, "agent"))
    tally = Tally(out)
    timeline = []
    t0 = time.monotonic()
    w = {}
    seen = {"full": "", "drops": 0}

    def note(what):
        timeline.append("%6.1f s  %s (line %d)" % (time.monotonic() - t0,
                                                   what, w["w"].n if "w" in w else 0))

    def watch(pred, what, timeout):
        """wait for pred(buffer stats), remembering any 'disk full' summary seen"""
        def probe():
            st, _ = stats(agent)
            s = summary(agent)
            if "disk full" in s:
                seen["full"] = s
            return st if st and pred(st) else None
        return agent.wait(lambda _: probe(), what, timeout)

    def body():
        touch(app)
        agent.start()
        agent.wait_ready(ROLES)
        writer = w["w"] = Writer(app, rate, noise())
        filler = os.path.join(state, "filler")
        if case == "a":
            sink[0].stop()
            note("receiver down")
            writer.start()
            watch(lambda s: "disk full" in str(s.get("status", "")) and
                  s.get("logs.drops.disk", 0) + s.get("metrics.drops.disk", 0) > 0,
                  "the buffer at its filesystem's bound, dropping oldest", 90)
            note("at the filesystem's bound: dropping oldest")
            time.sleep(1.0)
            note("filler took %d KiB: disk full" % (fill(filler) // 1024))
            time.sleep(2.0)
            full_from = time.monotonic()
            sink[0] = Sink(bindir, out, port=port, log=sinklog)
            note("receiver back while the disk is full")
            time.sleep(hold)
            tally.update()
            full_until = time.monotonic()
            os.unlink(filler)
            note("filler removed")
            time.sleep(2.0)
        else:
            writer.start()
            time.sleep(3.0)
            n = writer.pause()
            tally.wait_complete(n, 30, 0.3)
            note("writer paused, all delivered")
            full_from = time.monotonic()
            compactions = stats(agent)[0].get("room_compactions")
            note("filler took %d KiB: disk full" % (fill(filler) // 1024))
            topup = TopUp(filler)
            topup.start()
            # a compaction while full: the buffer compacts when room runs low
            # (max_age 60s: its tick is 1 s); the old one every 60 s (--hold 65)
            if compactions is not None:     # (the code before issue 23 had no such stat)
                watch(lambda s: s.get("room_compactions", 0) > compactions,
                      "a compaction while the disk is full", 30)
                note("the buffer compacted while full")
            time.sleep(hold)
            writer.resume()
            note("writer resumed")
            time.sleep(3.0)
            tally.update()
            full_until = time.monotonic()
            topup.finish()
            note("filler took %d KiB more meanwhile" % (topup.taken // 1024))
            os.unlink(filler)
            note("filler removed")
            try:
                watch(lambda s: s.get("sticky_errors", 0) > 0, "a table write's error healed", 20)
                note("LevelDB's sticky error met and healed")
            except Fail as e:
                note("no sticky error seen: %s" % str(e)[:60])
            time.sleep(3.0)
        n = writer.finish()
        note("writer stopped")
        try:
            if case == "a":
                # the oldest were dropped: wait for the newest and an empty queue
                wait_for(lambda: n - 1 in tally.update().count and
                         stats(agent)[0].get("logs.entries", 1) == 0,
                         "the last line at tfo-sink and the queue empty", 60, 0.3)
                time.sleep(1.0)
            else:
                tally.wait_complete(n, 60, 0.3)
        except Fail:
            pass
        tally.update()
        st, s = stats(agent)
        clear = summary(agent)
        try:
            wait_for(lambda: "disk full" not in summary(agent), "the status to clear", 20, 0.5)
            clear = summary(agent)
        except Fail:
            pass
        print("\n".join(timeline))
        lost = tally.missing(n)
        dups = tally.dups()
        during = [k for t, k in tally.requests if full_from <= t <= full_until]
        print("lines written %d, received %d distinct, missing %d (%s), delivered twice %d (%s)" %
              (n, len(tally.count), len(lost), ranges(lost), len(dups), ranges(dups)))
        print("while full: %d requests, %d lines" % (len(during), sum(during)))
        print("buffer: %s" % {k: st.get(k) for k in (
            "logs.drops.disk", "logs.drops.size", "logs.dropped_points",
            "logs.dropped_points_in_flight", "metrics.drops.disk", "busy", "reopens", "sticky_errors", "reserve_releases",
            "reserve_held", "commit_errors", "fs_free_mb", "fs_bound_mb", "writes_failing",
            "last_write_error", "status")})
        print("status while full: %r; after: %r" % (seen["full"], clear))
        check(not dups, "%d lines delivered twice: %s" % (len(dups), ranges(dups)))
        # every line arrived once or was counted dropped (by log record); a
        # drop from a batch the exporter already held may arrive still
        dropped = st.get("logs.dropped_points", 0)
        held = st.get("logs.dropped_points_in_flight", 0)
        # "oldest" is the oldest queued when the drop came: lines delivered
        # meanwhile (the receiver back, the disk still full) may be older than
        # a run dropped after them, so the order of lines proves nothing more
        check(len(lost) <= dropped, "%d lines missing, %d counted dropped: %s" %
              (len(lost), dropped, ranges(lost)))
        check(dropped - held <= len(lost), "%d lines counted dropped (%d of them from batches "
              "in flight) but only %d missing" % (dropped, held, len(lost)))
        check(not lost or max(lost) < max(tally.count),
              "the newest lines are missing, not the oldest: %s" % ranges(lost))
        if case == "a":
            check(st.get("logs.drops.disk", 0) + st.get("metrics.drops.disk", 0) > 0,
                  "no drops counted for the disk")
        else:
            check(st.get("sticky_errors", 0) > 0, "LevelDB's sticky error never met: %s" % st)
            check(not lost, "lines lost though nothing older was dropped: %s" % ranges(lost))
        check(re.search(r"buffer: disk full at %s/buffer \(\d+ MiB free\), dropping oldest" %
                        re.escape(state), seen["full"]), "status never said disk full: %r" %
              seen["full"])
        check("disk full" not in clear, "status still says disk full: %r" % clear)
        # tfo-logs names the buffer's cause once for a run of Busy answers,
        # with a count, not once per resend (issue 23 item 9)
        busy = s.get("logs", {}).get("stats", {}).get("logs.put_busy", 0)
        with open(agent.log, errors="replace") as f:
            said = [ln.rstrip() for ln in f if "logs: buffer busy:" in ln]
        print("tfo-logs: %d puts answered Busy, %d log lines about it: %s" %
              (busy, len(said), said[:4]))
        if busy:
            check(said and all("no reason given" not in ln for ln in said),
                  "tfo-logs never said why the buffer was busy (%d Busy answers)" % busy)
            # per message (the free MiB in it may change): its first line, its
            # count once a minute and at the stop; never a line per answer,
            # though on a full disk Busy answers and stored puts alternate
            per = {}
            for ln in said:
                k = re.sub(r"\d+", "N", re.sub(r" \(\d+ more times.*", "",
                                               ln.split(" warn: ", 1)[-1]))
                per[k] = per.get(k, 0) + 1
            check(max(per.values()) <= 3, "tfo-logs repeated a Busy line (%d answers): %s" %
                  (busy, per))
        if case == "b":
            check(busy > 0, "tfo-logs never met a busy buffer: the sticky error blocked no put")
        check(all(s[r]["restarts"] == 0 for r in ROLES),
              "a worker restarted: %s" % {r: s[r]["restarts"] for r in ROLES})
        rc = agent.stop()
        check(rc == 0, "supervisor exit status %s" % rc)
        agent.start()
        s2 = agent.wait_ready(ROLES)
        b = s2["buffer"]["stats"]
        check(not b.get("quarantine") and not [f for f in os.listdir(os.path.join(state, "buffer"))
                                               if "corrupt" in f],
              "the store did not open clean: %s" % b.get("quarantine"))
        rc = agent.stop()
        check(rc == 0, "supervisor exit status %s after the reopen" % rc)

    rc = run_case(body, [agent])
    teardown(agent, sink[0], w, state, tmp)
    if rc == 0:
        print("ok diskfull.%s" % case)
    return rc


def teardown(agent, sink, w, state, tmp):
    """After a case (test_diskfull_restart.py too): the writer, the agent and
    the sink stopped, the tmpfs unmounted, the temp dir gone (TFO_KEEP_LOG:
    where the supervisor's log is copied first)."""
    if os.environ.get("TFO_KEEP_LOG"):
        shutil.copy(agent.log, os.environ["TFO_KEEP_LOG"])
    if "w" in w and w["w"].is_alive():
        w["w"].finish()
    agent.stop()
    sink.stop()
    subprocess.run(["umount", "-l", state])
    agent.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
