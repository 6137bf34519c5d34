#!/usr/bin/env bash
# interactive.sh [--socket PATH] cpp|python|wrong: the flow of an online
# judge for the interactive problem "guess the number", through warmbox.
# Compiles interactor.c (and for cpp solution.cpp) inside the sandbox with
# the "compile" policy, then runs the solution once per tests/N.secret
# against the interactor, which holds that secret in its own sandbox
# (SPEC.md "Interactive jobs"). wrong is wrong.py, which answers without
# asking. Prints one line per step and exits 0 when every test is accepted,
# 1 otherwise, 2 on bad usage.
#
# The verdict of a test, from the program's result and the interactor's
# (nested under "interactor"), in this order:
#   - the program's status if it is TL, ML, OL or SV: the submission broke
#     a limit, whatever the interactor made of it;
#   - "judge failure" if there is no result, the job is XX, or the
#     interactor's status is anything but OK or RE (it broke a limit or
#     was killed: the judge's fault, not the submission's);
#   - else the interactor's exit code, as testlib's: 0 accepted (but
#     "runtime error" if the program itself ended RE or SG), 1 wrong
#     answer, 2 presentation error, anything else judge failure.
#
# Jobs are JSON. Without --socket each is run with `warmbox run --job -`,
# the compiled bytes inline. With --socket PATH they go to the daemon there
# (`warmbox serve`) as a judge sends them: the compile jobs keep their
# artifacts in the daemon's file store (copy_out with "keep"), every test
# names them by ref, all tests go at once through one `warmbox submit`, and
# the refs are dropped at the end. WARMBOX names the binary (default: the
# build/ of this tree, else warmbox in PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
WARMBOX=${WARMBOX:-$root/build/warmbox}
[ -x "$WARMBOX" ] || WARMBOX=$(command -v warmbox || true)
[ -n "$WARMBOX" ] || { echo "interactive.sh: no warmbox binary (set WARMBOX)" >&2; exit 2; }
export WARMBOX_POLICIES=${WARMBOX_POLICIES:-$root/policies}
command -v jq >/dev/null || { echo "interactive.sh: needs jq" >&2; exit 2; }

socket=""
if [ "${1:-}" = --socket ]; then
	socket=${2:?interactive.sh: --socket needs a PATH}
	shift 2
fi
# Per solution: source file, compile argv (empty: nothing to compile),
# artifact, run argv and policy.
case "${1:-}" in
cpp)    src=solution.cpp; compile='["g++","-O2","-std=c++17","-o","solution","solution.cpp"]'
        out=solution;     run='["./solution"]';            policy=cpp ;;
python) src=solution.py;  compile=''
        out=solution.py;  run='["python3","solution.py"]'; policy=python ;;
wrong)  src=wrong.py;     compile=''
        out=wrong.py;     run='["python3","wrong.py"]';    policy=python ;;
*)      echo "usage: interactive.sh [--socket PATH] cpp|python|wrong" >&2; exit 2 ;;
esac
[ $# -eq 1 ] || { echo "usage: interactive.sh [--socket PATH] cpp|python|wrong" >&2; exit 2; }
sol=$1
env_json='{"PATH":"/usr/local/bin:/usr/bin:/bin","HOME":"/tmp","LANG":"C.UTF-8"}'
keep=$([ -n "$socket" ] && echo true || echo false)
work=$(mktemp -d)

# A judge drops the artifacts it is done with, on every way out; the store
# would evict them in time anyway.
# shellcheck disable=SC2317 # run by the trap, which shellcheck cannot see
cleanup() {
	if [ -n "$socket" ] && [ -s "$work/refs" ]; then
		jq -Rc '{op: "drop", ref: .}' "$work/refs" |
			"$WARMBOX" submit --socket "$socket" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# run_jobs IN OUT: the jobs of IN (one per line), their results in OUT, in
# any order: readers look a result up by its id. A job warmbox refused
# (invalid, or the sandbox failed before a result) gets an XX line of our
# own, so that every job has a result.
run_jobs() {
	local job id rc
	if [ -n "$socket" ]; then
		"$WARMBOX" submit --socket "$socket" "$1" >"$2" || true
		return
	fi
	: >"$2"
	while IFS= read -r job; do
		rc=0
		printf '%s\n' "$job" | "$WARMBOX" run --job - >"$work/one.json" 2>"$work/one.err" || rc=$?
		# -s: jq -e on no input at all would say yes.
		if jq -se 'length == 1 and (.[0].status | type == "string")' "$work/one.json" >/dev/null 2>&1; then
			cat "$work/one.json" >>"$2"
		else
			id=$(printf '%s\n' "$job" | jq -r .id)
			jq -nc --arg id "$id" --arg err "warmbox run exited $rc: $(head -c 300 "$work/one.err")" \
				'{id: $id, status: "XX", error: $err}' >>"$2"
		fi
	done <"$1"
}

# result ID FILE: the result of job ID in FILE, or nothing.
result() {
	jq -c --arg id "$1" 'select(.id == $id)' "$2" | head -n 1
}

# A result warmbox did not give (XX of our own) has no figures.
figures='if .wall_ms then "\(.wall_ms) ms wall, \(.cpu_ms) ms cpu, \(.memory_kb) KiB" else "no figures" end'

# compile_job ID SRC ARGV OUT: the job compiling SRC into OUT.
compile_job() {
	jq -nc --arg id "$1" --arg src "$2" --rawfile text "$here/$2" --argjson argv "$3" \
	      --arg out "$4" --argjson env "$env_json" --argjson keep "$keep" '{
		id: $id, argv: $argv, env: $env, policy: "compile",
		files: [{path: $src, content: $text}],
		limits: {cpu_ms: 20000, wall_ms: 60000, memory_kb: 1048576, procs: 64,
		         file_size_kb: 65536, output_kb: 64},
		copy_out: [if $keep then {path: $out, keep: true} else $out end]}'
}

compile_job interactor interactor.c '["gcc","-O2","-o","interactor","interactor.c"]' interactor >"$work/compile.ndjson"
if [ -n "$compile" ]; then
	compile_job "$sol" "$src" "$compile" "$out" >>"$work/compile.ndjson"
fi
run_jobs "$work/compile.ndjson" "$work/compiled.ndjson"
# Every kept ref is listed for the drop first: one compile failing must not
# leave the other's artifact behind.
jq -r '.files[]?.ref // empty' "$work/compiled.ndjson" >"$work/refs"
while IFS= read -r job; do
	id=$(jq -r .id <<<"$job")
	result "$id" "$work/compiled.ndjson" >"$work/$id.compiled.json"
	if [ ! -s "$work/$id.compiled.json" ]; then
		echo "compile $id: no result"
		exit 1
	fi
	status=$(jq -r .status "$work/$id.compiled.json")
	echo "compile $id: $status$(jq -r 'if .syscall then " (\(.syscall))" else "" end' "$work/$id.compiled.json"), $(jq -r "$figures" "$work/$id.compiled.json")"
	if [ "$status" != OK ] || ! jq -e '.files[0] | .base64 // .ref' "$work/$id.compiled.json" >/dev/null; then
		echo "compile $id: failed ($([ "$status" = XX ] && echo "the sandbox failed" || echo "compilation error")):"
		jq -r '.stderr // empty, .error // empty, .files[0].error // empty' "$work/$id.compiled.json" | head -20
		exit 1
	fi
	if [ -n "$socket" ]; then
		echo "compile $id: kept in the daemon's store as $(jq -r '.files[0] | "\(.ref) (\(.size) bytes)"' "$work/$id.compiled.json")"
	fi
	# The "files" entry the test jobs get: the bytes, or the kept ref.
	jq '[.files[0] | {path, mode: 493} + (if .ref then {ref} else {base64} end)]' \
		"$work/$id.compiled.json" >"$work/$id.files.json"
done <"$work/compile.ndjson"
if [ -z "$compile" ]; then
	jq -n --arg src "$src" --rawfile text "$here/$src" \
	      '[{path: $src, content: $text}]' >"$work/$sol.files.json"
fi

mapfile -t secrets < <(printf '%s\n' "$here"/tests/*.secret | sort -V)
: >"$work/tests.ndjson"
for secret in "${secrets[@]}"; do
	jq -nc --arg id "#$(basename "$secret" .secret)" --argjson argv "$run" \
	      --argjson env "$env_json" --arg policy "$policy" --rawfile secret "$secret" \
	      --slurpfile sol "$work/$sol.files.json" --slurpfile inter "$work/interactor.files.json" '{
		id: $id, argv: $argv, env: $env, policy: $policy, files: $sol[0],
		limits: {cpu_ms: 2000, wall_ms: 6000},
		interactor: {argv: ["./interactor"], policy: "c",
		             files: ($inter[0] + [{path: "secret.txt", content: $secret}]),
		             limits: {cpu_ms: 2000, wall_ms: 6000}}}' >>"$work/tests.ndjson"
done
run_jobs "$work/tests.ndjson" "$work/results.ndjson"

# The rule of the header comment, on one result.
# shellcheck disable=SC2016 # jq's $variables, not the shell's
verdict_jq='
	(.interactor // {}) as $i |
	if .status == "XX" then "judge failure (\(.error // "the sandbox failed"))"
	elif (.status | IN("TL", "ML", "OL", "SV")) then
		.status + (if .syscall then " (\(.syscall))" else "" end)
	elif .interactor == null then "judge failure (no interactor result)"
	elif ($i.status | IN("OK", "RE") | not) then "judge failure (interactor \($i.status))"
	elif $i.exit_code == 0 then
		if .status == "RE" then "runtime error (exit code \(.exit_code))"
		elif .status == "SG" then "runtime error (signal \(.signal))"
		else "accepted" end
	elif $i.exit_code == 1 then "wrong answer"
	elif $i.exit_code == 2 then "presentation error"
	else "judge failure (interactor exit code \($i.exit_code))" end'
# The interactor's one line on stderr says why.
why_jq='(.interactor.stderr // "") | if type == "object" then (.base64 | @base64d) else . end | split("\n")[0]'

failed=0
for secret in "${secrets[@]}"; do
	name=$(basename "$secret" .secret)
	result "#$name" "$work/results.ndjson" >"$work/result.json"
	if [ ! -s "$work/result.json" ]; then
		verdict="judge failure (no result)"
		echo "test $name: $verdict"
		failed=1
		continue
	fi
	verdict=$(jq -r "$verdict_jq" "$work/result.json")
	why=$(jq -r "$why_jq" "$work/result.json")
	[ "$verdict" = accepted ] || failed=1
	echo "test $name: $verdict, $(jq -r "$figures" "$work/result.json")${why:+ (interactor: $why)}"
done
exit "$failed"
