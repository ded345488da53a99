#!/usr/bin/env python3
"""bench_tree.py BINDIR [SECONDS] - cost of the whole process tree (DESIGN §8).

Phase 1, idle at default intervals with logs and heartbeat on (issue 18):
tfo-supervisor with every worker at its defaults (system 15 s, process 30 s,
heartbeat 1 m, logs tailing one quiet file), exporting to a local tfo-sink,
which is also the heartbeat API. After a warm-up, SECONDS (default 300) of
CPU time of the supervisor, every worker and a worker's own helper process
(tfo-process's tfo-procpriv) (/proc/<pid>/task/*/schedstat,
all live threads, in ns: idle costs are below the 10 ms of utime/stime ticks),
printed per process as ms per minute, and at the end per process PSS and RSS
(/proc/<pid>/smaps_rollup), where PSS goes (heap, anonymous = thread stacks
and malloc arenas, the executable, shared libraries: their private dirty
pages are relocations), the threads, and the top mappings of the largest
process. Budgets: tree <= 0.05 % of one core and <= 9 MiB PSS, each
collector (system, process, logs, heartbeat) <= 0.8 MiB PSS.

Phase 2, system metrics every 1 s to the local OTLP/HTTP tfo-sink (other
collectors at their defaults): CPU seconds per minute for the tree.
Budget: <= 0.08 s/min. Skipped with SECONDS given as "idle:N".

With SECONDS given as "pss:N" (memory only, issue 18 §2): phase 1 for N
seconds, then again with the endpoint and the heartbeat API on https (a TLS
relay in front of tfo-sink, its certificate from a throw-away CA the config
names as ca_file): a production config uses TLS, and the exporter's OpenSSL
pages differ between the two. USS (private pages, the figure other
processes sharing a library cannot lower) is printed beside PSS.

PSS splits a shared page between every process that maps it: while another
tfo tree runs on the machine (anyone's tests), the libraries it shares with
ours (libcurl's closure above all) read low here. The bench prints how many
other tfo processes it saw at the start and at the end; trust only runs
where both are 0.

The heartbeat and tfo-system's slow scans run once a minute, so a 60 s
window holds one of each, or none, or two: five minutes keep that error to a
fifth of those two items.

Phase 3, with FLUENT_BIT and its YAML given: Fluent Bit alone doing the
same job (host metrics every 15 s, tailing the same kind of quiet file) to
the same tfo-sink over OTLP/HTTP, measured the same way (CPU of all its
threads from schedstat, PSS from smaps), never beside our tree; then the
ratios ours / Fluent Bit. The anchor's build script and job files are in
shared/anchors/fluent-bit (ne-to-otlp-http.yaml is this job).
  python3 bench/tree/bench_tree.py build/bin 300 FLUENT_BIT ne-to-otlp-http.yaml

The load average and the machine's other processes move every figure:
the bench prints the load average at the start and the end of each phase.

With SECONDS given as "threads:N" (issue 18 §3, where an idle minute goes):
phase 1 for N seconds, then per thread of every process (its comm: the
role's loop, nng's nng:task/aio:expire/poller threads, LevelDB's background
thread, curl's resolver) CPU ms a minute, runs a minute (schedstat's third
field: each run is a wake-up) and involuntary switches a minute
(preemptions), the task lists sampled every 0.5 s so a short-lived thread is
counted up to its last sample. Then, with BENCH_TREE_STRACE="supervisor,
system" (roles, or "all"), each of those processes in turn under
`strace -f -tt` for BENCH_TREE_STRACE_SECONDS (default 60): syscalls a
minute per thread and per syscall, and the log kept (its path printed) to
read which activity each burst is. strace slows what it traces: its
counts are what to read, not its CPU. With BENCH_TREE_PERF="supervisor" (roles
or "all"), after those, each process in turn under `perf record -e
cpu-clock -c 10000 -g` (a sample every 10 us of its CPU) for
BENCH_TREE_STRACE_SECONDS: the symbols its time goes to, kernel ones
included (page faults, wake-ups of other threads).

BENCH_TREE_WARMUP (seconds, default 5) delays the window after Ready: 65
leaves out the start-up's second page trim (a minute after Ready, its
file pages faulted in again), for a steady idle minute.

Prints figures, asserts nothing (never run by ctest). Run as root (role
users) on a Release build: sanitizers multiply both CPU and memory.
  cmake --build build --target bench-tree      (or python3 bench/tree/bench_tree.py build/bin 60)"""
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "lib"))
from tfo_e2e import Fail, Sink, Agent, ROLES  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
WARMUP = float(os.environ.get("BENCH_TREE_WARMUP", "5"))  # s after Ready before the window
TREE_PSS_BUDGET_KIB = 9 * 1024
COLLECTOR_PSS_BUDGET_KIB = 819          # 0.8 MiB
COLLECTORS = ("system", "process", "logs", "heartbeat")
IDLE_CPU_BUDGET_PCT = 0.05


def cpu_s(pid):
    """CPU seconds of every live thread of pid, from schedstat (nanoseconds):
    an idle worker spends a few ms a minute, below utime/stime's 10 ms ticks.
    Falls back to ticks where schedstat is not compiled in."""
    total, seen = 0, False
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
                    seen = True
            except (OSError, ValueError, IndexError):
                pass          # a thread that just exited
    except OSError:
        pass
    if seen:
        return total / 1e9
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / TICK      # utime, stime (fields 14, 15)


def stat_field(pid, i):
    """field i of /proc/<pid>/stat counted after the command name (0 = state), 0 if gone"""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[i])
    except (OSError, ValueError, IndexError):
        return 0


def minflt(pid):
    """minor page faults of the process so far (all threads; /proc/<pid>/stat field 10)"""
    return stat_field(pid, 7)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def smaps(pid):
    """[(name, {Pss, Rss, Private_Dirty, ...} kB)] one entry a mapping"""
    rows, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                p = line.split()
                cur = {"name": p[5] if len(p) > 5 else "[anon]"}
                rows.append(cur)
            elif ":" in line and cur is not None:
                k, v = line.split(":", 1)
                if k in ("Pss", "Rss", "Private_Dirty", "Private_Clean"):
                    cur[k] = int(v.split()[0])
    return rows


def memory(pid, exe_dir):
    """PSS/RSS and where the PSS goes, by mapping kind and by file; kinds["uss"]
    is the private total (pages no other process maps)"""
    kinds = {"heap": 0, "anon": 0, "exe": 0, "libs": 0, "libs_dirty": 0, "uss": 0}
    files, pss, rss = {}, 0, 0
    for m in smaps(pid):
        p, name = m.get("Pss", 0), m["name"]
        pss += p
        rss += m.get("Rss", 0)
        kinds["uss"] += m.get("Private_Dirty", 0) + m.get("Private_Clean", 0)
        if name == "[heap]":
            kinds["heap"] += p
        elif name.startswith("[") or name == "":
            kinds["anon"] += p              # thread stacks, arenas, [stack], mmaps
        elif name.startswith(exe_dir):
            kinds["exe"] += p
        else:
            kinds["libs"] += p
            kinds["libs_dirty"] += m.get("Private_Dirty", 0)
        files[name] = files.get(name, 0) + p
    return pss, rss, kinds, files


def threads(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return 0


def other_tfo_processes(ours):
    """pids of tfo-* processes that are not this run's (they split shared pages)"""
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in ours or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv0 = f.read().split(b"\0")[0]
        except OSError:
            continue
        if os.path.basename(argv0).startswith(b"tfo-"):
            n += 1
    return n


def ppid_of(pid):
    return stat_field(pid, 1)


def helpers(pids):
    """a role's own children (tfo-process's tfo-procpriv): part of the tree,
    named after their executable"""
    found = {}
    roles = set(pids.values()) - {pids["supervisor"]}
    for d in os.listdir("/proc"):
        if d.isdigit() and ppid_of(d) in roles:
            try:
                with open("/proc/%s/comm" % d) as f:
                    name = f.read().strip()
            except OSError:
                continue
            found[name[4:] if name.startswith("tfo-") else name] = int(d)
    return found


def tree(agent, roles):
    s = agent.wait_ready(roles)
    pids = {"supervisor": agent.proc.pid}
    pids.update({r: s[r]["pid"] for r in roles if s.get(r, {}).get("pid", 0) > 0})
    pids.update(helpers(pids))
    return pids


def task_rows(pid):
    """{tid: (comm, run ns, runs, nonvoluntary switches)} of the live threads of pid"""
    rows = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return rows
    for tid in tids:
        d = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(d + "schedstat") as f:
                v = f.read().split()
            with open(d + "comm") as f:
                comm = f.read().strip()
            nv = 0
            with open(d + "status") as f:
                for line in f:
                    if line.startswith("nonvoluntary_ctxt_switches:"):
                        nv = int(line.split()[1])
            rows[int(tid)] = (comm, int(v[0]), int(v[2]), nv)
        except (OSError, ValueError, IndexError):
            pass          # a thread that just exited
    return rows


class ThreadSampler:
    """per-thread counters of every process of the tree, sampled every 0.5 s:
    a thread that exits in the window keeps what its last sample saw"""

    def __init__(self, pids):
        self.pids = pids
        self.first, self.last = {}, {}
        self.stop_ev = threading.Event()
        self._sample(first=True)
        self.th = threading.Thread(target=self._loop, daemon=True)
        self.th.start()

    def _sample(self, first=False):
        for k, pid in self.pids.items():
            for tid, row in task_rows(pid).items():
                key = (k, tid)
                if first:
                    self.first[key] = row
                elif key not in self.first:
                    self.first[key] = (row[0], 0, 0, 0)      # born in the window
                self.last[key] = row

    def _loop(self):
        while not self.stop_ev.wait(0.5):
            self._sample()

    def finish(self):
        self.stop_ev.set()
        self.th.join()
        self._sample()
        out = []
        for key, a in self.last.items():
            b = self.first[key]
            out.append((key[0], key[1], a[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]))
        return out


def print_threads(rows, wall):
    """per process, its threads by comm (threads of one name summed, how many)"""
    print("\n  per thread (ms/min of CPU, runs/min = wake-ups, preempted/min):")
    print("  %-11s %-16s %3s %9s %9s %9s %9s" % ("process", "thread", "n", "CPU ms/min",
                                               "runs/min", "preempt", "us/run"))
    agg = {}
    for proc, _tid, comm, ns, runs, nv in rows:
        a = agg.setdefault((proc, comm), [0, 0, 0, 0])
        a[0] += ns
        a[1] += runs
        a[2] += nv
        a[3] += 1
    for (proc, comm), (ns, runs, nv, n) in sorted(agg.items(), key=lambda kv: (kv[0][0],
                                                                               -kv[1][0])):
        print("  %-11s %-16s %3d %9.2f %9.1f %9.1f %9.1f" % (
            proc, comm, n, ns / 1e6 * 60 / wall, runs * 60 / wall, nv * 60 / wall,
            ns / 1e3 / runs if runs else 0))


STRACE_LINE = re.compile(r"^(\d+)\s+\S+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]")


def strace_one(role, pid, seconds):
    """strace -f -tt of one process for seconds: syscalls a minute by thread
    and by name; the log is kept for reading"""
    fd, log = tempfile.mkstemp(prefix="tfo-benchtree-strace-%s-" % role, suffix=".log")
    os.close(fd)
    comms = {}
    for tid, row in task_rows(pid).items():
        comms[tid] = row[0]
    p = subprocess.Popen(["strace", "-f", "-qq", "-tt", "-o", log, "-p", str(pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    for tid, row in task_rows(pid).items():
        comms.setdefault(tid, row[0])
    p.send_signal(2)
    p.wait()
    by = {}
    with open(log) as f:
        for line in f:
            if "resumed>" in line and "<..." in line:
                continue            # the second half of a call counted at its start
            m = STRACE_LINE.match(line)
            if m:
                k = (comms.get(int(m.group(1)), m.group(1)), m.group(2))
                by[k] = by.get(k, 0) + 1
    total = sum(by.values())
    print("\n  strace -f of %s (pid %d) for %.0f s: %.0f syscalls/min; log %s" % (
        role, pid, seconds, total * 60 / seconds, log))
    for (comm, sc), n in sorted(by.items(), key=lambda kv: -kv[1]):
        print("    %-16s %-20s %8.1f /min" % (comm, sc, n * 60 / seconds))


def perf_one(role, pid, seconds):
    """perf record of one process for seconds: its top symbols, self time"""
    fd, data = tempfile.mkstemp(prefix="tfo-benchtree-perf-%s-" % role, suffix=".data")
    os.close(fd)
    p = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-c", "10000", "-g",
                          "-o", data, "-p", str(pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    p.send_signal(2)
    p.wait()
    r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none",
                        "--sort", "comm,dso,sym", "--percent-limit", "1.5"],
                       capture_output=True, text=True)
    print("\n  perf of %s (pid %d) for %.0f s (data %s):" % (role, pid, seconds, data))
    for line in r.stdout.splitlines():
        if line.strip() and not line.startswith("#"):
            print("    " + line.strip())


def measure(agent, roles, seconds, sink_pid, per_thread=False):
    pids = tree(agent, roles)
    ours = set(pids.values()) | {sink_pid}
    others0 = other_tfo_processes(ours)
    la0 = loadavg()
    c0 = {k: cpu_s(p) for k, p in pids.items()}
    f0 = {k: minflt(p) for k, p in pids.items()}
    sampler = ThreadSampler(pids) if per_thread else None
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    per_thread_rows = sampler.finish() if sampler else None
    faults = {k: minflt(p) - f0[k] for k, p in pids.items()}
    # read before tree(): its tfoctl status asks every worker for its stats
    cpu = {k: cpu_s(p) - c0[k] for k, p in pids.items()}
    after = tree(agent, roles)
    if after != pids:
        print("  warning: a worker restarted during the run: %s -> %s" % (pids, after))
    exe_dir = os.path.dirname(os.path.realpath(agent.bindir + "/tfo-supervisor"))
    mem = {k: memory(p, exe_dir) for k, p in pids.items()}
    thr = {k: threads(p) for k, p in pids.items()}
    others1 = other_tfo_processes(ours)
    if per_thread_rows is not None:
        print_threads(per_thread_rows, wall)
    strace = os.environ.get("BENCH_TREE_STRACE", "") if per_thread else ""
    if per_thread:
        secs = float(os.environ.get("BENCH_TREE_STRACE_SECONDS", "60"))
        for role in (pids if strace == "all" else strace.split(",")):
            if role in pids:
                strace_one(role, pids[role], secs)
        perf = os.environ.get("BENCH_TREE_PERF", "")
        for role in (pids if perf == "all" else perf.split(",") if perf else ()):
            if role in pids:
                perf_one(role, pids[role], secs)
    return wall, cpu, mem, thr, faults, (others0, others1), (la0, loadavg())


class TlsRelay:
    """https on 127.0.0.1 in front of the plain tfo-sink: a throw-away CA and a
    server certificate for 127.0.0.1 (openssl), each connection relayed as is"""

    def __init__(self, sink_port):
        self.dir = tempfile.mkdtemp(prefix="tfo-benchtree-tls-")
        os.chmod(self.dir, 0o755)

        def openssl(*args):
            subprocess.run(["openssl"] + list(args), cwd=self.dir, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.crt", "-days", "2", "-subj", "/CN=bench-ca")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
                "-subj", "/CN=127.0.0.1")
        with open(os.path.join(self.dir, "srv.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "srv.crt", "-days", "2", "-extfile", "srv.ext")
        self.ca = os.path.join(self.dir, "ca.crt")
        os.chmod(self.ca, 0o644)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(self.dir, "srv.crt"),
                                 os.path.join(self.dir, "srv.key"))
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.sink_port = sink_port
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.url = "https://127.0.0.1:%d" % self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.close()
            except OSError:
                pass

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return                      # closed at the end
            try:
                t = self.ctx.wrap_socket(c, server_side=True)
                u = socket.create_connection(("127.0.0.1", self.sink_port))
            except (OSError, ssl.SSLError):
                c.close()
                continue
            threading.Thread(target=self._pipe, args=(t, u), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, t), daemon=True).start()

    def close(self):
        self.lsock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_phase(bindir, sink, title, yaml, seconds, roles, tls=None, per_thread=False):
    logdir = tempfile.mkdtemp(prefix="tfo-benchtree-logs-")
    os.chmod(logdir, 0o755)
    logfile = os.path.join(logdir, "app.log")
    with open(logfile, "w") as f:
        f.write("2026-01-01T00:00:00Z INFO bench-tree start\n")
    os.chmod(logfile, 0o644)
    url = tls.url if tls else sink.url
    ca = f"  tls:\n    ca_file: {tls.ca}\n" if tls else ""
    agent = Agent(bindir, f"""telemetryflow:
  endpoint: {url}
  protocol: http
  api_endpoint: {url}/api/v1
{ca}collectors:
  logs:
    enabled: true
    paths: [{logfile}]
{yaml}""", prefix="tfo-benchtree-")
    try:
        agent.start()
        tree(agent, roles)
        time.sleep(WARMUP)
        wall, cpu, mem, thr, faults, others, la = measure(agent, roles, seconds, sink.proc.pid,
                                                           per_thread)
    finally:
        rc = agent.stop()
        shutil.rmtree(agent.dir, ignore_errors=True)
        shutil.rmtree(logdir, ignore_errors=True)
    print("\n%s (%.0f s measured, supervisor exit %s; other tfo processes on the machine: "
          "%d at the start, %d at the end%s; load %s -> %s)" % (
              title, wall, rc, others[0], others[1],
              "" if others == (0, 0) else ": PSS reads LOW", la[0], la[1]))
    print("  %-11s %9s %8s %8s %8s %7s %8s | %7s %7s %7s %7s %7s" % (
        "process", "CPU ms/min", "PSS KiB", "USS KiB", "RSS KiB", "threads", "flt/min", "heap",
        "anon", "exe", "libs", "(dirty)"))
    for k in cpu:
        pss, rss, kinds, _ = mem[k]
        flag = " > 0.8 MiB" if k in COLLECTORS and pss > COLLECTOR_PSS_BUDGET_KIB else ""
        print("  %-11s %9.2f %8d %8d %8d %7d %8.0f | %7d %7d %7d %7d %7d%s" % (
            k, cpu[k] * 1000 * 60 / wall, pss, kinds["uss"], rss, thr[k],
            faults[k] * 60 / wall, kinds["heap"], kinds["anon"], kinds["exe"], kinds["libs"],
            kinds["libs_dirty"], flag))
    total_cpu = sum(cpu.values())
    total_pss = sum(m[0] for m in mem.values())
    print("  %-11s %9.2f %8d %8d" % ("tree", total_cpu * 1000 * 60 / wall, total_pss,
                                     sum(m[2]["uss"] for m in mem.values())))
    big = max(mem, key=lambda k: mem[k][0])
    print("  top mappings of the largest process, %s (PSS KiB):" % big)
    for name, p in sorted(mem[big][3].items(), key=lambda kv: -kv[1])[:5]:
        print("    %7d  %s" % (p, name))
    return wall, total_cpu, total_pss, {k: m[0] for k, m in mem.items()}


def sink_requests(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def fluent_bit_phase(fb, yaml, sink, seconds):
    """Fluent Bit alone on the same job and sink: (wall, cpu s, PSS KiB)"""
    logdir = tempfile.mkdtemp(prefix="tfo-benchtree-fb-")
    logfile = os.path.join(logdir, "app.log")
    with open(logfile, "w") as f:
        f.write("2026-01-01T00:00:00Z INFO bench-tree start\n")
    env = dict(os.environ, SINK_HTTP_PORT=str(sink.port), FB_SCRAPE_INTERVAL="15",
               FB_TAIL_PATH=logfile)
    before = sink_requests(sink.out)
    proc = subprocess.Popen([fb, "-c", yaml], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        time.sleep(WARMUP + 15)                  # started, and one scrape sent
        if proc.poll() is not None:
            raise Fail("fluent-bit exited with %s" % proc.returncode)
        others0 = other_tfo_processes({proc.pid, sink.proc.pid})
        la0 = loadavg()
        c0 = cpu_s(proc.pid)
        t0 = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        cpu = cpu_s(proc.pid) - c0
        pss, rss, kinds, files = memory(proc.pid, os.path.dirname(os.path.realpath(fb)))
        thr = threads(proc.pid)
        others1 = other_tfo_processes({proc.pid, sink.proc.pid})
        la1 = loadavg()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(logdir, ignore_errors=True)
    print("\nFluent Bit, host metrics every 15 s + tail of a quiet file -> OTLP/HTTP tfo-sink "
          "(%.0f s measured; %d requests at the sink; other tfo processes %d/%d; "
          "load %s -> %s)" % (wall, sink_requests(sink.out) - before, others0, others1, la0, la1))
    print("  %-11s %9.2f %8d %8d %7d | %7d %7d %7d %7d %7d" % (
        "fluent-bit", cpu * 1000 * 60 / wall, pss, rss, thr, kinds["heap"], kinds["anon"],
        kinds["exe"], kinds["libs"], kinds["libs_dirty"]))
    return wall, cpu, pss


def main():
    bindir = sys.argv[1]
    arg = sys.argv[2] if len(sys.argv) > 2 else "300"
    pss_only = arg.startswith("pss:")
    per_thread = arg.startswith("threads:")
    idle_only = arg.startswith("idle:") or pss_only or per_thread
    seconds = float(arg.split(":", 1)[1] if idle_only else arg)
    fb = sys.argv[3] if len(sys.argv) > 4 else None
    fb_yaml = sys.argv[4] if fb else None
    outdir = tempfile.mkdtemp(prefix="tfo-benchtree-sink-")
    sink = Sink(bindir, os.path.join(outdir, "requests.jsonl"))
    fbres = None
    try:
        extra = os.environ.get("BENCH_TREE_YAML", "")
        wall, cpu, pss, per = run_phase(bindir, sink, "idle, default intervals, logs and "
                                        "heartbeat on" + (" + BENCH_TREE_YAML" if extra else ""),
                                        extra, seconds, ROLES, per_thread=per_thread)
        idle_pct = 100.0 * cpu / wall
        per_min = tls_res = None
        if pss_only:
            relay = TlsRelay(sink.port)
            try:
                tls_res = run_phase(bindir, sink, "idle as above, endpoint and heartbeat API on "
                                    "https (TLS relay, ca_file)", "", seconds, ROLES, relay)
            finally:
                relay.close()
        if not idle_only:
            wall2, cpu2, _, _ = run_phase(bindir, sink, "system metrics every 1 s to tfo-sink",
                                          "  system:\n    interval: 1s\n", seconds, ROLES)
            per_min = cpu2 * 60.0 / wall2
        if fb:
            fbres = fluent_bit_phase(fb, fb_yaml, sink, seconds)
    except Fail as e:
        print("bench failed: %s" % e)
        return 1
    finally:
        sink.stop()
        shutil.rmtree(outdir, ignore_errors=True)
    print("\nsummary")
    print("  idle tree CPU          %.3f %% of one core   (budget %.2f %%)" %
          (idle_pct, IDLE_CPU_BUDGET_PCT))
    print("  idle tree PSS          %.2f MiB             (budget %.0f MiB)" %
          (pss / 1024.0, TREE_PSS_BUDGET_KIB / 1024))
    if tls_res is not None:
        print("  idle tree PSS, https   %.2f MiB             (exporter %.2f MiB, plain %.2f)" %
              (tls_res[2] / 1024.0, tls_res[3]["exporter"] / 1024.0, per["exporter"] / 1024.0))
    for c in COLLECTORS:
        print("  %-22s %.2f MiB             (budget 0.8 MiB)" % (c + " PSS", per[c] / 1024.0))
    if "procpriv" in per:
        print("  %-22s %.2f MiB             (tfo-process's privileged reader, its own process)"
              % ("process + procpriv", (per["process"] + per["procpriv"]) / 1024.0))
    if per_min is not None:
        print("  system every 1 s       %.3f s CPU per minute (budget 0.08 s/min)" % per_min)
    if fbres is not None:
        fb_wall, fb_cpu, fb_pss = fbres
        fb_pct = 100.0 * fb_cpu / fb_wall
        print("  fluent-bit idle CPU    %.3f %% of one core; ours / Fluent Bit %.2f" %
              (fb_pct, idle_pct / fb_pct if fb_pct > 0 else float("inf")))
        print("  fluent-bit PSS         %.2f MiB;            ours / Fluent Bit %.2f" %
              (fb_pss / 1024.0, pss / fb_pss if fb_pss > 0 else float("inf")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
