"""wbd.py: shared helpers of the daemon tests (tests/daemon/test_*.py).

Environment (set by tests/CMakeLists.txt, as for tests/sandbox):
  WB          the warmbox binary
  PROGS       directory of the test programs (tests/progs/*.c)
  WB_POLICIES the policies directory of the source tree
  WB_AS_USER  when set (65534), the daemon runs through setpriv as that uid:
              rootless mode (user namespaces, rlimit accounting)
Set by the VM suite (tests/vm/guest-suite.sh), per deployment shape:
  WB_LAUNCH   a command prefix for `warmbox serve` (tests/vm/alone.sh PARENT)
  WB_EXPECT_ACCOUNTING  the accounting the daemon's stats must show

A test script is a list of cases: functions named case_NAME, each with a
docstring saying what it shows, decorated with @T.case() or, when cases
share a daemon, @T.case(FIXTURE) where FIXTURE = wbd.Fixture(lambda:
Daemon(T, ...)); the case then gets the started daemon as its argument. The
script ends with T.run(globals()): `test_x.py NAME` runs case_NAME alone
(one ctest entry per case, tests/daemon/CMakeLists.txt), no argument runs
every case in file order, a shared daemon started once and stopped after the
last case that uses it. Daemons are stopped by pid with SIGTERM, checking
that they exited 0 and removed their socket. Clients are raw sockets (no
warmbox client code). Output is TAP; the exit status is 1 on any failure or
when no check ran, 77 when skipped.
"""

import base64
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

WB = os.environ.get("WB", "")
PROGS = os.environ.get("PROGS", "")
POLICIES = os.environ.get("WB_POLICIES", "")
AS_USER = os.environ.get("WB_AS_USER", "")
LAUNCH = os.environ.get("WB_LAUNCH", "").split()
EXPECT_ACCOUNTING = os.environ.get("WB_EXPECT_ACCOUNTING", "")
# As root a daemon slot's job runs as host uid HOST_ID_BASE + slot (userns.h).
HOST_ID_BASE = 0x70000000


def rootless():
    return bool(AS_USER)


# Set by CMake for the ASan+UBSan build: its allocator keeps freed memory in
# a quarantine, so the daemon's RSS says nothing about leaks or bounds there.
SANITIZED = bool(os.environ.get("WB_SANITIZED"))


def mode():
    return "rootless" if rootless() else "root"


def skip(reason):
    """The whole script cannot run here."""
    print("1..0 # SKIP %s" % reason, flush=True)
    sys.exit(77)


def log(msg):
    print("# %s" % msg, flush=True)


def as_user_argv(argv):
    if not AS_USER:
        return list(argv)
    return ["setpriv", "--reuid", AS_USER, "--regid", AS_USER, "--clear-groups", "--"] + list(argv)


def serve_argv(args):
    """`warmbox serve ARGS` as the tests start it: behind WB_LAUNCH."""
    return LAUNCH + [WB, "serve"] + list(args)


class Checks:
    """The checks of one script run, printed as TAP (one "ok N" or "not ok N"
    line each, diagnostics as "#" lines, the plan last)."""

    def __init__(self, name):
        self.name = name
        self.n = 0
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.t0 = time.monotonic()
        self.cases = []

    def rss_check(self, cond, desc):
        """An RSS bound: checked in normal builds, reported as skipped in
        sanitizer builds (never as passed)."""
        if SANITIZED:
            self.skip(desc, "RSS is meaningless under AddressSanitizer's quarantine")
            return
        self.check(cond, desc)

    def check(self, cond, desc, detail=None):
        self.n += 1
        if cond:
            self.passed += 1
            print("ok %d - %s" % (self.n, desc), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc), flush=True)
            if detail is not None:
                for line in str(detail)[:4000].splitlines():
                    print("#   %s" % line, flush=True)
            print("#   mode: %s" % mode(), flush=True)
        return bool(cond)

    def fail(self, desc, detail=None):
        return self.check(False, desc, detail)

    def skip(self, desc, reason):
        """A check that cannot be made here: counted as skipped, never as passed."""
        self.n += 1
        self.skipped += 1
        print("ok %d - %s # SKIP %s" % (self.n, desc, reason), flush=True)

    def case(self, fixture=None):
        """Decorator: registers a case_NAME function (see the module's doc)."""
        def register(fn):
            if not fn.__name__.startswith("case_"):
                raise ValueError("a case's name starts with case_: %s" % fn.__name__)
            self.cases.append((fn.__name__[len("case_"):], fn, fixture))
            return fn
        return register

    def run(self, _globals=None):
        """Runs the case named by argv[1], or all of them; then finish()."""
        todo = self.cases
        if len(sys.argv) > 1:
            todo = [c for c in self.cases if c[0] == sys.argv[1]]
            if not todo:
                self.fail("case %r exists" % sys.argv[1],
                          "cases: %s" % " ".join(c[0] for c in self.cases))
        for i, (name, fn, fixture) in enumerate(todo):
            what = (fn.__doc__ or name).strip().splitlines()[0]
            log("--- %s: %s" % (name, what))
            t = time.monotonic()
            try:
                if fixture is None:
                    fn()
                else:
                    fn(fixture.get())
            except Exception:  # noqa: BLE001 - any error is a failed check
                self.fail("%s: raised" % what, traceback.format_exc())
            if fixture is not None and all(c[2] is not fixture for c in todo[i + 1:]):
                fixture.close()
            log("--- %s: %.1f s" % (name, time.monotonic() - t))
        self.finish()

    def finish(self):
        print("# %s (%s): %d passed, %d failed, %d skipped, %.1f s"
              % (self.name, mode(), self.passed, self.failed, self.skipped,
                 time.monotonic() - self.t0), flush=True)
        if self.n == 0:
            print("1..0 # no check ran: that is a failure, not a pass", flush=True)
            sys.exit(1)
        print("1..%d" % self.n, flush=True)
        if self.failed:
            sys.exit(1)
        # Only skips: reported as skipped (ctest), never as passed.
        sys.exit(0 if self.passed else 77)


class Fixture:
    """A daemon cases share: started by the first case that needs it, kept
    while later cases of the run need it (a case run alone gets its own)."""

    def __init__(self, make):
        self.make = make
        self.value = None
        self.failed = False

    def get(self):
        if self.failed:
            raise RuntimeError("the shared daemon did not start")
        if self.value is None:
            try:
                self.value = self.make().start()
            except Exception:
                self.failed = True
                raise
        return self.value

    def close(self):
        if self.value is not None:
            self.value.stop(check=True)
            self.value = None


def preflight(name):
    if not WB or not os.access(WB, os.X_OK):
        skip("warmbox binary %r not built (set WB)" % WB)
    if not PROGS or not os.path.isdir(PROGS):
        skip("test programs not built in %r (set PROGS)" % PROGS)
    if rootless():
        if os.geteuid() != 0:
            skip("rootless mode needs root to setpriv to %s" % AS_USER)
        if not shutil.which("setpriv"):
            skip("setpriv not installed")
        if subprocess.call(as_user_argv(["test", "-x", WB]), stderr=subprocess.DEVNULL) != 0:
            skip("uid %s cannot run %s" % (AS_USER, WB))
    # Many sockets at once: take the hard limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    log("%s, %s mode, warmbox %s" % (name, mode(), WB))
    return Checks(name)


# ---- jobs ----

_prog_cache = {}


def prog_file(name, boxname=None):
    """A files[] entry carrying test program NAME (executable) as BOXNAME."""
    if name not in _prog_cache:
        with open(os.path.join(PROGS, name), "rb") as f:
            _prog_cache[name] = base64.b64encode(f.read()).decode()
    return {"path": boxname or name, "base64": _prog_cache[name], "mode": 493}


def prog_job(jid, name, args=(), boxname=None, **fields):
    """A job running test program NAME (copied in as BOXNAME)."""
    box = boxname or name
    job = {"id": jid, "argv": ["./" + box] + [str(a) for a in args], "files": [prog_file(name, box)]}
    job.update(fields)
    return job


def true_job(jid):
    return {"id": jid, "argv": ["/bin/true"]}


# ---- host inspection ----

def read_text(path, default=""):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def children(pid):
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for t in tasks:
        kids += [int(x) for x in read_text("/proc/%d/task/%s/children" % (pid, t)).split()]
    return kids


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for k in children(todo.pop()):
            out.append(k)
            todo.append(k)
    return out


def proc_uid(pid):
    for line in read_text("/proc/%d/status" % pid).splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return None


def rss_kb(pid, field="VmRSS"):
    """Resident memory now, or its peak so far with field="VmHWM"."""
    for line in read_text("/proc/%d/status" % pid).splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def mount_count(pid):
    return len(read_text("/proc/%d/mountinfo" % pid).splitlines())


def cgroup_dirs(pid):
    """Every directory of the daemon's warmbox-PID cgroup trees."""
    found = []
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        depth = root.count("/") - "/sys/fs/cgroup".count("/")
        for d in list(dirs):
            if d == "warmbox-%d" % pid:
                for sub, _, _ in os.walk(os.path.join(root, d)):
                    found.append(sub)
                dirs.remove(d)
        if depth >= 6:
            dirs[:] = []
    return sorted(found)


def procs_named(name, min_uid=None):
    """Host pids whose argv[0] basename is NAME (optionally uid >= min_uid)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        cmd = read_text("/proc/%s/cmdline" % d)
        if not cmd:
            continue
        a0 = cmd.split("\0")[0]
        if os.path.basename(a0) != name:
            continue
        if min_uid is not None:
            uid = proc_uid(int(d))
            if uid is None or uid < min_uid:
                continue
        pids.append(int(d))
    return pids


def wait_for(pred, timeout, step=0.02):
    """Polls PRED until it returns something true; returns that or None."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(step)


# ---- the client ----

class Client:
    """A raw protocol client: a Unix stream socket, lines of JSON."""

    def __init__(self, path, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = bytearray()
        self.scanned = 0  # bytes of buf known to hold no newline
        self.eof = False
        self.timeout = timeout

    def fileno(self):
        return self.sock.fileno()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, *objs):
        self.sock.sendall(b"".join(json.dumps(o).encode() + b"\n" for o in objs))

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer line within the timeout")
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            raise TimeoutError("no answer line within the timeout")
        try:
            data = self.sock.recv(1 << 20)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        self.buf += data

    def recv_line_raw(self, timeout=None):
        """The next line (bytes, without newline), or None at EOF. Each
        byte is scanned once: a result line may be 100 MB."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            nl = self.buf.find(b"\n", self.scanned)
            if nl >= 0:
                break
            self.scanned = len(self.buf)
            if self.eof:
                return None
            self._fill(deadline)
        line = bytes(self.buf[:nl])
        del self.buf[:nl + 1]
        self.scanned = 0
        return line

    def recv(self, timeout=None):
        """The next answer as a dict, None at EOF; ValueError if not JSON."""
        line = self.recv_line_raw(timeout)
        if line is None:
            return None
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise ValueError("answer is not JSON (%s): %r" % (e, line[:300])) from None
        if not isinstance(obj, dict):
            raise ValueError("answer is not a JSON object: %r" % line[:300])
        return obj

    def request(self, obj, timeout=None):
        self.send(obj)
        return self.recv(timeout)

    def at_eof(self, timeout=5):
        """True when the daemon closed the connection (no more lines)."""
        try:
            while True:
                if self.recv_line_raw(timeout) is None:
                    return True
        except TimeoutError:
            return False

    def collect(self, n, timeout=None):
        """Reads N answers; returns (list of answers, error or None)."""
        out = []
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            while len(out) < n:
                a = self.recv(max(0.01, deadline - time.monotonic()))
                if a is None:
                    return out, "connection closed after %d of %d answers" % (len(out), n)
                out.append(a)
        except (TimeoutError, ValueError) as e:
            return out, "%s after %d of %d answers" % (e, len(out), n)
        return out, None

    def pipeline(self, jobs, window=64, timeout=None):
        """Sends JOBS keeping at most WINDOW unanswered; returns (answers,
        error or None)."""
        out = []
        sent = 0
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            while len(out) < len(jobs):
                if sent < len(jobs) and sent - len(out) < window:
                    k = min(len(jobs), len(out) + window)
                    self.send(*jobs[sent:k])
                    sent = k
                a = self.recv(max(0.01, deadline - time.monotonic()))
                if a is None:
                    return out, "connection closed after %d of %d answers" % (len(out), len(jobs))
                out.append(a)
        except (TimeoutError, ValueError, OSError) as e:
            return out, "%s after %d of %d answers" % (e, len(out), len(jobs))
        return out, None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def by_id(answers):
    """id -> list of answers with it."""
    m = {}
    for a in answers:
        m.setdefault(a.get("id"), []).append(a)
    return m


def answered_once(checks, jobs, answers, what):
    """Every job answered exactly once by id, and nothing else came."""
    m = by_id(answers)
    ids = [j["id"] for j in jobs]
    idset = set(ids)
    missing = [i for i in ids if i not in m]
    dup = [i for i in ids if len(m.get(i, [])) > 1]
    extra = [i for i in m if i not in idset]
    return checks.check(not missing and not dup and not extra and len(answers) == len(jobs),
                        "%s: %d jobs, each answered exactly once by id" % (what, len(jobs)),
                        "missing %s, duplicated %s, unknown ids %s, %d answers"
                        % (missing[:10], dup[:10], extra[:10], len(answers)))


def brief(a):
    """A result, shortened for failure messages."""
    if a is None:
        return "None"
    a = dict(a)
    for k in ("stdout", "stderr"):
        if isinstance(a.get(k), str) and len(a[k]) > 200:
            a[k] = a[k][:200] + "...(%d chars)" % len(a[k])
    return json.dumps(a)[:1500]


# ---- the daemon ----

class Daemon:
    """warmbox serve on a socket in its own scratch directory."""

    def __init__(self, checks, *args, as_user=None, name="daemon", ready_timeout=30):
        self.checks = checks
        self.args = [str(a) for a in args]
        self.rootless = rootless() if as_user is None else as_user
        self.name = name
        self.ready_timeout = ready_timeout
        self.proc = None
        self.pid = None
        # /tmp/wbtest.PID.*: leftovers.sh knows it is ours while we live.
        self.dir = tempfile.mkdtemp(prefix="wbtest.%d." % os.getpid(), dir="/tmp")
        os.chmod(self.dir, 0o1777 if self.rootless else 0o755)
        self.sock = os.path.join(self.dir, "warmbox.sock")
        self.logpath = os.path.join(self.dir, "daemon.log")
        self.stopped = False

    def argv(self):
        argv = serve_argv(["--socket", self.sock] + (["--policies", POLICIES] if POLICIES else []) + self.args)
        if self.rootless:
            argv = ["setpriv", "--reuid", AS_USER or "65534", "--regid", AS_USER or "65534",
                    "--clear-groups", "--"] + argv
        return argv

    def start(self):
        with open(self.logpath, "wb") as logf:
            # setpriv execs warmbox: the pid is the daemon's.
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        if not self.wait_ready():
            self.checks.fail("%s: answers ping after start" % self.name,
                             "argv: %s\nlog:\n%s" % (" ".join(self.argv()), self.log()))
            self.stop(check=False)
            raise RuntimeError("%s did not start" % self.name)
        if EXPECT_ACCOUNTING:
            got = (self.stats() or {}).get("accounting")
            self.checks.check(got == EXPECT_ACCOUNTING, "%s: accounting %s in this shape"
                              % (self.name, EXPECT_ACCOUNTING), "stats say %r\nlog:\n%s" % (got, self.log()))
        return self

    def wait_ready(self):
        end = time.monotonic() + self.ready_timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                c = Client(self.sock, timeout=5)
                try:
                    a = c.request({"op": "ping"})
                finally:
                    c.close()
                if a == {"op": "ping", "ok": True}:
                    return True
            except (OSError, TimeoutError, ValueError):
                pass
            time.sleep(0.05)
        return False

    def wait_warm(self, timeout=30):
        """Until every zygote is warm; returns the stats or None."""
        def warm():
            s = self.stats()
            return s if s and s.get("warm") == s.get("zygotes") else None
        return wait_for(warm, timeout, 0.05)

    def client(self, timeout=60):
        return Client(self.sock, timeout)

    def stats(self):
        c = self.client(10)
        try:
            return c.request({"op": "stats"})
        finally:
            c.close()

    def log(self):
        return read_text(self.logpath)[-4000:]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, check=True, timeout=60):
        """SIGTERM by pid; checks exit 0 and the socket file removed."""
        if self.stopped or self.proc is None:
            return
        self.stopped = True
        rc = self.proc.poll()
        kids = descendants(self.pid) if rc is None else []
        if rc is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
                rc = "hung (killed with SIGKILL after %d s)" % timeout
        if check:
            self.checks.check(rc == 0, "%s: exits 0 on SIGTERM" % self.name,
                              "exit status %s\nlog:\n%s" % (rc, self.log()))
            self.checks.check(not os.path.exists(self.sock), "%s: socket file removed" % self.name)
            left = wait_for(lambda: not [k for k in kids if os.path.exists("/proc/%d/cmdline" % k)
                                         and read_text("/proc/%d/cmdline" % k)], 3)
            self.checks.check(left, "%s: its zygotes and jobs are gone (%d processes before)"
                              % (self.name, len(kids)), kids)
            left = wait_for(lambda: not cgroup_dirs(self.pid), 3)
            self.checks.check(left, "%s: its warmbox-%d cgroups removed" % (self.name, self.pid),
                              "\n".join(cgroup_dirs(self.pid)))
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(check=True)
        return False
