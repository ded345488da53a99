#!/usr/bin/env python3
"""integration.process - the real tfo-process, driven by proc_drive (fd-3
config, fake ingest), sees processes this test starts: a busy loop (root) and
a sleeper running as nobody. Checks, default config (privileged_reads true):
the worker runs as tfo-process with no capability, under Landlock (when the
kernel has it), and cannot open /etc/shadow (also not through
/proc/1/root) nor another process's memory (test builds); its helper
tfo-procpriv runs as tfo-process with only CAP_SYS_PTRACE +
CAP_DAC_READ_SEARCH, no_new_privs, seccomp, an empty bounding set, and is
gone when the worker is; names, owners, paths; CPU time that grows; top_n
honoured; the other user's io, fds and exe are reported (through the
helper); secrets redacted. Then privileged_reads false: no helper, CapEff
0, under Landlock, its own exe still read, the other user's process still
reported but without exe path and io, counted in process.denied, and no
error. Exit 77 = skipped (not root, no user).
"""
import ctypes
import errno
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

USER = "tfo-process"
CYCLES = 4
INTERVAL_MS = 1000
TOP_N = 3
# what proc_drive has the worker attempt (its try_actions)
ACTIONS = ("open_shadow", "open_root_shadow", "proc_mem")
CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE = 2, 19


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    drive = sys.argv[1]
    worker = sys.argv[2]
    if os.geteuid() != 0:
        print("skip: needs root")
        sys.exit(77)
    try:
        tfo = pwd.getpwnam(USER)
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        print("skip: no user", USER, "or nobody")
        sys.exit(77)

    tmp = tempfile.mkdtemp(prefix="tfo-proc-it-")
    os.chmod(tmp, 0o755)
    tag = os.path.basename(tmp)[-6:].replace("_", "x")
    # the sleeper's name fits comm (15 bytes): without privileges its exe link is
    # unread and comm is the name the include pattern matches
    busy_name, sleeper_name = "tfo-busy-" + tag, "tfo-sl-" + tag
    busy_path, sleeper_path = os.path.join(tmp, busy_name), os.path.join(tmp, sleeper_name)
    shutil.copy(shutil.which("yes"), busy_path)
    shutil.copy(shutil.which("sleep"), sleeper_path)
    os.chmod(busy_path, 0o755)
    os.chmod(sleeper_path, 0o755)
    kids = []
    try:
        # busy: "yes" into /dev/null spins a CPU; its argument carries a secret
        kids.append(subprocess.Popen([busy_path, "--", "--password=hunter2"],
                                     stdout=subprocess.DEVNULL))
        kids.append(subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=%d" % nobody.pw_gid,
                                      "--clear-groups", "--", sleeper_path, "600"]))
        lines, _ = drive_worker(drive, worker, [], CYCLES, sleeper_name)
        check(lines, tfo, nobody, busy_name, busy_path, sleeper_name, sleeper_path, kids)
        print("privileged_reads false:")
        lines, err = drive_worker(drive, worker, ["-u"], 2, sleeper_name, "tfo-process")
        check_unprivileged(lines, err, tfo, nobody, worker, sleeper_name, sleeper_path)
    finally:
        for k in kids:
            k.kill()
            k.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


def drive_worker(drive, worker, opts, cycles, *include):
    """run proc_drive; its JSON lines and the worker's stderr"""
    out = subprocess.run([drive] + opts + [worker, USER, str(cycles), str(INTERVAL_MS),
                                           str(TOP_N)] + list(include),
                         capture_output=True, text=True, timeout=90)
    sys.stderr.write(out.stderr[-4000:])
    if os.environ.get("PDEBUG"):
        with open(os.environ["PDEBUG"] + "".join(opts), "w") as f:
            f.write(out.stdout)
    if out.returncode != 0:
        fail("proc_drive %s exited %d" % (" ".join(opts), out.returncode))
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()], out.stderr


def first(lines, key):
    """the value of the first line that has key"""
    for l in lines:
        if key in l:
            return l[key]
    fail("proc_drive printed no %r line" % key)


def check_actions(lines, what):
    """test builds (proc_drive says "hooks"): every injected read outside the
    job failed with EACCES, and none is missing from the run"""
    acts = {l["action"]: l["err"] for l in lines if "action" in l}
    if first(lines, "hooks"):
        for a in ACTIONS:
            if acts.get(a) != errno.EACCES:
                fail("%s: %s gave errno %r, want EACCES" % (what, a, acts.get(a)))
    return acts


def by_cycle(lines):
    """the puts grouped by collection time, oldest first"""
    cycles = {}
    for r in lines:
        if "res" in r:
            cycles.setdefault(r["t"], []).append(r)
    return cycles


def check(lines, tfo, nobody, busy_name, busy_path, sleeper_name, sleeper_path, kids):
    ident = {"worker": first(lines, "worker"), "uid": first(lines, "uid"),
             "capeff": first(lines, "capeff")}
    if ident["uid"] != tfo.pw_uid:
        fail("worker runs as uid %s, not %s" % (ident["uid"], tfo.pw_uid))
    if int(ident["capeff"], 16) != 0:
        fail("worker CapEff %s, want 0 (its helper holds the capabilities)" % ident["capeff"])
    ll = first(lines, "landlock")
    if landlock_in_kernel() and not ll.startswith("abi "):
        fail("privileged_reads true: landlock %r, want an ABI" % ll)
    # issue 17: nothing outside its job, whatever it is asked to open
    check_actions(lines, "privileged_reads true")
    check_helper(lines, tfo)

    cycles = by_cycle(lines)
    times = sorted(cycles)[:CYCLES]         # the last time may be partial
    if len(times) < CYCLES:
        fail("only %d cycles" % len(times))
    busy_pid, sleeper_pid = kids[0].pid, None
    busy_seen = []
    for t in times:
        rs = cycles[t]
        # top_n by CPU + top_n by memory + the included sleeper
        if len(rs) > 2 * TOP_N + 1:
            fail("cycle %d has %d processes, more than 2*top_n+1" % (t, len(rs)))
        pids = [r["res"]["process.pid"] for r in rs]
        if len(set(pids)) != len(pids):
            fail("a process reported twice in one cycle")
        # one put (one write batch, one fsync in tfo-buffer) carries the cycle
        puts = [l["put"] for l in lines if "put" in l and l["t"] == t]
        if puts != [len(rs)]:
            fail("cycle %d came in puts of %r payloads, not one put of %d" % (t, puts, len(rs)))
        for r in rs:
            res = r["res"]
            for k in ("host.name", "process.pid", "process.executable.name",
                      "process.user.id", "process.creation.time"):
                if k not in res:
                    fail("resource lacks %s: %r" % (k, res))
            for m in ("process.cpu.time|cpu.mode=user", "process.memory.usage",
                      "process.uptime", "process.paging.faults|system.paging.fault.type=minor"):
                if m not in r["m"]:
                    fail("%s lacks %s" % (res["process.executable.name"], m))
            if "hunter2" in json.dumps(res):
                fail("secret shipped: %r" % res.get("process.command_line"))
        sl = [r for r in rs if r["res"]["process.executable.name"] == sleeper_name]
        if len(sl) != 1:
            fail("included sleeper not reported once in cycle %d: %r" %
                 (t, [r["res"]["process.executable.name"] for r in rs]))
        s = sl[0]["res"]
        sleeper_pid = s["process.pid"]
        if s.get("process.owner") != "nobody" or s["process.user.id"] != nobody.pw_uid:
            fail("sleeper owner %r uid %r" % (s.get("process.owner"), s["process.user.id"]))
        if s.get("process.executable.path") != sleeper_path:
            # the walk falls back to comm (cut to 15 bytes) when exe is unreadable
            fail("sleeper exe path %r (needs CAP_SYS_PTRACE)" % s.get("process.executable.path"))
        if s.get("process.command_line") != sleeper_path + " 600":
            fail("sleeper command line %r" % s.get("process.command_line"))
        m = sl[0]["m"]
        if "process.disk.io|disk.io.direction=read" not in m or \
           "process.unix.file_descriptor.count" not in m:
            fail("another user's io / fds not read: capabilities not working")
        bs = [r for r in rs if r["res"]["process.pid"] == busy_pid]
        if bs:
            busy_seen.append(bs[0])
    if sleeper_pid is None:
        fail("no sleeper")
    # the busy loop is among the top CPU users (a core's worth of CPU)
    if len(busy_seen) < 2:
        fail("busy loop reported in %d of %d cycles" % (len(busy_seen), len(times)))
    b0, b1 = busy_seen[0], busy_seen[-1]
    for b in busy_seen:
        if b["res"]["process.executable.name"] != busy_name or \
           b["res"].get("process.owner") != "root" or b["res"]["process.user.id"] != 0:
            fail("busy loop identity: %r" % b["res"])
        if b["res"].get("process.executable.path") != busy_path:
            fail("busy exe path %r" % b["res"].get("process.executable.path"))
        if b["res"].get("process.command_line") != busy_path + " -- --password=***":
            fail("busy command line not redacted: %r" % b["res"].get("process.command_line"))
    cpu0 = b0["m"]["process.cpu.time|cpu.mode=user"] + b0["m"]["process.cpu.time|cpu.mode=system"]
    cpu1 = b1["m"]["process.cpu.time|cpu.mode=user"] + b1["m"]["process.cpu.time|cpu.mode=system"]
    if not cpu1 > cpu0:
        fail("busy CPU time did not grow: %s -> %s" % (cpu0, cpu1))
    if not b1["m"]["process.uptime"] > b0["m"]["process.uptime"]:
        fail("uptime did not grow")
    util = b1["m"]["process.cpu.utilization|cpu.mode=user"] + \
        b1["m"]["process.cpu.utilization|cpu.mode=system"]
    if not 0 < util <= 1.0:
        fail("busy utilization %s out of (0, 1]" % util)
    print("busy: cpu %.2f s -> %.2f s over %d cycles, utilization %.3f" %
          (cpu0, cpu1, len(busy_seen), util))


def check_helper(lines, tfo):
    """tfo-procpriv: tfo-process's uid, the two capabilities and nothing more,
    no_new_privs, seccomp filter, empty bounding set; gone with the worker"""
    h = [l for l in lines if "helper" in l]
    if len(h) != 1:
        fail("no single tfo-procpriv child of the worker: %r" % h)
    h = h[0]
    want_caps = (1 << CAP_DAC_READ_SEARCH) | (1 << CAP_SYS_PTRACE)
    if h["uid"] != tfo.pw_uid or int(h["capeff"], 16) != want_caps or \
       int(h["capbnd"], 16) != 0 or h["nnp"] != 1 or h["seccomp"] != 2:
        fail("helper identity %r, want uid %d, CapEff %x, CapBnd 0, NoNewPrivs 1, "
             "Seccomp 2" % (h, tfo.pw_uid, want_caps))
    if first(lines, "helper_gone") is not True:
        fail("tfo-procpriv outlived tfo-process")
    st = first(lines, "stats")
    if st["process.priv_round_trips"] < 1:
        fail("no request reached the helper: %r" % st)


def kernel_at_least(major, minor):
    rel = os.uname().release.split("-")[0].split(".")
    return (int(rel[0]), int(rel[1])) >= (major, minor)


def landlock_in_kernel():
    """landlock_create_ruleset(NULL, 0, VERSION) answers an ABI: Landlock is on"""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)) > 0


def check_unprivileged(lines, err, tfo, nobody, worker, sleeper_name, sleeper_path):
    """privileged_reads false: no capability, Landlock, the other user's
    process reported without exe path and io, no error"""
    pid, uid, cap = first(lines, "worker"), first(lines, "uid"), first(lines, "capeff")
    if uid != tfo.pw_uid or int(cap, 16) != 0:
        fail("privileged_reads false: uid %s CapEff %s, want %s and 0" % (uid, cap, tfo.pw_uid))
    ll = first(lines, "landlock")
    if any("helper" in l for l in lines):
        fail("privileged_reads false: a helper was started")
    if landlock_in_kernel() and not ll.startswith("abi "):
        fail("privileged_reads false: Landlock not applied: %r" % ll)
    acts = check_actions(lines, "privileged_reads false")
    cycles = by_cycle(lines)
    times = sorted(cycles)[:2]
    if len(times) < 2:
        fail("privileged_reads false: only %d cycles" % len(times))
    for t in times:
        rs = cycles[t]
        me = [r for r in rs if r["res"]["process.pid"] == pid]
        sl = [r for r in rs if r["res"]["process.executable.name"] == sleeper_name]
        if len(me) != 1 or len(sl) != 1:
            fail("privileged_reads false: worker %d / sleeper not reported once: %r" %
                 (len(me), [r["res"]["process.executable.name"] for r in rs]))
        # its own process: exe read (same Landlock domain); its io is root's
        # 0400 file (not dumpable), so no io even for itself
        mine = me[0]
        if mine["res"].get("process.executable.path") != os.path.realpath(worker):
            fail("own exe path %r" % mine["res"].get("process.executable.path"))
        # the other user's: everything but exe path and io
        s, m = sl[0]["res"], sl[0]["m"]
        if s.get("process.owner") != "nobody" or s["process.user.id"] != nobody.pw_uid or \
           s.get("process.command_line") != sleeper_path + " 600":
            fail("sleeper identity %r" % s)
        if "process.executable.path" in s:
            fail("sleeper exe path read without privileges: %r" % s["process.executable.path"])
        if any(k.startswith("process.disk.io") for k in m):
            fail("sleeper io read without privileges")
        for k in ("process.cpu.time|cpu.mode=user", "process.memory.usage",
                  "process.context_switches|process.context_switch.type=voluntary"):
            if k not in m:
                fail("sleeper lacks %s" % k)
        # since 6.2 the count is the size of fd/ (no ptrace-mode read)
        if kernel_at_least(6, 2) != ("process.unix.file_descriptor.count" in m):
            fail("sleeper fd count present=%s on %s" %
                 ("process.unix.file_descriptor.count" in m, os.uname().release))
    st = first(lines, "stats")
    if st["process.denied"] < 2 or st["process.read_errors"] != 0 or \
       st["process.cycle_errors"] != 0:
        fail("privileged_reads false: stats %r" % st)
    # (a put cut by the shutdown may warn: not about reads)
    bad = [l for l in err.splitlines() if " error:" in l or
           (" warn:" in l and "test hook" not in l and "put of" not in l)]
    if bad:
        fail("privileged_reads false: worker complained: %r" % bad[:3])
    print("privileged_reads false: CapEff 0, landlock %r, denied %d, actions %r" %
          (ll, st["process.denied"], acts))


if __name__ == "__main__":
    main()
