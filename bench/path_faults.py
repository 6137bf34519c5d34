#!/usr/bin/python3
"""path_faults.py [-n JOBS] [-o FILE]: the page faults on a job's path from
the spare job init's receipt of the job to its program's execve
(bench/README.md, "Faults on the job's path"). Starts `warmbox serve
--zygotes 2` of its own, sends 100 warm-up jobs, then JOBS `/bin/true` jobs
(default 1000) one at a time under `perf record` of three tracepoints (user
page faults, recvmsg's return, execve's entry) and the forks that pair each
job init with its program. Reports the faults per job on that path, by the
code that took them (wb-zygote's symbols) and their kind, and what a page
fault costs on this host (a forked child writing to its parent's pages and
to fresh ones). Root only.
WARMBOX names the binary (default build/warmbox). The report goes to stdout
and FILE (default bench/results/faults-YYYYmmdd-HHMMSS.txt)."""

import argparse
import bisect
import collections
import mmap
import os
import shutil
import signal
import subprocess
import tempfile
import time

import perf_breakdown as pb

EVENTS = ["exceptions:page_fault_user", "syscalls:sys_exit_recvmsg", "syscalls:sys_enter_execve",
          "sched:sched_process_fork"]
PAGE = os.sysconf("SC_PAGE_SIZE")
# The x86 page fault error code's bits: what the access was.
KINDS = {0x4: "read, not present", 0x6: "write, not present", 0x7: "write, present (copy on write)",
         0x14: "instruction fetch, not present"}


class Symbols:
    """wb-zygote's symbols, at the load address each zygote mapped it."""

    def __init__(self, path, bases):
        out = subprocess.run(["nm", "-n", path], capture_output=True, text=True, check=True).stdout
        self.syms = sorted((int(p[0], 16), p[2]) for p in (l.split() for l in out.splitlines()) if len(p) == 3)
        self.addrs = [s[0] for s in self.syms]
        self.bases = bases

    def name(self, ip):
        for base in self.bases:
            i = bisect.bisect_right(self.addrs, ip - base) - 1
            if 0 <= ip - base < 0x1000000 and i >= 0:
                return self.syms[i][1]
        return "outside wb-zygote (the vDSO)"


def fault_cost(pages=64):
    """This host's cost of a page fault, us: (copy on write, zero fill),
    from a forked child writing one byte to each of PAGES pages."""
    old = mmap.mmap(-1, pages * PAGE)
    for i in range(pages):
        old[i * PAGE] = 1
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        fresh = mmap.mmap(-1, pages * PAGE)
        t0 = time.perf_counter_ns()
        for i in range(pages):
            old[i * PAGE] = 2
        t1 = time.perf_counter_ns()
        for i in range(pages):
            fresh[i * PAGE] = 2
        t2 = time.perf_counter_ns()
        os.write(w, ("%f %f" % ((t1 - t0) / pages / 1000, (t2 - t1) / pages / 1000)).encode())
        os._exit(0)
    os.close(w)
    got = os.read(r, 100).decode().split()
    os.close(r)
    os.waitpid(pid, 0)
    return float(got[0]), float(got[1])


def zygote_bases(daemon_pid):
    bases = []
    for child in open("/proc/%d/task/%d/children" % (daemon_pid, daemon_pid)).read().split():
        try:
            with open("/proc/%s/maps" % child) as f:
                for line in f:
                    if "memfd:wb-zygote" in line:
                        bases.append(int(line.split("-")[0], 16))
                        break
        except OSError:
            pass
    return bases


def parse(script):
    """Per job init: its receipts, its program's pid and execve, its faults."""
    recv, execve, child, faults = collections.defaultdict(list), {}, {}, collections.defaultdict(list)
    for line in script.splitlines():
        p = line.split()
        if len(p) < 4:
            continue
        comm, pid, t, ev = p[0], int(p[1]), float(p[2].rstrip(":")), p[3]
        kv = dict(x.split("=", 1) for x in p[4:] if "=" in x)
        if ev.startswith("sched:sched_process_fork") and comm == "wb-jobinit":
            child[pid] = int(kv["child_pid"])
        elif ev.startswith("syscalls:sys_exit_recvmsg") and comm == "wb-jobinit":
            recv[pid].append(t)
        elif ev.startswith("syscalls:sys_enter_execve") and comm == "wb-program":
            execve[pid] = t
        elif ev.startswith("exceptions:page_fault_user") and comm in ("wb-jobinit", "wb-program"):
            faults[pid].append((t, comm, int(kv["ip"], 16), int(kv["error_code"], 16)))
    return recv, execve, child, faults


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="jobs measured (default 1000)")
    ap.add_argument("-o", help="report file")
    a = ap.parse_args()
    out = pb.report_path(a.o, "faults")
    if os.geteuid() != 0:
        pb.die("perf's tracepoints need root")
    tmp = tempfile.mkdtemp(prefix="wbfaults.")
    daemon, c = pb.start_daemon(tmp)
    try:
        c.jobs({"argv": ["/bin/true"]}, 100)
        bases = zygote_bases(daemon.pid)
        data = os.path.join(tmp, "perf.data")
        rec = subprocess.Popen(["perf", "record", "-q", "-a", "-o", data] + sum((["-e", e] for e in EVENTS), []),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        c.jobs({"argv": ["/bin/true"]}, a.n)
        rec.send_signal(signal.SIGINT)
        rec.wait(60)
        script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,time,event,trace"],
                                capture_output=True, text=True).stdout
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        shutil.rmtree(tmp)
    syms = Symbols(os.path.join(os.path.dirname(pb.WB), "wb-zygote"), bases)
    recv, execve, child, faults = parse(script)
    jobs, by = 0, collections.Counter()
    for init, prog in child.items():
        if prog not in execve:
            continue
        t1 = execve[prog]
        before = [t for t in recv[init] if t < t1]
        if not before:
            continue
        jobs += 1
        for pid in (init, prog):
            for t, comm, ip, code in faults[pid]:
                if before[-1] <= t <= t1:
                    by[(comm, syms.name(ip), KINDS.get(code, hex(code)))] += 1
    if jobs == 0:
        pb.die("no job seen whole under perf (too few jobs?)")
    costs = sorted(fault_cost() for _ in range(5))
    o = pb.report_head("path_faults") + [
         "warmbox:   " + pb.WB,
         "jobs:      %d /bin/true, one at a time; %d seen whole under perf" % (a.n, jobs),
         "",
         "a page fault on this host, median of 5 children writing to 64 pages each: "
         "%.1f us copy on write, %.1f us zero fill" % (costs[2][0], sorted(c[1] for c in costs)[2]),
         "",
         "page faults from the job init's receipt of the job to its program's execve: %.2f a job" %
         (sum(by.values()) / jobs),
         "",
         "  a job  process     code                            access"]
    for (comm, name, kind), n in by.most_common():
        o.append("  %5.2f  %-10s  %-30s  %s" % (n / jobs, comm, name, kind))
    pb.write_report(o, out)


if __name__ == "__main__":
    main()
