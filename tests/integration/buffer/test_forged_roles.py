#!/usr/bin/env python3
"""test_forged_roles.py BINDIR - issue 24 §1: tfo-buffer believes the uid a
connection proves, never the role a message names. As root, with the real
supervisor and every role user, tfo-logs following a file of numbered lines to
tools/tfo-sink. Acting as tfo-system's uid (a compromised collector), the
attacker tool (ingest_forge) tries the three attacks of the issue on the live
ingest socket:
  1. a Put naming role logs: a forged log record;
  2. Puts naming role logs with seq 2^63-1 for every incarnation tfo-logs may
     have (a spawn counter), which would make the buffer answer tfo-logs'
     genuine puts as duplicates and drop them;
  3. GetCheckpoints naming role logs (tfo-logs' paths and offsets), and, with
     tfo-logs stopped and lines written meanwhile, a Put carrying tfo-logs'
     real checkpoint at the file's end, which would make the restarted tfo-logs
     skip those lines for good;
  4. a Put naming its own role (system) but carrying log records: lines
     shipped as if tfo-logs had read them, outside tfo-logs' dedupe.
Each request is refused; every numbered line arrives exactly once and no
forged record arrives; the buffer counts the refusals (forged_role) and logs
one line per connection. tfo-logs' own uid still gets its checkpoints."""
import grp
import os
import pwd
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from tfo_e2e import (check, require_root_and_users, Sink, Agent, Tally, numbered,  # noqa: E402
                     wait_for, run_case, sink_yaml, yaml_of, follow, scratch, ROLES)

INCARNATIONS = 64          # tfo-logs' incarnation is below this in a fresh agent


def main():
    bindir, forge = sys.argv[1], sys.argv[2]
    require_root_and_users()
    tmp = scratch("tfo-forged-")
    app = os.path.join(tmp, "app.log")
    out = os.path.join(tmp, "sink.jsonl")
    sink = Sink(bindir, out, log=os.path.join(tmp, "sink.log"))
    agent = Agent(bindir, sink_yaml(sink.port, retry_initial=None, retry_max=None) + yaml_of({
        "heartbeat": {"interval": "60s"},
        "collectors": {"logs": follow(app)},
        "exporter": {"flush_interval": "200ms"}}), root=os.path.join(tmp, "agent"))
    tally = Tally(out)
    text = numbered("forged-roles genuine")
    holder = [agent]
    written = [0]
    system = pwd.getpwnam("tfo-system").pw_uid
    logs = pwd.getpwnam("tfo-logs").pw_uid
    group = grp.getgrnam("tfo-agent").gr_gid
    url = "ipc://%s/ingest.ipc" % agent.run

    def write(n):
        with open(app, "a") as f:
            f.write("".join(text(i) for i in range(written[0] + 1, written[0] + n + 1)))
        os.chmod(app, 0o644)
        written[0] += n

    def arrived():
        return tally.complete(written[0], first=1)

    def run_forge(uid, *attack, expect=0):
        p = subprocess.run([forge, url, str(uid), str(group)] + list(attack),
                           capture_output=True, text=True, timeout=60)
        print("ingest_forge as uid %d %s: rc %d: %s" % (uid, " ".join(attack), p.returncode,
                                                        p.stdout.strip().splitlines()[-1:]))
        check(p.returncode == expect, "ingest_forge %s as uid %d: exit %d, expected %d\n%s%s"
              % (" ".join(attack), uid, p.returncode, expect, p.stdout[-2000:], p.stderr[-2000:]))
        return p.stdout

    def case():
        write(100)
        agent.start()
        agent.wait_ready(ROLES, timeout=60)
        wait_for(arrived, "lines 1-100 at the sink", 60)

        # 1 and 2: forged record, and the dedupe poison: the buffer keeps one
        # (incarnation, seq) per role, so the attacker ends on tfo-logs' own
        # incarnation (a spawn counter; here read from tfoctl, as a guess would)
        run_forge(system, "forge")
        run_forge(system, "ownsig")        # 4: its own role, another role's signal
        inc = int(agent.status()["logs"]["incarnation"])
        check(inc > 0, "tfo-logs' incarnation not shown")
        run_forge(system, "dedupe", "1", str(INCARNATIONS))
        run_forge(system, "dedupe", str(inc), str(inc))
        # the same tfo-logs (same incarnation) keeps putting: nothing swallowed
        write(100)
        wait_for(arrived, "lines 101-200 after the dedupe attack", 60)

        # 3: tfo-logs' checkpoints are not tfo-system's to read or to write
        run_forge(system, "checkpoints")
        mine = run_forge(logs, "checkpoints", expect=3)      # tfo-logs' own uid: given
        cps = re.findall(r"^checkpoint (\d+) (\S+)$", mine, re.M)
        check(len(cps) == 1, "tfo-logs' own checkpoints: %r" % cps)
        check(int(cps[0][0]) == os.path.getsize(app),
              "tfo-logs' checkpoint %s is not the file's end %d" % (cps[0][0],
                                                                   os.path.getsize(app)))
        pid = agent.status()["logs"]["pid"]
        os.kill(pid, signal.SIGSTOP)
        write(100)
        run_forge(system, "cpput", cps[0][1], str(os.path.getsize(app)))
        os.kill(pid, signal.SIGKILL)       # restarted: reads its checkpoints again
        agent.wait(lambda s: s["logs"]["state"] == "ready" and s["logs"]["pid"] != pid,
                   "tfo-logs restarted")
        wait_for(arrived, "lines 201-300 after the forged checkpoint", 60)
        time.sleep(1.0)                    # a duplicate would come with the rest

        tally.update()
        count, dups = tally.count, tally.dups()
        forged = sum("FORGED" in body for body in tally.other)
        check(len(count) == written[0] and not dups,
              "lines: %d of %d arrived, duplicated: %s" % (len(count), written[0], dups[:20]))
        check(forged == 0, "%d forged records reached the sink" % forged)
        want = 1 + 1 + INCARNATIONS + 1 + 1 + 1
        # stats come with the next health ping's answer
        agent.wait(lambda s: s["buffer"]["stats"].get("forged_role") == want,
                   "buffer forged_role = %d" % want)
        logged = agent.logtext().count("further refusals on this connection")
        check(logged == 6, "forgeries logged %d times, expected once per connection (6)"
              % logged)
        print("300 of 300 lines once each, 0 forged records, %d forgeries refused, "
              "logged %d times" % (want, logged))

    rc = run_case(case, holder)
    agent.cleanup()
    sink.stop()
    if rc == 0:
        subprocess.run(["rm", "-rf", tmp])
    return rc


if __name__ == "__main__":
    sys.exit(main())
