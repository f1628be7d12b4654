#!/usr/bin/env python3
"""rusage.py OUT CMD...: runs CMD (stdout and stderr passed through) and writes
"<wall s> <CPU s>" to OUT: wall from spawn to exit, CPU the child's user +
system time (getrusage, microseconds; /usr/bin/time rounds to 10 ms).
Exits with CMD's status."""
import os
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    f.write(f"{wall:.4f} {ru.ru_utime + ru.ru_stime:.4f}\n")
sys.exit(os.waitstatus_to_exitcode(status))
