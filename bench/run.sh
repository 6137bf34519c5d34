#!/usr/bin/env bash
# Build bench_run and run both modes with the defaults the README quotes
# (latency N=200, cpu N=50). Reports land in bench/results/.
# Usage: bench/run.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target bench_run -j"$(nproc)"
"$build/bench/bench_run" -n 200
"$build/bench/bench_run" -m cpu -n 50
