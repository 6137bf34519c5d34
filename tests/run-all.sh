#!/usr/bin/env bash
# The whole test suite: the normal build and the ASan+UBSan build, each with
# every ctest label (unit, sandbox, hostile, rootless; the slow languages and
# soak tests, the rootless daemon tests and rootless dangerous.sh in the
# normal build only), then
# the fuzzers (job parser, NDJSON framing, wire decoders, policy parser) for
# a bounded time (30 s for the job parser, 10 s each for the others), then the
# VM suite (tests/vm/run.sh: cgroup v2 on Debian 12's
# own kernel and bookworm-backports', root and rootless, and the systemd
# unit). Exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${WB_FUZZ_SECONDS:-30}
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWB_SANITIZE=ON
cmake --build build-asan -j"$jobs"

status=0
# Tests run one per CPU at once: many wait on sleeps and limits, and each starts
# its own daemon on a socket of its own. The few that hold CPU figures to
# tight ranges, the soak and the leftovers check run alone (RUN_SERIAL).
echo "== tests: normal build"
ctest --test-dir build -j"$jobs" --output-on-failure || status=1
echo "== tests: AddressSanitizer + UndefinedBehaviorSanitizer build (the languages, the soak, the rootless daemon and rootless dangerous.sh ran above)"
# The rootless daemon tests run the same manager code as root's: the
# rootless paths (user namespaces, rlimit accounting) run under the
# sanitizers through the rootless sandbox tests. So do rootless
# dangerous.sh's 700 probes: root's run them under the sanitizers.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan -j"$jobs" --output-on-failure -E 'languages|soak|rootless_daemon|rootless_dangerous' || status=1

if command -v clang >/dev/null; then
  # The job parser gets the most time: it reads every client's request.
  # A failure here must not stop the VM suite below from running.
  targets="fuzz_job fuzz_ndjson fuzz_wire fuzz_policy"
  # shellcheck disable=SC2086 # a list of targets
  if cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DWB_FUZZ=ON &&
    cmake --build build-fuzz -j"$jobs" --target $targets; then
    for t in $targets; do
      secs=$fuzz_seconds
      [ "$t" = fuzz_job ] || secs=$(( (fuzz_seconds + 2) / 3 ))
      echo "== fuzz: $t, ${secs}s"
      bash tests/fuzz/run.sh "build-fuzz/tests/fuzz/$t" "$secs" || status=1
    done
  else
    echo "== fuzz: the fuzz targets did not build"
    status=1
  fi
else
  echo "== fuzz: SKIPPED (clang not installed)"
fi

echo "== VM suite: cgroup v2 on Debian's own kernels, under qemu"
bash tests/vm/run.sh build || status=1
exit "$status"
