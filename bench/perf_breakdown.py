#!/usr/bin/python3
"""perf_breakdown.py [-n JOBS] [-F HZ] [-j JOB] [-o FILE] [-d DATA]: where a job's CPU
time goes, per process and per kernel operation (bench/README.md, "Where
the CPU goes"). Root only (perf -a, kernel symbols).

Starts `warmbox serve --zygotes 2` of its own, waits until the pool is warm,
sends 200 warm-up jobs, then JOBS jobs (default 1000) one at a time on one
connection, back to back, while `perf record -a -e cpu-clock -F HZ -g`
samples every CPU. cpu-clock is a software event, so this works where the
hardware counters do not. Every result must be OK.

Figures are microseconds of CPU per job: a share of the samples times the
sampled time, divided by JOBS. Per process they are split by comm: the
manager is `warmbox`, the zygote `wb-zygote`, a job init `wb-jobinit`, the
program's set-up before execve `wb-program`, then the program itself
(`true`), this client (`python3`), kernel threads, and idle (`swapper`).
Per operation they are inclusive ("children"): a syscall's figure holds all
it called. The whole `perf report` tables go into the report too. WARMBOX
names the binary (default build/warmbox). The report goes to stdout and
FILE (default bench/results/perf-YYYYmmdd-HHMMSS.txt)."""

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WB = os.environ.get("WARMBOX", os.path.join(ROOT, "build", "warmbox"))
POLICIES = os.path.join(ROOT, "policies")

# Kernel entry points and internals worth a row of their own, in the order a
# job meets them. A name missing from a run's samples prints as 0.
OPERATIONS = [
    ("clone3 (spare job init, program)", "__do_sys_clone3"),
    ("  copy_process", "copy_process"),
    ("    dup_mmap (the parent's memory map)", "dup_mmap"),
    ("  copy_namespaces (pid, mnt, ipc)", "copy_namespaces"),
    ("  copy_mnt_ns", "copy_mnt_ns"),
    ("mount (tmpfs /box /tmp, proc)", "__x64_sys_mount"),
    ("unshare (cgroup ns)", "__x64_sys_unshare"),
    ("cgroup.procs write (v1 attach)", "__cgroup1_procs_write.isra.0"),
    ("  cgroup_attach_task", "cgroup_attach_task"),
    ("cgroup mkdir (the manager, a job's cgroups)", "cgroup_mkdir"),
    ("cgroup rmdir", "cgroup_rmdir"),
    ("  percpu_down_write (RCU wait)", "percpu_down_write"),
    ("sendmsg", "__sys_sendmsg"),
    ("recvmsg", "__sys_recvmsg"),
    ("read", "ksys_read"),
    ("write", "ksys_write"),
    ("openat", "__x64_sys_openat"),
    ("close", "__x64_sys_close"),
    ("prlimit64 / setrlimit", "do_prlimit"),
    ("prctl", "__do_sys_prctl"),
    ("seccomp", "do_seccomp"),
    ("  bpf JIT", "bpf_int_jit_compile"),
    ("execve", "__x64_sys_execve"),
    ("exit_group / exit", "do_exit"),
    ("  exit_mmap", "exit_mmap"),
    ("  namespaces put (exit_task_namespaces)", "exit_task_namespaces"),
    ("  zap_pid_ns_processes", "zap_pid_ns_processes"),
    ("wait4", "kernel_wait4"),
    ("epoll_wait", "__x64_sys_epoll_wait"),
    ("page faults", "asm_exc_page_fault"),
    ("mount teardown (cleanup_mnt)", "cleanup_mnt"),
    ("  superblock teardown", "deactivate_locked_super"),
    ("task_work (deferred fput, mntput)", "task_work_run"),
    ("RCU callbacks (rcu_core)", "rcu_core"),
    ("schedule (context switches)", "schedule"),
]


def die(msg):
    print("perf_breakdown: " + msg, file=sys.stderr)
    sys.exit(1)


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def ask(self, obj):
        self.s.sendall((json.dumps(obj) + "\n").encode())
        line = self.f.readline()
        if not line:
            die("the daemon closed the connection")
        return json.loads(line)

    def jobs(self, job, n):
        for i in range(n):
            r = self.ask(dict(job, id="j%d" % i))
            if r.get("status") != "OK":
                die("job %d: %s" % (i, r))


def start_daemon(tmp, extra=()):
    sock = os.path.join(tmp, "s")
    log = open(os.path.join(tmp, "serve.log"), "wb")
    p = subprocess.Popen([WB, "serve", "--socket", sock, "--zygotes", "2", "--policies", POLICIES] + list(extra),
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        if p.poll() is not None:
            die("warmbox serve exited with %d; see %s" % (p.returncode, log.name))
        try:
            c = Client(sock)
            st = c.ask({"op": "stats"})
            if st.get("warm") == 2 and st.get("busy") == 0:
                return p, c
            c.s.close()
        except OSError:
            pass
        time.sleep(0.05)
    p.kill()
    die("the pool was not warm within 20 s")


def report_lines(data, *args):
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--percent-limit", "0"] + list(args),
                         capture_output=True, text=True)
    if out.returncode != 0:
        die("perf report: " + out.stderr.strip())
    return out.stdout.splitlines()


def total_ns(lines):
    for line in lines:
        m = re.match(r"# Event count \(approx\.\): (\d+)", line)
        if m:
            return int(m.group(1))
    die("perf report gave no event count")


def rows(lines, ncols):
    """(percentages, keys) of a --stdio table with ncols percentage columns."""
    out = []
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) <= ncols or not all(p.endswith("%") for p in parts[:ncols]):
            continue
        out.append(([float(p[:-1]) for p in parts[:ncols]], parts[ncols:]))
    return out


def report_path(given, name):
    """GIVEN (-o), or bench/results/NAME-YYYYmmdd-HHMMSS.txt."""
    return given or os.path.join(ROOT, "bench", "results", time.strftime(name + "-%Y%m%d-%H%M%S.txt"))


def report_head(name):
    """A report's first lines: what made it, when, on which kernel."""
    return ["warmbox " + name,
            "command:   " + " ".join(sys.argv),
            "date:      " + time.strftime("%Y-%m-%d %H:%M:%S"),
            "kernel:    %s, %d CPUs" % (os.uname().release, os.cpu_count())]


def write_report(lines, out):
    """The report's lines to stdout and to the file OUT, its folder made."""
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="jobs measured (default 1000)")
    ap.add_argument("-F", type=int, default=2000, help="samples a second per CPU (default 2000)")
    ap.add_argument("-j", default='{"argv":["/bin/true"]}', help="the job, JSON (default /bin/true)")
    ap.add_argument("-o", help="report file")
    ap.add_argument("-d", help="keep perf's data there, for perf report of your own")
    a = ap.parse_args()
    if os.geteuid() != 0:
        die("needs root: perf record -a and the kernel's symbols")
    if not shutil.which("perf"):
        die("needs perf (apt-get install linux-perf)")
    job = json.loads(a.j)
    out = report_path(a.o, "perf")
    tmp = tempfile.mkdtemp(prefix="wbperf.")
    atexit.register(shutil.rmtree, tmp, True)  # die() included
    data = os.path.join(tmp, "perf.data")
    daemon, c = start_daemon(tmp)
    try:
        c.jobs(job, 200)
        perf = subprocess.Popen(["perf", "record", "-q", "-a", "-g", "-e", "cpu-clock", "-F", str(a.F),
                                 "-o", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # perf is sampling once its start-up is behind it
        t0 = time.monotonic()
        c.jobs(job, a.n)
        secs = time.monotonic() - t0
        perf.send_signal(signal.SIGINT)
        # perf writes its data, then dies of the SIGINT it was sent.
        if perf.wait(60) not in (0, -signal.SIGINT):
            die("perf record exited with %d" % perf.returncode)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    head = report_lines(data, "--no-children", "--sort", "comm", "-g", "none")
    ns = total_ns(head)
    per_job = lambda pct: pct / 100.0 * ns / 1000.0 / a.n
    o = report_head("perf_breakdown")
    o.append("warmbox:   %s at %s" % (WB, subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                                          capture_output=True, text=True).stdout.strip()))
    o.append("load avg:  " + open("/proc/loadavg").read().strip())
    o.append("job:       " + json.dumps(job))
    o.append("jobs:      %d, one at a time on one connection, %.2f s (%.0f us a job, wall)" %
             (a.n, secs, secs * 1e6 / a.n))
    o.append("sampled:   %.2f s of CPU time on all CPUs (cpu-clock, %d Hz a CPU), the recording "
             "%.2f s longer than the jobs" % (ns / 1e9, a.F, ns / 1e9 / os.cpu_count() - secs))
    o.append("")
    o.append("CPU per job, microseconds, by process (comm); idle is swapper")
    busy = 0.0
    for pct, key in rows(head, 1):
        name = " ".join(key)
        if pct[0] < 0.05:
            continue
        if name != "swapper":
            busy += per_job(pct[0])
        o.append("  %-24s %8.1f   %5.1f%%" % (name, per_job(pct[0]), pct[0]))
    o.append("  %-24s %8.1f   (every process but idle; it includes the recording's margins)" % ("all but idle", busy))
    o.append("")
    o.append("CPU per job, microseconds, by kernel operation (inclusive), all processes")
    kids = rows(report_lines(data, "--children", "--sort", "sym", "-g", "none"), 2)
    incl = {}
    for pct, key in kids:
        if key and key[0] in ("[k]", "[.]"):
            incl[key[1]] = incl.get(key[1], 0.0) + pct[0]
    for label, sym in OPERATIONS:
        o.append("  %-42s %8.1f   %s" % (label, per_job(incl.get(sym, 0.0)), sym))
    o.append("")
    o.append("By process and symbol, inclusive, the 30 largest rows of each of warmbox's processes")
    bycs = rows(report_lines(data, "--children", "--sort", "comm,sym", "-g", "none"), 2)
    for comm in ("warmbox", "wb-zygote", "wb-jobinit", "wb-program", "true", "python3"):
        mine = [(p[0], k) for p, k in bycs if k and k[0] == comm]
        o.append("  %s:" % comm)
        for pct, key in sorted(mine, key=lambda x: -x[0])[:30]:
            o.append("    %8.1f  %s" % (per_job(pct), " ".join(key[1:])))
    write_report(o, out)
    if a.d:
        shutil.move(data, a.d)


if __name__ == "__main__":
    main()
