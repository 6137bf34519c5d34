#!/usr/bin/env python3
"""test_store.py (label daemon): SPEC.md "File store" through a raw socket
client: put, get and drop of binary bytes, refs that are the SHA-256 of the
bytes, files by ref that run, copy_out kept by ref, a job's copy that is
its own, unknown and
malformed refs refused before anything runs, eviction that spares what
queued jobs need, two clients putting the same bytes at once, the stats."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief  # noqa: E402

T = wbd.preflight("daemon_store")
BIN = bytes(range(256)) * 4 + b"\0\0\n\r\0"


def ref_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def put(c, data):
    return c.request({"op": "put", "base64": base64.b64encode(data).decode()}, timeout=30)


def store_stats(d):
    return (d.stats() or {}).get("store") or {}


MAIN = wbd.Fixture(lambda: Daemon(T, "--zygotes", 1))


@T.case(MAIN)
def case_put_get_drop(d):
    """put, get and drop of binary bytes"""
    c = d.client()
    s0 = store_stats(d)
    a = put(c, BIN)
    T.check(a == {"op": "put", "ok": True, "ref": ref_of(BIN), "size": len(BIN)},
            "put answers the SHA-256 of the bytes and their size", brief(a))
    b = put(c, BIN)
    T.check(b == a, "the same bytes again: the same ref", brief(b))
    t = c.request({"op": "put", "content": "text\n"})
    T.check(t.get("ok") is True and t.get("ref") == ref_of(b"text\n") and t.get("size") == 5,
            "put of content (text) answers its ref", brief(t))
    g = c.request({"op": "get", "ref": ref_of(BIN)}, timeout=30)
    T.check(g.get("op") == "get" and g.get("ok") is True and g.get("ref") == ref_of(BIN)
            and base64.b64decode(g.get("base64", "")) == BIN,
            "get gives back every byte, NULs included", brief(g))
    s1 = store_stats(d)
    T.check(s1.get("entries") == s0.get("entries", 0) + 2 and s1.get("bytes") == s0.get("bytes", 0) + len(BIN) + 5
            and s1.get("hits") == s0.get("hits", 0) + 1,
            "stats: two entries, their bytes, one hit", "%s -> %s" % (s0, s1))
    x = c.request({"op": "drop", "ref": ref_of(BIN)})
    T.check(x == {"op": "drop", "ok": True}, "drop answers ok", brief(x))
    g = c.request({"op": "get", "ref": ref_of(BIN)})
    T.check(g == {"op": "get", "ok": False, "error": "get: not in the store"},
            "get after drop: not in the store", brief(g))
    x = c.request({"op": "drop", "ref": ref_of(BIN)})
    T.check(x == {"op": "drop", "ok": False, "error": "drop: not in the store"},
            "a second drop: not in the store", brief(x))
    s2 = store_stats(d)
    T.check(s2.get("entries") == s1.get("entries") - 1 and s2.get("bytes") == s1.get("bytes") - len(BIN)
            and s2.get("misses") == s1.get("misses") + 1,
            "stats: one entry and its bytes fewer, one miss", "%s -> %s" % (s1, s2))
    c.request({"op": "drop", "ref": ref_of(b"text\n")})
    c.close()


@T.case(MAIN)
def case_bad_ops(d):
    """malformed store requests: answered, the connection stays usable"""
    c = d.client()
    cases = [
        ({"op": "put"}, "put: give the bytes as exactly one of base64 and content"),
        ({"op": "put", "base64": "AA==", "content": "x"}, "put: give the bytes as exactly one of base64 and content"),
        ({"op": "put", "base64": "@@@"}, "put: base64: not valid base64"),
        ({"op": "get"}, "get: ref: a string is required"),
        ({"op": "get", "ref": "sha256:00"}, "get: not in the store"),
        ({"op": "drop", "ref": 5}, "drop: ref: a string is required"),
    ]
    # Text content with a NUL would be cut short by a NUL-terminated
    # string: refused, naming where (the client sends json.dumps' text).
    nul = {"op": "put", "content": "a\0b"}
    at = json.dumps(nul).index("\\u0000")
    cases.append((nul, "invalid JSON: \\u0000 at offset %d (send binary data as base64)" % at))
    for req, error in cases:
        a = c.request(req)
        T.check(a == {"op": req["op"], "ok": False, "error": error}, "%s answers %r" % (req, error), brief(a))
    a = c.request({"op": "ping"})
    T.check(a == {"op": "ping", "ok": True}, "the connection still answers ping", brief(a))
    c.close()


@T.case(MAIN)
def case_ref_runs(d):
    """a program put once runs by ref, with its mode"""
    with open(os.path.join(wbd.PROGS, "exit_code"), "rb") as f:
        prog = f.read()
    c = d.client()
    r = put(c, prog).get("ref")
    for i in range(3):
        a = c.request({"id": "r%d" % i, "argv": ["./ec", str(i)], "files": [{"path": "ec", "ref": r, "mode": 493}]},
                      timeout=30)
        T.check(a.get("id") == "r%d" % i and a.get("status") == ("OK" if i == 0 else "RE")
                and a.get("exit_code") == i and a.get("stdout") == "exit %d\n" % i,
                "job %d runs the program by ref (exit %d)" % (i, i), brief(a))
    c.close()


@T.case(MAIN)
def case_copy_is_the_jobs(d):
    """a job that overwrites or truncates its copy leaves the stored bytes alone"""
    data = b"judge input 1 2 3\n" * 1000
    c = d.client()
    r = put(c, data).get("ref")
    f = [{"path": "in.txt", "ref": r}]
    a = c.request({"id": "w", "argv": ["/bin/sh", "-c", "echo changed > in.txt; wc -c < in.txt; : > in.txt; wc -c < in.txt"],
                   "files": f, "limits": {"procs": 4}}, timeout=30)
    T.check(a.get("status") == "OK" and a.get("stdout") == "8\n0\n",
            "job 1 overwrites, then truncates its copy", brief(a))
    a = c.request({"id": "r", "argv": ["/usr/bin/sha256sum", "in.txt"], "files": f}, timeout=30)
    T.check(a.get("status") == "OK" and a.get("stdout", "").split(" ")[0] == hashlib.sha256(data).hexdigest(),
            "job 2 gets the stored bytes intact", brief(a))
    g = c.request({"op": "get", "ref": r}, timeout=30)
    T.check(base64.b64decode(g.get("base64", "")) == data, "get gives the stored bytes intact", brief(g))
    a = c.request({"id": "s", "argv": ["/bin/sh", "-c", "ls -l /proc/self/fd | grep -c memfd; echo end"],
                   "files": f, "limits": {"procs": 4}}, timeout=30)
    T.check(a.get("status") == "OK" and a.get("stdout") == "0\nend\n",
            "the job holds no descriptor of the store", brief(a))
    c.close()


@T.case(MAIN)
def case_keep(d):
    """copy_out with keep: the file by ref and size, no bytes; the ref runs next"""
    c = d.client()
    a = c.request({"id": "k", "argv": ["/bin/sh", "-c", "head -c 70000 /dev/urandom > out.bin; cp out.bin plain.bin; sha256sum out.bin"],
                   "copy_out": [{"path": "out.bin", "keep": True}, "plain.bin", {"path": "none", "keep": True},
                                {"path": "plain.bin", "keep": False}],
                   "limits": {"procs": 4}}, timeout=30)
    files = a.get("files") or []
    digest = (a.get("stdout") or " ").split(" ")[0]
    T.check(a.get("status") == "OK" and len(files) == 4
            and files[0] == {"path": "out.bin", "ref": "sha256:" + digest, "size": 70000},
            "the kept file comes back as {path, ref, size}, its ref the SHA-256 of its bytes", brief(a))
    T.check(len(files) == 4 and "base64" in files[1] and "base64" in files[3] and "ref" not in files[1]
            and hashlib.sha256(base64.b64decode(files[1]["base64"])).hexdigest() == digest,
            "plain entries and keep: false come back with their bytes as before", brief(a))
    T.check(len(files) == 4 and "error" in files[2] and "ref" not in files[2] and "base64" not in files[2],
            "keep of a missing file is an error entry", brief(a))
    if files and files[0].get("ref"):
        b = c.request({"id": "k2", "argv": ["/usr/bin/sha256sum", "out.bin"],
                       "files": [{"path": "out.bin", "ref": files[0]["ref"]}]}, timeout=30)
        T.check(b.get("status") == "OK" and (b.get("stdout") or " ").split(" ")[0] == digest,
                "the next job runs with the kept file by ref", brief(b))
        c.request({"op": "drop", "ref": files[0]["ref"]})
    c.close()


@T.case(MAIN)
def case_unknown_ref(d):
    """a ref not in the store: an invalid job naming the entry, nothing runs"""
    c = d.client()
    before = d.stats().get("jobs_run")
    missing = ref_of(b"never put %d" % os.getpid())
    a = c.request({"id": "u", "argv": ["/bin/true"],
                   "files": [{"path": "a", "content": ""}, {"path": "b", "ref": missing}]})
    T.check(a.get("id") == "u" and a.get("status") == "XX"
            and a.get("error") == "invalid job: files[1].ref: not in the store",
            "answered XX: invalid job: files[1].ref: not in the store", brief(a))
    T.check(d.stats().get("jobs_run") == before, "nothing ran", d.stats())
    c.close()


@T.case(MAIN)
def case_malformed_refs(d):
    """refs with a wrong length or alphabet are invalid jobs"""
    c = d.client()
    good = ref_of(b"x")[7:]
    for bad in ("sha256:" + good[:-1], "sha256:" + good + "0", "sha256:" + good.upper(),
                "sha1:" + good, "sha256:" + "g" + good[1:], good):
        a = c.request({"id": "m", "argv": ["/bin/true"], "files": [{"path": "a", "ref": bad}]})
        T.check(a.get("status") == "XX" and a.get("error")
                == 'invalid job: files[0].ref: expected "sha256:" and 64 lowercase hex digits',
                "ref %r is refused" % bad[:20], brief(a))
    c.close()


@T.case()
def case_eviction_spares_pinned():
    """a small store evicts what no queued or running job needs, never what one does"""
    big = 600 * 1024
    with Daemon(T, "--zygotes", 1, "--jobs", 1, "--store", "1M") as d:
        c = d.client()
        da, db = b"a" * big, b"b" * big
        ra = put(c, da).get("ref")
        # One job runs 1 s, the next waits behind it and needs a.
        c.send({"id": "sleep", "argv": ["/bin/sleep", "1"], "limits": {"wall_ms": 5000}},
               {"id": "needs-a", "argv": ["/usr/bin/wc", "-c", "a"], "files": [{"path": "a", "ref": ra}]})
        queued = wbd.wait_for(lambda: (d.stats() or {}).get("queue_depth") == 1, 10)
        T.check(queued, "the job that needs a is queued behind the sleeper", d.stats())
        other = d.client()
        b = put(other, db)
        T.check(b.get("ok") is False and "full of files that queued and running jobs need" in b.get("error", ""),
                "put of b is refused while a queued job needs a", brief(b))
        answers, err = c.collect(2, 30)
        by = {x.get("id"): x for x in answers}
        T.check(err is None and by.get("needs-a", {}).get("stdout") == "%d a\n" % big,
                "the queued job gets all of a", "%s %s" % (err, [brief(x) for x in answers]))
        s0 = store_stats(d)
        b = put(other, db)
        T.check(b.get("ok") is True and b.get("ref") == ref_of(db), "once it is done, b fits", brief(b))
        g = other.request({"op": "get", "ref": ra})
        T.check(g == {"op": "get", "ok": False, "error": "get: not in the store"},
                "a was evicted: get answers not in the store", brief(g))
        s1 = store_stats(d)
        T.check(s1.get("evictions") == s0.get("evictions") + 1 and s1.get("entries") == 1
                and s1.get("bytes") == big and s1.get("max_bytes") == 1 << 20,
                "stats: one eviction, one entry of %d bytes, max 1 MiB" % big, "%s -> %s" % (s0, s1))
        big2 = other.request({"op": "put", "base64": base64.b64encode(b"c" * (2 << 20)).decode()})
        T.check(big2.get("ok") is False and "more than the whole store holds" in big2.get("error", ""),
                "bytes over --store are refused as such", brief(big2))
        c.close()
        other.close()


@T.case(MAIN)
def case_two_clients_same_bytes(d):
    """two clients putting the same bytes at once get one ref, one entry"""
    data = os.urandom(300 * 1024)
    s0 = store_stats(d)
    refs = [[], []]

    def putter(k):
        c = d.client()
        for _ in range(10):
            refs[k].append(put(c, data).get("ref"))
        c.close()

    threads = [threading.Thread(target=putter, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    T.check(refs[0] + refs[1] == [ref_of(data)] * 20, "all 20 puts answer the same ref", refs)
    s1 = store_stats(d)
    T.check(s1.get("entries") == s0.get("entries", 0) + 1 and s1.get("bytes") == s0.get("bytes", 0) + len(data),
            "one entry more, its bytes once", "%s -> %s" % (s0, s1))
    c = d.client()
    c.request({"op": "drop", "ref": ref_of(data)})
    c.close()


@T.case(MAIN)
def case_put_get_clients(d):
    """warmbox put and warmbox get in a shell pipeline"""
    data = os.urandom(100000) + b"\0end"
    cli = wbd.as_user_argv([wbd.WB])
    p = subprocess.run(cli + ["put", "--socket", d.sock, "-"], input=data, capture_output=True, timeout=60)
    T.check(p.returncode == 0 and p.stdout == (ref_of(data) + "\n").encode() and p.stderr == b"",
            "put of stdin prints the ref alone", "%d %r %r" % (p.returncode, p.stdout, p.stderr))
    g = subprocess.run(cli + ["get", "--socket", d.sock, ref_of(data)], capture_output=True, timeout=60)
    T.check(g.returncode == 0 and g.stdout == data, "get writes the same bytes to stdout",
            "%d %d bytes %r" % (g.returncode, len(g.stdout), g.stderr))
    missing = ref_of(b"never put by the clients %d" % os.getpid())
    g = subprocess.run(cli + ["get", "--socket", d.sock, missing], capture_output=True, text=True, timeout=60)
    T.check(g.returncode == 1 and g.stdout == "" and g.stderr == "warmbox: get: not in the store\n",
            "get of an unknown ref: exit 1, the daemon's reason", "%d %r %r" % (g.returncode, g.stdout, g.stderr))
    g = subprocess.run(cli + ["get", "--socket", d.sock, "nonsense"], capture_output=True, text=True, timeout=60)
    T.check(g.returncode == 2 and g.stdout == "" and "expected a ref" in g.stderr,
            "get of something not a ref: exit 2", "%d %r %r" % (g.returncode, g.stdout, g.stderr))
    p = subprocess.run(cli + ["put", "--socket", d.sock, "/nonexistent/wb"], capture_output=True, text=True,
                       timeout=60)
    T.check(p.returncode == 2 and p.stdout == "" and p.stderr.startswith("warmbox put: /nonexistent/wb: "),
            "put of a missing file: exit 2 naming it", "%d %r %r" % (p.returncode, p.stdout, p.stderr))
    c = d.client()
    c.request({"op": "drop", "ref": ref_of(data)})
    c.close()


@T.case(MAIN)
def case_judge_flow(d):
    """examples/judge/judge.sh through the daemon: compile once with keep, every test by ref"""
    if not os.access("/usr/bin/gcc", os.X_OK):
        T.skip("judge.sh --socket c", "gcc is not installed")
        return
    judge = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "judge", "judge.sh")
    s0 = store_stats(d)
    p = subprocess.run(wbd.as_user_argv(["env", "WARMBOX=" + wbd.WB, "WARMBOX_POLICIES=" + wbd.POLICIES,
                                         "TMPDIR=/tmp", "bash", judge, "--socket", d.sock, "c"]),
                       capture_output=True, text=True, timeout=120)
    wbd.log("judge.sh: " + p.stdout.replace("\n", " | "))
    lines = p.stdout.splitlines()
    T.check(p.returncode == 0 and sum(1 for x in lines if x.startswith("test ") and ": accepted," in x) == 3
            and any(x.startswith("compile c: kept in the daemon's store as sha256:") for x in lines),
            "the C solution is compiled once, kept, and accepted on all 3 tests by ref",
            "exit %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr))
    s1 = store_stats(d)
    T.check(s1.get("hits", 0) - s0.get("hits", 0) == 3 and s1.get("entries") == s0.get("entries"),
            "the store: one hit per test, the artifact dropped at the end", "%s -> %s" % (s0, s1))


def run_job_text(text):
    """`warmbox run --job FILE` on text, as the tested uid."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir="/tmp", prefix="wbtest.%d." % os.getpid()) as f:
        f.write(text)
        f.flush()
        os.chmod(f.name, 0o644)
        return subprocess.run(wbd.as_user_argv([wbd.WB, "run", "--job", f.name]), capture_output=True, text=True,
                              timeout=60)


@T.case()
def case_run_has_no_store():
    """warmbox run refuses a file by ref as an invalid job"""
    p = run_job_text('{"argv": ["/bin/true"], "files": [{"path": "a", "ref": "%s"}]}' % ref_of(b"x"))
    T.check(p.returncode == 2 and p.stdout == "" and p.stderr.strip().endswith(
        "invalid job: files[0].ref: warmbox run has no file store (refs are the daemon's: warmbox serve)")
        and p.stderr.count("\n") == 1, "exit 2 and one line naming files[0].ref",
        "exit %d stdout %r stderr %r" % (p.returncode, p.stdout, p.stderr))
    p = run_job_text('{"argv": ["/bin/true"], "copy_out": ["a", {"path": "b", "keep": true}]}')
    T.check(p.returncode == 2 and p.stdout == "" and p.stderr.strip().endswith(
        "invalid job: copy_out[1].keep: warmbox run has no file store (keep is the daemon's: warmbox serve)")
        and p.stderr.count("\n") == 1, "keep: exit 2 and one line naming copy_out[1].keep",
        "exit %d stdout %r stderr %r" % (p.returncode, p.stdout, p.stderr))

T.run()
