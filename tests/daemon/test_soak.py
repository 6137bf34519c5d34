#!/usr/bin/env python3
"""test_soak.py (labels daemon, soak): 20,000 /bin/true jobs through one
daemon, pipelined over two connections. What the daemon holds (open fds,
children, mounts, cgroups) must be the same after them as after the
warm-up, and its resident memory must not grow by more than 5 MiB.
WB_SOAK_JOBS overrides the number of jobs (for a quick local run). Then
2,000 varied jobs through one zygote, whose memory must not grow."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief, answered_once  # noqa: E402

T = wbd.preflight("daemon_soak")
TOTAL = int(os.environ.get("WB_SOAK_JOBS", "20000"))
WARMUP = 500
CONNS = 2
WINDOW = 48


def snapshot(d):
    """What the daemon holds, once its zygotes are all warm again."""
    d.wait_warm(30)
    # The stats connection of wait_warm closes asynchronously: let it go
    # before counting fds.
    time.sleep(0.5)
    return {
        "fds": wbd.fd_count(d.pid),
        "children": len(wbd.children(d.pid)),
        "mounts": wbd.mount_count(d.pid),
        "cgroups": len(wbd.cgroup_dirs(d.pid)),
        "rss_kb": wbd.rss_kb(d.pid),
        "fd_list": fd_list(d.pid),
    }


def fd_list(pid):
    out = []
    for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
        try:
            out.append("%s -> %s" % (fd, os.readlink("/proc/%d/fd/%s" % (pid, fd))))
        except OSError:
            pass
    return out


def run_jobs(d, prefix, n):
    """N /bin/true jobs over CONNS connections; checks each answered OK once."""
    per = [[wbd.true_job("%s-%d-%d" % (prefix, k, i)) for i in range(n // CONNS)] for k in range(CONNS)]
    results = [None] * CONNS

    def client(k):
        c = d.client(120)
        try:
            results[k] = c.pipeline(per[k], WINDOW, timeout=540)
        finally:
            c.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(CONNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(560)
    took = time.monotonic() - t0
    bad = 0
    for k in range(CONNS):
        answers, err = results[k] or ([], "client thread did not finish")
        T.check(err is None, "%s: connection %d: %d answers" % (prefix, k, len(per[k])), err)
        answered_once(T, per[k], answers, "%s: connection %d" % (prefix, k))
        wrong = [a for a in answers if a.get("status") != "OK"]
        bad += len(wrong)
        T.check(not wrong, "%s: connection %d: every job OK" % (prefix, k),
                "%d not OK, e.g. %s" % (len(wrong), brief(wrong[0]) if wrong else ""))
    wbd.log("%s: %d jobs in %.1f s (%.2f ms a job)" % (prefix, n, took, took * 1000 / max(n, 1)))
    return took


@T.case()
def case_soak():
    """soak: jobs

    TOTAL /bin/true jobs (the figure is logged), the daemon's holdings
    compared after the warm-up and after them."""
    wbd.log("soak: %d jobs" % TOTAL)
    # --recycle: each zygote is replaced a few times on the way, so the
    # counts also cover zygotes that came and went.
    with Daemon(T, "--zygotes", 2, "--recycle", 4000, name="daemon") as d:
        d.wait_warm()
        run_jobs(d, "warmup", WARMUP)
        before = snapshot(d)
        wbd.log("after warm-up: %s" % {k: v for k, v in before.items() if k != "fd_list"})
        run_jobs(d, "soak", TOTAL - WARMUP)
        after = snapshot(d)
        wbd.log("after %d jobs: %s" % (TOTAL, {k: v for k, v in after.items() if k != "fd_list"}))
        s = d.stats()
        wbd.log("stats: %s" % brief(s))
        T.check(s["jobs_run"] >= TOTAL and s["by_status"]["OK"] >= TOTAL and s["by_status"]["XX"] == 0,
                "stats: %d jobs run, all OK" % s["jobs_run"], brief(s))
        for key in ("fds", "children", "mounts", "cgroups"):
            T.check(before[key] is not None and before[key] == after[key],
                    "%s: %s after warm-up, %s after %d jobs" % (key, before[key], after[key], TOTAL),
                    "before:\n%s\nafter:\n%s" % ("\n".join(before["fd_list"]), "\n".join(after["fd_list"]))
                    if key == "fds" else None)
        grew = after["rss_kb"] - before["rss_kb"]
        T.rss_check(grew < 5 * 1024, "RSS: %d KiB after warm-up, %d KiB after %d jobs (grew %d KiB, < 5 MiB)"
                    % (before["rss_kb"], after["rss_kb"], TOTAL, grew))


def zygote_memory(pid):
    """A zygote's memory, which its job inits share (zygote.c): the size of
    its data (heap included), its mappings, what is resident."""
    maps = len(wbd.read_text("/proc/%d/maps" % pid).splitlines())
    return {"data_kb": wbd.rss_kb(pid, "VmData"), "maps": maps, "rss_kb": wbd.rss_kb(pid, "VmRSS")}


def varied_jobs(prefix, n):
    """Jobs through every part of a job init that allocates: files in,
    stdin, copy-out, output, a failed exec, a refused syscall."""
    kinds = [
        lambda i: wbd.true_job("%s-%d" % (prefix, i)),
        lambda i: wbd.prog_job("%s-%d" % (prefix, i), "exit_code", [3]),
        lambda i: {"id": "%s-%d" % (prefix, i), "argv": ["/bin/sh", "-c", "cat; echo x > out"],
                   "stdin": "in\n", "copy_out": ["out"], "limits": {"procs": 2}},
        lambda i: {"id": "%s-%d" % (prefix, i), "argv": ["/nonexistent"]},
        lambda i: wbd.prog_job("%s-%d" % (prefix, i), "connect_probe"),
    ]
    return [kinds[i % len(kinds)](i) for i in range(n)]


@T.case()
def case_zygote_memory():
    """zygote memory: job inits give back what they take

    Job inits run in their zygote's memory, one at a time: what one leaves
    allocated or mapped stays for good. One zygote, never recycled: its
    data size and mappings must be the same after 2000 varied jobs as after
    500, and what is resident must not grow by more than 256 KiB."""
    with Daemon(T, "--zygotes", 1, name="daemon") as d:
        d.wait_warm()
        c = d.client(120)
        try:
            _, err = c.pipeline(varied_jobs("warmup", 500), 8, timeout=300)
            T.check(err is None, "warm-up: 500 answers", err)
            zygotes = wbd.children(d.pid)
            T.check(len(zygotes) == 1, "one zygote", zygotes)
            before = zygote_memory(zygotes[0])
            answers, err = c.pipeline(varied_jobs("run", 1500), 8, timeout=300)
            after = zygote_memory(zygotes[0])
        finally:
            c.close()
        count = {}
        for a in answers:
            count[a.get("status")] = count.get(a.get("status"), 0) + 1
        T.check(err is None and count == {"OK": 600, "RE": 600, "SV": 300},
                "1500 answers: 600 OK, 600 RE (exit 3, a failed exec), 300 SV", (err, count))
        T.check(wbd.children(d.pid) == zygotes, "the same zygote throughout", wbd.children(d.pid))
        wbd.log("zygote %d after 500 jobs: %s; after 2000: %s" % (zygotes[0], before, after))
        T.check(after["data_kb"] == before["data_kb"], "zygote data: %s KiB after 500 jobs, %s after 2000"
                % (before["data_kb"], after["data_kb"]))
        T.check(after["maps"] == before["maps"], "zygote mappings: %d after 500 jobs, %d after 2000"
                % (before["maps"], after["maps"]))
        grew = after["rss_kb"] - before["rss_kb"]
        T.check(grew <= 256, "zygote resident: %d KiB after 500 jobs, %d after 2000 (grew %d KiB, <= 256)"
                % (before["rss_kb"], after["rss_kb"], grew))


T.run()
