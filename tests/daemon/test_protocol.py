#!/usr/bin/env python3
"""test_protocol.py (label daemon): SPEC.md "Daemon protocol" through a raw
socket client: ping, stats, jobs pipelined and matched by id, malformed and
invalid lines, the request size limit, half lines, 500 connections, the
bounded queue, the warmbox submit/stats clients, and the socket path
(stale file taken over, live daemon not)."""

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
from wbd import Daemon, brief, answered_once  # noqa: E402

T = wbd.preflight("daemon_protocol")

STATS_FIELDS = ("zygotes", "warm", "busy", "starting", "queue_depth", "queue_max", "jobs_run",
                "by_status", "rejected", "zygotes_replaced", "latency_us", "overhead_us",
                "accounting", "connections", "uptime_s")


def is_xx_error(a, id_, fragment):
    return (a is not None and a.get("id") == id_ and a.get("status") == "XX"
            and isinstance(a.get("error"), str) and fragment in a["error"])


def still_works(c, what):
    a = c.request({"op": "ping"}, timeout=10)
    T.check(a == {"op": "ping", "ok": True}, "%s: the connection still answers ping" % what, brief(a))
    a = c.request(wbd.true_job("after-" + what), timeout=30)
    T.check(a and a.get("id") == "after-" + what and a.get("status") == "OK",
            "%s: the connection still runs a job" % what, brief(a))


MAIN = wbd.Fixture(lambda: Daemon(T, "--zygotes", 2, "--max-request", "64K", name="daemon"))


@T.case(MAIN)
def case_ping_stats(d):
    """ping and stats"""
    c = d.client()
    a = c.request({"op": "ping"})
    T.check(a == {"op": "ping", "ok": True}, "ping answers {\"op\":\"ping\",\"ok\":true}", brief(a))
    s = d.wait_warm()
    T.check(s is not None, "stats: every zygote gets warm", brief(d.stats()))
    s = c.request({"op": "stats"})
    missing = [f for f in STATS_FIELDS if f not in (s or {})]
    T.check(s and s.get("op") == "stats" and not missing, "stats: every field present",
            "missing %s in %s" % (missing, brief(s)))
    if wbd.EXPECT_ACCOUNTING:
        want_acct = wbd.EXPECT_ACCOUNTING
    else:
        want_acct = "rlimit" if wbd.rootless() else ("cgroup-v1", "cgroup-v2")
    T.check(s["zygotes"] == 2 and 0 <= s["warm"] <= 2 and s["busy"] == 0
            and s["queue_depth"] == 0 and s["queue_max"] == 1024 and s["connections"] >= 1
            and s["uptime_s"] >= 0 and set(s["by_status"]) == {"OK", "RE", "SG", "TL", "ML", "OL", "SV", "XX"}
            and all(k in s["latency_us"] for k in ("p50", "p99", "count"))
            and s["accounting"] in (want_acct if isinstance(want_acct, tuple) else (want_acct,)),
            "stats: values sane for an idle 2-zygote daemon (%s accounting)" % s.get("accounting"),
            brief(s))
    c.close()


@T.case(MAIN)
def case_one_job(d):
    """one job"""
    c = d.client()
    # The counters before this job: the daemon may have run others.
    s0 = c.request({"op": "stats"})
    a = c.request({"id": "one", "argv": ["/bin/sh", "-c", "echo hi"], "limits": {"procs": 2}})
    T.check(a and a.get("id") == "one" and a.get("status") == "OK" and a.get("stdout") == "hi\n"
            and a.get("exit_code") == 0, "a job is answered OK with its id and output", brief(a))
    s = c.request({"op": "stats"})
    T.check(s["jobs_run"] == s0["jobs_run"] + 1 and s["by_status"]["OK"] == s0["by_status"]["OK"] + 1
            and s["latency_us"]["count"] == s0["latency_us"]["count"] + 1,
            "stats: jobs_run and by_status count the job", "before %s\nafter %s" % (brief(s0), brief(s)))
    c.close()


@T.case(MAIN)
def case_pipelined(d):
    """50 jobs pipelined on one connection"""
    c = d.client()
    jobs = []
    for i in range(50):
        if i % 5 == 0:
            jobs.append({"id": "p%d" % i, "argv": ["/bin/sh", "-c", "exit %d" % (i % 7 + 1)],
                         "limits": {"procs": 2}})
        else:
            jobs.append({"id": "p%d" % i, "argv": ["/bin/echo", "job", str(i)]})
    c.send(*jobs)
    answers, err = c.collect(50, timeout=60)
    T.check(err is None, "pipelined: 50 answers arrive", err)
    if answered_once(T, jobs, answers, "pipelined"):
        m = wbd.by_id(answers)
        bad = []
        for i, j in enumerate(jobs):
            a = m[j["id"]][0]
            if i % 5 == 0:
                ok = a["status"] == "RE" and a["exit_code"] == i % 7 + 1
            else:
                ok = a["status"] == "OK" and a["stdout"] == "job %d\n" % i
            if not ok:
                bad.append(brief(a))
        T.check(not bad, "pipelined: each answer is its own job's result (output, exit code)",
                "\n".join(bad[:5]))
    c.close()


@T.case(MAIN)
def case_malformed(d):
    """malformed lines"""
    c = d.client()
    c.send_raw(b'{"id": "x", "argv": ["/bin/true"\n')
    a = c.recv(10)
    T.check(is_xx_error(a, None, "invalid JSON"), "malformed JSON: id null, XX, error says invalid JSON",
            brief(a))
    still_works(c, "malformed-json")

    garbage = bytes(b for b in os.urandom(4096) if b != 0x0A)
    c.send_raw(garbage)
    time.sleep(0.1)
    c.send_raw(b"\n")
    try:
        a = c.recv(10)
        T.check(a is not None and a.get("id") is None and a.get("status") == "XX" and a.get("error"),
                "binary garbage: answered id null, XX, with an error", brief(a))
    except ValueError as e:
        T.fail("binary garbage: the answer is valid JSON", str(e))
    still_works(c, "garbage")

    a = c.request({"id": "bad-limit", "argv": ["/bin/true"], "limits": {"cpu_ms": "lots"}})
    T.check(is_xx_error(a, "bad-limit", "invalid job:"), "invalid job: XX with its id, 'invalid job: ...'",
            brief(a))
    a = c.request({"id": "typo", "argv": ["/bin/true"], "limitz": {}})
    T.check(is_xx_error(a, "typo", "invalid job:"), "unknown top-level field: invalid job", brief(a))
    a = c.request({"id": "noargv", "argv": []})
    T.check(is_xx_error(a, "noargv", "invalid job:"), "empty argv: invalid job", brief(a))
    a = c.request({"id": "pol", "argv": ["/bin/true"], "policy": "no-such-policy"})
    T.check(is_xx_error(a, "pol", "policy: no such policy"), "unknown policy: invalid job", brief(a))
    a = c.request({"id": "net", "argv": ["/bin/true"], "network": True})
    T.check(is_xx_error(a, "net", "invalid job:"), "network: true: refused as an invalid job", brief(a))
    # The bytes of a string must be UTF-8 (RFC 8259): an id that is not
    # could only be echoed altered, so the line is refused, id null.
    c.send_raw(b'{"id": "bad\xff\xfeid", "argv": ["/bin/true"]}\n')
    a = c.recv(10)
    T.check(is_xx_error(a, None, "not UTF-8"), "invalid UTF-8 in id: XX, id null, 'not UTF-8'", brief(a))
    still_works(c, "bad-utf8")
    a = c.request({"id": "big-output", "argv": ["/bin/true"], "limits": {"output_kb": 65537}})
    T.check(is_xx_error(a, "big-output", "--max-output"),
            "output_kb over the daemon's cap (default 64M): invalid job naming --max-output", brief(a))
    a = c.request({"id": "cap-output", "argv": ["/bin/true"], "limits": {"output_kb": 65536}})
    T.check(a and a.get("id") == "cap-output" and a.get("status") == "OK",
            "output_kb at the daemon's cap runs", brief(a))
    c.send_raw(b"[1, 2, 3]\n")
    a = c.recv(10)
    T.check(a and a.get("status") == "XX" and a.get("id") is None, "a JSON array line: XX, id null", brief(a))
    c.send_raw(b"\n\r\n")
    a = c.request({"op": "ping"})
    T.check(a == {"op": "ping", "ok": True}, "empty lines are ignored (the next answer is the ping)", brief(a))
    still_works(c, "invalid-job")
    c.close()


@T.case(MAIN)
def case_unknown_op(d):
    """unknown op"""
    c = d.client()
    a = c.request({"op": "reboot"})
    T.check(a and a.get("status") == "XX" and "unknown op" in (a.get("error") or ""),
            "unknown op: XX 'unknown op'", brief(a))
    still_works(c, "unknown-op")
    c.close()


@T.case(MAIN)
def case_max_request(d):
    """a line over --max-request 64K"""
    other = d.client()
    big = d.client()
    line = json.dumps({"id": "big", "argv": ["/bin/true"], "env": {"X": "y" * 100000}}).encode() + b"\n"
    try:
        big.send_raw(line)
    except (BrokenPipeError, ConnectionResetError):
        wbd.log("the daemon closed while the 100 KB line was being sent")
    try:
        a = big.recv(10)
    except (TimeoutError, ValueError) as e:
        a = None
        wbd.log("no answer: %s" % e)
    T.check(a and a.get("status") == "XX" and "request over the size limit" in (a.get("error") or ""),
            "100 KB line: XX 'request over the size limit'", brief(a))
    T.check(big.at_eof(10), "100 KB line: then the connection is closed")
    big.close()
    a = other.request({"op": "ping"})
    T.check(a == {"op": "ping", "ok": True}, "100 KB line: another connection keeps working", brief(a))
    a = other.request({"id": "fits", "argv": ["/bin/true"], "env": {"X": "y" * 60000}})
    T.check(a and a.get("id") == "fits" and a.get("status") == "OK", "a 60 KB line (under the limit) runs",
            brief(a))
    other.close()


@T.case(MAIN)
def case_half_line(d):
    """half a line, then disconnect"""
    # A connection open before the half lines, which must keep working.
    c = d.client()
    h = d.client()
    h.send_raw(b'{"id": "half", "argv": ["/bin/tr')
    h.close()
    h = d.client()
    h.send(wbd.prog_job("half2", "sleeper", [1]))
    time.sleep(0.2)
    h.send_raw(b'{"id": "half3", "ar')
    h.close()
    time.sleep(0.3)
    still_works(c, "half-line")
    c.close()


@T.case(MAIN)
def case_conns500(d):
    """500 connections at once"""
    c = d.client()
    conns, err = [], None
    try:
        for i in range(500):
            conns.append(d.client(120))
    except OSError as e:
        err = "connect %d failed: %s" % (len(conns), e)
    T.check(err is None, "500 connections opened", err)
    for i, k in enumerate(conns):
        k.send({"op": "ping"} if i % 2 else wbd.true_job("c%d" % i))
    bad = []
    s = c.request({"op": "stats"})
    T.check(s.get("connections", 0) >= len(conns) + 1, "stats: connections counts them (%s)"
            % s.get("connections"), brief(s))
    for i, k in enumerate(conns):
        try:
            a = k.recv(120)
        except (TimeoutError, ValueError) as e:
            a = str(e)
        want = {"op": "ping", "ok": True} if i % 2 else None
        if want is not None and a != want:
            bad.append("conn %d: %s" % (i, a))
        elif want is None and not (isinstance(a, dict) and a.get("id") == "c%d" % i and a.get("status") == "OK"):
            bad.append("conn %d: %s" % (i, brief(a) if isinstance(a, dict) else a))
    T.check(not bad and len(conns) == 500, "500 connections: every ping and job answered on its own connection",
            "%d bad: %s" % (len(bad), "\n".join(bad[:5])))
    for k in conns:
        k.close()
    s = wbd.wait_for(lambda: (lambda s: s if s["connections"] <= 2 else None)(c.request({"op": "stats"})), 10)
    T.check(s is not None, "closed connections are dropped from the count", brief(c.request({"op": "stats"})))
    c.close()


@T.case(MAIN)
def case_submit_stats(d):
    """warmbox submit and warmbox stats"""
    jf = os.path.join(d.dir, "jobs.ndjson")
    with open(jf, "w") as f:
        for i in range(5):
            f.write(json.dumps({"id": "s%d" % i, "argv": ["/bin/echo", str(i)]}) + "\n")
        f.write(json.dumps({"id": "s-re", "argv": ["/bin/false"]}) + "\n")
    os.chmod(jf, 0o644)
    r = subprocess.run(wbd.as_user_argv([wbd.WB, "submit", "--socket", d.sock, jf]),
                       capture_output=True, timeout=60)
    lines = [json.loads(x) for x in r.stdout.decode().splitlines() if x.strip()]
    m = wbd.by_id(lines)
    T.check(r.returncode == 0 and len(lines) == 6 and all(len(m.get("s%d" % i, [])) == 1 for i in range(5))
            and m["s-re"][0]["status"] == "RE",
            "warmbox submit: 6 results by id, exit 0 (a RE verdict is still a job carried out)",
            "exit %d\nstdout %s\nstderr %s" % (r.returncode, r.stdout[:1000], r.stderr[:500]))
    with open(jf, "a") as f:
        f.write(json.dumps({"id": "s-bad", "argv": "/bin/true"}) + "\n")
    r = subprocess.run(wbd.as_user_argv([wbd.WB, "submit", "--socket", d.sock, jf]),
                       capture_output=True, timeout=60)
    lines = r.stdout.decode().splitlines()
    T.check(r.returncode == 2 and len(lines) == 7, "warmbox submit with an invalid job: exit 2, all answered",
            "exit %d\nstdout %s\nstderr %s" % (r.returncode, r.stdout[:1000], r.stderr[:500]))
    r = subprocess.run(wbd.as_user_argv([wbd.WB, "stats", "--socket", d.sock]), capture_output=True, timeout=30)
    try:
        s = json.loads(r.stdout)
    except ValueError:
        s = {}
    T.check(r.returncode == 0 and s.get("op") == "stats" and s.get("zygotes") == 2,
            "warmbox stats: exit 0, the stats JSON", "exit %d stdout %s stderr %s"
            % (r.returncode, r.stdout[:500], r.stderr[:500]))


@T.case(MAIN)
def case_second_daemon(d):
    """a second daemon on the live socket path"""
    before = os.stat(d.sock).st_ino
    argv = wbd.serve_argv(["--socket", d.sock, "--zygotes", "1"] + (
        ["--policies", wbd.POLICIES] if wbd.POLICIES else []))
    try:
        r = subprocess.run(wbd.as_user_argv(argv), capture_output=True, timeout=30)
        rc, err = r.returncode, r.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        rc, err = "still running after 30 s", (e.stderr or b"").decode(errors="replace")
    T.check(rc not in (0, "still running after 30 s") and "another warmbox daemon" in err,
            "second daemon: refuses to start, exit non-zero, says why",
            "exit %s, stderr: %s" % (rc, err[-1000:]))
    T.check(os.path.exists(d.sock) and os.stat(d.sock).st_ino == before,
            "second daemon: the first one's socket file left in place")
    k = d.client()
    still_works(k, "first-daemon")
    k.close()


@T.case()
def case_queue_full():
    """queue full"""
    with Daemon(T, "--zygotes", 1, "--jobs", 1, "--queue", 2, name="queue daemon") as d:
        d.wait_warm()
        c = d.client()
        jobs = [wbd.prog_job("q0", "sleeper", [10], limits={"wall_ms": 2000})]
        jobs += [wbd.true_job("q%d" % i) for i in range(1, 6)]
        t0 = time.monotonic()
        c.send(*jobs)
        first_full = None
        answers = []
        for _ in range(6):
            try:
                a = c.recv(30)
            except (TimeoutError, ValueError) as e:
                T.fail("queue full: every job answered", str(e))
                break
            answers.append(a)
            if first_full is None and "queue full" in (a.get("error") or ""):
                first_full = time.monotonic() - t0
        full = [a for a in answers if "queue full" in (a.get("error") or "")]
        T.check(full and all(a["status"] == "XX" and a["error"] == "queue full: try again later" for a in full),
                "queue full: %d of 5 refused with XX 'queue full: try again later'" % len(full),
                "\n".join(brief(a) for a in answers))
        T.check(first_full is not None and first_full < 1.0,
                "queue full: the refusal comes at once (%.3f s, the sleeper takes 2 s)" % (first_full or -1))
        answered_once(T, jobs, answers, "queue full")
        m = wbd.by_id(answers)
        T.check(m.get("q0", [{}])[0].get("status") == "TL", "queue full: the sleeper itself ends TL",
                brief(m.get("q0", [None])[0]))
        ran = [a for a in answers if a["id"] != "q0" and a["status"] == "OK"]
        T.check(len(ran) + len(full) == 5 and len(ran) <= 2, "queue full: the others queued (%d) and ran OK"
                % len(ran))
        s = c.request({"op": "stats"})
        T.check(s["rejected"] >= len(full) and s["queue_max"] == 2, "stats: rejected counts the refusals",
                brief(s))
        c.close()


@T.case()
def case_queue_zero():
    """--queue 0: jobs run, none waits"""
    with Daemon(T, "--zygotes", 1, "--jobs", 1, "--queue", 0, name="queue-0 daemon") as d:
        d.wait_warm()
        c = d.client()
        a = c.request(wbd.true_job("z0"), timeout=30)
        T.check(a and a.get("status") == "OK", "queue 0: a job with the zygote free runs OK", brief(a))
        c.send(wbd.prog_job("z1", "sleeper", [10], limits={"wall_ms": 1000}), wbd.true_job("z2"))
        got = wbd.by_id([c.recv(30), c.recv(30)])
        z1, z2 = got.get("z1", [{}])[0], got.get("z2", [{}])[0]
        T.check(z2.get("error") == "queue full: try again later",
                "queue 0: a job behind a running one is refused, not queued", brief(z2))
        T.check(z1.get("status") == "TL", "queue 0: the running sleeper itself ends TL", brief(z1))
        c.close()


@T.case()
def case_queue_share():
    """queue full: a second client still gets its share in"""
    with Daemon(T, "--zygotes", 1, "--jobs", 1, "--queue", 2, name="queue daemon") as d:
        d.wait_warm()
        flood, other = d.client(), d.client()
        jobs = [wbd.prog_job("f0", "sleeper", [10], limits={"wall_ms": 2000})]
        jobs += [wbd.true_job("f%d" % i) for i in range(1, 6)]
        flood.send(*jobs)
        # The sleeper runs and two jobs wait: the flood's refusals come first.
        refused = [flood.recv(30) for _ in range(3)]
        T.check(all(a.get("error") == "queue full: try again later" for a in refused),
                "queue share: the flood's 3 surplus jobs are refused",
                "\n".join(brief(a) for a in refused))
        # Two clients with jobs waiting: a share is 1 of the 2 places.
        mine = [wbd.true_job("o1"), wbd.true_job("o2")]
        other.send(*mine)
        got = wbd.by_id([other.recv(30), other.recv(30)])
        o1, o2 = got.get("o1", [{}])[0], got.get("o2", [{}])[0]
        T.check(o1.get("status") == "OK", "queue share: the other client's first job runs OK past the full queue",
                brief(o1))
        T.check(o2.get("error") == "queue full: try again later",
                "queue share: its second, over its share of 1, is refused", brief(o2))
        rest = wbd.by_id([flood.recv(30) for _ in range(3)])
        T.check(rest.get("f0", [{}])[0].get("status") == "TL" and len(rest) == 3,
                "queue share: the flood's sleeper and 2 queued jobs are answered", brief(rest))
        flood.close()
        other.close()


@T.case()
def case_sigterm():
    """SIGTERM with jobs running and queued"""
    d = Daemon(T, "--zygotes", 1, "--jobs", 1, name="sigterm daemon").start()
    try:
        d.wait_warm()
        c = d.client()
        jobs = [wbd.prog_job("t0", "sleeper", [1], limits={"wall_ms": 3000})]
        jobs += [wbd.true_job("t%d" % i) for i in range(1, 4)]
        c.send(*jobs)
        wbd.wait_for(lambda: d.stats()["queue_depth"] == 3, 5)
        kids = wbd.descendants(d.pid)
        os.kill(d.pid, signal.SIGTERM)
        gone = wbd.wait_for(lambda: not os.path.exists(d.sock), 2)
        T.check(gone, "SIGTERM: the socket file goes at once (no new clients)")
        try:
            wbd.Client(d.sock, 5).close()
            T.fail("SIGTERM: a new connection is refused")
        except OSError:
            T.check(True, "SIGTERM: a new connection is refused")
        answers, err = c.collect(4, 30)
        T.check(err is None, "SIGTERM: all 4 jobs answered", err)
        answered_once(T, jobs, answers, "SIGTERM")
        m = wbd.by_id(answers)
        a = m.get("t0", [None])[0]
        T.check(a and a["status"] == "OK" and a["wall_ms"] >= 900, "SIGTERM: the running job finishes OK",
                brief(a))
        q = [m.get("t%d" % i, [None])[0] for i in range(1, 4)]
        T.check(all(x and x["status"] == "XX" and x["error"] == "the daemon is shutting down" for x in q),
                "SIGTERM: the queued jobs are answered XX 'the daemon is shutting down'",
                "\n".join(brief(x) for x in q))
        T.check(c.at_eof(10), "SIGTERM: then the connection is closed")
        c.close()
        try:
            rc = d.proc.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
        T.check(rc == 0, "SIGTERM: the daemon exits 0 once the running job is answered (%s)" % rc, d.log())
        left = wbd.wait_for(lambda: not [k for k in kids if wbd.read_text("/proc/%d/cmdline" % k)], 3)
        T.check(kids and left, "SIGTERM: its %d zygote and job processes are gone" % len(kids), kids)
    finally:
        d.stop()


@T.case()
def case_tcp_listener():
    """TCP listener (--listen PORT: loopback)"""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with Daemon(T, "--zygotes", 1, "--listen", port, name="tcp daemon") as d:
        t = socket.create_connection(("127.0.0.1", port), timeout=10)
        f = t.makefile("rwb")
        f.write(b'{"op":"ping"}\n{"id":"tcp1","argv":["/bin/echo","over tcp"]}\n')
        f.flush()
        got = [json.loads(f.readline()) for _ in range(2)]
        T.check(got[0] == {"op": "ping", "ok": True} and got[1].get("id") == "tcp1"
                and got[1].get("stdout") == "over tcp\n", "TCP: ping and a job answered", got)
        t.close()
        conns = [l.split() for l in wbd.read_text("/proc/net/tcp").splitlines()[1:]]
        listen = [c[1] for c in conns if c[3] == "0A" and int(c[1].split(":")[1], 16) == port]
        T.check(listen == ["0100007F:%04X" % port], "TCP: listens on 127.0.0.1 only (%s)" % listen)


@T.case()
def case_stale_socket():
    """stale socket file"""
    # Bind a socket and close it without unlinking: the file stays, nobody listens.
    d = Daemon(T, "--zygotes", 1, name="stale-socket daemon")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(d.sock)
    s.close()
    if wbd.rootless():
        # A stale file is the dead daemon's: the tested uid's own.
        os.chown(d.sock, int(wbd.AS_USER), int(wbd.AS_USER))
    T.check(os.path.exists(d.sock), "stale socket file in place before start")
    with d:
        T.check(True, "daemon starts on a stale socket file")
        T.check("removed stale socket" in d.log(), "the daemon logs that it removed the stale socket", d.log())
        k = d.client()
        still_works(k, "stale")
        k.close()


@T.case()
def case_missing_runtime():
    """a policy whose runtime is not installed"""
    # A host without a JDK has no /etc/java-17-openjdk: the daemon leaves
    # that policy out, says so, and serves every other one.
    pdir = tempfile.mkdtemp(prefix="wbtest.%d." % os.getpid(), dir="/tmp")
    try:
        for name in ("base.json", "default.json"):
            shutil.copy(os.path.join(wbd.POLICIES, name), pdir)
        with open(os.path.join(wbd.POLICIES, "java.json")) as f:
            java = json.load(f)
        java["binds"] = ["/opt/no-such-runtime-for-warmbox"]
        with open(os.path.join(pdir, "java.json"), "w") as f:
            json.dump(java, f)
        os.chmod(pdir, 0o755)
        for name in os.listdir(pdir):
            os.chmod(os.path.join(pdir, name), 0o644)
        with Daemon(T, "--zygotes", 1, "--policies", pdir, name="missing-runtime daemon") as d:
            T.check("policy java left out" in d.log() and "/opt/no-such-runtime-for-warmbox" in d.log(),
                    "missing bind: the daemon starts and names the policy left out and the path", d.log())
            k = d.client()
            k.send({"id": "j", "argv": ["/bin/true"], "policy": "java"})
            a = k.recv(30)
            T.check(is_xx_error(a, "j", "policy"), "missing bind: a job naming that policy is refused", a)
            still_works(k, "missing-runtime")
            k.close()
    finally:
        shutil.rmtree(pdir, ignore_errors=True)


T.run()
