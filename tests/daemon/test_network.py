#!/usr/bin/env python3
"""test_network.py (label daemon): SPEC.md "Operator tools", network: true.

The test makes its own outside: it re-runs itself in a network namespace of
its own (unshare --net), where a veth pair carries 10.77.0.1 and 10.77.0.2
and a default route, and every warmbox it starts runs there. A listener on
10.77.0.2 is "the internet"; one on 127.0.0.1 is the host's loopback that a
job must never reach. No packet leaves the namespaces the test made."""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief, prog_job  # noqa: E402

INNER = "WB_NETWORK_TEST_NETNS"
if not os.environ.get(INNER):
    if os.geteuid() != 0:
        wbd.skip("needs root to make a network namespace of its own")
    if not shutil.which("unshare") or not shutil.which("ip"):
        wbd.skip("needs unshare (util-linux) and ip (iproute2)")
    os.environ[INNER] = "1"
    os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv)

T = wbd.preflight("daemon_network")
if not shutil.which("pasta"):
    wbd.skip("pasta not installed (Debian's passt package)")
if wbd.rootless() and subprocess.call(wbd.as_user_argv(["test", "-r", "/dev/net/tun", "-a", "-w", "/dev/net/tun"])):
    wbd.skip("uid %s cannot open /dev/net/tun here (mode %o; Debian's udev makes it 0666), "
             "which a rootless pasta needs" % (wbd.AS_USER, os.stat("/dev/net/tun").st_mode & 0o777))

OUTSIDE, OTHER, GATEWAY = "10.77.0.2", "10.77.0.1", "10.77.0.254"
PASTA_NAMES = {"pasta", "passt", "pasta.avx2", "passt.avx2"}


def sh(*cmds):
    for cmd in cmds:
        subprocess.run(cmd.split(), check=True, capture_output=True)


try:
    sh("ip link add wbn0 type veth peer name wbn1", "ip link set wbn1 up",
       "ip addr add %s/24 dev wbn0" % OTHER, "ip addr add %s/24 dev wbn0" % OUTSIDE,
       "ip link set wbn0 up", "ip link set lo up", "ip route add default via %s" % GATEWAY)
except subprocess.CalledProcessError as e:
    wbd.skip("cannot make the test's veth pair here: %s" % e.stderr.decode(errors="replace").strip())


class Listener:
    """A TCP server on ADDR: answers "pong " + the line it got, counts."""

    def __init__(self, addr):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            with c:
                c.settimeout(5)
                try:
                    c.sendall(b"pong " + c.recv(100))
                except OSError:
                    pass


WORLD = Listener(OUTSIDE)
LOOPBACK = Listener("127.0.0.1")


def net_job(jid, args, network=True, **fields):
    job = prog_job(jid, "netprobe", args, policy="net", network=network,
                   limits={"wall_ms": 10000, "cpu_ms": 2000})
    job.update(fields)
    return job


def pastas():
    """pasta processes in this namespace (ours: nothing else runs here)."""
    me = os.readlink("/proc/self/ns/net")
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if (wbd.read_text("/proc/%s/comm" % pid).strip() in PASTA_NAMES
                    and os.readlink("/proc/%s/ns/net" % pid) == me):
                found.append(int(pid))
        except OSError:
            pass
    return found


def no_pasta_left(what):
    left = wbd.wait_for(lambda: not pastas(), 5)
    T.check(left, "no pasta process outlives its job (%s)" % what, pastas())


ALLOWED = wbd.Fixture(lambda: Daemon(T, "--zygotes", 2, "--allow-network"))


@T.case(ALLOWED)
def case_outside(d):
    """a network job connects to a listener outside and exchanges bytes"""
    before = WORLD.count
    a = d.client().request(net_job("out", ["connect", OUTSIDE, WORLD.port]), timeout=30)
    T.check(a and a.get("status") == "OK" and a.get("stdout") == "reply: pong hello\n",
            "status OK, the outside's answer read back", brief(a))
    T.check(WORLD.count == before + 1, "the outside listener saw one connection", WORLD.count - before)
    no_pasta_left("outside")


@T.case(ALLOWED)
def case_no_host_loopback(d):
    """127.0.0.1 in a network job is its own: the host's loopback listener is never reached"""
    a = d.client().request(net_job("lo", ["connect", "127.0.0.1", LOOPBACK.port]), timeout=30)
    T.check(a and a.get("status") == "RE" and "Connection refused" in a.get("stdout", ""),
            "connect to 127.0.0.1 is refused (RE, exit 2)", brief(a))
    # The gateway's address is the gateway's (pasta --no-map-gw), not a way
    # to the host's loopback: this one leads nowhere, and must stay so.
    a = d.client().request(net_job("gw", ["connect", GATEWAY, LOOPBACK.port], limits={"wall_ms": 2000}),
                           timeout=30)
    T.check(a and "reply:" not in a.get("stdout", "") and LOOPBACK.count == 0,
            "a connect to the gateway %s does not reach the host's loopback listener" % GATEWAY, brief(a))
    T.check(LOOPBACK.count == 0, "the host's loopback listener saw no connection", LOOPBACK.count)
    no_pasta_left("loopback")


@T.case(ALLOWED)
def case_other_job(d):
    """a listener held by a concurrent network job is out of another's reach"""
    c = d.client()
    port = 40123
    c.send(net_job("server", ["serve", port, 4]))
    time.sleep(1.5)
    c2 = d.client()
    # Its 127.0.0.1 is its own. (The namespace's own address, which pasta
    # copies into every job, stays inside the connecting job: no check.)
    a = c2.request(net_job("c-lo", ["connect", "127.0.0.1", port]), timeout=30)
    T.check(a and a.get("status") == "RE" and "Connection refused" in a.get("stdout", ""),
            "a second job's connect to 127.0.0.1:%d is refused" % port, brief(a))
    s = c.recv(timeout=30)
    T.check(s and s.get("status") == "OK" and s.get("stdout") == "listening\naccepted 0\n",
            "the listening job accepted nothing", brief(s))
    c.close()
    c2.close()
    no_pasta_left("two jobs")


@T.case(ALLOWED)
def case_without_network(d):
    """a job without network reaches nothing, with the same policy"""
    before = WORLD.count
    a = d.client().request(net_job("nonet", ["connect", OUTSIDE, WORLD.port], network=False), timeout=30)
    T.check(a and a.get("status") == "RE" and "Network is unreachable" in a.get("stdout", ""),
            "connect fails: network is unreachable", brief(a))
    T.check(WORLD.count == before, "the outside listener saw nothing", WORLD.count - before)


@T.case()
def case_refused(d=None):
    """warmbox serve without --allow-network refuses network jobs"""
    with Daemon(T, "--zygotes", 1) as d:
        a = d.client().request(net_job("nope", ["connect", OUTSIDE, WORLD.port]), timeout=30)
        T.check(a and a.get("status") == "XX" and "--allow-network" in (a.get("error") or ""),
                "XX, the error naming --allow-network", brief(a))
    T.check(not pastas(), "no pasta was started", pastas())


def run_cli(args, path=None):
    argv = [wbd.WB, "run"] + (["--policies", wbd.POLICIES] if wbd.POLICIES else []) + args
    if path:
        argv = ["/usr/bin/env", "PATH=" + path] + argv
    p = subprocess.run(wbd.as_user_argv(argv), capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


@T.case()
def case_run(d=None):
    """warmbox run --network: the same, and without pasta a clear error, never the host's network"""
    import json
    prog = os.path.join(wbd.PROGS, "netprobe")
    rc, out, err = run_cli(["--network", "--policy", "net", "--copy-in", prog, "--",
                            "./netprobe", "connect", OUTSIDE, str(WORLD.port)])
    a = json.loads(out or "{}")
    T.check(rc == 0 and a.get("stdout") == "reply: pong hello\n", "warmbox run --network reaches the outside",
            out + err)
    rc, out, err = run_cli(["--network", "--policy", "net", "--", "/bin/true"], path="/nonexistent")
    a = json.loads(out or "{}")
    T.check(rc != 0 and a.get("status") == "XX" and "passt" in (a.get("error") or ""),
            "no pasta in PATH: XX naming the passt package", out + err)
    no_pasta_left("warmbox run")


T.run()
