#!/usr/bin/env python3
"""test_clients.py (labels daemon, hostile): the daemon against clients that
hold on without doing their part: too many connections, idle ones, clients
that never read their results, and SIGTERM (once and twice) while such a
client is connected. Each check states the one outcome it expects."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief  # noqa: E402

T = wbd.preflight("daemon_clients")


def stats_when(d, cond, timeout=15):
    """The stats once cond holds on them, else None. A connection per try:
    while the daemon is full, one may be refused instead of answered."""
    def once():
        c = d.client(10)
        try:
            s = c.request({"op": "stats"})
        finally:
            c.close()
        return s if s and s.get("op") == "stats" and cond(s) else None
    return wbd.wait_for(once, timeout)


def closed_by_daemon(c, timeout):
    """True when the daemon closes c (EOF, or a reset) within timeout."""
    try:
        return c.recv_line_raw(timeout) is None
    except (OSError, TimeoutError):
        return False
    except ValueError:
        return False


class LimitedDaemon(Daemon):
    """A daemon started with a soft and hard RLIMIT_NOFILE of NOFILE."""

    def __init__(self, checks, nofile, *args, **kw):
        self.nofile = nofile
        super().__init__(checks, *args, **kw)

    def argv(self):
        return ["prlimit", "--nofile=%d:%d" % (self.nofile, self.nofile), "--"] + super().argv()


@T.case()
def case_take_turns():
    """clients take turns: a flood does not delay another client's jobs"""
    # With one FIFO, B's jobs ran after all 60 of A's (3 s of sleeps);
    # served in turn, B's 3 jobs are done before A's 10th.
    with Daemon(T, "--zygotes", 1) as d:
        d.wait_warm()
        a = d.client(60)
        a.send(*[{"id": "a%d" % i, "argv": ["/bin/sleep", "0.05"]} for i in range(60)])
        s = stats_when(d, lambda s: s["queue_depth"] >= 50)
        T.check(s is not None, "A's flood is queued (at least 50 of 60)")
        s0 = d.stats()
        b = d.client(60)
        b.send(*[wbd.true_job("b%d" % i) for i in range(3)])
        got, err = b.collect(3, timeout=30)
        s1 = d.stats()
        done_a = s1["jobs_run"] - s0["jobs_run"] - 3
        T.check(sorted(x.get("id") for x in got) == ["b0", "b1", "b2"] and all(x.get("status") == "OK" for x in got),
                "B's 3 jobs are answered OK", (err, [brief(x) for x in got]))
        T.check(done_a < 10, "B's jobs ran before A's 10th job finished (A finished %d meanwhile)" % done_a,
                brief(s1))
        rest, err = a.collect(60, timeout=60)
        T.check([x.get("id") for x in rest] == ["a%d" % i for i in range(60)],
                "A's 60 jobs are all answered, in A's order", (err, len(rest)))
        a.close()
        b.close()


BUDGET = ("--zygotes", 2, "--max-memory", "24M", "--max-request", "4M", "--max-output", "8M")


def sleep_job(jid, secs, **limits):
    return {"id": jid, "argv": ["/bin/sleep", str(secs)], "limits": dict(limits)}


@T.case()
def case_memory_budget_job():
    """--max-memory: a job past the budget is refused, and runs once it frees"""
    with Daemon(T, *BUDGET) as d:
        d.wait_warm()
        c = d.client(60)
        # 2 x 8 MiB of output and 2 x 8 MiB of copy_out: 32 MiB alone.
        a = c.request({"id": "huge", "argv": ["/bin/true"], "copy_out": ["x", "y"],
                       "limits": {"output_kb": 8192, "file_size_kb": 8192}})
        T.check(a and a.get("status") == "XX" and a.get("id") == "huge" and "--max-memory" in (a.get("error") or "")
                and "invalid job" in a.get("error"),
                "a job that alone needs more than --max-memory is an invalid job naming it", brief(a))
        # Each may bring back 16 MiB of output: the second does not fit
        # beside the first in 24 MiB.
        c.send(sleep_job("first", 0.5, output_kb=8192), sleep_job("second", 0.1, output_kb=8192))
        got, err = c.collect(2, timeout=30)
        ids = {x.get("id"): x for x in got}
        second = ids.get("second") or {}
        T.check(ids.get("first", {}).get("status") == "OK", "the first job runs", (err, [brief(x) for x in got]))
        T.check(second.get("status") == "XX" and "memory budget full" in (second.get("error") or "")
                and "--max-memory" in second.get("error"),
                "the second is refused: memory budget full, naming --max-memory", brief(second))
        s = d.stats()
        T.check(s.get("memory_max") == 24 << 20 and s.get("memory_used", 1 << 30) < 1 << 20,
                "once answered, the budget is free again (stats memory_used %s of %s)"
                % (s.get("memory_used"), s.get("memory_max")), brief(s))
        a = c.request(sleep_job("again", 0.1, output_kb=8192), timeout=30)
        T.check(a and a.get("status") == "OK", "the same job now runs", brief(a))
        c.close()
        T.check("memory budget full" in d.log(), "the refusal is logged")


@T.case()
def case_memory_budget_line():
    """--max-memory: a request line that cannot fit is refused, earlier jobs still answered"""
    with Daemon(T, *BUDGET) as d:
        d.wait_warm()
        holder = d.client(60)
        # Holds 16 + 4 MiB of the 24 while it sleeps.
        holder.send({"id": "hold", "argv": ["/bin/sleep", "3"], "copy_out": ["x"],
                     "limits": {"output_kb": 8192, "file_size_kb": 4096, "wall_ms": 20000}})
        s = stats_when(d, lambda s: s["busy"] == 1)
        c = d.client(60)
        c.send(sleep_job("early", 0.5))
        try:
            c.send_raw(b'{"id": "long", "argv": ["/bin/true"], "env": {"X": "' + b"y" * (3 << 20))
        except OSError:
            pass
        got = []
        while True:
            try:
                x = c.recv(timeout=30)
            except (OSError, TimeoutError, ValueError):
                break
            if x is None:
                break
            got.append(x)
        ids = {x.get("id"): x for x in got}
        refused = [x for x in got if x.get("id") is None]
        T.check(len(refused) == 1 and "memory budget full" in (refused[0].get("error") or "")
                and "closing" in refused[0].get("error"),
                "the line that does not fit is refused: memory budget full; closing",
                [brief(x) for x in got])
        T.check(ids.get("early", {}).get("status") == "OK",
                "the client's job sent before it is still answered OK, then the connection closes",
                [brief(x) for x in got])
        a = holder.recv(timeout=30)
        T.check(a and a.get("id") == "hold" and a.get("status") == "OK", "the other client's job runs", brief(a))
        holder.close()
        c.close()
        s = stats_when(d, lambda s: s["connections"] == 1)
        T.check(s is not None and s.get("memory_used", 1 << 30) < 1 << 20,
                "with the clients gone the budget is free (memory_used %s)" % (s or {}).get("memory_used"))


@T.case()
def case_fd_limit():
    """idle connections up to the descriptor limit; jobs still run"""
    # 256 descriptors, 2 zygotes: the default --max-connections leaves the
    # zygotes and the daemon 96 of them, so 160 clients at most.
    with LimitedDaemon(T, 256, "--zygotes", 2, name="256-fd daemon") as d:
        d.wait_warm()
        time.sleep(0.5)  # the stats connection of wait_warm closes asynchronously
        clients = [wbd.Client(d.sock, 10) for _ in range(200)]
        time.sleep(0.5)
        kept, refused = [], 0
        for c in clients:
            c.sock.setblocking(False)
            try:
                data = c.sock.recv(4096)
            except BlockingIOError:
                data = None
            c.sock.setblocking(True)
            if data is None:
                kept.append(c)
            elif b"too many connections" in data:
                refused += 1
        T.check(refused == 40 and len(kept) == 160,
                "200 clients against 160 places: 160 kept, 40 told 'too many connections' (%d, %d)"
                % (len(kept), refused))
        # With every place taken, the jobs of a kept client still get their
        # descriptors: none fails "Too many open files".
        answers = [kept[0].request(wbd.true_job("busy%d" % i)) for i in range(10)]
        T.check(all(a and a.get("status") == "OK" for a in answers),
                "10 jobs on a kept connection run while all 160 places are taken", [brief(a) for a in answers][:2])
        for c in clients:
            c.close()
        s = stats_when(d, lambda s: s["connections"] == 1)
        T.check(s is not None, "once they close, the daemon holds only our stats connection")
        log = d.log()
        T.check(log.count("too many connections") == 1,
                "the 40 refusals are logged once, not once each (%d lines)" % log.count("too many connections"),
                log[-2000:])


@T.case()
def case_max_connections():
    """--max-connections 3: the fourth client is told so; the others work"""
    with Daemon(T, "--zygotes", 1, "--max-connections", 3, name="3-connection daemon") as d:
        d.wait_warm()
        time.sleep(0.5)  # the stats connection of wait_warm closes asynchronously
        cs = [d.client() for _ in range(3)]
        for c in cs:
            c.request({"op": "ping"})
        extra = d.client()
        a = extra.recv(10)
        T.check(a is not None and a.get("status") == "XX" and "--max-connections" in (a.get("error") or ""),
                "the fourth gets XX naming --max-connections", brief(a))
        T.check(closed_by_daemon(extra, 5), "then the daemon closes it")
        a = cs[0].request(wbd.true_job("kept"))
        T.check(a and a.get("status") == "OK", "a job on a kept connection runs", brief(a))
        for c in cs:
            c.close()
        extra.close()


@T.case()
def case_idle_timeout():
    """--idle-timeout 1: an idle connection is closed, a busy one is not"""
    with Daemon(T, "--zygotes", 1, "--idle-timeout", 1, name="idle daemon") as d:
        d.wait_warm()
        quiet = d.client()
        quiet.request({"op": "ping"})
        T.check(closed_by_daemon(quiet, 5), "an idle connection is closed within 5 s")
        quiet.close()
        busy = d.client()
        t0 = time.monotonic()
        a = busy.request(wbd.prog_job("slow", "sleeper", [3], limits={"wall_ms": 10000}), timeout=20)
        took = time.monotonic() - t0
        T.check(a and a.get("id") == "slow" and a.get("status") == "OK" and took >= 2.5,
                "a connection waiting 3 s for its job is not closed meanwhile (%.1f s)" % took, brief(a))
        busy.close()


@T.case()
def case_write_timeout():
    """--write-timeout 1: a client that reads nothing is dropped"""
    with Daemon(T, "--zygotes", 1, "--write-timeout", 1, name="write-timeout daemon") as d:
        d.wait_warm()
        lazy = d.client()
        lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        big = {"argv": ["/usr/bin/head", "-c", str(8 << 20), "/usr/bin/bash"], "limits": {"output_kb": 16384}}
        lazy.send(*[dict(big, id="big%d" % i) for i in range(2)])
        s = stats_when(d, lambda s: s["connections"] == 1 and s["jobs_run"] >= 1, 20)
        T.check(s is not None, "the client that never reads is dropped (1 connection left: ours)",
                brief(stats_when(d, lambda s: True)))
        T.check("write timeout" in d.log(), "the log says why", d.log()[-1500:])
        lazy.close()
        c = d.client()
        a = c.request(wbd.true_job("other"))
        T.check(a and a.get("status") == "OK", "other clients are served", brief(a))
        c.close()


@T.case()
def case_stop_stalled_client():
    """SIGTERM while a client reads nothing: bounded by --stop-timeout"""
    d = Daemon(T, "--zygotes", 1, "--stop-timeout", 2, name="stalled-client daemon").start()
    try:
        d.wait_warm()
        lazy = d.client()
        lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lazy.send({"id": "big", "argv": ["/usr/bin/head", "-c", str(8 << 20), "/usr/bin/bash"],
                   "limits": {"output_kb": 16384}})
        stats_when(d, lambda s: s["jobs_run"] >= 1, 20)
        t0 = time.monotonic()
        d.stop(check=True, timeout=30)
        took = time.monotonic() - t0
        T.check(took < 2 + 5, "the daemon exits %.1f s after SIGTERM (--stop-timeout 2, bound 7 s)" % took)
        lazy.close()
    finally:
        d.stop(check=False)  # only if something above raised: stop() runs once


@T.case()
def case_stop_twice():
    """a second SIGTERM ends the running jobs and exits with its cleanup"""
    d = Daemon(T, "--zygotes", 1, name="twice-stopped daemon").start()
    try:
        d.wait_warm()
        c = d.client(30)
        c.send(wbd.prog_job("long", "sleeper", [60], limits={"wall_ms": 90000}))
        stats_when(d, lambda s: s["busy"] == 1, 20)
        os.kill(d.pid, signal.SIGTERM)
        time.sleep(1)
        T.check(d.alive(), "after one SIGTERM the daemon waits for the running job")
        t0 = time.monotonic()
        d.stop(check=True, timeout=30)  # the second SIGTERM
        took = time.monotonic() - t0
        T.check(took < 10, "after the second it exits within 10 s (%.1f s), not after the job's 60 s" % took)
        c.close()
    finally:
        d.stop(check=False)  # only if something above raised: stop() runs once


T.run()
