"""flood_tree.py - the tree of integration.buffer.flood and .flood_roles: the
real supervisor and every role user, tfo-logs following a file of numbered
lines, buffer.max_size_mb 4, and the receiver (tools/tfo-sink) down until
sink_up(): an outage, so everything waits in tfo-buffer. ingest_forge speaks
on the ingest socket as a role's uid (forge_cmd)."""
import grp
import os
import pwd
import subprocess

from tfo_e2e import (Sink, Agent, Tally, numbered, sink_yaml, yaml_of, follow,  # noqa: E402
                     scratch, check, run_case, ROLES)


class FloodTree:

    def __init__(self, bindir, forge, prefix, word):
        self.bindir, self.forge = bindir, forge
        self.tmp = scratch(prefix)
        self.app = os.path.join(self.tmp, "app.log")
        self.out = os.path.join(self.tmp, "sink.jsonl")
        self.sinklog = os.path.join(self.tmp, "sink.log")
        self.sink = Sink(bindir, self.out, log=self.sinklog)
        self.port = self.sink.port
        self.sink.stop()                # down: everything waits in the buffer
        self.agent = Agent(bindir, sink_yaml(self.port, retry_initial="200ms",
                                             retry_max="1s") + yaml_of({
            "heartbeat": {"interval": "60s"},
            "buffer": {"max_size_mb": 4},
            "collectors": {"logs": follow(self.app, batch_max_ms=50)},
            "exporter": {"flush_interval": "200ms"}}), root=os.path.join(self.tmp, "agent"))
        self.tally = Tally(self.out)
        self.text = numbered(word)
        self.written = 0
        self.group = grp.getgrnam("tfo-agent").gr_gid
        self.url = "ipc://%s/ingest.ipc" % self.agent.run

    def write(self, n):
        """Numbered lines written .. written + n - 1 appended to the followed file."""
        with open(self.app, "a") as f:
            f.write("".join(self.text(i) for i in range(self.written, self.written + n)))
        os.chmod(self.app, 0o644)
        self.written += n

    def logs_read(self, n):
        return self.agent.wait(lambda s: s["logs"]["stats"].get("logs.lines", 0) >= n,
                               "tfo-logs read %d lines" % n, 60)

    def forge_cmd(self, role, *attack):
        """ingest_forge's command line as tfo-<role>'s uid."""
        uid = pwd.getpwnam("tfo-" + role).pw_uid
        return [self.forge, self.url, str(uid), str(self.group)] + [str(a) for a in attack]

    def sink_up(self):
        self.sink = Sink(self.bindir, self.out, port=self.port, log=self.sinklog)

    def start(self, lines):
        """lines numbered lines written, the tree started and ready, tfo-logs having
        read them: tfo-buffer's pid."""
        self.write(lines)
        self.agent.start()
        s = self.agent.wait_ready(ROLES, timeout=60)
        self.logs_read(lines)
        return s["buffer"]["pid"]

    def buffer_kept(self, pid):
        """tfo-buffer is the one started (pid), and ready: never restarted."""
        s = self.agent.status()
        check(s["buffer"]["pid"] == pid and s["buffer"]["state"] == "ready",
              "tfo-buffer restarted or not ready: %s" % s["buffer"])

    def run(self, case, name):
        """case() on this tree, then everything stopped (the temp dir kept on failure)."""
        rc = run_case(case, [self.agent])
        self.agent.cleanup()
        self.sink.stop()
        if rc == 0:
            subprocess.run(["rm", "-rf", self.tmp])
            print("ok " + name)
        return rc
