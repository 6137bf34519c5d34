#!/usr/bin/env bash
# threads.sh: limits count threads as the issue asks for runtimes that
# start their own: cpu_ms is the CPU time of every thread, and procs
# bounds processes and threads together.
. "$(dirname "$0")/lib.sh"

# Three spinning threads: the limit applies to their sum. Were one thread's
# time compared with cpu_ms, the job would end near 3 s of CPU, not 1 s.
case_cpu_sum() {
	wb_run run --procs 4 --cpu 1000 --copy-in "$(prog threads)" -- ./threads spin 2
	expect_status TL "three spinning threads under --cpu 1000 are TL"
	expect_range .cpu_ms 1000 1250 "cpu_ms counts every thread"
}

# procs 4: the main thread and three more, the fourth refused. Rootless,
# RLIMIT_NPROC counts the uid's tasks, the sandbox's own two among them
# (README "Rootless mode").
case_procs_4() {
	wb_run run --procs 4 --copy-in "$(prog threads)" -- ./threads count 8
	expect_status OK "a program refused a thread goes on"
	expect_field .stdout "created 3" "--procs 4 allows the main thread and 3 more"
}

case_procs_1() {
	wb_run run --procs 1 --copy-in "$(prog threads)" -- ./threads count 1
	expect_field .stdout "created 0" "--procs 1 allows no second thread"
}

run_cases "$@"
