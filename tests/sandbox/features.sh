# features.sh: the ordinary job features of SPEC.md "Job" and "Result".
. "$(dirname "$0")/lib.sh"

# jobfile NAME JSON: writes a job file readable by the tested uid.
jobfile() {
	printf '%s\n' "$2" >"$WB_TMP/$1.json"
	chmod 644 "$WB_TMP/$1.json"
	echo "$WB_TMP/$1.json"
}

# argv with PATH lookup
case_path_lookup() {
	wb_run run -- echo hi
	expect_rc 0 "echo: exit status 0"
	expect_status OK "echo: PATH lookup of echo"
	expect_field .stdout "hi" "echo: stdout hi"
	expect_field .stderr "" "echo: empty stderr"
}

# id echoed, cwd
case_cwd() {
	wb_run run --job "$(jobfile cwd '{"id": "job-42", "argv": ["pwd"], "cwd": "/tmp"}')"
	expect_status OK "cwd: pwd in /tmp"
	expect_field .id job-42 "cwd: id echoed"
	expect_field .stdout /tmp "cwd: pwd prints /tmp"
	wb_run run -- pwd
	expect_field .stdout /box "cwd: default is /box"
}

# files: text, base64 and an executable #!/bin/sh script run from /box
case_files() {
	script=$'#!/bin/sh\ncat t.txt\nwc -c < b.bin\nstat -c %a run.sh t.txt\n'
	b64=$(printf '\001\002\377binary' | base64 -w0)
	jq -n --arg s "$script" --arg b "$b64" '{
		argv: ["./run.sh"],
		files: [
			{path: "t.txt", content: "hello text\n"},
			{path: "b.bin", base64: $b},
			{path: "run.sh", content: $s, mode: 493}
		],
		limits: {procs: 8}
	}' >"$WB_TMP/files.json"
	chmod 644 "$WB_TMP/files.json"
	wb_run run --job "$WB_TMP/files.json"
	expect_status OK "files: script with mode 0755 runs"
	expect_field .stdout $'hello text\n9\n755\n644' "files: text, base64 length and modes"
}

# files in a subdirectory
case_files_subdir() {
	wb_run run --job "$(jobfile subdir '{"argv": ["cat", "a/b/c.txt"], "files": [{"path": "a/b/c.txt", "content": "deep"}]}')"
	expect_field .stdout deep "files: path with subdirectories"
}

# stdin as text and base64
case_stdin() {
	wb_run run --job "$(jobfile stdin_text '{"argv": ["cat"], "stdin": "abc\n"}')"
	expect_field .stdout abc "stdin: text"
	wb_run run --job "$(jobfile stdin_b64 "{\"argv\": [\"cat\"], \"stdin\": {\"base64\": \"$(printf 'xyz' | base64)\"}}")"
	expect_field .stdout xyz "stdin: base64"
	printf 'from file\n' >"$WB_TMP/in.txt"
	chmod 644 "$WB_TMP/in.txt"
	wb_run run --stdin "$WB_TMP/in.txt" -- cat
	expect_field .stdout "from file" "stdin: --stdin FILE"
	wb_run_stdin "$(jobfile stdin_job '{"argv": ["echo", "via-stdin"]}')" run --job -
	expect_field .stdout via-stdin "job: --job - reads the job from stdin"
}

# copy_out of a produced file
case_copy_out() {
	wb_run run --job "$(jobfile copy_out '{"argv": ["cp", "in.bin", "out.bin"], "files": [{"path": "in.bin", "base64": "AAEC/w=="}], "copy_out": ["out.bin"]}')"
	expect_status OK "copy_out: job OK"
	expect_jq '.files | length == 1 and .[0].path == "out.bin" and .[0].base64 == "AAEC/w=="' \
		"copy_out: out.bin comes back with its bytes"
	wb_run run --copy-out missing.txt -- /bin/true
	expect_jq '.status == "OK" and (.files | length == 1) and (.files[0].error | type == "string")
		and (.files[0] | has("base64") | not)' "copy_out: a missing file is an error entry"
}

# --copy-in keeps permission bits and places files at BOXPATH
case_copy_in() {
	wb_run run --copy-in "$(prog exit_code sub/dir/ec)" -- ./sub/dir/ec 0
	expect_status OK "copy-in: executable kept executable at sub/dir/ec"
}

# stdout that is not UTF-8
case_output_encoding() {
	wb_run run -- printf '\377\376ok'
	expect_jq '.stdout | type == "object" and .base64 == "//5vaw=="' "stdout: non-UTF-8 comes back as base64"
	wb_run run -- printf 'h\303\251'
	expect_field .stdout 'hé' "stdout: valid UTF-8 stays a string"
	wb_run run -- sh -c 'echo to-stderr >&2'
	expect_field .stderr to-stderr "stderr: captured"
}

# hostname and uid
case_uts_uid() {
	wb_run run -- uname -n
	host=$(uname -n)
	if [ "$(jf .status)" = OK ] && [ "$(jf .stdout)" != "$host" ]; then
		pass "uts: hostname inside '$(jf .stdout)' is not the host's '$host'"
	else
		fail "uts: hostname inside is the host's or the job failed"
	fi
	wb_run run -- id -u
	if [ "$(jf .status)" = OK ] && [[ "$(jf .stdout)" =~ ^[0-9]+$ ]] && [ "$(jf .stdout)" != 0 ]; then
		pass "uid: job runs as uid $(jf .stdout)"
	else
		fail "uid: job runs as uid 0 or failed"
	fi
}

# accounting and trace
case_accounting_trace() {
	wb_run run -- /bin/true
	expect_jq '.accounting | IN("cgroup-v1", "cgroup-v2", "rlimit")' "accounting: $(jf .accounting)"
	wb_run run --trace -- /bin/true
	expect_jq '.trace | type == "object"' "trace: --trace adds a trace object"
}

# The zygote's program is exec'd from a memfd (src/manager/image.c): a host
# that forbids that (vm.memfd_noexec=2, set here in a PID namespace of the
# test's own, where the setting is kept) gets an error naming it.
case_zygote_memfd() {
	local user=()
	if [ ! -e /proc/sys/vm/memfd_noexec ]; then
		skip "memfd_noexec=2 names the setting" "this kernel has no vm.memfd_noexec (before 6.3)"
		return
	fi
	[ -n "${WB_AS_USER:-}" ] && user=(setpriv --reuid "$WB_AS_USER" --regid "$WB_AS_USER" --clear-groups --)
	WB_CMD="unshare --pid --fork: vm.memfd_noexec=2; warmbox run -- /bin/true"
	OUT=$(unshare --pid --fork sh -c 'echo 2 >/proc/sys/vm/memfd_noexec && exec "$@"' sh \
		"${user[@]}" timeout -k 5 "$WB_RUN_TIMEOUT" "${WB_LAUNCH[@]}" "$WB" run -- /bin/true 2>"$WB_TMP/err" </dev/null)
	RC=$?
	ERR=$(cat "$WB_TMP/err")
	expect_field .status XX "memfd_noexec=2: the job is XX"
	check "memfd_noexec=2: the error names the setting" grep -q "vm.memfd_noexec is 2" <<<"$(jf .error)"
	wb_run run -- /bin/true
	expect_field .status OK "and a run outside that namespace is OK"
}

# warmbox --version and policies
case_version_policies() {
	WB_CMD="warmbox --version"
	OUT=$(as_user "$WB" --version 2>&1)
	RC=$?
	check "--version exits 0 and prints something" test "$RC" = 0 -a -n "$OUT"
	WB_CMD="warmbox policies"
	OUT=$(as_user "$WB" policies 2>&1)
	RC=$?
	check "policies lists default, with its counts" grep -q "^default  *[0-9][0-9]* allowed" <<<"$OUT"
}

run_cases "$@"
