# badinput.sh: invalid jobs and bad usage give exit 2, nothing on stdout and
# one line on stderr naming the bad field (SPEC.md "Commands").
. "$(dirname "$0")/lib.sh"

# job NAME JSON FIELD_REGEX: runs `warmbox run --job FILE` on JSON.
job() {
	printf '%s\n' "$2" >"$WB_TMP/$1.json"
	chmod 644 "$WB_TMP/$1.json"
	wb_run run --job "$WB_TMP/$1.json"
	expect_invalid "$3" "job $1: $2"
}

case_job_json() {
	job malformed '{"argv": ["true"' 'json|parse|syntax|malformed'
	job missing_argv '{"id": "x"}' 'argv'
	job empty_argv '{"argv": []}' 'argv'
	job argv_numbers '{"argv": [1, 2]}' 'argv'
	job argv_not_array '{"argv": "true"}' 'argv'
	job not_object '["true"]' 'object|json|job'
	job unknown_field '{"argv": ["true"], "bogus_field": 1}' 'bogus_field'
	job unknown_limit '{"argv": ["true"], "limits": {"bogus_limit": 5}}' 'bogus_limit'
	job negative_cpu '{"argv": ["true"], "limits": {"cpu_ms": -1}}' 'cpu_ms'
	job float_memory '{"argv": ["true"], "limits": {"memory_kb": 1.5}}' 'memory_kb'
	job huge_wall '{"argv": ["true"], "limits": {"wall_ms": 1e30}}' 'wall_ms'
	job huge_output '{"argv": ["true"], "limits": {"output_kb": 99999999999999999999}}' 'output_kb'
	job huge_procs '{"argv": ["true"], "limits": {"procs": 100000000}}' 'procs'
	job string_limit '{"argv": ["true"], "limits": {"stack_kb": "1"}}' 'stack_kb'
	job abs_path '{"argv": ["true"], "files": [{"path": "/etc/x", "content": ""}]}' 'path|files'
	job dotdot_path '{"argv": ["true"], "files": [{"path": "a/../../b", "content": ""}]}' 'path|files'
	job dup_path '{"argv": ["true"], "files": [{"path": "a", "content": "1"}, {"path": "a", "content": "2"}]}' 'path|files|duplicate'
	job bad_b64_file '{"argv": ["true"], "files": [{"path": "a", "base64": "@@@!"}]}' 'base64'
	job bad_b64_stdin '{"argv": ["true"], "stdin": {"base64": "a=b="}}' 'stdin|base64'
	job bad_mode '{"argv": ["true"], "files": [{"path": "a", "content": "", "mode": 99999}]}' 'mode'
	job unknown_policy '{"argv": ["true"], "policy": "nosuchpolicy"}' 'nosuchpolicy|policy'
	job policy_path '{"argv": ["true"], "policy": "../default"}' 'policy|\.\./default'
	job bad_env '{"argv": ["true"], "env": {"A": 1}}' 'env'
	job bad_utf8_id $'{"id": "a\xff\xfeb", "argv": ["true"]}' 'not UTF-8'
}

case_job_stdin() {
	printf '{"argv": ["true"], "bogus_field": 1}\n' >"$WB_TMP/stdin_job.json"
	wb_run_stdin "$WB_TMP/stdin_job.json" run --job -
	expect_invalid 'bogus_field' "job from stdin (--job -) with an unknown field"
}

# Bad command lines.
case_command_line() {
	wb_run run --cpu abc -- /bin/true
	expect_invalid 'cpu' "--cpu abc"
	wb_run run --memory 10X -- /bin/true
	expect_invalid 'memory' "--memory 10X"
	wb_run run --procs -3 -- /bin/true
	expect_invalid 'procs' "--procs -3"
	wb_run run --copy-in /nonexistent/wb_no_such_file -- /bin/true
	expect_invalid 'wb_no_such_file|copy-in' "--copy-in of a missing host file"
	wb_run run --copy-in "$(prog exit_code ../escape)" -- /bin/true
	expect_invalid 'copy-in|\.\./escape|path' "--copy-in to ../escape"
	wb_run run --no-such-option -- /bin/true
	expect_invalid 'no-such-option|option|usage' "unknown option"
	wb_run run
	expect_invalid 'argv|program|usage' "run without a program"
	wb_run run --job "$WB_TMP/does_not_exist.json"
	expect_invalid 'does_not_exist|job' "--job of a missing file"
}

# Hostile --policies directories: a broken default.json is reported with
# the file name and the bad entry.
case_broken_policies() {
	mkdir -p "$WB_TMP/pol_syntax" "$WB_TMP/pol_unknown"
	printf '{"default_action": "kill", "allow": ["read", "write",\n' >"$WB_TMP/pol_syntax/default.json"
	printf '{"default_action": "kill", "allow": ["read", "write", "exit_group", "notasyscall"]}\n' \
		>"$WB_TMP/pol_unknown/default.json"
	chmod -R a+rX "$WB_TMP/pol_syntax" "$WB_TMP/pol_unknown"
	wb_run run --policies "$WB_TMP/pol_syntax" -- /bin/true
	expect_invalid 'default\.json' "policy with a syntax error names the file"
	wb_run run --policies "$WB_TMP/pol_unknown" -- /bin/true
	expect_invalid 'default\.json.*notasyscall|notasyscall.*default\.json' \
		"policy with an unknown syscall names the file and the syscall"
}

run_cases "$@"
