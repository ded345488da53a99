#!/usr/bin/env python3
"""The real tfo-heartbeat, tfo-exporter (which sends the beats: the one role
with network egress) and tfo-buffer under the real tfo-supervisor
(tfo-testworker in the collector slots), run as root.
Usage: test_hb_supervisor.py BINDIR CASE [HB_FORGE].
  beats     heartbeats reach tfo-sink with the agent id persisted in the state
            dir, the headers, and the stats on the heartbeat role in tfoctl
            status; tfo-heartbeat holds no API key
  api_down  the API refuses connections: beats fail, nothing restarts, every
            other worker stays ready
  stale     the exporter is frozen (SIGSTOP) past a beat's deadline: that
            beat fails on the heartbeat role and is never sent once the
            exporter runs again; later beats flow
  shared    the OTLP endpoint and the heartbeat API on one host:port (a
            keep-alive server): beats ride on a connection the OTLP requests
            use too (one libcurl connection cache in the exporter), and each
            request carries only its own credentials headers
  egress    the whole tree, every role real, logs and heartbeat on: exactly
            one process maps libcurl (tfo-exporter), no other holds an inet
            socket, the API key is in the exporter's memory and not in the
            heartbeat's, and the beats reach the API; no worker maps an NSS
            module (the supervisor resolves each role user's groups) and each
            has exactly its user's supplementary groups (tfo-logs: adm)
  forged    a taken-over tfo-heartbeat (HB_FORGE, as the heartbeat's role
            user on heartbeat.ipc) asks for hundreds of beats and dozens of
            cloud lookups: the exporter POSTs with the agent's key at most a
            burst and one per heartbeat.timeout, and looks up the metadata
            service at most a burst of six; the real heartbeat's beats flow
            again after
Every wait is bounded; assertions are on behaviour, not timing."""
import json
import os
import pwd
import signal
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import tfo_e2e  # noqa: E402

BINDIR, CASE = sys.argv[1], sys.argv[2]
ROLES = ["system", "process", "buffer", "exporter", "heartbeat"]
REAL = ["buffer", "exporter", "heartbeat"]
SECRET = "tfs_hb_supervisor_secret"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Run(tfo_e2e.Supervisor):
    """Started at once: tfo-testworker in every role slot but `real`'s."""
    LOGMODE = "w"

    def __init__(self, endpoint, interval="1s", timeout="400ms", real=None, extra="", tf="",
                 hb=""):
        super().__init__(BINDIR, prefix="tfo-hbsv-", mode=0o751)
        os.mkdir(self.state)
        os.chmod(self.state, 0o755)
        self.write_config(f"""telemetryflow:
  api_endpoint: {endpoint}
  api_key_id: tfk_hb
  api_key_secret: {SECRET}
{tf}heartbeat:
  interval: {interval}
  timeout: {timeout}
{hb}supervisor:
  ping_interval: 200ms
{extra}""")
        env = {"TFO_WORKER_" + r.upper(): os.path.join(BINDIR, "tfo-testworker")
               for r in ROLES + ["logs"]}
        for r in real or REAL:
            env["TFO_WORKER_" + r.upper()] = os.path.join(BINDIR, "tfo-" + r)
        self.start(env)

    def status(self):
        return self.workers()

    def wait(self, pred, what, timeout=30.0):
        try:
            return super().wait(pred, what, timeout)
        except tfo_e2e.Fail as e:
            fail(str(e))

    def finish(self):
        """Stop; the supervisor's log; the temp dir removed."""
        self.stop(timeout=20)
        text = self.logtext()
        shutil.rmtree(self.dir, ignore_errors=True)
        return text


def stat(w, name):
    return w.get("stats", {}).get(name, 0)


def start_sink():
    """tfo-sink on an ephemeral port: (process, its temp dir, its records file, port)"""
    out_dir = tempfile.mkdtemp(prefix="tfo-hbsink-")
    out = os.path.join(out_dir, "sink.jsonl")
    sink = subprocess.Popen([os.path.join(BINDIR, "tfo-sink"), "--listen", "127.0.0.1:0",
                             "--out", out, "--quiet"], stdout=subprocess.PIPE, text=True)
    line = sink.stdout.readline()
    if not line.startswith("listening on 127.0.0.1:"):
        sink.kill()
        fail("tfo-sink: " + line)
    return sink, out_dir, out, int(line.strip().rsplit(":", 1)[1])


def case_beats():
    sink, out_dir, out, port = start_sink()
    run = None
    try:
        run = Run("http://127.0.0.1:%d/api/v1" % port)
        run.wait(lambda s: all(s[r]["state"] == "ready" for r in ROLES), "all ready")
        s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.sent") >= 2, "two beats sent")
        check(stat(s["heartbeat"], "heartbeat.last_status") == 200, "last status 200")
        check(stat(s["heartbeat"], "heartbeat.last_success") > 0, "last success time")
        with open(os.path.join(run.state, "agent-id")) as f:
            agent_id = f.read().strip()
        st = os.stat(os.path.join(run.state, "agent-id"))
        check(st.st_mode & 0o777 == 0o644, "agent-id mode 0644")
    finally:
        log = run.finish() if run else ""
        sink.terminate()
        sink.wait(timeout=10)
    recs = [json.loads(x) for x in open(out)]
    shutil.rmtree(out_dir, ignore_errors=True)
    check(len(recs) >= 2, "sink saw the beats")
    r = recs[0]
    check(r["status"] == 200 and r["signal"] == "heartbeat", "sink accepted a heartbeat")
    check(r["agent_id"] == agent_id, "path agent id %s = state file %s" % (r["agent_id"], agent_id))
    check(r["headers"].get("x-api-key-id") == "tfk_hb", "X-API-Key-ID")
    check(r["headers"].get("x-api-key-secret") == SECRET, "X-API-Key-Secret")
    check(r["headers"].get("user-agent", "").startswith("tfo-agent/"), "User-Agent")
    check(r["fields"] >= 100, "100+ systemInfo fields")
    check(SECRET not in log, "secret never logged")


def case_api_down():
    run = Run("http://127.0.0.1:1/api/v1")   # port 1: connection refused
    try:
        run.wait(lambda s: all(s[r]["state"] == "ready" for r in ROLES), "all ready")
        s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.failed") >= 3, "three failed beats")
        for r in ROLES:
            check(s[r]["state"] == "ready", "%s still ready with the API down" % r)
            check(s[r].get("restarts", 0) == 0, "%s not restarted" % r)
        check(stat(s["heartbeat"], "heartbeat.sent") == 0, "nothing sent")
        check(stat(s["heartbeat"], "heartbeat.last_status") == 0, "no HTTP status")
    finally:
        log = run.finish()
    said = [ln for ln in log.splitlines() if "giving up this beat" in ln or "heartbeat:" in ln
            or "restart" in ln]
    check(log.count("giving up this beat") == 1, "failure logged once, not per beat: %s" % said)
    check(SECRET not in log, "secret never logged")


class Api(HTTPServer):
    """A fake TelemetryFlow API that notes when each beat arrives and when
    it was collected (systemInfo.collectionTime, unix seconds)."""
    def __init__(self):
        super().__init__(("127.0.0.1", 0), ApiHandler)
        self.beats = []
        threading.Thread(target=self.serve_forever, daemon=True).start()


class ApiHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            collected = json.loads(body)["systemInfo"]["collectionTime"]
        except (ValueError, KeyError, TypeError):
            collected = None
        self.server.beats.append((time.time(), collected, dict(self.headers)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def case_stale():
    api = Api()
    run = Run("http://127.0.0.1:%d/api/v1" % api.server_port, interval="5s", timeout="1s")
    try:
        s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.sent") >= 1, "a first beat")
        exp = s["exporter"]["pid"]
        sent, failed = stat(s["heartbeat"], "heartbeat.sent"), stat(s["heartbeat"], "heartbeat.failed")
        os.kill(exp, signal.SIGSTOP)
        try:
            s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.failed") > failed,
                         "a beat failed while the exporter is frozen", timeout=15)
            time.sleep(2.5)          # the failed beat is now well past its 1 s deadline
        finally:
            os.kill(exp, signal.SIGCONT)
        thawed = time.time()
        s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.sent") > sent, "beats again",
                     timeout=20)
        check(s["exporter"]["pid"] == exp, "the exporter was not restarted")
        check(s["heartbeat"].get("restarts", 0) == 0, "the heartbeat was not restarted")
        check("tfo-exporter did not take the beat" in stat(s["heartbeat"], "heartbeat.last_error")
              or stat(s["heartbeat"], "heartbeat.failed") > failed, "the frozen beat failed")
    finally:
        log = run.finish()
        api.shutdown()
    late = [(t - c) for t, c, _ in api.beats if c is not None and t >= thawed and t - c > 2.5]
    check(not late, "a stale beat was sent after the exporter thawed: ages %s" % late)
    check(len(api.beats) >= 2, "beats before and after the freeze")
    check(log.count("tfo-exporter did not take the beat") == 1, "hand-off failure logged once")


class Both(ThreadingHTTPServer):
    """OTLP/HTTP and the heartbeat API on one port, keep-alive (HTTP/1.1):
    notes each request's connection (the client's port), path and headers."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), BothHandler)
        self.reqs = []
        threading.Thread(target=self.serve_forever, daemon=True).start()


class BothHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.reqs.append((self.client_address[1], self.path,
                                 {k.lower(): v for k, v in self.headers.items()}))
        otlp = self.path.startswith("/v1/")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf" if otlp else "application/json")
        self.send_header("Content-Length", "0" if otlp else "2")
        self.end_headers()
        if not otlp:
            self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def case_shared():
    srv = Both()
    url = "http://127.0.0.1:%d" % srv.server_port
    run = Run(url + "/api/v1", real=REAL + ["system"], tf=f"""  endpoint: {url}
  protocol: http
""", extra="""collectors:
  system:
    interval: 1s
exporter:
  flush_interval: 200ms
  max_in_flight: 1
""")
    try:
        run.wait(lambda s: all(s[r]["state"] == "ready" for r in ROLES), "all ready")

        def shared():
            otlp = {c for c, p, _ in srv.reqs if p.startswith("/v1/")}
            beats = {c for c, p, _ in srv.reqs if p.startswith("/api/v1/")}
            return otlp & beats
        deadline = time.time() + 30
        while not shared() and time.time() < deadline:
            time.sleep(0.2)
    finally:
        log = run.finish()
        srv.shutdown()
    reqs = list(srv.reqs)
    print("requests (connection, path):", [(c, p) for c, p, _ in reqs][:40])
    check(any(p.startswith("/v1/metrics") for _, p, _ in reqs), "OTLP requests arrived")
    check(sum(1 for _, p, _ in reqs if p.startswith("/api/v1/")) >= 1, "beats arrived")
    check(shared(), "a beat rode on a connection the OTLP requests used: %s" %
          [(c, p) for c, p, _ in reqs][:40])
    for _, p, h in reqs:
        if p.startswith("/api/v1/"):
            check(h.get("x-api-key-secret") == SECRET and "x-telemetryflow-key-secret" not in h,
                  "a beat carries the heartbeat's headers only: %s" % sorted(h))
        else:
            check(h.get("x-telemetryflow-key-secret") == SECRET and "x-api-key-secret" not in h,
                  "an OTLP request carries the exporter's headers only: %s" % sorted(h))
    check(SECRET not in log, "secret never logged")


def maps_of(pid):
    try:
        with open("/proc/%d/maps" % pid) as f:
            return f.read()
    except OSError:
        return ""


def inet_inodes():
    """socket inodes of every TCP/UDP socket (v4 and v6) of this netns"""
    inodes = set()
    for name in ("tcp", "tcp6", "udp", "udp6"):
        try:
            with open("/proc/net/" + name) as f:
                for line in f.readlines()[1:]:
                    inodes.add(line.split()[9])
        except OSError:
            pass
    return inodes


def inet_fds(pid):
    inodes, n = inet_inodes(), 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if t.startswith("socket:[") and t[8:-1] in inodes:
                n += 1
    except OSError:
        pass
    return n


def memory_holds(pid, needle):
    """whether needle is in any readable private mapping of pid (root)"""
    with open("/proc/%d/maps" % pid) as f:
        regions = f.read().splitlines()
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in regions:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5] if len(parts) > 5 else ""
            if "r" not in parts[1] or path.startswith("[v") or hi - lo > (256 << 20):
                continue
            try:
                mem.seek(lo)
                if needle in mem.read(hi - lo):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


def ids_of(pid):
    """(uid, gid, set of supplementary groups) from /proc/<pid>/status"""
    v = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, rest = line.partition(":")
            v[k] = rest.split()
    return int(v["Uid"][0]), int(v["Gid"][0]), {int(g) for g in v.get("Groups", [])}


def check_identities(pids):
    """no NSS module in a worker; each worker's groups are its user's"""
    for r, p in pids.items():
        if r == "supervisor":
            continue
        nss = sorted({ln.split()[-1] for ln in maps_of(p).splitlines() if "/libnss_" in ln})
        check(not nss, "tfo-%s maps no NSS module: %s" % (r, nss))
        uid, gid, groups = ids_of(p)
        want = set(os.getgrouplist(pwd.getpwuid(uid).pw_name, gid))
        check(groups == want, "tfo-%s runs with its user's groups %s: %s" %
              (r, sorted(want), sorted(groups)))
    print("groups per role:", {r: sorted(ids_of(p)[2]) for r, p in pids.items()})


def case_egress():
    api = Api()
    d = tempfile.mkdtemp(prefix="tfo-egress-logs-")
    os.chmod(d, 0o755)
    logf = os.path.join(d, "app.log")
    with open(logf, "w") as f:
        f.write("2026-01-01T00:00:00Z INFO egress line\n")
    os.chmod(logf, 0o644)
    roles = ROLES + ["logs"]
    run = Run("http://127.0.0.1:%d/api/v1" % api.server_port, real=roles, extra=f"""collectors:
  logs:
    enabled: true
    paths: [{logf}]
""")
    try:
        s = run.wait(lambda s: all(s[r]["state"] == "ready" for r in roles), "all ready")
        s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.sent") >= 2, "two beats sent")
        pids = {r: s[r]["pid"] for r in roles}
        pids["supervisor"] = run.proc.pid
        curl = sorted(r for r, p in pids.items() if "/libcurl" in maps_of(p))
        print("processes mapping libcurl:", curl)
        check(curl == ["exporter"], "exactly one process maps libcurl, tfo-exporter: %s" % curl)
        inet = {r: inet_fds(p) for r, p in pids.items()}
        print("inet sockets per process:", inet)
        check(all(n == 0 for r, n in inet.items() if r != "exporter"),
              "only tfo-exporter holds inet sockets: %s" % inet)
        check(memory_holds(pids["exporter"], SECRET.encode()), "control: the exporter holds the key")
        check(not memory_holds(pids["heartbeat"], SECRET.encode()),
              "tfo-heartbeat never received the API key")
        check_identities(pids)
    finally:
        log = run.finish()
        api.shutdown()
        shutil.rmtree(d, ignore_errors=True)
    check(len(api.beats) >= 2, "the beats reached the API")
    check(api.beats[0][2].get("X-API-Key-Secret") == SECRET, "sent with the key")
    check(SECRET not in log, "secret never logged")


class Metadata(ThreadingHTTPServer):
    """A metadata service that knows nothing (404), counting what it is asked."""
    def __init__(self):
        self.asked = 0
        srv = self

        class H(BaseHTTPRequestHandler):
            def answer(self):
                srv.asked += 1
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
            do_GET = do_PUT = answer

            def log_message(self, *a):
                pass
        super().__init__(("127.0.0.1", 0), H)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def beats_at(out):
    with open(out) as f:
        return sum(1 for x in f if json.loads(x).get("signal") == "heartbeat")


def forge(run, what, count, gap_ms):
    pw = pwd.getpwnam("tfo-heartbeat")
    r = subprocess.run([sys.argv[3], "ipc://" + os.path.join(run.run, "heartbeat.ipc"),
                        str(pw.pw_uid), str(pw.pw_gid), what, str(count), str(gap_ms)],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "hb_forge %s: %s %s" % (what, r.stdout, r.stderr))


def case_forged():
    md = Metadata()
    sink, out_dir, out, port = start_sink()
    run = None
    try:
        # timeout = interval: the pace is one beat a second, as the real one beats
        run = Run("http://127.0.0.1:%d/api/v1" % port, interval="1s", timeout="1s",
                  hb="  cloud_metadata: true\n  cloud_metadata_url: http://127.0.0.1:%d\n"
                  % md.server_port)
        run.wait(lambda s: all(s[r]["state"] == "ready" for r in ROLES), "all ready")
        s = run.wait(lambda s: stat(s["heartbeat"], "heartbeat.sent") >= 1 and
                     stat(s["exporter"], "heartbeat_relay.cloud_queries") >= 1,
                     "a beat sent and the heartbeat's own cloud lookup")
        time.sleep(1.5)                      # that lookup answered
        legit_lookups = stat(run.status()["exporter"], "heartbeat_relay.cloud_queries")
        asked0 = md.asked
        check(asked0 >= 1, "the heartbeat's own lookup reached the metadata service")
        per_lookup = asked0 / legit_lookups
        b0, t0 = beats_at(out), time.monotonic()
        forge(run, "beats", 300, 10)
        time.sleep(1.0)
        posted, secs = beats_at(out) - b0, time.monotonic() - t0
        s = run.status()
        paced = stat(s["exporter"], "heartbeat_relay.paced")
        print("forged 300 beats in %.1f s: %d POSTed, %d not served" % (secs, posted, paced))
        # the real heartbeat's beats share the pace: a burst of 3, one a second
        check(posted <= 3 + secs + 1, "%d beats POSTed in %.1f s (at most %d)" %
              (posted, secs, 3 + secs + 1))
        check(paced >= 250, "forged beats not served: %d, want >= 250" % paced)
        forge(run, "clouds", 40, 10)
        run.wait(lambda s: stat(s["exporter"], "heartbeat_relay.cloud_queries") >=
                 legit_lookups + 40, "the relay read every forged cloud query")
        time.sleep(1.0)
        lookups = (md.asked - asked0) / per_lookup
        print("forged 40 cloud queries: %.0f lookups of the metadata service" % lookups)
        check(lookups <= 6, "%.0f forged lookups served (burst 6 with the heartbeat's own one "
              "counted: at most 5)" % lookups)
        sent = stat(run.status()["heartbeat"], "heartbeat.sent")
        run.wait(lambda s: stat(s["heartbeat"], "heartbeat.sent") >= sent + 2,
                 "the real heartbeat's beats flow again", timeout=15)
        check(run.status()["exporter"]["state"] == "ready", "the exporter never restarted")
        check(run.status()["exporter"].get("restarts", 0) == 0, "no exporter restart")
    finally:
        log = run.finish() if run else ""
        sink.terminate()
        sink.wait(timeout=10)
        md.shutdown()
        shutil.rmtree(out_dir, ignore_errors=True)
    check(log.count("did not serve a request from tfo-heartbeat") <= 2,
          "pacing logged at most once a minute")


def main():
    tfo_e2e.require_root_and_users()
    {"beats": case_beats, "api_down": case_api_down, "stale": case_stale,
     "egress": case_egress, "shared": case_shared, "forged": case_forged}[CASE]()
    print("ok")


if __name__ == "__main__":
    main()
