#!/usr/bin/env python3
"""test_enter.py (label daemon): SPEC.md "Operator tools": {"op":"jobs"} and
`warmbox enter ID -- CMD`: the list of running jobs, a command inside one
job's namespaces as its uid with no capabilities and the default filter,
seeing that job's processes and files and no other's, refused to anyone but
the daemon's owner, and gone when the job ends."""

import fcntl
import os
import pty
import secrets
import select
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief  # noqa: E402

T = wbd.preflight("daemon_enter")
STRANGER = "65533"   # neither root nor the daemon's owner (65534 rootless)


def sleeper(jid, word, seconds):
    """A job that writes WORD to /box/note, then sleeps SECONDS (its marker)."""
    return {"id": jid, "argv": ["/bin/sh", "-c", "echo %s > /box/note; exec sleep %s" % (word, seconds)],
            "limits": {"wall_ms": 30000, "cpu_ms": 5000, "procs": 8}}


def jobs(d):
    c = d.client(10)
    try:
        return c.request({"op": "jobs"})
    finally:
        c.close()


def running(d, jid):
    """The jobs entry of JID once its job init's pid is known, or None."""
    def find():
        for j in (jobs(d) or {}).get("jobs", []):
            if j.get("id") == jid and isinstance(j.get("pid"), int) and j["pid"] > 0:
                return j
        return None
    return wbd.wait_for(find, 20, 0.05)


def enter_argv(d):
    """`warmbox enter` on d's socket, with the tests' policies."""
    return [wbd.WB, "enter", "--socket", d.sock] + (["--policies", wbd.POLICIES] if wbd.POLICIES else [])


def enter(d, jid, cmd, user=None, timeout=30):
    """`warmbox enter` as the daemon's owner (or USER): (rc, stdout, stderr)."""
    argv = enter_argv(d) + [jid, "--"] + cmd
    if user:
        argv = ["setpriv", "--reuid", user, "--regid", user, "--clear-groups", "--"] + argv
    else:
        argv = wbd.as_user_argv(argv)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def note_seen(d, jid, word):
    """Until the job has written its note (it may still be starting)."""
    return wbd.wait_for(lambda: enter(d, jid, ["cat", "/box/note"])[1].strip() == word, 20, 0.1)


MAIN = wbd.Fixture(lambda: Daemon(T, "--zygotes", 2))


@T.case(MAIN)
def case_jobs_list(d):
    """{"op":"jobs"}: each running job with its zygote, pid, start and limits"""
    c = d.client()
    c.send(sleeper("one", "w1", "2.101"), sleeper("two", "w2", "2.102"))
    a, b = running(d, "one"), running(d, "two")
    T.check(a and b and a["zygote"] != b["zygote"] and a["pid"] != b["pid"],
            "two running jobs listed, on two zygotes, with two pids", (a, b))
    if a:
        T.check(a.get("limits", {}).get("wall_ms") == 30000 and a["limits"].get("procs") == 8,
                "a job's limits as it asked for them", a)
        T.check(abs(a.get("started", 0) / 1000 - time.time()) < 30, "started is Unix time in ms", a)
        comm = wbd.read_text("/proc/%d/comm" % a["pid"]).strip()
        T.check(comm == "wb-jobinit", "its pid is a warmbox job init on the host", comm)
    answers, _ = c.collect(2, timeout=30)
    T.check(sorted(x.get("status") for x in answers) == ["OK", "OK"], "both jobs end OK", [brief(x) for x in answers])
    T.check((jobs(d) or {}).get("jobs") == [], "nothing listed once they ended", jobs(d))
    c.close()


def children_cmdlines(pid):
    """The command lines of pid's children, as one string."""
    kids = wbd.read_text("/proc/%d/task/%d/children" % (pid, pid)).split()
    return " ".join(wbd.read_text("/proc/%s/cmdline" % k).replace("\0", " ") for k in kids)


@T.case()
def case_pid_after_quick_job():
    """the listed pid is the job init holding this job, also right after a quick job"""
    with Daemon(T, "--zygotes", 1) as d:
        c = d.client()
        good = 0
        for i in range(6):
            marker = "1.%d07" % i
            # The quick job leaves no spare ready: the sleeper goes to the next one.
            c.send(wbd.true_job("quick%d" % i), sleeper("slow%d" % i, "w", marker))
            j = running(d, "slow%d" % i)
            seen = wbd.wait_for(lambda: "sleep " + marker in children_cmdlines(j["pid"]), 5) if j else False
            good += bool(seen)
            c.collect(2, timeout=30)
        T.check(good == 6, "each listed pid is the job init whose child is that job's sleep (%d of 6)" % good)
        c.close()


@T.case(MAIN)
def case_inside(d):
    """the entered command: the job's files, its processes only, its uid, no caps, the filter"""
    word, other = secrets.token_hex(8), secrets.token_hex(8)
    c = d.client()
    c.send(sleeper("mine", word, "4.301"), sleeper("theirs", other, "4.302"))
    T.check(running(d, "mine") and running(d, "theirs"), "both jobs running")
    T.check(note_seen(d, "mine", word), "cat /box/note inside reads what the job wrote")
    rc, out, err = enter(d, "mine", ["/bin/sh", "-c",
                                     "cat /proc/[0-9]*/cmdline | tr '\\0' ' '; echo; "
                                     "ls /proc | grep -c '^[0-9]'; id -u; "
                                     "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status"])
    T.check(rc == 0, "the command exits 0", err)
    lines = out.splitlines()
    T.check(lines and "sleep 4.301" in lines[0] and "4.302" not in lines[0],
            "its /proc shows this job's program and not the other job's", out)
    T.check(len(lines) > 1 and lines[1].isdigit() and 3 <= int(lines[1]) <= 6,
            "its /proc holds the job's few processes only (init, program, this shell and its child)", out)
    T.check("1000" in lines[2:3], "it runs as the job's uid, 1000", out)
    T.check("CapEff:\t0000000000000000" in out and "CapBnd:\t0000000000000000" in out,
            "with no capability, bounding set included", out)
    T.check("NoNewPrivs:\t1" in out and "Seccomp:\t2" in out, "with no_new_privs and a seccomp filter", out)
    rc, out, err = enter(d, "mine", ["/bin/sh", "-c", "grep -rl %s /box /tmp 2>/dev/null; echo done" % other])
    T.check(out.strip() == "done", "the other job's word is in none of this job's files", out + err)
    # Never the caller's own descriptors: a job process could reopen them
    # through the command's /proc/PID/fd and keep them.
    r, w = os.pipe()
    ours = "pipe:[%d]" % os.fstat(w).st_ino
    argv = enter_argv(d)
    p = subprocess.Popen(wbd.as_user_argv(argv + ["mine", "--", "readlink", "/proc/self/fd/1"]),
                         stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        seen = f.read().strip()
    p.wait(30)
    T.check(seen.startswith("pipe:[") and seen != ours,
            "the command's stdout is a pipe of warmbox enter's, not the caller's (%s)" % ours, seen)
    # What it leaves running ends with it (a PID namespace of its own).
    rc, out, err = enter(d, "mine", ["/bin/sh", "-c", "sleep 77.5 & echo started"])
    left = wbd.wait_for(lambda: not [p for p in os.listdir("/proc") if p.isdigit()
                                     and "77.5" in wbd.read_text("/proc/%s/cmdline" % p)], 5)
    T.check(rc == 0 and out.strip() == "started" and left,
            "a background sleep the command started is gone once it has exited", (rc, out, err))
    # Its memory counts against the job: in the job's memory cgroup, the
    # root of the job's cgroup namespace (cgroup v1; rlimit accounting has
    # no cgroup of the job's own, v2 one with pids in it: README).
    rc, out, err = enter(d, "mine", ["cat", "/proc/self/cgroup"])
    if ":memory:" in out:
        mem = [l for l in out.splitlines() if ":memory:" in l]
        T.check(rc == 0 and mem and all(l.endswith(":/") for l in mem),
                "the command is in the job's memory cgroup (the root of its cgroup namespace)", out + err)
    # unshare(2) is not in the default policy: refused, and the job runs on.
    rc, out, err = enter(d, "mine", ["unshare", "-U", "true"])
    T.check(rc != 0 and "Function not implemented" in err,
            "a syscall the default policy refuses fails (ENOSYS) in the entered command", (rc, err))
    answers, _ = c.collect(2, timeout=40)
    T.check(sorted(x.get("status") for x in answers) == ["OK", "OK"],
            "both jobs still end OK", [brief(x) for x in answers])
    c.close()


@T.case(MAIN)
def case_ends_with_job(d):
    """the entered command is killed when its job ends"""
    c = d.client()
    # procs 1, as most judge jobs: the entered shell may still fork.
    c.send({"id": "short", "argv": ["/bin/sleep", "1.5"], "limits": {"procs": 1, "wall_ms": 10000}})
    T.check(running(d, "short"), "the job is running")
    t = time.monotonic()
    rc, out, err = enter(d, "short", ["/bin/sh", "-c", "ls /box; sleep 60"], timeout=60)
    took = time.monotonic() - t
    T.check(rc == 128 + 9 and took < 20, "enter ends with the job, its command killed (137)",
            "rc %d after %.1f s: %s" % (rc, took, err))
    a = c.recv(timeout=30)
    T.check(a and a.get("status") == "OK", "the job itself ends OK", brief(a))
    c.close()


@T.case(MAIN)
def case_refused(d):
    """no such job; and anyone but the daemon's owner is refused"""
    rc, out, err = enter(d, "nobody-runs-this", ["true"])
    T.check(rc == 1 and "no job \"nobody-runs-this\" is running" in err, "an unknown id: exit 1, said", err)
    c = d.client()
    c.send(sleeper("private", "w", "3.5"))
    T.check(running(d, "private"), "the job is running")
    os.chmod(d.sock, 0o666)
    rc, out, err = enter(d, "private", ["true"], user=STRANGER)
    T.check(rc == 1 and "only the daemon's owner" in err, "uid %s is refused by the daemon" % STRANGER, err)
    raw = subprocess.run(["setpriv", "--reuid", STRANGER, "--regid", STRANGER, "--clear-groups", "--",
                          sys.executable, "-c", "import socket; s = socket.socket(socket.AF_UNIX); "
                          "s.connect(%r); s.sendall(b'{\"op\":\"jobs\"}\\n'); print(s.recv(4096).decode())"
                          % d.sock], capture_output=True, timeout=30)
    T.check(b'"ok":false' in raw.stdout and b"private" not in raw.stdout,
            "its raw {\"op\":\"jobs\"} is answered ok:false, no job named", raw.stdout + raw.stderr)
    os.chmod(d.sock, 0o660)
    a = c.recv(timeout=30)
    T.check(a and a.get("status") == "OK", "the job ends OK", brief(a))
    c.close()


def take_ctty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@T.case(MAIN)
def case_tty(d):
    """on a terminal: a shell on a pty of its own, the operator's settings restored"""
    c = d.client()
    c.send(sleeper("shell", "w", "30"))
    T.check(running(d, "shell"), "the job is running")
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    argv = enter_argv(d)
    p = subprocess.Popen(wbd.as_user_argv(argv + ["shell"]), stdin=slave, stdout=slave,
                         stderr=subprocess.PIPE, preexec_fn=take_ctty, close_fds=True)
    os.write(master, b"echo in$((6*7)) $(cat /box/note); [ -t 0 ] && echo term; readlink /proc/self/fd/0; exit 5\n")
    shown, end = b"", time.monotonic() + 20
    while p.poll() is None and time.monotonic() < end:
        if select.select([master], [], [], 0.2)[0]:
            try:
                shown += os.read(master, 65536)
            except OSError:
                break
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    T.check(rc == 5, "warmbox enter exits with the shell's status, 5", (rc, err, shown))
    T.check(b"in42 w" in shown and b"term" in shown,
            "the shell ran inside the job, its stdin a terminal", shown)
    ours = os.ttyname(slave).encode()
    T.check(b"/dev/pts/" in shown and ours + b"\r" not in shown and ours + b"\n" not in shown,
            "that terminal is a new pty, not the operator's %s" % ours.decode(), shown)
    T.check(termios.tcgetattr(slave) == before, "the operator's terminal settings are restored")
    os.close(master)
    os.close(slave)
    c.close()


T.run()
