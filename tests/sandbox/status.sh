# status.sh: each verdict of SPEC.md "Status" from a real program
# (tests/progs), and exit status 0 of `warmbox run` whatever the verdict.
. "$(dirname "$0")/lib.sh"

# OK
case_ok() {
	wb_run run --copy-in "$(prog exit_code)" -- ./exit_code 0
	expect_rc 0 "OK: exit status 0"
	expect_result_shape "OK: one result line with every SPEC field"
	expect_status OK "OK: exit 0 is OK"
	expect_field .exit_code 0 "OK: exit_code 0"
	expect_field .stdout "exit 0" "OK: stdout captured"
}

# RE
case_re() {
	wb_run run --copy-in "$(prog exit_code)" -- ./exit_code 3
	expect_rc 0 "RE: exit status 0"
	expect_status RE "RE: exit 3 is RE"
	expect_field .exit_code 3 "RE: exit_code 3"
}

# RE 127: a program that cannot be started is the submission's fault
case_re_127() {
	wb_run run -- ./nonexistent
	expect_rc 0 "RE 127: exit status 0"
	expect_status RE "RE 127: missing program is RE"
	expect_field .exit_code 127 "RE 127: exit_code 127"
	expect_jq '.error | type == "string" and length > 0' "RE 127: non-empty error"
}

# SG
case_sg() {
	wb_run run --copy-in "$(prog segv)" -- ./segv
	expect_rc 0 "SG: exit status 0"
	expect_status SG "SG: null write is SG"
	expect_field .signal 11 "SG: signal 11"
}

# TL by CPU
case_tl_cpu() {
	wb_run run --cpu 300 --copy-in "$(prog busy)" -- ./busy
	expect_rc 0 "TL cpu: exit status 0"
	expect_status TL "TL cpu: busy loop is TL"
	expect_range .cpu_ms 300 450 "TL cpu: cpu_ms near 300"
	expect_jq '.wall_ms | type == "number"' "TL cpu: wall_ms reported"
}

# TL by wall
case_tl_wall() {
	wb_run run --wall 500 --copy-in "$(prog sleeper)" -- ./sleeper 10
	expect_rc 0 "TL wall: exit status 0"
	expect_status TL "TL wall: 10 s sleep is TL"
	# A sleeper's CPU is its start-up alone: a few ms on a host, 121 ms was
	# seen under qemu's TCG. Under half the wall limit still tells a wall TL
	# from a busy loop (which would use about all of it).
	expect_range .cpu_ms 0 250 "TL wall: cpu_ms under half the wall limit"
	expect_range .wall_ms 500 1500 "TL wall: wall_ms near 500"
	if [ "$ELAPSED_MS" -le 5000 ]; then
		pass "TL wall: warmbox returned in ${ELAPSED_MS} ms"
	else
		fail "TL wall: warmbox returned in ${ELAPSED_MS} ms (> 5000)"
	fi
}

# ML: 256 MiB touched under a 64 MiB limit
case_ml() {
	wb_run run --memory 65536 --copy-in "$(prog memhog)" -- ./memhog 256
	expect_rc 0 "ML: exit status 0"
	# Without a cgroup the job init samples resident memory (no RLIMIT_AS):
	# ML either way.
	expect_status ML "ML: 256 MiB under --memory 65536 is ML ($(jf .accounting))"
	expect_range .memory_kb 65536 262144 "ML: memory_kb at the limit (cgroup) or past it (sampled)"
}

# OL by stdout
case_ol_stdout() {
	wb_run run --output 64 --copy-in "$(prog spew)" -- ./spew 1048576
	expect_rc 0 "OL stdout: exit status 0"
	expect_status OL "OL stdout: 1 MiB with --output 64 is OL"
	expect_field .stdout_truncated true "OL stdout: stdout_truncated"
	expect_field '.stdout | if type == "string" then length else -1 end' 65536 \
		"OL stdout: exactly 65536 bytes kept"
}

# OL by file size
case_ol_file() {
	wb_run run --file-size 1024 --copy-in "$(prog bigfile)" -- ./bigfile /box/f 2097152
	expect_rc 0 "OL file: exit status 0"
	expect_status OL "OL file: 2 MiB file with --file-size 1024 is OL"
}

# Output within limits is not OL
case_output_within() {
	wb_run run --output 64 --copy-in "$(prog spew)" -- ./spew 1000
	expect_status OK "1000 bytes with --output 64 is OK"
	expect_field .stdout_truncated false "1000 bytes: not truncated"
}

# ML: the job's own files count against memory_kb (cgroup: they are charged
# to the job; rlimit: /box is a tmpfs of memory_kb).
case_ml_files() {
	head -c $((24 * 1024 * 1024)) /dev/zero >"$WB_TMP/big.bin"
	chmod 0644 "$WB_TMP/big.bin"
	wb_run run --memory 16M --copy-in "$WB_TMP/big.bin:big.bin" -- /bin/true
	expect_rc 0 "ML files: exit status 0"
	expect_status ML "ML files: 24 MiB of files under --memory 16M is ML"
	expect_jq '.error | type == "string" and length > 0' "ML files: error says why"
}

# SV naming the syscall
case_sv() {
	wb_run run --copy-in "$(prog connect_probe)" -- ./connect_probe
	expect_rc 0 "SV: exit status 0"
	expect_status SV "SV: socket() under the default policy is SV"
	expect_field .syscall socket "SV: syscall named"
}

# SV for a syscall of another ABI: 32-bit int 0x80 (README "Policies").
case_sv_foreign_abi() {
	# Some hosts (paravirtualised guests) give int 0x80 from 64-bit code a
	# SIGSEGV before any filter sees it: nothing to check there.
	if "$PROGS/int80" >/dev/null 2>&1; [ $? -eq 139 ]; then
		skip "SV: a 32-bit int 0x80 syscall is SV" "int 0x80 segfaults on this host outside the sandbox too"
		skip "SV: int 0x80 is named a foreign architecture" "int 0x80 segfaults on this host"
		return
	fi
	wb_run run --copy-in "$(prog int80)" -- ./int80
	expect_status SV "SV: a 32-bit int 0x80 syscall is SV"
	expect_field .syscall "foreign architecture" "SV: int 0x80 is named a foreign architecture"
}

# XX: the sandbox cannot clone its zygote under RLIMIT_NPROC=1. A uid of its
# own (65533) so that no other test's processes count against the limit.
case_xx() {
	if [ "$(id -u)" = 0 ]; then
		WB_CMD="prlimit --nproc=1 -- setpriv --reuid 65533 --regid 65533 --clear-groups -- warmbox run -- /bin/true"
		# LeakSanitizer needs a thread of its own at exit, which RLIMIT_NPROC=1
		# forbids too: the sanitizer build would abort for its own reasons.
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 5 60 prlimit --nproc=1 -- setpriv --reuid 65533 --regid 65533 --clear-groups -- \
			"$WB" run -- /bin/true >"$WB_TMP/out" 2>"$WB_TMP/err" </dev/null
		RC=$?
		OUT=$(cat "$WB_TMP/out")
		ERR=$(cat "$WB_TMP/err")
		expect_rc 1 "XX: exit status 1"
		expect_status XX "XX: sandbox that cannot fork is XX"
		expect_jq '.error | type == "string" and length > 0' "XX: non-empty error"
	else
		skip "XX: sandbox that cannot fork is XX" "needs root to setpriv to uid 65533"
	fi
}

run_cases "$@"
