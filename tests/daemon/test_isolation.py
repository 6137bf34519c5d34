#!/usr/bin/env python3
"""test_isolation.py (labels daemon, hostile): jobs that share a zygote
share nothing else. Job 1 writes /box and /tmp and leaves a background
process; job 2 on the same zygote finds none of it, and nothing of job 1
is left on the host. As root, two jobs at once run as different host
uids."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief  # noqa: E402

T = wbd.preflight("daemon_isolation")
TAG = os.getpid()
BG = "bgsleep_%d" % TAG

JOB1 = ("echo secret1 > /box/x && echo secret2 > /tmp/y && mkdir /tmp/d && "
        "(./%s 30 </dev/null >/dev/null 2>&1 &) ; sleep 0.2; echo wrote" % BG)
# Shell built-ins only, so that procs stays small and the listing has no
# process of its own but the shell. The job's init (pid 1 of its pid
# namespace, comm "wb-jobinit") is not counted.
JOB2 = ("cd /box; echo box: *; cd /tmp; echo tmp: * .[!.]*; "
        "n=0; for p in /proc/[0-9]*; do read c < $p/comm; echo proc: $c; "
        "[ \"$c\" = wb-jobinit ] || n=$((n+1)); done; echo nprocs: $n")


def evict_tree(top, budget):
    """Asks the kernel to drop the cached pages of the regular files under
    top, in the order readtree reads them (nftw: the walk order of
    os.walk's listdir), up to budget bytes; mapped pages stay."""
    done = 0
    for root, dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(root, name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                done += os.fstat(fd).st_size
            except OSError:
                pass
            finally:
                os.close(fd)
            if done >= budget:
                return done
    return done


def run(c, job, timeout=30):
    a = c.request(job, timeout)
    return a if a and a.get("id") == job["id"] else {"unexpected": a}


WB = wbd.WB
ONE = wbd.Fixture(lambda: Daemon(T, "--zygotes", 1, name="1-zygote daemon"))


@T.case(ONE)
def case_job2_sees_nothing(d):
    """job 2 on the same zygote sees nothing of job 1"""
    d.wait_warm()
    zyg = wbd.children(d.pid)
    c = d.client()
    j1 = {"id": "j1", "argv": ["/bin/sh", "-c", JOB1], "files": [wbd.prog_file("sleeper", BG)],
          "limits": {"procs": 8, "wall_ms": 5000}}
    a = run(c, j1)
    T.check(a.get("status") == "OK" and a.get("stdout") == "wrote\n",
            "job 1 writes /box/x, /tmp/y and starts a background process", brief(a))
    left = wbd.wait_for(lambda: not wbd.procs_named(BG), 2)
    T.check(left, "job 1's background process is gone from the host after its result",
            wbd.procs_named(BG))
    j2 = {"id": "j2", "argv": ["/bin/sh", "-c", JOB2], "limits": {"procs": 4}}
    a = run(c, j2)
    out = a.get("stdout") or ""
    wbd.log("job 2 stdout: %r" % out)
    T.check(a.get("status") == "OK", "job 2 runs OK", brief(a))
    T.check("box: *\n" in out, "job 2: /box is empty (no x)", out)
    T.check("tmp: * .[!.]*\n" in out, "job 2: /tmp is empty (no y, no d)", out)
    T.check("nprocs: 1\n" in out and BG not in out,
            "job 2: /proc shows only its own shell (and its init), no process of job 1", out)
    T.check(wbd.children(d.pid) == zyg, "both jobs ran on the same zygote (%s)" % zyg)
    # The same check many times over: a leak that needs a spare to be
    # reused would show on a later round.
    bad = []
    for i in range(10):
        j1["id"], j2["id"] = "r1-%d" % i, "r2-%d" % i
        a1, a2 = run(c, j1), run(c, j2)
        o = a2.get("stdout") or ""
        if (a1.get("status") != "OK" or a2.get("status") != "OK" or "box: *\n" not in o
                or "tmp: * .[!.]*\n" not in o or "nprocs: 1\n" not in o):
            bad.append("%s\n%s" % (brief(a1), brief(a2)))
    T.check(not bad, "10 more rounds: job 2 never sees job 1's files or processes", "\n".join(bad[:3]))
    left = wbd.wait_for(lambda: not wbd.procs_named(BG), 2)
    T.check(left, "no background process of any round left on the host", wbd.procs_named(BG))
    c.close()


@T.case(ONE)
def case_page_cache_memory(d):
    """memory_kb after a job that filled the page cache"""
    # A job reads 96 MiB of the host's libraries (page cache charged to
    # its cgroup); the next jobs on the same zygote must report their
    # own memory, not that (with reused cgroups they showed ~170 MiB
    # after 150 MiB).
    # Pages already cached stay charged to whoever read them first: drop
    # those of the files the reader will read, so that it charges them.
    evicted = evict_tree("/usr/lib", 128 << 20)
    wbd.log("evicted the page cache of %d MiB of /usr/lib" % (evicted >> 20))
    c = d.client()
    # Time limits far from what reading takes, also under emulation
    # (tests/vm), where 150 MiB took more than the default second.
    a = run(c, wbd.prog_job("big", "readtree", ["/usr/lib", 96],
                            limits={"memory_kb": 524288, "cpu_ms": 30000, "wall_ms": 60000}), timeout=90)
    T.check(a.get("status") == "OK" and a.get("stdout", "").startswith("read "),
            "the reader ran", brief(a))
    wbd.log("reader: %s, memory_kb %s (%s)" % (a.get("stdout", "").strip(), a.get("memory_kb"),
                                               a.get("accounting")))
    small = [run(c, wbd.true_job("after%d" % i)) for i in range(3)]
    kbs = [x.get("memory_kb") for x in small]
    T.check(all(x.get("status") == "OK" for x in small) and all(isinstance(k, int) and k < 20480 for k in kbs),
            "the next three /bin/true jobs report under 20 MiB each (%s)" % kbs, [brief(x) for x in small])
    c.close()


@T.case()
def case_two_at_once():
    """two jobs at once"""
    with Daemon(T, "--zygotes", 2, name="2-zygote daemon") as d:
        d.wait_warm()
        c = d.client()
        names = ["usleep_a_%d" % TAG, "usleep_b_%d" % TAG]
        jobs = [wbd.prog_job("u%d" % i, "sleeper", [2], boxname=n, limits={"wall_ms": 5000})
                for i, n in enumerate(names)]
        c.send(*jobs)
        pids = wbd.wait_for(lambda: (lambda p: p if all(p) else None)([wbd.procs_named(n) for n in names]), 5)
        T.check(pids, "both jobs run at the same time (%s)" % pids)
        if pids:
            uids = [wbd.proc_uid(p[0]) for p in pids]
            wbd.log("host uids of the two jobs: %s" % uids)
            if wbd.rootless():
                T.check(all(u == int(wbd.AS_USER) for u in uids),
                        "rootless: both jobs run as the daemon's own uid %s on the host" % wbd.AS_USER)
            else:
                T.check(uids[0] != uids[1] and all(u is not None and u >= wbd.HOST_ID_BASE for u in uids),
                        "root: the two jobs run as different host uids >= 0x70000000 (%s)" % uids)
                zuids = [wbd.proc_uid(z) for z in wbd.children(d.pid)]
                T.check(not set(uids) & set(zuids), "neither job shares a uid with a zygote (%s)" % zuids)
        answers, err = c.collect(2, 30)
        T.check(err is None and sorted(a["id"] for a in answers) == ["u0", "u1"]
                and all(a["status"] == "OK" for a in answers), "both jobs OK",
                "%s\n%s" % (err, "\n".join(brief(a) for a in answers)))
        c.close()


@T.case()
def case_pidns_neighbour():
    """a warmbox started in another PID namespace leaves this daemon's cgroups alone"""
    # From another PID namespace kill(PID, 0) misses a live manager: its
    # empty job cgroups were taken for a dead manager's and removed under it
    # (its next jobs: XX "cannot send the job: No such device").
    if wbd.rootless():
        T.skip("another PID namespace's warmbox", "unshare --pid needs root")
        return
    import subprocess
    import threading
    with Daemon(T, "--zygotes", 2, name="2-zygote daemon") as d:
        d.wait_warm()
        c = d.client()
        got = []

        def jobs():
            for i in range(300):
                c.send(wbd.true_job("n%d" % i))
                a, _ = c.collect(1, 30)
                got.extend(a or [{"id": "n%d" % i, "status": "no answer"}])
        t = threading.Thread(target=jobs)
        t.start()
        runs = [subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", WB, "run", "--", "/bin/true"],
                               capture_output=True, text=True, timeout=60) for _ in range(8)]
        t.join(120)
        T.check(all(r.returncode == 0 for r in runs), "the neighbour's 8 runs exit 0",
                [r.stdout[-200:] + r.stderr[-200:] for r in runs if r.returncode != 0])
        bad = [brief(a) for a in got if a.get("status") != "OK"]
        T.check(len(got) == 300 and not bad, "all 300 of the daemon's jobs meanwhile OK (%d answers)" % len(got),
                bad[:3])
        c.close()


T.run()
