#!/usr/bin/env bash
# run.sh BUILD_DIR [KERNEL...]: the VM suite. Boots each Debian kernel
# (default: bookworm = Debian 12's 6.1, backports = bookworm-backports'
# 6.12+; fetched by kernels.sh into $WB_VM_KERNELS, default
# /var/tmp/warmbox-vm-kernels) under qemu with cgroup v2, and runs the
# tests of BUILD_DIR there in every deployment shape (guest-suite.sh), then
# the systemd check (systemd-check.sh: docker/warmbox.service under systemd
# as PID 1). Prints the guests' TAP and "N passed, M failed"; exits 1 if
# any kernel failed, and a guest that did not boot or report is a failure.
# The first kernel runs every shape's tests; the others, root delegated,
# only the tests whose figures and verdicts come from the kernel's cgroup
# (guest-suite.sh --figures-only): the rest is the same code on the same
# cgroup interface (rootless owned is the same delegation to another uid),
# and the emulated minutes count in CI.
# WB_VM_SHAPES overrides the shapes (default: root-delegated root-shared
# rootless-owned; rootless-none is the host's own rootless suite), and runs
# them in full on every kernel.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [KERNEL...]}" && pwd)
shift
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(bookworm backports)
cache=${WB_VM_KERNELS:-/var/tmp/warmbox-vm-kernels}
shapes=${WB_VM_SHAPES:-root-delegated root-shared rootless-owned}
out=$(mktemp -d /var/tmp/warmbox-vm-out.XXXXXX)
passed=0
failed=0

[ "$(id -u)" = 0 ] || { echo "run.sh: the VM suite needs root (qemu's 9p passthrough of /)"; exit 2; }
for tool in qemu-system-x86_64 busybox; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not installed (.ci/install-deps)"; exit 2; }
done
bash "$here/kernels.sh" "$cache" || { echo "run.sh: cannot fetch the kernels"; exit 1; }

# tally LOG: adds a guest's closing "N passed, M failed" to ours; a log
# without one counts as a failure (the guest never reported).
tally() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		echo "not ok - $2: the guest reported no results"
		return
	fi
	passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
	failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
}

# boot TAP BOOT-ARGS...: one guest, its results relayed and kept in
# $out/TAP. A guest that dies within EARLY_S without a single result (seen
# once on 2026-12-04: a systemd guest gone after 10 s, and fine when booted
# again) is booted once more and says so; one that ran tests, hung or died
# twice is reported as it is.
EARLY_S=120
boot() {
	local tap=$1 t0 attempt
	shift
	for attempt in 1 2; do
		t0=$SECONDS
		bash "$here/boot.sh" "$@" | sed -u 's/\r$//' |
			grep --line-buffered -E '^(ok|not ok|#|[0-9]+ passed|1\.\.|wbvm:|boot\.sh:)' | tee "$out/$tap"
		if [ "$attempt" = 2 ] || grep -qE '^(ok|not ok) ' "$out/$tap" || [ $((SECONDS - t0)) -ge "$EARLY_S" ]; then
			return
		fi
		echo "# the guest died after $((SECONDS - t0)) s without a result: booting it once more"
	done
}

for k in "${kernels[@]}"; do
	[ -s "$cache/$k/vmlinuz" ] || { echo "not ok - $k: no kernel in $cache/$k"; failed=$((failed + 1)); continue; }
	t0=$SECONDS
	# shellcheck disable=SC2206 # shapes are words
	suite=("$build" $shapes)
	if [ "$k" != "${kernels[0]}" ] && [ -z "${WB_VM_SHAPES:-}" ]; then
		suite=("$build" --figures-only root-delegated)
	fi
	echo "# === $k ($(cat "$cache/$k/version")): ${suite[*]:1}"
	boot "$k.tap" "$cache/$k" "$out/$k" -- bash "$here/guest-suite.sh" "${suite[@]}"
	echo "# === $k: guest suite took $((SECONDS - t0)) s"
	tally "$out/$k.tap" "$k suite"
	t0=$SECONDS
	boot "$k-systemd.tap" "$cache/$k" "$out/$k-systemd" --systemd -- bash "$here/systemd-check.sh" "$build/warmbox"
	echo "# === $k: systemd check took $((SECONDS - t0)) s"
	tally "$out/$k-systemd.tap" "$k systemd"
done
rm -rf "$out"
echo "vm: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
