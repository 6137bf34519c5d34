# accuracy.sh: the figures of the result are right (cpu, memory, stdin).
. "$(dirname "$0")/lib.sh"

# A busy loop under --cpu 500 stops between 500 and 600 ms.
case_cpu() {
	wb_run run --cpu 500 --copy-in "$(prog busy)" -- ./busy
	expect_rc 0 "cpu: exit status 0"
	expect_status TL "cpu: busy loop under --cpu 500 is TL"
	expect_range .cpu_ms 500 600 "cpu: cpu_ms in [500, 600]"
}

# Two busy processes at once: the CPU of the whole job counts, children's
# too while they are still running (in both accounting modes).
case_cpu_two_processes() {
	wb_run run --cpu 500 --procs 4 --copy-in "$(prog busy)" -- /bin/sh -c './busy & ./busy; wait'
	expect_status TL "cpu, two processes: TL"
	expect_range .cpu_ms 500 600 "cpu, two processes: cpu_ms in [500, 600]"
	expect_range .wall_ms 0 1000 "cpu, two processes: ended before the wall limit"
}

# 100 MiB touched and kept is reported within 10% (both accountings). Time
# limits far from what touching 100 MiB takes, also in a VM without KVM
# (tests/vm), where it can take more than the default second.
case_memory() {
	wb_run run --memory 262144 --cpu 20000 --wall 60000 --copy-in "$(prog memhog)" -- ./memhog 100
	expect_status OK "memory: 100 MiB under --memory 262144 is OK"
	if cgroup_accounting; then
		# The cgroup's own peak: the job's pages and nothing else (a
		# fresh cgroup per job).
		expect_range .memory_kb 97280 107520 "memory: memory_kb within 5% of 102400 ($(jf .accounting))"
	else
		# Sampled resident memory: coarser (README "Rootless mode").
		expect_range .memory_kb 92160 112640 "memory: memory_kb within 10% of 102400 ($(jf .accounting))"
	fi
	if [ -n "${WB_EXPECT_ACCOUNTING:-}" ]; then
		expect_field .accounting "$WB_EXPECT_ACCOUNTING" "accounting: $WB_EXPECT_ACCOUNTING in this deployment shape"
	fi
}

# A small program's memory is small too (no manager or zygote memory counted).
case_memory_small() {
	wb_run run --copy-in "$(prog exit_code)" -- ./exit_code 0
	expect_range .memory_kb 1 20480 "memory: a trivial program reports under 20 MiB"
}

# 50 MiB from --stdin arrive intact.
case_stdin() {
	local want
	head -c $((50 * 1024 * 1024)) /dev/urandom >"$WB_TMP/stdin.bin"
	chmod 644 "$WB_TMP/stdin.bin"
	want=$("$PROGS/stdin_sum" <"$WB_TMP/stdin.bin")
	wb_run run --stdin "$WB_TMP/stdin.bin" --copy-in "$(prog stdin_sum)" -- ./stdin_sum
	expect_status OK "stdin: 50 MiB read is OK"
	expect_field .stdout "$want" "stdin: byte count and checksum match ($want)"
	rm -f "$WB_TMP/stdin.bin"
}

run_cases "$@"
