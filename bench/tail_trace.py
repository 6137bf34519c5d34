#!/usr/bin/python3
"""tail_trace.py [-n JOBS] [-o FILE]: what a sequential client's slowest jobs
spent their time on (bench/README.md, "The tail"). Starts `warmbox serve
--zygotes 2 --trace` of its own, sends 100 warm-up jobs, then JOBS
`/bin/true` jobs (default 2000) one at a time, back to back, on one
connection, timing each from send to result line. Reports the latency
percentiles, the median of each `--trace` stage over all jobs, and the
stages of the slowest 1 %: a stage far above its median says where an
outlier's time went. WARMBOX names the binary (default build/warmbox). The
report goes to stdout and FILE (default bench/results/tail-YYYYmmdd-HHMMSS.txt)."""

import argparse
import os
import shutil
import signal
import tempfile
import time

import perf_breakdown as pb


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=2000, help="jobs measured (default 2000)")
    ap.add_argument("-o", help="report file")
    a = ap.parse_args()
    out = pb.report_path(a.o, "tail")
    tmp = tempfile.mkdtemp(prefix="wbtail.")
    daemon, c = pb.start_daemon(tmp, ["--trace"])
    jobs = []
    try:
        c.jobs({"argv": ["/bin/true"]}, 100)
        for i in range(a.n):
            t0 = time.monotonic_ns()
            r = c.ask({"id": "t%d" % i, "argv": ["/bin/true"]})
            us = (time.monotonic_ns() - t0) / 1000.0
            if r.get("status") != "OK" or "trace" not in r:
                pb.die("job %d: %s" % (i, r))
            jobs.append((us, r["trace"]))
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        shutil.rmtree(tmp)
    lat = [j[0] for j in jobs]
    stages = list(jobs[0][1]["stages_us"])
    fields = ["send_to_exec_us", "recv_to_exec_us", "send_to_report_us"]
    o = pb.report_head("tail_trace") + [
         "warmbox:   " + pb.WB,
         "load avg:  " + open("/proc/loadavg").read().strip(),
         "jobs:      %d /bin/true, one at a time on one connection" % a.n,
         "",
         "latency, send -> result line, us: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f  (p99/p50 %.2f)" %
         (pct(lat, .5), pct(lat, .9), pct(lat, .99), max(lat), pct(lat, .99) / pct(lat, .5)),
         "",
         "median of each figure over all jobs, us:",
         "  " + "  ".join("%s %d" % (f.replace("_us", ""), pct([j[1][f] for j in jobs], .5)) for f in fields),
         "  " + "  ".join("%s %d" % (s, pct([j[1]["stages_us"][s] for j in jobs], .5)) for s in stages),
         "",
         "the slowest 1 %, us (latency, then the figures and stages above):",
         "  %8s %8s %8s %8s  " % ("latency", "send>ex", "recv>ex", "send>rep") + " ".join("%7s" % s for s in stages)]
    for us, tr in sorted(jobs, key=lambda j: -j[0])[:max(1, a.n // 100)]:
        o.append("  %8.0f %8d %8d %8d  " % (us, tr[fields[0]], tr[fields[1]], tr[fields[2]]) +
                 " ".join("%7d" % tr["stages_us"][s] for s in stages))
    pb.write_report(o, out)


if __name__ == "__main__":
    main()
