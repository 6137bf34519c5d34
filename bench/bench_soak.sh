#!/usr/bin/env bash
# bench_soak.sh [BUILD_DIR] [JOBS]: the daemon soak at full length (default
# 100,000 /bin/true jobs; CI runs 20,000 as tests/daemon/test_soak.py). One
# daemon, two pipelined connections; what it holds (descriptors, children,
# mounts, cgroups) must be back where it was after the warm-up, and its
# resident memory must not grow by more than 5 MiB. The test's output, with
# the machine's facts, goes to bench/results/soak-DATE.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=${2:-100000}
out=bench/results/soak-$(date +%Y%m%d-%H%M%S).txt
mkdir -p bench/results
cmake --build "$build" --target warmbox -j"$(nproc)" >/dev/null
{
	echo "bench_soak: $jobs /bin/true jobs through one daemon (tests/daemon/test_soak.py)"
	echo "command:  bench/bench_soak.sh $build $jobs"
	echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel:   $(uname -r), $(nproc) CPUs, $(id -u) as uid"
	echo "warmbox:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "load avg: $(cut -d' ' -f1-3 /proc/loadavg) at start"
	echo
	WB=$PWD/$build/warmbox PROGS=$PWD/$build/tests/progs WB_POLICIES=$PWD/policies WB_SOAK_JOBS=$jobs \
		python3 tests/daemon/test_soak.py 2>&1
} | tee "$out"
echo "bench_soak: report written to $out"
