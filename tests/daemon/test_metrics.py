#!/usr/bin/env python3
"""test_metrics.py (label daemon): SPEC.md "Metrics" on `warmbox serve
--metrics`: scraped with curl, parsed with a real parser of the text format
(Debian's python3-prometheus-client), every figure equal to the jobs run and
to what the stats op says; any other path 404; bad addresses refused."""

import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbd  # noqa: E402
from wbd import Daemon, brief  # noqa: E402

T = wbd.preflight("daemon_metrics")
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    wbd.skip("python3-prometheus-client is not installed (the parser of the text format)")
if not shutil.which("curl"):
    wbd.skip("curl is not installed")


def free_port():
    """A loopback port nothing listens on now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl(port, path="/metrics", method="GET"):
    """(HTTP status, body) of one request."""
    p = subprocess.run(["curl", "-s", "--path-as-is", "-X", method, "-o", "-", "-w", "\n%{http_code}",
                        "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, text=True, timeout=30)
    body, _, code = p.stdout.rpartition("\n")
    return int(code or 0), body


def scrape(port):
    """{(name, frozenset(labels)): value} of every sample, through the parser."""
    code, body = curl(port)
    T.check(code == 200, "GET /metrics answers 200", "%d %r" % (code, body[:200]))
    samples = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def val(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


class Metered:
    """A daemon with --metrics on a free port."""

    def __init__(self):
        self.port = free_port()
        self.d = Daemon(T, "--zygotes", 2, "--metrics", "127.0.0.1:%d" % self.port)

    def start(self):
        self.d.start()
        return self

    def stop(self, check=True):
        self.d.stop(check)


MAIN = wbd.Fixture(Metered)


@T.case(MAIN)
def case_counts(m):
    """the counters equal the jobs run and the stats op, by status and reason"""
    c = m.d.client()
    before = scrape(m.port)
    s0 = m.d.stats() or {}
    jobs = [wbd.true_job("ok%d" % i) for i in range(5)]
    jobs += [{"id": "re%d" % i, "argv": ["/bin/false"]} for i in range(2)]
    jobs.append(wbd.prog_job("tl", "busy", limits={"cpu_ms": 200}))
    answers, err = c.pipeline(jobs, timeout=60)
    T.check(err is None and sorted(a.get("status") for a in answers) == ["OK"] * 5 + ["RE"] * 2 + ["TL"],
            "5 OK, 2 RE and 1 TL run", err or [brief(a) for a in answers])
    bad = c.request({"id": "bad", "argv": []})
    T.check(bad.get("status") == "XX" and (bad.get("error") or "").startswith("invalid job"), "one invalid job",
            brief(bad))
    after = scrape(m.port)
    st = m.d.stats() or {}

    def delta(name, **labels):
        return (val(after, name, **labels) or 0) - (val(before, name, **labels) or 0)

    for status, n in (("OK", 5), ("RE", 2), ("TL", 1), ("XX", 0), ("SV", 0)):
        T.check(delta("warmbox_jobs_total", status=status) == n
                and val(after, "warmbox_jobs_total", status=status) == st["by_status"][status],
                "warmbox_jobs_total{status=%s}: %d more, equal to the stats op" % (status, n),
                "%s -> %s, stats %s" % (val(before, "warmbox_jobs_total", status=status),
                                        val(after, "warmbox_jobs_total", status=status), st.get("by_status")))
    for h in ("warmbox_job_duration_seconds", "warmbox_job_overhead_seconds"):
        T.check(delta(h + "_count") == 8 and val(after, h + "_count") == st["jobs_run"]
                and val(after, h + "_bucket", le="+Inf") == st["jobs_run"],
                "%s: count and +Inf bucket equal jobs_run" % h, "%s, jobs_run %s" % (val(after, h + "_count"), st))
        les = sorted((float(dict(k[1])["le"]), v) for k, v in after.items() if k[0] == h + "_bucket")
        T.check(all(a[1] <= b[1] for a, b in zip(les, les[1:])) and les[0][0] <= 0.000025,
                "%s: buckets cumulative, from 25 us" % h, les)
    T.check(delta("warmbox_job_duration_seconds_sum") > 0.2,
            "warmbox_job_duration_seconds_sum grew by at least the TL job's 200 ms of CPU",
            delta("warmbox_job_duration_seconds_sum"))
    T.check(delta("warmbox_rejected_total", reason="invalid") == 1
            and sum(v for k, v in after.items() if k[0] == "warmbox_rejected_total") == st["rejected"],
            "warmbox_rejected_total{reason=invalid}: one more; all reasons sum to the stats op's",
            "%s, stats rejected %s (before %s)" % (val(after, "warmbox_rejected_total", reason="invalid"),
                                                   st.get("rejected"), s0.get("rejected")))
    zy = {k: val(after, "warmbox_zygotes", state=k) for k in ("warm", "busy", "starting")}
    T.check(sum(zy.values()) == 2 and zy["busy"] == 0, "warmbox_zygotes: 2 zygotes, none busy", zy)
    T.check(val(after, "warmbox_queue_depth") == 0, "warmbox_queue_depth 0 at rest", val(after, "warmbox_queue_depth"))
    T.check(val(after, "warmbox_connections") == 1, "warmbox_connections: our one client",
            val(after, "warmbox_connections"))
    T.check(val(after, "warmbox_zygotes_replaced_total") == st["zygotes_replaced"],
            "warmbox_zygotes_replaced_total equals the stats op's", st.get("zygotes_replaced"))
    c.close()


@T.case(MAIN)
def case_store(m):
    """warmbox_store_bytes follows put and drop"""
    c = m.d.client()
    b0 = val(scrape(m.port), "warmbox_store_bytes")
    p = c.request({"op": "put", "content": "x" * 1000})
    b1 = val(scrape(m.port), "warmbox_store_bytes")
    c.request({"op": "drop", "ref": p.get("ref", "")})
    b2 = val(scrape(m.port), "warmbox_store_bytes")
    T.check(b1 == b0 + 1000 and b2 == b0 and b1 == (m.d.stats() or {}).get("store", {}).get("bytes", -1) + 1000,
            "1000 bytes more after put, back after drop", "%s %s %s" % (b0, b1, b2))
    c.close()


@T.case(MAIN)
def case_paths(m):
    """any other path 404, another method 405, and the jobs go on"""
    for path in ("/", "/metricsx", "/metrics/", "/../metrics", "/stats"):
        code, _ = curl(m.port, path)
        T.check(code == 404, "GET %s: 404" % path, code)
    code, _ = curl(m.port, "/metrics", "POST")
    T.check(code == 405, "POST /metrics: 405", code)
    a = m.d.client().request(wbd.true_job("after"))
    T.check(a.get("status") == "OK", "a job still runs", brief(a))


@T.case()
def case_bad_address():
    """a bad --metrics address, or a port in use, stops the daemon at start with a clear error"""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        for spec, want in (("nonsense", "--metrics nonsense: expected HOST:PORT"),
                           ("127.0.0.1:%d" % busy.getsockname()[1], "--metrics 127.0.0.1:%d: cannot listen"
                            % busy.getsockname()[1])):
            d = Daemon(T, "--metrics", spec)
            p = subprocess.run(d.argv(), capture_output=True, text=True, timeout=60)
            T.check(p.returncode == 2 and want in p.stderr and not os.path.exists(d.sock),
                    "--metrics %s: exit 2 saying so, no socket left" % spec,
                    "exit %d: %s" % (p.returncode, p.stderr[-500:]))
            shutil.rmtree(d.dir, ignore_errors=True)


T.run()
