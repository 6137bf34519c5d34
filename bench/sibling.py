#!/usr/bin/python3
"""sibling.py [-n RUNS] [-R ROUNDS] [-p PROGRAM] [-o FILE]: how much a busy
second CPU slows a bare fork+execve+waitpid of PROGRAM on the first
(bench/README.md, "Where the CPU goes"). No warmbox involved: this measures
the host.

Pinned to CPU 0, it runs PROGRAM (default /bin/true) RUNS times (default
500) one after the other, once with CPU 1 idle and once with a spinning
process pinned there, ROUNDS times (default 5), the order of the two
alternating. Per run it takes the wall time (spawn to wait4) and the
child's own CPU time (wait4's rusage, user + system). It reports the
median of each over all runs of a mode, and busy / idle.

Why it matters: warmbox does a job's off-path work (the next spare's clone,
the previous job init's exit) on the other CPU while the program runs. On a
host whose CPUs slow each other down (SMT siblings, or virtual CPUs sharing
a core), the program itself then costs more CPU than it does bare, without
warmbox doing anything in its process. The report goes to stdout and FILE
(default bench/results/sibling-YYYYmmdd-HHMMSS.txt)."""

import argparse
import os
import signal
import statistics
import sys
import time

import perf_breakdown as pb


def spinner():
    """A child spinning on CPU 1 until killed."""
    pid = os.fork()
    if pid == 0:
        try:
            os.sched_setaffinity(0, {1})
            while True:
                pass
        finally:
            os._exit(0)
    return pid


def runs(prog, n):
    """N runs of PROG: lists of wall and child CPU, microseconds."""
    wall, cpu = [], []
    env = {"PATH": "/usr/bin:/bin"}
    for _ in range(n):
        t0 = time.monotonic_ns()
        pid = os.posix_spawn(prog, [prog], env)
        _, status, ru = os.wait4(pid, 0)
        wall.append((time.monotonic_ns() - t0) / 1000.0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            sys.exit("sibling.py: %s did not exit 0 (wait status %d)" % (prog, status))
        cpu.append((ru.ru_utime + ru.ru_stime) * 1e6)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=500, help="runs a mode and round (default 500)")
    ap.add_argument("-R", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("-p", default="/bin/true", help="the program, a path (default /bin/true)")
    ap.add_argument("-o", help="report file")
    a = ap.parse_args()
    if os.cpu_count() < 2 or not {0, 1} <= os.sched_getaffinity(0):
        sys.exit("sibling.py: needs CPUs 0 and 1")
    out = pb.report_path(a.o, "sibling")
    os.sched_setaffinity(0, {0})
    load0 = open("/proc/loadavg").read().strip()
    got = {"idle": ([], []), "busy": ([], [])}
    runs(a.p, 50)  # warm-up: page cache, the loader's files
    for r in range(a.R):
        for mode in (("idle", "busy") if r % 2 == 0 else ("busy", "idle")):
            spin = spinner() if mode == "busy" else None
            try:
                if spin:
                    time.sleep(0.2)  # the spinner is on its CPU
                wall, cpu = runs(a.p, a.n)
            finally:
                if spin:
                    os.kill(spin, signal.SIGKILL)
                    os.waitpid(spin, 0)
            got[mode][0].extend(wall)
            got[mode][1].extend(cpu)
    med = {m: (statistics.median(w), statistics.median(c)) for m, (w, c) in got.items()}
    o = pb.report_head("sibling") + [
         "load avg:  " + load0 + " at start",
         "program:   %s, %d runs a mode in %d rounds, pinned to CPU 0" % (a.p, a.n * a.R, a.R),
         "",
         "median per run, microseconds   wall     child CPU (user + system)"]
    for m, what in (("idle", "CPU 1 idle"), ("busy", "CPU 1 spinning")):
        o.append("  %-28s %8.0f %12.0f" % (what, med[m][0], med[m][1]))
    o.append("  %-28s %8.2fx %11.2fx" % ("spinning / idle", med["busy"][0] / med["idle"][0],
                                          med["busy"][1] / med["idle"][1]))
    pb.write_report(o, out)


if __name__ == "__main__":
    main()
