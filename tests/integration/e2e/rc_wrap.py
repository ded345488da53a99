#!/usr/bin/env python3
"""rc_wrap.py REAL RCFILE [EXTRA...] -- [ARGS...] - run REAL ARGS EXTRA and write
its exit status to RCFILE (a negative number = killed by that signal), so
test_make_run.py can see how the processes tools/run-dev starts ended.
SIGINT is left to the child (the terminal's Ctrl-C reaches the whole process
group); SIGTERM is forwarded to it."""
import signal
import subprocess
import sys

real, rcfile = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
sep = rest.index("--")
extra, args = rest[:sep], rest[sep + 1:]

signal.signal(signal.SIGINT, lambda *_: None)   # a handler, so the child gets SIG_DFL
child = subprocess.Popen([real] + args + extra)
signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
rc = child.wait()
with open(rcfile, "w") as f:
    f.write("%d\n" % rc)
sys.exit(rc if rc >= 0 else 128 - rc)
