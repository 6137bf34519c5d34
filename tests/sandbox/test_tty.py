#!/usr/bin/env python3
"""test_tty.py (label sandbox): `warmbox run --tty` (SPEC "Operator tools").

Each case starts `warmbox run -t ...` on a new pty of its own, the
operator's terminal: its slave is warmbox's stdin, stdout and controlling
terminal, stderr a pipe that gets the result JSON. The test types into the
master and reads what the job's terminal shows there. Every case ends with
warmbox gone (killed by pid if it is not) and checks that nothing it
started is left. Shares the daemon tests' harness (tests/daemon/wbd.py):
TAP out, one ctest per case, WB_AS_USER=65534 for rootless mode.
"""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
import wbd  # noqa: E402

T = wbd.preflight("sandbox_tty")
SHELL = ["--procs", "64", "--", "/bin/sh"]


def env():
    e = dict(os.environ)
    if wbd.POLICIES:
        e["WARMBOX_POLICIES"] = wbd.POLICIES
    return e


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def take_ctty():
    """In the child: a session of its own, the pty its terminal, as a
    login shell's job would have it."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Term:
    """warmbox run ARGS on a new pty, the way an operator's terminal has it."""

    def __init__(self, args, rows=24, cols=80):
        self.master, self.slave = pty.openpty()
        set_size(self.master, rows, cols)
        self.before = self.settings()
        argv = wbd.as_user_argv(wbd.LAUNCH + [wbd.WB, "run", "-t"] + list(args))
        self.p = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave, stderr=subprocess.PIPE,
                                  preexec_fn=take_ctty, env=env(), close_fds=True)
        self.shown = b""       # everything the terminal showed
        self.mark = 0          # where the last wait started looking
        self.pids = set()      # warmbox's descendants seen while it ran
        self.rc = None
        self.res = None
        self.stderr = b""

    def note_pids(self):
        self.pids.update(wbd.descendants(self.p.pid))

    def wait_for(self, pattern, timeout=15):
        """Reads the terminal until PATTERN (bytes regex) shows after the
        last match; the match, or None."""
        rx = re.compile(pattern, re.S)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.shown, self.mark)
            if m:
                self.mark = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                self.shown += data

    def type(self, text):
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def command(self, cmd, timeout=15):
        """Runs CMD in the shell; its output lines (without the echo of the
        command line itself: the markers are split in the typed text)."""
        self.type("echo WB''BEGIN; %s; echo WB''END\n" % cmd)
        m = self.wait_for(rb"WBBEGIN\r?\n(.*?)WBEND\r?\n", timeout)
        self.note_pids()
        if not m:
            return None
        return m.group(1).decode(errors="replace").replace("\r", "").splitlines()

    def prompt(self):
        ok = self.wait_for(rb"\$ $", 15) is not None
        self.note_pids()
        return ok

    def finish(self, timeout=20):
        """Waits for warmbox to end (killing it by pid past TIMEOUT):
        the result JSON from stderr (or None); the exit status in rc."""
        if self.rc is not None:
            return self.res
        try:
            self.rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.rc = self.p.wait()
        self.stderr = self.p.stderr.read()
        self.p.stderr.close()
        if self.master is not None:
            self.wait_for(rb"(?!)", 0.2)   # never matches: reads what is left on the screen
        try:
            self.res = json.loads(self.stderr.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.res = None
        return self.res

    def settings(self):
        """The terminal's settings and the flags of the open file warmbox
        shares with us (O_NONBLOCK, when it cannot open one of its own)."""
        return termios.tcgetattr(self.slave), fcntl.fcntl(self.slave, fcntl.F_GETFL)

    def restored(self):
        return self.settings() == self.before

    def close(self):
        """Checks that nothing warmbox started outlives it, then lets the
        pty go."""
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        left = wbd.wait_for(lambda: not [p for p in self.pids if alive(p)], 10)
        T.check(left, "nothing of the run is left (%d processes seen)" % len(self.pids),
                [p for p in self.pids if alive(p)])
        if self.master is not None:
            os.close(self.master)
        os.close(self.slave)


def alive(pid):
    stat = wbd.read_text("/proc/%d/stat" % pid)
    return bool(stat) and stat.rsplit(")", 1)[-1].split()[0] != "Z"


def brief(term, res):
    return "rc=%s result=%s\nstderr=%r\nscreen=%r" % (term.rc, res, term.stderr[-2000:], term.shown[-2000:])


def session(args=SHELL, **kw):
    t = Term(args, **kw)
    if not T.check(t.prompt(), "the shell's prompt shows", t.shown):
        t.finish(1)
    return t


@T.case()
def case_tty_name():
    """`tty` names /dev/pts/0, a terminal that exists inside the sandbox;
    the sandbox's /dev/pts holds only it (the host's is never visible)"""
    t = session()
    name = t.command("tty")
    exists = t.command('test -c "$(tty)" && echo yes')
    pts = t.command("ls /dev/pts")
    t.type("exit\n")
    t.finish()
    T.check(name == ["/dev/pts/0"] and exists == ["yes"] and pts and sorted(" ".join(pts).split()) == ["0", "ptmx"],
            "tty: /dev/pts/0, a character device inside; /dev/pts: 0 and ptmx only",
            "tty=%r exists=%r ls=%r" % (name, exists, pts))
    t.close()


@T.case()
def case_pid1():
    """the shell is not pid 1: its parent is, and that is the job init
    (no parent in the job's pid namespace); /proc shows only the job"""
    t = session()
    me = t.command("echo $$ $PPID")
    init = t.command("grep -E '^(Name|PPid):' /proc/1/status | tr -s '\\t ' ' '")
    procs = t.command("ls -d /proc/[0-9]* | wc -l")
    t.type("exit\n")
    t.finish()
    pid, ppid = (me[0].split() + ["?", "?"])[:2] if me else ("?", "?")
    T.check(pid.isdigit() and pid != "1" and ppid == "1",
            "$$ is %s, not 1; its parent is pid 1" % pid, me)
    T.check(init is not None and "PPid: 0" in init and "Name: wb-jobinit" in init,
            "pid 1 is the job init (wb-jobinit), with no parent inside the namespace", init)
    T.check(procs is not None and procs[-1].strip().isdigit() and int(procs[-1]) <= 4,
            "/proc shows the job init, the shell and its command only", procs)
    t.close()


@T.case()
def case_root():
    """`ls /` on the terminal shows the same root as a plain job's `ls /`"""
    plain = subprocess.run(wbd.as_user_argv(wbd.LAUNCH + [wbd.WB, "run", "--", "/bin/ls", "/"]),
                           stdin=subprocess.DEVNULL, capture_output=True, env=env(), timeout=60)
    want = sorted(json.loads(plain.stdout or b"{}").get("stdout", "").split())
    t = session()
    got = t.command("ls /")
    t.type("exit\n")
    t.finish()
    T.check(want and got is not None and sorted(" ".join(got).split()) == want,
            "the terminal's / is a job's: %s" % " ".join(want), "tty: %r\nplain: %r" % (got, plain))
    t.close()


@T.case()
def case_exit_code():
    """`exit 3`: warmbox exits 0 and prints the result on stderr: RE,
    exit_code 3, stdout empty (it went to the terminal)"""
    t = session()
    t.command("echo to-the-terminal")
    t.type("exit 3\n")
    res = t.finish()
    T.check(t.rc == 0 and res is not None and res.get("status") == "RE" and res.get("exit_code") == 3
            and res.get("stdout") == "" and len(t.stderr.decode().strip().splitlines()) == 1,
            "result on stderr: RE, exit_code 3; warmbox exit 0", brief(t, res))
    t.close()


@T.case()
def case_termios_restored():
    """the operator's terminal settings are back, identical, when the job
    ends, even after the job changed its own terminal"""
    t = session()
    t.command("stty raw -echo; stty -a >/dev/null")
    raw_meanwhile = not (termios.tcgetattr(t.slave)[3] & termios.ECHO)
    t.type("exit\n")
    res = t.finish()
    T.check(raw_meanwhile, "while the job runs, the operator's terminal is raw (no echo)")
    T.check(t.rc == 0 and t.restored(), "after: tcgetattr of the operator's terminal is as before",
            brief(t, res) + "\nbefore=%r\nafter=%r" % (t.before, t.settings()))
    t.close()


@T.case()
def case_winsize():
    """the window size is passed on at start (31x97) and again when the
    operator's terminal changes size (42x120, SIGWINCH from the kernel)"""
    t = Term(SHELL, rows=31, cols=97)
    T.check(t.prompt(), "the shell's prompt shows", t.shown)
    first = t.command("stty size")
    set_size(t.master, 42, 120)
    later = wbd.wait_for(lambda: (lambda s: s if s == ["42 120"] else None)(t.command("stty size")), 10, 0.1)
    t.type("exit\n")
    t.finish()
    T.check(first == ["31 97"], "at start: stty size inside shows 31 97", first)
    T.check(later == ["42 120"], "after the resize: 42 120", t.shown[-400:])
    t.close()


@T.case()
def case_tiocsti():
    """TIOCSTI inside reaches the job's own pty only: one copy of the
    injected line comes back to the probe, none through the operator's
    terminal, whose input queue holds nothing afterwards; no other
    terminal opens (tests/progs/tiocsti_probe.c)"""
    t = Term(["--copy-in", os.path.join(wbd.PROGS, "tiocsti_probe"), "--", "./tiocsti_probe"])
    res = t.finish()
    shown = t.shown.decode(errors="replace").replace("\r\n", "\n")
    pending = struct.unpack("i", fcntl.ioctl(t.slave, termios.FIONREAD, b"\0\0\0\0"))[0]
    wbd.log(" | ".join(shown.splitlines()))
    T.check(res is not None and res.get("status") == "OK" and "ctty=ok" in shown and
            "ttyname=/dev/pts/0" in shown and re.search(r"^marks=[01]$", shown, re.M) and pending == 0,
            "the probe holds: its pty only, nothing injected outside (input queue: %d bytes)" % pending,
            brief(t, res))
    t.close()


@T.case()
def case_ctrl_c():
    """in raw mode ^C goes to the program (it ends the shell's `sleep`),
    not to warmbox, which runs on to the shell's own exit"""
    t = session()
    t.type("sleep 30\n")
    time.sleep(0.5)
    t.type(b"\x03")
    back = t.command("echo back", timeout=10)
    t.type("exit\n")
    res = t.finish()
    T.check(back == ["back"] and t.rc == 0 and res and res.get("status") == "OK",
            "^C ended sleep inside; warmbox went on: OK, exit 0", brief(t, res))
    t.close()


def interrupted(signum):
    t = session()
    t.command("true")
    t.p.send_signal(signum)
    res = t.finish()
    T.check(t.rc == 1 and res and res.get("status") == "XX" and "interrupted" in (res.get("error") or ""),
            "%s: XX interrupted, exit 1" % signal.Signals(signum).name, brief(t, res))
    T.check(t.restored(), "%s: the operator's terminal settings are as before" % signal.Signals(signum).name,
            "before=%r\nafter=%r" % (t.before, t.settings()))
    t.close()


@T.case()
def case_sigterm():
    """SIGTERM to warmbox: the job is killed, the terminal restored"""
    interrupted(signal.SIGTERM)


@T.case()
def case_sighup():
    """SIGHUP to warmbox (its terminal hung up): the same"""
    interrupted(signal.SIGHUP)


@T.case()
def case_hangup():
    """the operator's terminal hangs up (its master closed): the job is
    killed, XX interrupted, exit 1"""
    t = session()
    t.command("true")
    os.close(t.master)
    t.master = None
    res = t.finish()
    T.check(t.rc == 1 and res and res.get("status") == "XX" and "interrupted" in (res.get("error") or ""),
            "hung up: XX %r, exit 1" % (res or {}).get("error"), brief(t, res))
    t.close()


@T.case()
def case_no_default_wall():
    """no default wall limit on a terminal: 3.5 s of sleep (over a plain
    run's 3000 ms) ends OK"""
    t = session()
    t.type("sleep 3.5; exit 0\n")
    res = t.finish(30)
    T.check(res and res.get("status") == "OK" and res.get("wall_ms", 0) >= 3500,
            "OK after %s ms" % (res or {}).get("wall_ms"), brief(t, res))
    t.close()


@T.case()
def case_explicit_wall():
    """an explicit --wall still applies: --wall 1000 ends `sleep 30` as TL,
    and the terminal is restored"""
    t = session(["--wall", "1000"] + SHELL)
    t.type("sleep 30\n")
    res = t.finish(30)
    T.check(res and res.get("status") == "TL" and t.rc == 0 and t.restored(),
            "TL after %s ms, terminal restored" % (res or {}).get("wall_ms"), brief(t, res))
    t.close()


@T.case()
def case_not_a_tty():
    """-t with stdin not a terminal: exit 2, one line on stderr saying so,
    nothing on stdout"""
    r = subprocess.run(wbd.as_user_argv(wbd.LAUNCH + [wbd.WB, "run", "-t", "--", "/bin/true"]),
                       stdin=subprocess.DEVNULL, capture_output=True, env=env(), timeout=60)
    err = r.stderr.decode().strip().splitlines()
    T.check(r.returncode == 2 and r.stdout == b"" and len(err) == 1 and "not a terminal" in err[0],
            "exit 2: %s" % (err[0] if err else "?"), r)


T.run(globals())
