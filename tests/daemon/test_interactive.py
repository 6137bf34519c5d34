#!/usr/bin/env python3
"""test_interactive.py (label daemon): SPEC.md "Interactive jobs" through the
daemon: each side on a zygote of its own, every verdict of either side, the
store on both sides, a daemon with one zygote refusing such jobs, plain and
interactive jobs mixed, and a client that goes away mid-job."""

import base64
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief, prog_file  # noqa: E402

T = wbd.preflight("daemon_interactive")


def ijob(jid, pargs, iargs, plimits=None, ilimits=None, **fields):
    """interact PARGS against interact IARGS, both copied in by bytes."""
    job = {"id": jid, "argv": ["./interact"] + [str(a) for a in pargs], "files": [prog_file("interact")],
           "interactor": {"argv": ["./interact"] + [str(a) for a in iargs], "files": [prog_file("interact")]}}
    if plimits:
        job["limits"] = plimits
    if ilimits:
        job["interactor"]["limits"] = ilimits
    job.update(fields)
    return job


def first_by_id(c, jobs, timeout):
    """Pipelines JOBS; id -> its first answer, checked all came."""
    answers, err = c.pipeline(jobs, timeout=timeout)
    T.check(err is None, "%d jobs answered" % len(jobs), err)
    return {k: v[0] for k, v in wbd.by_id(answers).items()}


def side(a, key=None):
    """(status, exit_code) of the program's result, or of the interactor's."""
    r = (a or {}).get(key, {}) if key else (a or {})
    return (r or {}).get("status"), (r or {}).get("exit_code")


MAIN = wbd.Fixture(lambda: Daemon(T, "--zygotes", 2))


@T.case(MAIN)
def case_verdicts(d):
    """accepted, wrong answer, the program's TL, the interactor's crash"""
    c = d.client()
    tl = ijob("tl", ["read-all"], ["read-all"], {"cpu_ms": 300, "wall_ms": 800}, {"wall_ms": 10000})
    tl["argv"], tl["files"] = ["./busy"], [prog_file("busy")]
    crash = ijob("crash", ["read-all"], [])
    crash["interactor"]["argv"], crash["interactor"]["files"] = ["./segv"], [prog_file("segv")]
    answers = first_by_id(c, [ijob("ok", ["client", 1000], ["server", 1000]),
                              ijob("wa", ["client", 5], ["expect-eof"]), tl, crash], 60)
    a = answers.get("ok")
    T.check(side(a) == ("OK", 0) and side(a, "interactor") == ("OK", 0) and a.get("stdout") == "",
            "accepted: both sides OK, the program's stdout went to the interactor", brief(a))
    a = answers.get("wa")
    T.check(side(a, "interactor") == ("RE", 1) and side(a) == ("RE", 1),
            "wrong answer: the interactor exits 1, the program then reads end-of-file", brief(a))
    a = answers.get("tl")
    T.check(side(a)[0] == "TL" and side(a, "interactor") == ("OK", 0)
            and a.get("interactor", {}).get("wall_ms", 99999) < 4000,
            "the program's TL: the waiting interactor ends with it", brief(a))
    a = answers.get("crash")
    T.check(side(a, "interactor")[0] == "SG" and a.get("interactor", {}).get("signal") == 11
            and side(a) == ("OK", 0), "the interactor's crash: SG, the program reads end-of-file", brief(a))
    c.close()


@T.case(MAIN)
def case_mebibyte(d):
    """1 MiB each way in 4-byte messages through the daemon"""
    c = d.client()
    lim = {"cpu_ms": 20000, "wall_ms": 60000}
    a = c.request(ijob("mib", ["client", 262144], ["server", 262144], lim, lim), timeout=120)
    T.check(side(a) == ("OK", 0) and side(a, "interactor") == ("OK", 0),
            "262144 round trips, every answer checked on both sides", brief(a))
    c.close()


@T.case(MAIN)
def case_store(d):
    """both sides by ref, the interactor's copy_out kept, an unknown ref refused"""
    c = d.client()
    with open(os.path.join(wbd.PROGS, "interact"), "rb") as f:
        data = f.read()
    ref = "sha256:" + hashlib.sha256(data).hexdigest()
    p = c.request({"op": "put", "base64": base64.b64encode(data).decode()}, timeout=30)
    T.check(p.get("ref") == ref, "put of the interact program", brief(p))
    job = ijob("ref", ["client", 100], ["server", 100])
    job["files"] = [{"path": "interact", "ref": ref, "mode": 493}]
    job["interactor"]["files"] = [{"path": "interact", "ref": ref, "mode": 493}]
    job["interactor"]["argv"] = ["sh", "-c", "./interact server 100 && echo judged >verdict.txt"]
    job["interactor"]["limits"] = {"procs": 4}
    job["interactor"]["copy_out"] = [{"path": "verdict.txt", "keep": True}]
    a = c.request(job, timeout=60)
    kept = ((a or {}).get("interactor") or {}).get("files") or [{}]
    T.check(side(a) == ("OK", 0) and side(a, "interactor") == ("OK", 0),
            "both sides run from the store", brief(a))
    T.check(kept[0].get("ref") == "sha256:" + hashlib.sha256(b"judged\n").hexdigest() and kept[0].get("size") == 7,
            "the interactor's copy_out with keep answers a ref", brief(a))
    g = c.request({"op": "get", "ref": kept[0].get("ref", "")})
    T.check(base64.b64decode(g.get("base64", "")) == b"judged\n", "the kept file's bytes", brief(g))
    job["id"] = "missing"
    job["interactor"]["files"] = [{"path": "interact", "ref": "sha256:" + "0" * 64, "mode": 493}]
    a = c.request(job)
    T.check(side(a)[0] == "XX" and a.get("error") == "invalid job: interactor: files[0].ref: not in the store",
            "an unknown ref on the interactor's side: invalid, naming it", brief(a))
    for r in (ref, kept[0].get("ref", "")):
        c.request({"op": "drop", "ref": r})
    c.close()


@T.case(MAIN)
def case_mixed(d):
    """plain and interactive jobs at once: each answered once, as it should"""
    c = d.client()
    jobs = []
    for i in range(24):
        if i % 3 == 0:
            jobs.append(ijob("i%d" % i, ["client", 200], ["server", 200]))
        else:
            jobs.append(wbd.true_job("p%d" % i))
    answers, err = c.pipeline(jobs, timeout=120)
    wbd.answered_once(T, jobs, answers, "mixed: " + str(err))
    got = {k: v[0] for k, v in wbd.by_id(answers).items()}
    bad = [j["id"] for j in jobs if side(got.get(j["id"]))[0] != "OK"
           or ("interactor" in j and side(got.get(j["id"]), "interactor") != ("OK", 0))]
    T.check(not bad, "every job OK, every interactor exit 0", bad)
    st = d.stats() or {}
    T.check(st.get("busy") == 0, "no zygote busy afterwards", brief(st))
    c.close()


@T.case(MAIN)
def case_client_gone(d):
    """a client that goes away mid-job: both sides end, the zygotes serve on"""
    c = d.client()
    c.send(ijob("gone", ["read-all"], ["read-all"], {"wall_ms": 30000}, {"wall_ms": 30000}))
    T.check(wbd.wait_for(lambda: (d.stats() or {}).get("busy") == 2, 10),
            "both sides run, on two zygotes", brief(d.stats()))
    c.close()
    T.check(wbd.wait_for(lambda: (d.stats() or {}).get("busy") == 0, 10),
            "both sides are ended when the client goes", brief(d.stats()))
    c = d.client()
    a = c.request(ijob("after", ["client", 10], ["server", 10]), timeout=30)
    T.check(side(a) == ("OK", 0) and side(a, "interactor") == ("OK", 0), "the next interactive job runs",
            brief(a))
    c.close()


@T.case(MAIN)
def case_invalid(d):
    """what SPEC forbids is an invalid job naming the field"""
    c = d.client()
    a = c.request({"id": "s", "argv": ["true"], "interactor": {"argv": ["true"], "stdin": "x"}})
    T.check(a.get("status") == "XX" and a.get("error") == "invalid job: interactor: stdin: not allowed "
            "(its stdin is the program's stdout)", "an interactor with stdin", brief(a))
    a = c.request({"id": "p", "argv": ["true"], "interactor": {"argv": ["true"], "policy": "no-such"}})
    T.check(a.get("error") == "invalid job: interactor: policy: no such policy", "an unknown interactor policy",
            brief(a))
    a = c.request({"id": "o", "argv": ["true"], "interactor": {"argv": ["true"], "limits": {"output_kb": 1048576}}})
    T.check((a.get("error") or "").startswith("invalid job: interactor: limits.output_kb: at most"),
            "the interactor's output_kb within the daemon's cap", brief(a))
    c.close()


def run_example(d, solution):
    """examples/interactive/interactive.sh --socket against d, as the tested uid."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "interactive",
                          "interactive.sh")
    p = subprocess.run(wbd.as_user_argv(["env", "WARMBOX=" + wbd.WB, "WARMBOX_POLICIES=" + wbd.POLICIES,
                                         "TMPDIR=/tmp", "bash", script, "--socket", d.sock, solution]),
                       capture_output=True, text=True, timeout=120)
    wbd.log("interactive.sh %s: %s" % (solution, p.stdout.replace("\n", " | ")))
    return p, [x for x in p.stdout.splitlines() if x.startswith("test ")]


@T.case(MAIN)
def case_example(d):
    """examples/interactive: guess the number, C++ accepted, a guesser judged wrong"""
    if not os.access("/usr/bin/g++", os.X_OK):
        T.skip("interactive.sh --socket cpp", "g++ is not installed")
        return
    before = store_entries(d)
    p, tests = run_example(d, "cpp")
    T.check(p.returncode == 0 and len(tests) == 5 and all(": accepted," in x for x in tests),
            "the C++ binary search is accepted on all 5 tests", "exit %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr))
    p, tests = run_example(d, "wrong")
    verdicts = [x.split(": ")[1].split(",")[0] for x in tests]
    T.check(p.returncode == 1 and verdicts == ["accepted", "wrong answer", "accepted", "wrong answer", "wrong answer"],
            "a solution answering 1 at once: accepted where the number is 1, wrong answer elsewhere",
            "exit %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr))
    T.check(store_entries(d) == before, "the example dropped what it kept", brief(d.stats()))


def store_entries(d):
    return ((d.stats() or {}).get("store") or {}).get("entries")


@T.case()
def case_one_zygote():
    """a daemon of one zygote refuses interactive jobs, runs plain ones"""
    with Daemon(T, "--zygotes", 1) as d:
        c = d.client()
        a = c.request(ijob("one", ["client", 1], ["server", 1]))
        T.check(a.get("status") == "XX" and a.get("error") == "invalid job: interactor: needs two zygotes, one "
                "per side, and this daemon has one (warmbox serve --zygotes)", "refused, saying why", brief(a))
        a = c.request(wbd.true_job("plain"))
        T.check(a.get("status") == "OK", "a plain job still runs", brief(a))
        c.close()


T.run()
