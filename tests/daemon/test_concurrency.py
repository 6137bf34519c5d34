#!/usr/bin/env python3
"""test_concurrency.py (label daemon): 4 clients x 500 jobs at once, a mix
of every verdict (OK, RE, SG, TL, ML, OL, SV), each client pipelining on
its own connection. Every job must be answered exactly once, on its own
connection, with its id and the verdict its program earns."""

import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief, answered_once  # noqa: E402

T = wbd.preflight("daemon_concurrency")
CLIENTS = 4
PER_CLIENT = int(os.environ.get("WB_CONCURRENCY_JOBS", "500"))
WINDOW = 32

# kind: (weight, job fields, accepted statuses, extra check on the result)
ML_OK = ("ML",) if not wbd.rootless() else ("ML", "RE", "SG")
KINDS = {
    "ok": (40, lambda: {"argv": ["/bin/true"]}, ("OK",),
           lambda a: a["exit_code"] == 0),
    "re_sh": (10, lambda: {"argv": ["/bin/sh", "-c", "exit 3"], "limits": {"procs": 2}}, ("RE",),
              lambda a: a["exit_code"] == 3),
    "re": (10, lambda: {"argv": ["./exit_code", "5"], "files": [wbd.prog_file("exit_code")]}, ("RE",),
           lambda a: a["exit_code"] == 5 and a["stdout"] == "exit 5\n"),
    "sg": (7, lambda: {"argv": ["./segv"], "files": [wbd.prog_file("segv")]}, ("SG",),
           lambda a: a["signal"] == 11),
    "tl": (5, lambda: {"argv": ["./busy"], "files": [wbd.prog_file("busy")], "limits": {"cpu_ms": 100}},
           ("TL",), lambda a: a["cpu_ms"] >= 90),
    "ml": (8, lambda: {"argv": ["./memhog", "256"], "files": [wbd.prog_file("memhog")],
                       "limits": {"memory_kb": 65536}}, ML_OK, lambda a: True),
    "ol": (10, lambda: {"argv": ["./spew"], "files": [wbd.prog_file("spew")], "limits": {"output_kb": 1}},
           ("OL",), lambda a: a["stdout_truncated"] is True and len(a["stdout"]) == 1024),
    "sv": (10, lambda: {"argv": ["./connect_probe"], "files": [wbd.prog_file("connect_probe")]}, ("SV",),
           lambda a: a["syscall"] == "socket"),
}


def make_jobs(client, rng):
    names = list(KINDS)
    weights = [KINDS[k][0] for k in names]
    jobs, kinds = [], {}
    for i in range(PER_CLIENT):
        k = rng.choices(names, weights)[0]
        j = KINDS[k][1]()
        j["id"] = "c%d-%d-%s" % (client, i, k)
        jobs.append(j)
        kinds[j["id"]] = k
    return jobs, kinds


@T.case()
def case_clients_jobs():
    """clients x jobs

    CLIENTS connections at once, each pipelining PER_CLIENT jobs (the
    figures are logged)."""
    wbd.log("%d clients x %d jobs" % (CLIENTS, PER_CLIENT))
    with Daemon(T, "--zygotes", 2, name="daemon") as d:
        d.wait_warm()
        rng = random.Random(int(os.environ.get("WB_SEED", "12345")))
        work = [make_jobs(i, rng) for i in range(CLIENTS)]
        results = [None] * CLIENTS

        def client(i):
            c = d.client(300)
            try:
                results[i] = c.pipeline(work[i][0], WINDOW, timeout=240)
            except Exception as e:  # noqa: BLE001 - reported below
                results[i] = ([], repr(e))
            finally:
                c.close()

        t0 = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        took = time.monotonic() - t0
        wbd.log("%d jobs in %.1f s" % (CLIENTS * PER_CLIENT, took))
        tally = {}
        for i in range(CLIENTS):
            answers, err = results[i] or ([], "client thread did not finish")
            jobs, kinds = work[i]
            T.check(err is None, "client %d: %d answers arrive" % (i, len(jobs)), err)
            answered_once(T, jobs, answers, "client %d" % i)
            bad = []
            for a in answers:
                k = kinds.get(a.get("id"))
                if k is None:
                    continue
                tally.setdefault(k, {}).setdefault(a["status"], 0)
                tally[k][a["status"]] += 1
                _, _, want, extra = KINDS[k]
                try:
                    ok = a["status"] in want and extra(a)
                except (KeyError, TypeError):
                    ok = False
                if not ok:
                    bad.append("%s: want %s: %s" % (k, "/".join(want), brief(a)))
            T.check(not bad, "client %d: every result has the verdict its program earns" % i,
                    "%d wrong:\n%s" % (len(bad), "\n".join(bad[:8])))
        wbd.log("verdicts by kind: %s" % tally)
        s = d.stats()
        wbd.log("stats: %s" % brief(s))
        T.check(s["jobs_run"] >= CLIENTS * PER_CLIENT and s["queue_depth"] == 0 and s["busy"] == 0
                and s["by_status"]["XX"] == 0 and s["zygotes_replaced"] == 0,
                "stats: all jobs run, none XX, no zygote replaced, queue empty", brief(s))


T.run()
