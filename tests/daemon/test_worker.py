#!/usr/bin/env python3
"""test_worker.py (label daemon): SPEC.md "Worker" against a real
redis-server each case starts on a free loopback port with its own
directory, driven with Debian's python3-redis: jobs through two workers
each answered exactly once, invalid entries answered and acknowledged,
no more entries held than places, SIGTERM finishing what is held, Redis
restarted under a worker without a computed result lost."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402

T = wbd.preflight("daemon_worker")
try:
    import redis
except ImportError:
    wbd.skip("python3-redis is not installed (the tests' Redis client)")
if not shutil.which("redis-server"):
    wbd.skip("redis-server is not installed")

STREAM, RESULTS, GROUP = "warmbox:jobs", "warmbox:results", "warmbox"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """redis-server on a free loopback port, in a directory of its own."""

    def __init__(self, appendonly=False):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="wbtest.%d.redis." % os.getpid(), dir="/tmp")
        self.appendonly = appendonly
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", self.dir, "--save", "", "--appendonly",
                                      "yes" if self.appendonly else "no", "--daemonize", "no"],
                                     stdout=open(os.path.join(self.dir, "log"), "wb"), stderr=subprocess.STDOUT)
        self.r = redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)
        T.check(wbd.wait_for(self.ping, 10), "redis-server answers on port %d" % self.port)
        return self

    def ping(self):
        try:
            return self.r.ping()
        except redis.exceptions.ConnectionError:
            return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)


class Worker:
    """warmbox worker against a RedisServer."""

    def __init__(self, rs, name, *args):
        self.rs = rs
        self.name = name
        self.log = os.path.join(rs.dir, name + ".log")
        argv = wbd.as_user_argv(wbd.LAUNCH + [wbd.WB, "worker", "--redis", "127.0.0.1:%d" % rs.port,
                                              "--consumer", name] + (["--policies", wbd.POLICIES]
                                                                     if wbd.POLICIES else []) + [str(a) for a in args])
        with open(self.log, "wb") as f:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
        self.kids = []

    def stop(self, desc=None):
        """SIGTERM; checks exit 0 and no process of it left."""
        self.kids = wbd.descendants(self.proc.pid)
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            rc = "hung"
        T.check(rc == 0, desc or "%s: exits 0 on SIGTERM" % self.name, "exit %s\n%s" % (rc, wbd.read_text(self.log)))
        T.check(wbd.wait_for(lambda: not [k for k in self.kids if os.path.exists("/proc/%d/cmdline" % k)
                                          and wbd.read_text("/proc/%d/cmdline" % k)], 5),
                "%s: its zygotes and jobs are gone" % self.name, self.kids)


def sleepers(w):
    """The worker's own sleeper processes (other tests may run theirs meanwhile)."""
    return [p for p in wbd.descendants(w.proc.pid)
            if os.path.basename(wbd.read_text("/proc/%d/cmdline" % p).split("\0")[0]) == "sleeper"]


def add(rs, job):
    return rs.r.xadd(STREAM, {"job": job if isinstance(job, str) else json.dumps(job)})


def results(rs):
    """[(result dict, entry id)] of the results stream."""
    return [(json.loads(f["result"]), f["entry"]) for _, f in rs.r.xrange(RESULTS)]


def pending(rs):
    try:
        return rs.r.xpending(STREAM, GROUP)["pending"]
    except redis.exceptions.ResponseError:
        return -1


@T.case()
def case_two_workers():
    """1000 mixed jobs through two workers: each answered exactly once"""
    rs = RedisServer().start()
    try:
        jobs = []
        for i in range(1000):
            kind = i % 4
            if kind == 3:
                jobs.append({"id": "f%d" % i, "argv": ["/bin/false"]})
            elif kind == 2:
                jobs.append({"id": "e%d" % i, "argv": ["/bin/echo", "n%d" % i]})
            else:
                jobs.append(wbd.true_job("t%d" % i))
        entries = {add(rs, j): j for j in jobs}
        a, b = Worker(rs, "wa", "--zygotes", 2), Worker(rs, "wb", "--zygotes", 2)
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 1000, 120), "1000 results written",
                rs.r.xlen(RESULTS))
        time.sleep(0.3)
        got = results(rs)
        ids = [r["id"] for r, _ in got]
        T.check(len(got) == 1000 and len(set(ids)) == 1000 and set(ids) == {j["id"] for j in jobs},
                "each job answered exactly once, by id", "%d results, %d ids" % (len(got), len(set(ids))))
        T.check(all(entries.get(e, {}).get("id") == r["id"] for r, e in got),
                "each result names its job's entry", [(r["id"], e) for r, e in got if entries.get(e, {}).get("id") != r["id"]][:5])
        want = {"t": ("OK", ""), "e": ("OK", None), "f": ("RE", "")}
        bad = [r for r, _ in got if r["status"] != want[r["id"][0]][0]
               or (r["id"][0] == "e" and r["stdout"] != "n%s\n" % r["id"][1:])]
        T.check(not bad, "every verdict and output as expected", [wbd.brief(r) for r in bad[:3]])
        T.check(pending(rs) == 0, "every entry acknowledged", pending(rs))
        consumers = {c["name"]: c for c in rs.r.xinfo_consumers(STREAM, GROUP)}
        T.check(set(consumers) == {"wa", "wb"}, "both workers read from the group", consumers)
        a.stop()
        b.stop()
    finally:
        rs.stop()


@T.case()
def case_invalid():
    """invalid entries are answered XX and acknowledged"""
    rs = RedisServer().start()
    try:
        add(rs, '{"id": "bad", "argv": 5}')
        rs.r.xadd(STREAM, {"nojob": "x"})
        add(rs, {"id": "nopol", "argv": ["true"], "policy": "no-such"})
        add(rs, wbd.true_job("ok"))
        w = Worker(rs, "w1", "--zygotes", 1)
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 4, 30), "4 results", rs.r.xlen(RESULTS))
        got = {r["id"]: r for r, _ in results(rs)}
        T.check(got.get("bad", {}).get("error") == "invalid job: argv: must be an array of strings",
                "malformed job: invalid, naming the field", got.get("bad"))
        T.check(got.get(None, {}).get("error") == 'invalid job: the entry has no field "job"',
                "an entry without a job field: said so", got.get(None))
        T.check(got.get("nopol", {}).get("error") == "invalid job: policy: no such policy",
                "an unknown policy: invalid", got.get("nopol"))
        T.check(got.get("ok", {}).get("status") == "OK", "the valid job runs", got.get("ok"))
        T.check(wbd.wait_for(lambda: pending(rs) == 0, 5), "all four acknowledged", pending(rs))
        w.stop()
    finally:
        rs.stop()


@T.case()
def case_drain():
    """SIGTERM: the entries held (no more than the places) finish, are answered and acknowledged"""
    rs = RedisServer().start()
    try:
        for i in range(5):
            add(rs, wbd.prog_job("s%d" % i, "sleeper", [1], limits={"wall_ms": 5000}))
        w = Worker(rs, "w1", "--zygotes", 2)
        T.check(wbd.wait_for(lambda: pending(rs) == 2, 10), "2 entries held with 2 places, not 5", pending(rs))
        time.sleep(0.3)
        w.stop("SIGTERM with 2 jobs running: exit 0")
        got = results(rs)
        T.check(len(got) == 2 and all(r["status"] == "OK" and r["wall_ms"] >= 900 for r, _ in got),
                "both ran to their end and were answered", [wbd.brief(r) for r, _ in got])
        T.check(pending(rs) == 0, "both acknowledged", pending(rs))
        T.check(rs.r.xinfo_groups(STREAM)[0]["last-delivered-id"] != rs.r.xrevrange(STREAM, count=1)[0][0],
                "the other 3 never read: they wait for the next worker")
    finally:
        rs.stop()


@T.case()
def case_redis_restart():
    """Redis killed and restarted mid-job: the worker reconnects, no computed result is lost"""
    rs = RedisServer(appendonly=True).start()
    try:
        for i in range(2):
            add(rs, wbd.prog_job("s%d" % i, "sleeper", [2], limits={"wall_ms": 8000}))
        w = Worker(rs, "w1", "--zygotes", 2)
        T.check(wbd.wait_for(lambda: pending(rs) == 2, 10), "both entries held", pending(rs))
        rs.r.connection_pool.disconnect()
        rs.kill()
        time.sleep(3)  # the jobs end while Redis is away
        rs.start()
        add(rs, wbd.true_job("after"))
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 3, 30), "3 results once Redis is back",
                rs.r.xlen(RESULTS))
        got = {r["id"]: r for r, _ in results(rs)}
        T.check(set(got) == {"s0", "s1", "after"} and all(r["status"] == "OK" for r in got.values()),
                "the two computed while Redis was away, and a new one", list(got))
        T.check(wbd.wait_for(lambda: pending(rs) == 0, 5), "all acknowledged", pending(rs))
        w.stop()
    finally:
        rs.stop()


def pending_detail(rs):
    """[{message_id, consumer, times_delivered, ...}] of the group's pending entries."""
    try:
        return rs.r.xpending_range(STREAM, GROUP, "-", "+", 100)
    except redis.exceptions.ResponseError:
        return []


@T.case()
def case_claim():
    """a worker SIGKILLed with jobs in flight: another claims them after --claim-idle and runs them"""
    rs = RedisServer().start()
    try:
        for i in range(2):
            add(rs, wbd.prog_job("s%d" % i, "sleeper", [2], limits={"wall_ms": 10000}))
        a = Worker(rs, "wa", "--zygotes", 2)
        T.check(wbd.wait_for(lambda: pending(rs) == 2 and len(sleepers(a)) == 2, 10),
                "worker wa holds both, running", pending_detail(rs))
        os.kill(a.proc.pid, signal.SIGKILL)
        a.proc.wait()
        b = Worker(rs, "wb", "--zygotes", 2, "--claim-idle", 1000)
        T.check(wbd.wait_for(lambda: [p["consumer"] for p in pending_detail(rs)] == ["wb", "wb"], 10),
                "wb claims both after 1 s idle", pending_detail(rs))
        T.check([p["times_delivered"] for p in pending_detail(rs)] == [2, 2],
                "the reruns show in the delivery counts", pending_detail(rs))
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 2, 15), "both answered", rs.r.xlen(RESULTS))
        got = sorted((r["id"], r["status"]) for r, _ in results(rs))
        T.check(got == [("s0", "OK"), ("s1", "OK")], "each once, OK", got)
        T.check(wbd.wait_for(lambda: pending(rs) == 0, 5), "both acknowledged", pending(rs))
        b.stop()
    finally:
        rs.stop()


@T.case()
def case_long_job():
    """a job longer than --claim-idle on a live worker is not claimed by another"""
    rs = RedisServer().start()
    try:
        a = Worker(rs, "wa", "--zygotes", 1, "--claim-idle", 300)
        add(rs, wbd.prog_job("long", "sleeper", [3], limits={"wall_ms": 10000}))
        T.check(wbd.wait_for(lambda: pending(rs) == 1 and sleepers(a), 10), "wa runs it",
                pending_detail(rs))
        b = Worker(rs, "wb", "--zygotes", 1, "--claim-idle", 300)
        time.sleep(2)
        T.check([(p["consumer"], p["times_delivered"]) for p in pending_detail(rs)] == [("wa", 1)],
                "after 2 s (the claim idle 6 times over) still wa's, delivered once", pending_detail(rs))
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 1 and pending(rs) == 0, 10), "answered",
                rs.r.xlen(RESULTS))
        time.sleep(0.5)
        T.check([r["status"] for r, _ in results(rs)] == ["OK"], "once, OK", [wbd.brief(r) for r, _ in results(rs)])
        a.stop()
        b.stop()
    finally:
        rs.stop()


@T.case()
def case_max_deliveries():
    """a job whose zygote dies every time: XX after --max-deliveries, acknowledged; the worker serves on"""
    rs = RedisServer().start()
    try:
        add(rs, wbd.prog_job("doomed", "sleeper", [30], limits={"wall_ms": 60000}))
        w = Worker(rs, "w1", "--zygotes", 1, "--claim-idle", 300, "--max-deliveries", 2)
        for n in (1, 2):
            T.check(wbd.wait_for(lambda: [p["times_delivered"] for p in pending_detail(rs)] == [n]
                                 and sleepers(w), 15),
                    "delivery %d runs" % n, pending_detail(rs))
            for z in wbd.children(w.proc.pid):
                os.kill(z, signal.SIGKILL)
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 1, 15), "answered after the second delivery",
                pending_detail(rs))
        got = results(rs)
        T.check(len(got) == 1 and got[0][0]["status"] == "XX"
                and got[0][0]["error"].startswith("given up after 2 deliveries: ")
                and len(got[0][0]["error"]) > len("given up after 2 deliveries: "),
                "XX, given up after 2 deliveries, with the sandbox's reason", [wbd.brief(r) for r, _ in got])
        T.check(wbd.wait_for(lambda: pending(rs) == 0, 5), "acknowledged", pending_detail(rs))
        add(rs, wbd.true_job("after"))
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 2, 30), "the next job is answered", rs.r.xlen(RESULTS))
        T.check(results(rs)[-1][0].get("status") == "OK", "and runs OK", results(rs)[-1][0])
        w.stop()
    finally:
        rs.stop()


@T.case()
def case_refs():
    """a file kept on one worker runs by ref on another, through Redis; a missing or forged one is refused"""
    rs = RedisServer().start()
    try:
        add(rs, {"id": "make", "argv": ["sh", "-c", "printf 'made on wa\\n' >out.txt"], "limits": {"procs": 4},
                 "copy_out": [{"path": "out.txt", "keep": True}]})
        a = Worker(rs, "wa", "--zygotes", 1)
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 1, 30), "the keep job answered", rs.r.xlen(RESULTS))
        a.stop()
        made = results(rs)[0][0]
        ref = ((made.get("files") or [{}])[0]).get("ref", "")
        T.check(made.get("status") == "OK" and ref.startswith("sha256:"), "copy_out keep answers a ref", made)
        raw = redis.Redis(host="127.0.0.1", port=rs.port)
        T.check(raw.get("warmbox:file:" + ref[7:]) == b"made on wa\n", "and sets warmbox:file:<hex> to its bytes",
                raw.get("warmbox:file:" + ref[7:]))
        forged = "sha256:" + "1" * 64
        raw.set("warmbox:file:" + "1" * 64, b"not those bytes")
        b = Worker(rs, "wb", "--zygotes", 1)
        for jid, r in (("use", ref), ("missing", "sha256:" + "0" * 64), ("forged", forged)):
            add(rs, {"id": jid, "argv": ["cat", "in.txt"], "files": [{"path": "in.txt", "ref": r}]})
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 4, 30), "three more answered", rs.r.xlen(RESULTS))
        got = {r["id"]: r for r, _ in results(rs)}
        T.check(got.get("use", {}).get("status") == "OK" and got["use"].get("stdout") == "made on wa\n",
                "worker wb fetched it from Redis and the job read it", got.get("use"))
        T.check(got.get("missing", {}).get("error") == "invalid job: files[0].ref: not in the store",
                "a ref in neither store: invalid, naming the entry", got.get("missing"))
        T.check(got.get("forged", {}).get("error") == "invalid job: files[0].ref: the bytes in Redis do not have "
                "this hash", "bytes in Redis that do not match the ref: refused", got.get("forged"))
        T.check(wbd.wait_for(lambda: pending(rs) == 0, 5), "all acknowledged", pending(rs))
        b.stop()
    finally:
        rs.stop()


@T.case()
def case_metrics():
    """--metrics on the worker: the jobs it ran, scraped and parsed"""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        T.skip("worker --metrics", "python3-prometheus-client is not installed")
        return
    rs = RedisServer().start()
    try:
        port = free_port()
        w = Worker(rs, "w1", "--zygotes", 2, "--metrics", "127.0.0.1:%d" % port)
        for i in range(3):
            add(rs, wbd.true_job("m%d" % i))
        add(rs, '{"id": "bad"}')
        T.check(wbd.wait_for(lambda: rs.r.xlen(RESULTS) >= 4 and pending(rs) == 0, 30), "4 answered", rs.r.xlen(RESULTS))
        body = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/metrics" % port], capture_output=True, text=True,
                              timeout=30).stdout
        got = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(body) for s in f.samples}
        T.check(got.get(("warmbox_jobs_total", (("status", "OK"),))) == 3
                and got.get(("warmbox_job_duration_seconds_count", ())) == 3
                and got.get(("warmbox_rejected_total", (("reason", "invalid"),))) == 1,
                "3 jobs OK, their durations, 1 invalid", body[:600])
        T.check(sum(v for k, v in got.items() if k[0] == "warmbox_zygotes") == 2, "2 zygotes by state",
                [k for k in got if k[0] == "warmbox_zygotes"])
        w.stop()
    finally:
        rs.stop()


@T.case()
def case_abort():
    """Redis away at SIGTERM: the worker waits to write; a second SIGTERM ends it, the entries stay pending"""
    rs = RedisServer(appendonly=True).start()
    try:
        for i in range(2):
            add(rs, wbd.prog_job("s%d" % i, "sleeper", [30], limits={"wall_ms": 60000}))
        w = Worker(rs, "w1", "--zygotes", 2)
        T.check(wbd.wait_for(lambda: pending(rs) == 2 and len(sleepers(w)) == 2, 10),
                "both held and running", pending(rs))
        rs.r.connection_pool.disconnect()
        rs.kill()
        os.kill(w.proc.pid, signal.SIGTERM)
        time.sleep(1)
        T.check(w.proc.poll() is None, "after one SIGTERM it waits for its jobs and for Redis")
        w.stop("a second SIGTERM: exit 0 at once, nothing left")
        rs.start()
        T.check(pending(rs) == 2 and rs.r.xlen(RESULTS) == 0, "both entries still pending, unanswered",
                pending_detail(rs))
    finally:
        rs.stop()


@T.case()
def case_usage():
    """no --redis, or a bad one: exit 2 saying what is needed"""
    for args in ([], ["--redis", "localhost:notaport"], ["--redis", "127.0.0.1:0"]):
        p = subprocess.run([wbd.WB, "worker"] + args, capture_output=True, text=True, timeout=30)
        T.check(p.returncode == 2 and "--redis HOST:PORT is required" in p.stderr,
                "worker %s: exit 2" % " ".join(args), "exit %d: %s" % (p.returncode, p.stderr))
    p = subprocess.run([wbd.WB, "worker", "--redis", "127.0.0.1:1", "--stream", "a b"], capture_output=True,
                       text=True, timeout=30)
    T.check(p.returncode == 2 and "--stream: a non-empty name without spaces" in p.stderr,
            "a stream name with a space: exit 2", "exit %d: %s" % (p.returncode, p.stderr))


T.run()
