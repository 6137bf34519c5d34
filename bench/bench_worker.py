#!/usr/bin/python3
"""bench_worker.py [-n JOBS] [-b BATCH] [-o FILE]: what the Redis hop of
`warmbox worker` costs (bench/README.md, "Worker"), against the same pool
behind `warmbox serve`'s Unix socket, in one run on this host:

  latency     /bin/true, one job at a time (JOBS of them): through the
              daemon's socket (send, read the result line) and through
              Redis (XADD, then XREAD BLOCK on the results stream until its
              result), p50 and p99;
  throughput  BATCH /bin/true jobs at once: the daemon with the batch
              pipelined on one connection (at most 256 unanswered, within
              its --queue), one worker, two workers (all
              with --zygotes 2), jobs/s from the first send to the last
              result.

A redis-server of its own on a free loopback port, in a scratch directory;
needs Debian's redis-server and python3-redis. WARMBOX names the binary
(default build/warmbox). The report goes to stdout and FILE (default
bench/results/worker-YYYYmmdd-HHMMSS.txt). Medians and ratios only."""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WB = os.environ.get("WARMBOX", os.path.join(ROOT, "build", "warmbox"))
POLICIES = os.path.join(ROOT, "policies")
TRUE = {"argv": ["/bin/true"]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


class Proc:
    def __init__(self, argv, log):
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(log, "wb"), stderr=subprocess.STDOUT)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(60)


def daemon_client(sock):
    c = socket.socket(socket.AF_UNIX)
    c.connect(sock)
    return c, c.makefile("rb")


def daemon_latency(sock, n):
    c, f = daemon_client(sock)
    line = (json.dumps(TRUE) + "\n").encode()
    out = []
    for _ in range(n):
        t = time.monotonic()
        c.sendall(line)
        assert json.loads(f.readline())["status"] == "OK"
        out.append((time.monotonic() - t) * 1e6)
    c.close()
    return out


def daemon_batch(sock, n, window=256):
    """n jobs, at most window unanswered: within the daemon's --queue."""
    c, f = daemon_client(sock)
    line = (json.dumps(TRUE) + "\n").encode()
    t = time.monotonic()
    sent = min(n, window)
    c.sendall(line * sent)
    for _ in range(n):
        assert json.loads(f.readline())["status"] == "OK"
        if sent < n:
            c.sendall(line)
            sent += 1
    dt = time.monotonic() - t
    c.close()
    return n / dt


def redis_latency(r, n):
    last = r.xrevrange("warmbox:results", count=1)
    last_id = last[0][0] if last else "0-0"
    out = []
    job = json.dumps(TRUE)
    for _ in range(n):
        t = time.monotonic()
        r.xadd("warmbox:jobs", {"job": job})
        got = r.xread({"warmbox:results": last_id}, count=1, block=10000)
        assert got, "no result within 10 s"
        last_id = got[0][1][0][0]
        assert json.loads(got[0][1][0][1]["result"])["status"] == "OK"
        out.append((time.monotonic() - t) * 1e6)
    return out


def redis_batch(r, n):
    before = r.xlen("warmbox:results")
    job = json.dumps(TRUE)
    t = time.monotonic()
    pipe = r.pipeline(transaction=False)
    for _ in range(n):
        pipe.xadd("warmbox:jobs", {"job": job})
    pipe.execute()
    assert wait_for(lambda: r.xlen("warmbox:results") >= before + n, 300), "results missing"
    return n / (time.monotonic() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("-b", type=int, default=2000)
    ap.add_argument("-o")
    a = ap.parse_args()
    out = a.o or os.path.join(ROOT, "bench", "results", "worker-%s.txt" % time.strftime("%Y%m%d-%H%M%S"))
    tmp = tempfile.mkdtemp(prefix="bench_worker.")
    procs = []
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    try:
        port = free_port()
        procs.append(Proc(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
                           "--appendonly", "no"], os.path.join(tmp, "redis.log")))
        r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        assert wait_for(lambda: _ping(r), 10), "redis-server did not start"
        sock = os.path.join(tmp, "wb.sock")
        serve = Proc([WB, "serve", "--socket", sock, "--zygotes", "2", "--policies", POLICIES, "--log-level",
                      "warn"], os.path.join(tmp, "serve.log"))
        procs.append(serve)
        assert wait_for(lambda: os.path.exists(sock), 10), "warmbox serve did not start"
        time.sleep(0.5)
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        say("bench_worker: /bin/true through warmbox serve's socket and through Redis (warmbox worker)")
        say("command: bench/bench_worker.py -n %d -b %d" % (a.n, a.b))
        say("date: %s; kernel %s; %d CPUs; load %s at start" % (time.strftime("%Y-%m-%d %H:%M:%S %Z"), os.uname().release,
                                                            os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
        say("warmbox: %s (commit %s); %s" % (WB, commit, subprocess.run(["redis-server", "--version"],
                                                                       capture_output=True, text=True).stdout.strip()))
        daemon_latency(sock, 50)
        lat_d = daemon_latency(sock, a.n)
        thr_d = daemon_batch(sock, a.b)
        serve.stop()
        w1 = Proc([WB, "worker", "--redis", "127.0.0.1:%d" % port, "--zygotes", "2", "--consumer", "w1",
                   "--policies", POLICIES, "--log-level", "warn"], os.path.join(tmp, "w1.log"))
        procs.append(w1)
        time.sleep(0.5)
        redis_latency(r, 50)
        lat_r = redis_latency(r, a.n)
        thr_1 = redis_batch(r, a.b)
        w2 = Proc([WB, "worker", "--redis", "127.0.0.1:%d" % port, "--zygotes", "2", "--consumer", "w2",
                   "--policies", POLICIES, "--log-level", "warn"], os.path.join(tmp, "w2.log"))
        procs.append(w2)
        time.sleep(0.5)
        thr_2 = redis_batch(r, a.b)
        say()
        say("latency, one /bin/true job at a time (%d jobs), microseconds" % a.n)
        say("  %-28s %9s %9s" % ("path", "p50", "p99"))
        say("  %-28s %9.0f %9.0f" % ("daemon, Unix socket", pct(lat_d, 0.5), pct(lat_d, 0.99)))
        say("  %-28s %9.0f %9.0f" % ("worker, XADD to result entry", pct(lat_r, 0.5), pct(lat_r, 0.99)))
        say("  %-28s %9.0f %9.0f" % ("added by the Redis hop", pct(lat_r, 0.5) - pct(lat_d, 0.5),
                                      pct(lat_r, 0.99) - pct(lat_d, 0.99)))
        say()
        say("throughput, %d /bin/true jobs at once, jobs/s (each --zygotes 2, one host of %d CPUs)" % (a.b, os.cpu_count()))
        say("  daemon, pipelined (256 in flight)    %8.0f" % thr_d)
        say("  one worker                            %8.0f  (%.2f x the daemon)" % (thr_1, thr_1 / thr_d))
        say("  two workers                           %8.0f  (%.2f x the daemon)" % (thr_2, thr_2 / thr_d))
        info = r.info("commandstats")
        say()
        say("redis-server's own time per command (INFO commandstats, usec_per_call):")
        for cmd in ("xadd", "xreadgroup", "xack", "xread"):
            st = info.get("cmdstat_" + cmd)
            if st:
                say("  %-11s %8d calls  %6.2f us" % (cmd.upper(), st["calls"], st["usec_per_call"]))
        say("load %s at end" % open("/proc/loadavg").read().split()[:3])
    finally:
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("report: %s" % out, file=sys.stderr)


def _ping(r):
    try:
        return r.ping()
    except redis.exceptions.ConnectionError:
        return False


if __name__ == "__main__":
    main()
