#!/usr/bin/env python3
"""test_supervisor.py - integration tests of tfo-supervisor + tfoctl (run as root
by ctest): a real supervisor with tfo-testworker in every role slot, in a temp
dir. Usage: test_supervisor.py BINDIR CASE. Every wait is bounded; the
assertions are on behaviour (states, pids, reasons, replies), not on timing."""
import os
import re
import pwd
import signal
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (Fail, check, Supervisor, proc_status, run_named,  # noqa: E402,F401
                     require_root_and_users, ROLES)

COLLECTORS = ["system", "process", "logs", "heartbeat"]


class Agent(Supervisor):
    """tfo-testworker in every role slot (start(real=True): the real roles)."""
    LOGMODE = "w"
    STEP = 0.02

    def __init__(self, bindir, env_extra=None, extra_yaml=""):
        super().__init__(bindir, prefix="tfo-sv-", mode=0o751)  # role users may traverse
        os.mkdir(self.state)                                     # (refused-peer test)
        self.env_extra = env_extra or {}
        self.pin_workers = "true"
        self.write_config(extra_yaml)

    def write_config(self, extra_yaml="", system_interval="15s", agent=""):
        super().write_config(f"""collectors:
  system:
    interval: {system_interval}
  logs:
    enabled: true
    paths: [{self.dir}/demo.log]
exporter:
  shutdown_drain: 1s
supervisor:
  ping_interval: 200ms
  hung_timeout: 1s
  pin_workers: {self.pin_workers}
  restart:
    backoff_initial: 300ms
    backoff_max: 1s
    max_restarts: 3
    window: 60s
{extra_yaml}""", mode=0o644, agent=agent)

    def start(self, real=False, wrap=()):
        tw = os.path.join(self.bindir, "tfo-testworker")
        env = {} if real else {"TFO_WORKER_" + r.upper(): tw for r in ROLES}
        env.update(self.env_extra)
        return super().start(env, wrap)

    def status(self):
        return self.status_doc()

    def wait(self, pred, what, timeout=20.0):
        return super().wait(pred, what, timeout)

    def wait_all_ready(self):
        return self.wait_ready(ROLES, 20.0)

    def mode(self, role, mode):
        with open(os.path.join(self.run, f"testworker-{role}.mode"), "w") as f:
            f.write(mode + "\n")

    def clear_mode(self, role):
        try:
            os.unlink(os.path.join(self.run, f"testworker-{role}.mode"))
        except FileNotFoundError:
            pass

    def stop(self):
        return super().stop(timeout=30)


def proc_field(pid, name):
    v = proc_status(pid, name)
    return v.split() if v is not None else None


def bind_now(path):
    """whether the ELF file at path asks for every symbol bound at load
    (DT_FLAGS DF_BIND_NOW or DT_FLAGS_1 DF_1_NOW); x86-64 ELF64 only"""
    with open(path, "rb") as f:
        elf = f.read()
    check(elf[:5] == b"\x7fELF\x02", f"{path}: not an ELF64 file")
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if ptype != 2:                                  # PT_DYNAMIC
            continue
        for d in range(off, off + filesz, 16):
            tag, val = struct.unpack_from("<qQ", elf, d)
            if (tag == 30 and val & 8) or (tag == 0x6ffffffb and val & 1):
                return True
    return False


# ---------------------------------------------------------------- cases

def case_identity(a):
    # Role stats: asked for by each status once the role is ready.
    s = a.wait(lambda t: all(t[r]["state"] == "ready" and t[r]["stats"] for r in ROLES),
               "all ready with stats")
    for r in ROLES:
        w = s[r]
        user = f"tfo-{r}"
        uid = pwd.getpwnam(user).pw_uid
        check(w["user"] == user and w["uid"] == uid, f"{r}: user {w['user']}/{w['uid']} != {user}/{uid}")
        check(w["sandbox"]["no_new_privs"] is True, f"{r}: no_new_privs not set: {w['sandbox']}")
        check(w["pid"] > 0, f"{r}: no pid")
        # The status must match the kernel's view.
        check(proc_field(w["pid"], "Uid") == [str(uid)] * 4, f"{r}: /proc Uid {proc_field(w['pid'], 'Uid')}")
        check(proc_field(w["pid"], "NoNewPrivs") == ["1"], f"{r}: /proc NoNewPrivs")
        check(w["stats"].get("mode") == "normal", f"{r}: stats not reported: {w['stats']}")
    check(s["process"]["sandbox"]["cap_eff"] == "0000000000000000",
          "testworker in the process slot keeps no caps")
    _, doc = a.status()
    sv = doc["supervisor"]
    check(sv["pid"] == a.proc.pid and sv["config"] == a.cfg and sv["version"], f"header {sv}")
    rc, out, _ = a.tfoctl("status")
    check(rc == 0 and "tfo-system" in out and "ready" in out, "table status")


def case_stats_on_demand(a):
    """Liveness pings (every 200 ms here) carry no stats: a worker fills its
    stats only for a Ping that asks (tfo-testworker counts those in "pings",
    every Ping answered in "pongs"). Each tfoctl status asks every ready
    worker once and shows what it answered then: "pings" one more than at the
    last status, "pongs" counted up to that moment (the buffer's: a Pong
    at each 200 ms tick; an idle worker's: that stats ping, since it is
    looked at, not pinged)."""
    a.wait(lambda t: all(t[r]["state"] == "ready" and t[r]["stats"] for r in ROLES),
           "all ready with stats")
    for _ in range(3):
        t0 = time.time()
        s1, _ = a.status()
        time.sleep(1.5)
        s2, _ = a.status()
        if int(t0 // 60) != int(time.time() // 60):
            continue            # the minute's self metrics may have asked too
        for r in ROLES:
            p1, p2 = s1[r]["stats"], s2[r]["stats"]
            check(p2["pings"] == p1["pings"] + 1,
                  f"{r}: stats asked {p2['pings'] - p1['pings']} times between two status "
                  f"requests 1.5 s apart (liveness pings must not ask): {p1} -> {p2}")
            # the buffer is pinged at every tick; an idle worker is looked
            # at instead (case_idle_unwoken): the stats ping, or a minute's
            if r == "buffer":
                check(p2["pongs"] >= p1["pongs"] + 3,
                      f"{r}: {p2['pongs'] - p1['pongs']} pings answered in 1.5 s at 200 ms: "
                      f"the status shows older figures: {p1} -> {p2}")
            else:
                check(p1["pongs"] + 1 <= p2["pongs"] <= p1["pongs"] + 2,
                      f"{r}: {p2['pongs'] - p1['pongs']} pings answered in 1.5 s while idle: "
                      f"{p1} -> {p2}")
        return
    raise Fail("every try crossed a minute boundary")


def case_kill9(a):
    s = a.wait_all_ready()
    for r in ROLES:
        s = a.wait_all_ready()
        old, restarts = s[r]["pid"], s[r]["restarts"]
        os.kill(old, signal.SIGKILL)
        s = a.wait(lambda t: t[r]["state"] == "ready" and t[r]["pid"] not in (0, old), f"{r} back")
        w = s[r]
        check(w["restarts"] == restarts + 1, f"{r}: restarts {w['restarts']} != {restarts + 1}")
        check(w["last_exit"]["reason"] == "signal SIGKILL", f"{r}: reason {w['last_exit']}")
        check(w["last_exit"]["signal"] == "SIGKILL", f"{r}: signal {w['last_exit']}")


def case_exit_startup(a):
    a.wait_all_ready()
    a.mode("system", "exit")
    rc, _, err = a.tfoctl("restart", "system")
    check(rc == 0, f"restart: {err}")
    # A snapshot can land as the backoff ends (its timer due, not yet run:
    # 0 then, under load); one of the backoffs before fatal must show it,
    # within backoff_max (1 s).
    s = a.wait(lambda t: t["system"]["state"] == "backoff" and
               t["system"]["next_restart_in_s"] > 0, "system in backoff, next restart shown")
    check(s["system"]["next_restart_in_s"] <= 1.0, f"next_restart_in_s {s['system']}")
    s = a.wait(lambda t: t["system"]["state"] == "fatal", "system fatal")
    w = s["system"]
    check(w["last_exit"]["reason"] == "before-ready: exit 3", f"reason {w['last_exit']}")
    check(w["last_exit"]["code"] == 3, f"code {w['last_exit']}")
    check(w["restarts_in_window"] == 4, f"in window {w['restarts_in_window']} (max_restarts 3)")
    check(a.proc.poll() is None, "a fatal collector must not stop the supervisor")
    # The operator fixes it and restarts it.
    a.clear_mode("system")
    rc, _, err = a.tfoctl("restart", "system")
    check(rc == 0, f"restart after fix: {err}")
    a.wait(lambda t: t["system"]["state"] == "ready", "system ready after fix")
    # buffer fatal: the supervisor stops everything and exits non-zero.
    pids = [w["pid"] for w in a.status()[0].values()]
    a.mode("buffer", "exit")
    a.tfoctl("restart", "buffer")
    try:
        rc = a.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise Fail("supervisor did not exit after buffer became fatal")
    check(rc != 0, f"supervisor exit status {rc} after buffer fatal")
    for p in pids:
        check(not os.path.exists(f"/proc/{p}") or proc_field(p, "State")[0] == "Z",
              f"worker {p} survived")
    check("buffer: more than 3 restarts" in a.logtext(), "fatal not logged")


def case_hung(a):
    a.wait_all_ready()
    a.mode("process", "hang")
    a.tfoctl("restart", "process")
    s = a.wait(lambda t: t["process"]["last_exit"]["reason"] == "hung" and t["process"]["state"] == "ready",
               "process killed as hung and ready again")
    check(s["process"]["last_exit"]["signal"] == "SIGKILL", f"hung kill {s['process']['last_exit']}")
    check("killing it as hung" in a.logtext(), "hung kill not logged")


def case_hung_deadline(a):
    """A hang is killed hung_timeout after the worker's last pong, not at a
    later ping tick (issue 18 §3: the check is a timer at that deadline, so
    two pings per hung timeout detect a hang at the same time as three).
    Pings every 2 s, hung timeout 4 s: a check only at the ticks kills 4-6 s
    after the last sign of life, uniformly at random in that window; three
    hangs in a row all under 4.6 s would happen 3 % of the time."""
    with open(a.cfg) as f:
        text = f.read()
    with open(a.cfg, "w") as f:
        f.write(text.replace("ping_interval: 200ms", "ping_interval: 2s")
                .replace("hung_timeout: 1s", "hung_timeout: 4s")
                .replace("max_restarts: 3", "max_restarts: 10"))
    a.start()
    a.wait_all_ready()
    gaps = []
    for i in range(3):
        a.mode("process", "hang")
        rc, _, err = a.tfoctl("restart", "process")
        check(rc == 0, f"restart: {err}")
        a.wait(lambda t, n=i + 1: a.logtext().count("killing it as hung") == n,
               f"hang {i + 1} killed", timeout=30.0)
        a.wait(lambda t: t["process"]["state"] == "ready", "process ready again")
        gaps = [int(g) for g in re.findall(r"process: no pong for (\d+) ms: killing it as hung",
                                            a.logtext())]
    check(len(gaps) == 3, f"hung kills logged: {gaps}")
    for g in gaps:
        check(4000 <= g < 4600, f"killed {g} ms after the last pong (hung_timeout 4000 ms)")


def main_thread_wakeups(pid):
    """how often the process's main thread went to sleep so far (voluntary
    context switches: each is a wake-up)"""
    with open(f"/proc/{pid}/task/{pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise Fail(f"no voluntary_ctxt_switches for {pid}")


def case_quiet_pongs(a):
    """Issue 18 §3: an idle supervisor reads the Pongs of its liveness pings at
    the next ping tick (and at a hung check), not as each comes: about one
    wake-up a tick, not one per worker. Six ready workers, pings every 200 ms,
    nobody asking for stats during the window (tfoctl is not run): the
    supervisor's main thread wakes at most 1.5 times a tick (1.0 here; 2.1 on
    the old code, whose Pongs that came while it still ran shared a wake-up).
    A hang is still killed (case_hung, case_hung_deadline) and stats still
    come (case_identity, case_stats_on_demand)."""
    s = a.wait_all_ready()
    pid = a.proc.pid
    a.wait(lambda t: all(t[r]["stats"] for r in ROLES), "every role's stats")
    time.sleep(1.0)                     # the status requests' gathers are over
    w0, t0 = main_thread_wakeups(pid), time.monotonic()
    time.sleep(4.0)
    w1, wall = main_thread_wakeups(pid), time.monotonic() - t0
    ticks = wall / 0.2
    s2 = a.wait(lambda t: t, "the status")
    for r in ROLES:
        check(s2[r]["pid"] == s[r]["pid"], f"{r} restarted during the window: {s[r]['pid']} "
              f"-> {s2[r]['pid']} ({s2[r]['last_exit']})")
    print(f"supervisor main thread: {w1 - w0} wake-ups in {wall:.1f} s, "
          f"{(w1 - w0) / ticks:.2f} a ping tick")
    check(w1 - w0 <= 1.5 * ticks, f"supervisor woke {w1 - w0} times in {ticks:.0f} ping ticks "
          f"with {len(ROLES)} workers: a Pong read as it came")


def wakeups_over(pids, seconds):
    """each pid's main-thread wake-ups over the window, and the window's ping
    ticks (ping_interval 200 ms)"""
    w0, t0 = {p: main_thread_wakeups(p) for p in pids}, time.monotonic()
    time.sleep(seconds)
    w1, wall = {p: main_thread_wakeups(p) for p in pids}, time.monotonic() - t0
    return {p: w1[p] - w0[p] for p in pids}, wall / 0.2


def case_idle_unwoken(a):
    """Issue 18 §3: a worker found idle in its loop (its main thread asleep in
    epoll_wait) is not pinged: the look at /proc is the pong. Test workers idle
    in every slot, pings every 200 ms: over 20 ticks each non-buffer worker
    wakes at most a quarter as often as there are ticks (0 here; old code: once
    a tick, its ping); the buffer, whose Pong carries its stall clock, is still
    pinged at every tick. Nobody restarted."""
    s = a.wait_all_ready()
    a.wait(lambda t: all(t[r]["stats"] for r in ROLES), "every role's stats")
    time.sleep(1.0)                     # the status requests' gathers are over
    pids = {r: s[r]["pid"] for r in ROLES}
    woke, ticks = wakeups_over(list(pids.values()), 4.0)
    print("main-thread wake-ups in %.0f ticks: %s" % (ticks, {r: woke[p] for r, p in pids.items()}))
    for r, p in pids.items():
        if r == "buffer":
            check(woke[p] >= ticks / 2, f"buffer woke {woke[p]} times in {ticks:.0f} ticks: "
                  "no longer pinged (its stall clock rides on its Pong)")
        else:
            check(woke[p] <= ticks / 4, f"{r} woke {woke[p]} times in {ticks:.0f} ticks while "
                  "idle in its loop: pinged anyway")
    s2 = a.wait(lambda t: t, "the status")
    for r in ROLES:
        check(s2[r]["pid"] == s[r]["pid"], f"{r} restarted: {s2[r]['last_exit']}")


def wait_log(a, text, what, timeout=10.0):
    """wait for text in the supervisor's log, without tfoctl: a status request
    pings every worker for its stats, which would find a hang by itself"""
    end = time.monotonic() + timeout
    while text not in a.logtext():
        if time.monotonic() > end:
            raise Fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def case_idle_then_hang(a):
    """A worker seen idle at a dozen ticks, then blocked (mode latehang: its
    loop stops in pause() 3 s after Ready), is killed as hung: the look finds
    it outside epoll_wait and pings it. And one stopped by SIGSTOP while idle
    in its loop, whose /proc/<pid>/syscall still names the epoll_wait it was
    stopped in, is killed as hung too (the look reads its state, T). Waited
    for in the log, not with tfoctl status, whose stats ping would find them."""
    s = a.wait_all_ready()
    a.mode("process", "latehang")
    a.tfoctl("restart", "process")
    wait_log(a, "process: no pong for", "the late hang killed")
    s = a.wait(lambda t: t["process"]["last_exit"]["reason"] == "hung" and
               t["process"]["state"] == "ready", "process killed as hung after a late hang")
    check(s["process"]["last_exit"]["signal"] == "SIGKILL", f"hung kill {s['process']['last_exit']}")
    check("testworker: hanging late" in a.logtext(), "the late hang did not happen")
    s = a.wait_all_ready()
    old = s["logs"]["pid"]
    time.sleep(2.0)                     # ten ticks seen idle
    os.kill(old, signal.SIGSTOP)
    wait_log(a, "logs: no pong for", "the stopped worker killed")
    s = a.wait(lambda t: t["logs"]["state"] == "ready" and t["logs"]["pid"] not in (0, old),
               "a stopped idle worker killed and back")
    check(s["logs"]["last_exit"]["reason"] == "hung", f"stopped worker: {s['logs']['last_exit']}")
    check(a.logtext().count("killing it as hung") == 2, "two hung kills logged")


def case_real_idle(a):
    """The real roles, as root's supervisor runs them (non-dumpable, other
    uids): the look reads their /proc files, so idle ones are not woken by
    pings. tfo-logs (one quiet file), tfo-system (every 15 s) and tfo-process
    (every 30 s) wake at most half as often as there are ticks over 20 ticks
    (old code: at least once a tick)."""
    start_real(a)
    s = a.wait_all_ready()
    a.wait(lambda t: all(t[r]["stats"] for r in ROLES), "every role's stats")
    time.sleep(1.0)
    pids = {r: s[r]["pid"] for r in ("logs", "system", "process")}
    woke, ticks = wakeups_over(list(pids.values()), 4.0)
    print("main-thread wake-ups in %.0f ticks: %s" % (ticks, {r: woke[p] for r, p in pids.items()}))
    for r, p in pids.items():
        check(woke[p] <= ticks / 2, f"{r} woke {woke[p]} times in {ticks:.0f} ticks: pinged "
              "although idle in its loop")
    s = a.wait(lambda t: t, "the status")
    for r in pids:
        check(s[r]["idle_looks"] >= ticks / 2 and s[r]["idle_looks"] > s[r]["pings"],
              f"{r}: tfoctl status shows {s[r]['idle_looks']} idle looks, {s[r]['pings']} pings")


def case_stalled(a):
    """A worker that pongs but says it has served nothing (Pong.stalled_ms) is
    killed at hung_timeout like a hung one, restarted, and tfoctl says why."""
    a.wait_all_ready()
    a.mode("buffer", "stall")
    a.tfoctl("restart", "buffer")
    s = a.wait(lambda t: t["buffer"]["last_exit"]["reason"].startswith("stalled: ") and
               t["buffer"]["state"] == "ready", "buffer killed as stalled and ready again")
    le = s["buffer"]["last_exit"]
    check(le["signal"] == "SIGKILL" and "nothing served since Ready" in le["reason"],
          f"stalled kill {le}")
    check("killing it as stalled" in a.logtext(), "stalled kill not logged")
    rc, out, _ = a.tfoctl("status")
    check(rc == 0 and "last exit: stalled: testworker: nothing served" in out,
          f"tfoctl status does not show the reason:\n{out}")


def case_crash(a):
    a.wait_all_ready()
    a.mode("heartbeat", "segv")
    a.tfoctl("restart", "heartbeat")
    a.wait(lambda t: t["heartbeat"]["last_exit"]["reason"] == "signal SIGSEGV" and
           t["heartbeat"]["state"] == "ready", "heartbeat crashed and back")


def case_garbage_fd3(a):
    a.wait_all_ready()
    for mode in ("garbage", "oversize"):
        s = a.status()[0]
        restarts = s["logs"]["restarts"]
        a.mode("logs", mode)
        a.tfoctl("restart", "logs")
        s = a.wait(lambda t: t["logs"]["restarts"] == restarts + 1 and t["logs"]["state"] == "ready",
                   f"logs killed for {mode} and ready again")
        check(s["logs"]["last_exit"]["reason"] == "protocol error", f"{mode}: {s['logs']['last_exit']}")
    text = a.logtext()
    check(text.count("logs: protocol error from pid") >= 2,
          "fd-3 protocol errors not logged:\n" + text[-2000:])
    check(a.proc.poll() is None, "supervisor died")


def case_garbage_ctl(a):
    a.wait_all_ready()
    poke = os.path.join(a.bindir, "..", "tests", "ctlpoke")
    expect = {"truncated": "bad request", "oversize": "bad request", "garbage": "bad request",
              "bad-version": "bad request", "unknown-verb": "unknown verb"}
    for mode, want in expect.items():
        p = subprocess.run([poke, a.sock, mode], capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and "ok=0" in p.stdout and want in p.stdout,
              f"{mode}: rc={p.returncode} out={p.stdout} err={p.stderr}")
    # Larger than nng's receive cap: dropped without a reply.
    p = subprocess.run([poke, a.sock, "huge"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2, f"huge: rc={p.returncode} {p.stdout}")
    text = a.logtext()
    check(text.count("control: bad request") >= 4, "bad requests not logged")
    check("control: unknown verb 77 refused" in text, "unknown verb not logged")
    a.wait_all_ready()
    check(a.proc.poll() is None, "supervisor died")


def case_refused(a):
    a.wait_all_ready()
    rc, out, err = a.tfoctl("status", user="tfo-system")
    check(rc == 1, f"non-admin tfoctl rc={rc}")
    check("permission denied: you must be root or in group tfo-admin" in err, f"message: {err!r}")
    check(out == "", "no status for a refused peer")
    rc, _, err = a.tfoctl("stop", user="tfo-system")
    check(rc == 1 and a.proc.poll() is None, "refused stop must not stop")
    st = os.stat(a.sock)
    check(oct(st.st_mode & 0o777) == "0o660", f"socket mode {oct(st.st_mode)}")


def case_not_running(a):
    rc, _, err = a.tfoctl("status")
    check(rc == 3 and f"supervisor not running (no socket at {a.sock})" in err, f"rc={rc} {err}")


def case_reload(a):
    s = a.wait_all_ready()
    before = {r: s[r]["pid"] for r in ROLES}
    a.write_config(system_interval="7s")
    a.proc.send_signal(signal.SIGHUP)
    s = a.wait(lambda t: t["system"]["pid"] not in (0, before["system"]) and t["system"]["state"] == "ready",
               "system restarted by reload")
    for r in ROLES[1:]:
        check(s[r]["pid"] == before[r], f"{r} restarted by a reload that did not change it")
    before = {r: s[r]["pid"] for r in ROLES}
    with open(a.cfg, "a") as f:
        f.write("bogus_key: [\n")
    rc, _, err = a.tfoctl("reload")
    check(rc == 1 and err.strip(), f"bad reload via tfoctl rc={rc} err={err}")
    a.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)  # give a wrong restart the chance to show; the check is on pids
    s = a.wait_all_ready()
    for r in ROLES:
        check(s[r]["pid"] == before[r], f"{r} restarted by a rejected reload")
    check("new configuration rejected" in a.logtext(), "rejection not logged")


def case_shutdown(a):
    a.wait_all_ready()
    rc = a.stop()
    check(rc == 0, f"supervisor exit {rc}")
    text = a.logtext()
    order = []
    for line in text.splitlines():
        for r in ROLES:
            if "supervisor" in line and f" {r}: pid " in line and "stopped" in line:
                order.append(r)
    check(sorted(order) == sorted(ROLES), f"not every worker stopped: {order}")
    last_collector = max(order.index(r) for r in COLLECTORS)
    check(last_collector < order.index("exporter") < order.index("buffer"), f"order {order}")
    check("every worker has exited" in text, "no final line")


def case_signals(a):
    """Repeated stop signals are a no-op (Ctrl-C reaches the supervisor and a
    wrapper's TERM follows): a storm of SIGINT/SIGTERM at the supervisor until
    it exits, and at every stopped collector, still ends with exit 0 from the
    supervisor and each worker; one worker is stopped while it starts (its
    Ready crosses the Shutdown)."""
    with open(a.cfg) as f:
        text = f.read()
    with open(a.cfg, "w") as f:     # the slow start must not look hung
        f.write(text.replace("hung_timeout: 1s", "hung_timeout: 60s"))
    a.start()
    s = a.wait_all_ready()
    # one collector takes 500 ms to stop: the storm lands while the
    # supervisor is still stopping, however fast the rest stops
    old = s["process"]["pid"]
    a.mode("process", "slowstop")
    rc, _, err = a.tfoctl("restart", "process")
    check(rc == 0, f"restart: {err}")
    s = a.wait(lambda t: t["process"]["state"] == "ready" and t["process"]["pid"] not in (0, old),
               "process back")
    old = s["system"]["pid"]
    a.mode("system", "slowstart")
    rc, _, err = a.tfoctl("restart", "system")
    check(rc == 0, f"restart: {err}")
    s = a.wait(lambda t: t["system"]["state"] == "starting" and t["system"]["pid"] not in (0, old),
               "system starting")
    pids = {r: s[r]["pid"] for r in ROLES}
    fds = {r: os.pidfd_open(p) for r, p in pids.items()}
    try:
        a.proc.send_signal(signal.SIGINT)
        end = time.monotonic() + 10
        # the supervisor's own line: a worker's "shutting down" (the restart
        # above) is already in the log
        while "shutting down: collectors" not in a.logtext():
            check(time.monotonic() < end, "no 'shutting down: collectors' after SIGINT")
            time.sleep(0.01)
        # the collectors are being stopped now: their extra signals are no-ops
        end = time.monotonic() + 30
        n = 0
        while a.proc.poll() is None and time.monotonic() < end:
            sig = (signal.SIGTERM, signal.SIGINT)[n % 2]
            a.proc.send_signal(sig)
            for r in COLLECTORS:
                try:
                    signal.pidfd_send_signal(fds[r], sig)
                except ProcessLookupError:
                    pass
            n += 1
            time.sleep(0.005)
        check(a.proc.poll() is not None, "supervisor still running 30 s into the signal storm")
    finally:
        for fd in fds.values():
            os.close(fd)
    check(a.proc.returncode == 0, f"supervisor exit {a.proc.returncode} after {n} rounds")
    text = a.logtext()
    for r in ROLES:
        check(f" {r}: pid {pids[r]} stopped (exit 0)" in text, f"{r} (pid {pids[r]}) did not "
              "stop with exit 0:\n" + text[-3000:])
    check(f"system: ready while stopping (pid {pids['system']})" in text,
          "the slow starter's Ready did not cross the Shutdown")
    check("protocol error" not in text, "protocol error during shutdown")
    check("already stopping" in text, "repeated signal not seen")
    print(f"{n} signal rounds")


def case_notify(a):
    ns = os.path.join(a.dir, "notify.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(ns)
    srv.settimeout(1.0)
    a.env_extra.update({"NOTIFY_SOCKET": ns, "WATCHDOG_USEC": "400000"})
    a.start()
    seen = set()
    status = None
    end = time.monotonic() + 20
    while time.monotonic() < end and not {"READY=1", "WATCHDOG=1", "STATUS"} <= seen:
        try:
            msg = srv.recv(4096).decode()
        except socket.timeout:
            continue
        for line in msg.splitlines():
            if line.startswith("STATUS="):
                seen.add("STATUS")
                status = line
            else:
                seen.add(line)
    srv.close()
    check("READY=1" in seen, f"no READY=1: {seen}")
    check("WATCHDOG=1" in seen, f"no WATCHDOG=1: {seen}")
    check(status is not None and "workers ready" in status, f"STATUS: {status}")
    check("STATUS=6/6 workers ready" in a.logtext() or status.startswith("STATUS="), status)


def case_tfoctl_cli(a):
    rc, out, _ = a.tfoctl("version")
    check(rc == 0 and out.startswith("tfoctl "), f"version rc={rc} {out!r}")
    rc, out, err = a.tfoctl("config", "validate", a.cfg)
    check(rc == 0 and out.startswith(a.cfg + ": ok: "), f"validate good rc={rc} {out!r} {err!r}")
    bad = os.path.join(a.dir, "bad.yaml")
    with open(bad, "w") as f:
        f.write("agent:\n  runtime_dri: /run/x\n")
    rc, out, err = a.tfoctl("config", "validate", bad)
    check(rc == 1 and bad in err and "runtime_dri" in err, f"validate bad rc={rc} {err!r}")
    rc, _, err = a.tfoctl("frobnicate")
    check(rc == 1 and "unknown verb" in err, f"unknown verb rc={rc}")
    rc, out, _ = a.tfoctl("help")
    check(rc == 0 and all(v in out for v in ("status", "restart", "reload", "stop", "version", "config")),
          "help lists the verbs")
    sup = os.path.join(a.bindir, "tfo-supervisor")
    p = subprocess.run([sup, "--check", "--config", bad], capture_output=True, text=True)
    check(p.returncode != 0 and "runtime_dri" in p.stderr, f"--check bad: {p.returncode} {p.stderr!r}")
    p = subprocess.run([sup, "--check", "--config", a.cfg], capture_output=True, text=True)
    check(p.returncode == 0 and "ok" in p.stdout, f"--check good: {p.returncode} {p.stderr!r}")


def start_real(a):
    """the real role executables of a.bindir, a demo log to tail, an endpoint
    that refuses (nothing leaves 127.0.0.1)"""
    for r in ROLES:
        check(os.access(os.path.join(a.bindir, f"tfo-{r}"), os.X_OK), f"tfo-{r} is not built")
    with open(os.path.join(a.dir, "demo.log"), "w") as f:
        f.write("2026-01-01T00:00:00Z INFO demo line\n")
    os.chmod(os.path.join(a.dir, "demo.log"), 0o644)
    os.chmod(a.state, 0o755)
    with open(a.cfg, "a") as f:
        f.write("telemetryflow:\n  endpoint: http://127.0.0.1:9\n  protocol: http\n"
                "  api_endpoint: http://127.0.0.1:9/api/v1\n")
    a.start(real=True)


def case_real_roles(a):
    """The real role executables under the real supervisor: each ready under
    its own uid with no_new_privs, and back after kill -9."""
    start_real(a)
    s = a.wait_all_ready()
    for r in ROLES:
        uid = pwd.getpwnam(f"tfo-{r}").pw_uid
        check(s[r]["uid"] == uid and proc_field(s[r]["pid"], "Uid") == [str(uid)] * 4,
              f"{r}: not running as tfo-{r}")
        check(s[r]["sandbox"]["no_new_privs"] is True, f"{r}: no_new_privs")
    # tfo-process holds none: its helper tfo-procpriv does (docs/security.md)
    check(s["process"]["sandbox"]["cap_eff"] == "0000000000000000",
          f"tfo-process caps {s['process']['sandbox']['cap_eff']}")
    # Every symbol bound at exec, none lazily after the start-up trim of the
    # file pages (issue 18 §2): the executables linked -z now, and the
    # libraries that are not bound by LD_BIND_NOW from the supervisor.
    for name in ["supervisor"] + list(ROLES):
        check(bind_now(os.path.join(a.bindir, f"tfo-{name}")), f"tfo-{name}: not linked -z now")
    for r in ROLES:
        with open(f"/proc/{s[r]['pid']}/environ", "rb") as f:
            env = f.read().split(b"\0")
        check(b"LD_BIND_NOW=1" in env, f"{r}: no LD_BIND_NOW in its environment")
        # and no per-thread cache of freed blocks, which malloc_trim cannot free
        check(b"GLIBC_TUNABLES=glibc.malloc.tcache_count=0" in env, f"{r}: malloc's tcache on")
    for r in ROLES:
        s = a.wait_all_ready()
        old = s[r]["pid"]
        os.kill(old, signal.SIGKILL)
        s = a.wait(lambda t: t[r]["state"] == "ready" and t[r]["pid"] not in (0, old), f"{r} back")
        check(s[r]["last_exit"]["reason"] == "signal SIGKILL", f"{r}: {s[r]['last_exit']}")


def case_release_tree(a):
    """The release build's real tree (bindir is the gcc release build's
    bin/, given by `make test`): ctest runs the sanitizer build, whose
    seccomp filters allow what ASan needs (madvise, munmap, fixed mmaps in
    the pinned tfo-procpriv's filter). A change fine under ASan killed
    tfo-procpriv by SIGSYS in release (6871dd7). Every role must be ready and
    stay so through tfo-process's and tfo-system's first cycles, with no
    restart."""
    start_real(a)
    a.wait_all_ready()
    time.sleep(3)          # the first cycles, the pinned helper's first requests
    s = a.wait_all_ready()
    for r in ROLES:
        check(s[r]["restarts"] == 0, f"{r}: restarted: {s[r]['last_exit']}")
    check("seccomp violation" not in a.logtext(), "a seccomp violation was logged")


def case_self_stats(a):
    """The supervisor's SelfStats go to the system slot each
    agent.self_metrics.interval, on wall-clock multiples: the worker there
    takes them, and no role restarts across several of them (a test worker
    that died of the unexpected message failed every test that ran across
    a minute boundary)."""
    a.write_config(agent="  self_metrics:\n    interval: 1s\n")
    a.start()
    s = a.wait_all_ready()
    s = a.wait(lambda t: t["system"]["stats"].get("self_stats", 0) >= 3, "three SelfStats taken",
               timeout=30)
    for r in ROLES:
        check(s[r]["restarts"] == 0, f"{r}: restarted {s[r]['restarts']} times: {s[r]['last_exit']}")
    check("unexpected message" not in a.logtext(), "a worker refused a supervisor message")


def cpu_set(spec):
    """a Cpus_allowed_list value ("0-2,5") as a set of CPU numbers"""
    out = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def thread_cpus(pid):
    """{tid: CPU set} of every thread of pid: threads nng or a role starts
    after exec inherit the set, none may widen it"""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[tid] = cpu_set(proc_status(f"{pid}/task/{tid}", "Cpus_allowed_list"))
        except FileNotFoundError:
            pass                                    # a thread that just ended
    return out


# supervisor/spawn.c spawn_slot: tfo-logs on a CPU of its own where it can,
# the buffer and the exporter sharing the other of two
SLOT = {"logs": 0, "buffer": 1, "exporter": 2, "system": 3, "process": 4, "heartbeat": 5}


SCHED_OTHER, SCHED_BATCH = 0, 3


def thread_policies(pid):
    """{tid: scheduling policy} of every thread of pid (/proc stat field 41)"""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out                                  # the helper restarted
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                out[tid] = int(f.read().rsplit(")", 1)[1].split()[38])
        except FileNotFoundError:
            pass                                    # a thread that just ended
    return out


def check_policy(s, want):
    """every thread of every worker (and tfo-process's helper) runs policy want"""
    pids = [(r, s[r]["pid"]) for r in ROLES]
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and proc_field(d, "PPid") == [str(s["process"]["pid"])]:
                pids.append(("procpriv", int(d)))
        except FileNotFoundError:
            pass                                    # a process that just ended
    for r, pid in pids:
        for tid, got in thread_policies(pid).items():
            check(got == want, f"{r} (pid {pid}, thread {tid}) runs scheduling policy {got}, "
                  f"want {want}")


def check_pinned(s, allowed):
    """every worker's every thread on one CPU: the role's slot, round robin,
    in the sorted set the supervisor was given; and SCHED_BATCH (spawn.c: a
    thread woken on its worker's CPU does not preempt the one that woke it)"""
    order = sorted(allowed)
    for r in ROLES:
        slot = 1 if r == "exporter" and len(order) == 2 else SLOT[r]
        want = {order[slot % len(order)]}
        for tid, got in thread_cpus(s[r]["pid"]).items():
            check(got == want, f"{r} (pid {s[r]['pid']}, thread {tid}) on CPUs {sorted(got)}, "
                  f"want {sorted(want)} of {order}")
    check_policy(s, SCHED_BATCH)


def case_cpus(a):
    """supervisor.pin_workers (default true): each worker bound to one CPU of
    the set the operator gave the supervisor, spread by role; a restarted
    worker bound again, to the same CPU; a supervisor confined by its
    operator (taskset, systemd's CPUAffinity=) never puts a worker outside;
    every thread of a bound worker runs SCHED_BATCH (issue 18 §3); pin_workers:
    false leaves every worker on the supervisor's whole set, SCHED_OTHER."""
    mine = os.sched_getaffinity(0)
    s = a.wait_all_ready()
    check_pinned(s, mine)
    # a worker killed comes back bound, to its CPU
    old = s["buffer"]["pid"]
    os.kill(old, signal.SIGKILL)
    s = a.wait(lambda t: t["buffer"]["state"] == "ready" and t["buffer"]["pid"] not in (0, old),
               "buffer back")
    check_pinned(s, mine)
    check(a.stop() == 0, "supervisor exit")
    # the operator confines the supervisor to its last CPU: every worker there
    last = max(mine)
    a.start(wrap=("taskset", "-c", str(last)))
    s = a.wait_all_ready()
    check_pinned(s, {last})
    check(a.stop() == 0, "supervisor exit (taskset)")
    # and to two CPUs given out of order: the workers stay inside them
    if len(mine) > 2:
        two = sorted(mine)[-2:]
        a.start(wrap=("taskset", "-c", f"{two[1]},{two[0]}"))
        check_pinned(a.wait_all_ready(), set(two))
        check(a.stop() == 0, "supervisor exit (two CPUs)")
    # pin_workers: false: each worker on the supervisor's set, as before
    a.pin_workers = "false"
    a.write_config()
    a.start()
    s = a.wait_all_ready()
    for r in ROLES:
        for tid, got in thread_cpus(s[r]["pid"]).items():
            check(got == mine, f"pin_workers false: {r} thread {tid} on {sorted(got)}, "
                  f"want the supervisor's {sorted(mine)}")
    check_policy(s, SCHED_OTHER)


CASES = {
    "identity": case_identity, "kill9": case_kill9, "cpus": case_cpus, "exit_startup": case_exit_startup,
    "hung": case_hung, "hung_deadline": case_hung_deadline, "quiet_pongs": case_quiet_pongs,
    "idle_unwoken": case_idle_unwoken, "idle_then_hang": case_idle_then_hang,
    "real_idle": case_real_idle,
    "stalled": case_stalled, "crash": case_crash, "garbage_fd3": case_garbage_fd3,
    "garbage_ctl": case_garbage_ctl, "refused": case_refused, "reload": case_reload,
    "shutdown": case_shutdown, "notify": case_notify, "not_running": case_not_running,
    "tfoctl_cli": case_tfoctl_cli, "signals": case_signals,
    "real_roles": case_real_roles, "stats_on_demand": case_stats_on_demand,
    "self_stats": case_self_stats, "release_tree": case_release_tree,
}


def main():
    bindir, name = sys.argv[1], sys.argv[2]
    require_root_and_users()
    if name == "cpus" and len(os.sched_getaffinity(0)) < 2:
        print("skip cpus: this process may use one CPU only: nothing to spread")
        return 77
    a = Agent(bindir)

    def case():
        if name not in ("notify", "not_running", "tfoctl_cli", "real_roles", "real_idle", "signals",
                        "self_stats", "hung_deadline", "release_tree"):
            a.start()
        CASES[name](a)
    return run_named(name, case, [a], 4000)


if __name__ == "__main__":
    sys.exit(main())
