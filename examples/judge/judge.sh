#!/usr/bin/env bash
# judge.sh [--socket PATH] LANG: the flow of an online judge, through
# warmbox, for one of c cpp python java node go rust. Compiles
# examples/judge/LANG's solution inside the sandbox with the "compile"
# policy, takes the artifact out with copy_out, runs it on every tests/N.in
# with the language's own policy and compares the output with tests/N.out.
# Prints one line per step and exits 0 when every test is accepted, 1
# otherwise, 2 on bad usage.
#
# Jobs are JSON. Without --socket each is run with `warmbox run --job -`.
# With --socket PATH they go to the daemon there (`warmbox serve`) as a judge
# sends them: the compile job keeps its artifact in the daemon's file store
# (copy_out with "keep"), and every test names it by ref, all tests sent at
# once through one `warmbox submit`: the binary crosses the socket once.
# WARMBOX names the binary (default: the build/ of this tree, else warmbox
# in PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
WARMBOX=${WARMBOX:-$root/build/warmbox}
[ -x "$WARMBOX" ] || WARMBOX=$(command -v warmbox || true)
[ -n "$WARMBOX" ] || { echo "judge.sh: no warmbox binary (set WARMBOX)" >&2; exit 2; }
export WARMBOX_POLICIES=${WARMBOX_POLICIES:-$root/policies}
command -v jq >/dev/null || { echo "judge.sh: needs jq" >&2; exit 2; }

socket=""
if [ "${1:-}" = --socket ]; then
	socket=${2:?judge.sh: --socket needs a PATH}
	shift 2
fi
lang=${1:-}
# Per language: source file, compile argv (empty: nothing to compile),
# artifact, run argv, procs and memory of the run. Java's artifact is a jar:
# javac writes a class file per nested class, and a judge cannot guess them. JVM, Go and V8 start
# threads of their own: procs counts them (README "Languages").
case "$lang" in
c)      src=sum.c;     compile='["gcc","-O2","-o","sum","sum.c","-lm"]'
        out=sum;       run='["./sum"]';                    procs=1;  mem=262144 ;;
cpp)    src=sum.cpp;   compile='["g++","-O2","-std=c++17","-o","sum","sum.cpp"]'
        out=sum;       run='["./sum"]';                    procs=1;  mem=262144 ;;
python) src=sum.py;    compile=''
        out=sum.py;    run='["python3","sum.py"]';         procs=1;  mem=262144 ;;
java)   src=Main.java; compile='["sh","-c","javac -d classes Main.java && jar --create --file main.jar -C classes ."]'
        out=main.jar;  run='["java","-Xmx256m","-Xss64m","-XX:+UseSerialGC","-cp","main.jar","Main"]'
        procs=32; mem=524288 ;;
node)   src=sum.js;    compile=''
        out=sum.js;    run='["node","sum.js"]';            procs=16; mem=262144 ;;
go)     src=sum.go;    compile='["go","build","-o","sum","sum.go"]'
        out=sum;       run='["./sum"]';                    procs=16; mem=262144 ;;
rust)   src=sum.rs;    compile='["rustc","-O","-C","strip=debuginfo","-o","sum","sum.rs"]'
        out=sum;       run='["./sum"]';                    procs=1;  mem=262144 ;;
*)      echo "usage: judge.sh c|cpp|python|java|node|go|rust" >&2; exit 2 ;;
esac
# Compilers write caches and temporaries: go build needs somewhere to put
# them, and /tmp is fresh for every job.
env_json='{"PATH":"/usr/local/bin:/usr/bin:/bin","HOME":"/tmp","LANG":"C.UTF-8","GOCACHE":"/tmp/gocache","GOPATH":"/tmp/go"}'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_jobs IN OUT: the jobs of IN (one per line), their results in OUT in
# the same order.
run_jobs() {
	if [ -n "$socket" ]; then
		"$WARMBOX" submit --socket "$socket" "$1" >"$2.any" || true
		# Results come as jobs finish: put them back in the jobs' order.
		jq -c -s 'sort_by(.id | ltrimstr("#") | tonumber? // 0) | .[]' "$2.any" >"$2"
	else
		: >"$2"
		while IFS= read -r job; do
			printf '%s\n' "$job" | "$WARMBOX" run --job - >>"$2"
		done <"$1"
	fi
}

# artifact.json holds the "files" entry the run jobs get: the bytes, or with
# the daemon the ref of the kept artifact.
if [ -n "$compile" ]; then
	jq -nc --arg src "$src" --rawfile text "$here/$lang/$src" --arg out "$out" \
	      --argjson argv "$compile" --argjson env "$env_json" --argjson keep "$([ -n "$socket" ] && echo true || echo false)" '{
		id: "#0", argv: $argv, env: $env, policy: "compile",
		files: [{path: $src, content: $text}],
		limits: {cpu_ms: 20000, wall_ms: 60000, memory_kb: 1048576, procs: 64,
		         file_size_kb: 65536, output_kb: 64},
		copy_out: [if $keep then {path: $out, keep: true} else $out end]}' >"$work/compile.json"
	run_jobs "$work/compile.json" "$work/compiled.json"
	status=$(jq -r .status "$work/compiled.json")
	echo "compile $lang: $status$(jq -r 'if .syscall then " (\(.syscall))" else "" end' "$work/compiled.json"), $(jq -r '"\(.wall_ms) ms wall, \(.cpu_ms) ms cpu, \(.memory_kb) KiB"' "$work/compiled.json")"
	if [ "$status" != OK ] || ! jq -e '.files[0] | .base64 // .ref' "$work/compiled.json" >/dev/null; then
		echo "compile $lang: failed (compilation error):"
		jq -r '.stderr, .error // empty, .files[0].error // empty' "$work/compiled.json" | head -20
		exit 1
	fi
	if [ -n "$socket" ]; then
		echo "compile $lang: kept in the daemon's store as $(jq -r '.files[0] | "\(.ref) (\(.size) bytes)"' "$work/compiled.json")"
	fi
	jq '[.files[0] | {path, mode: 493} + (if .ref then {ref} else {base64} end)]' "$work/compiled.json" >"$work/artifact.json"
else
	jq -n --arg src "$src" --rawfile text "$here/$lang/$src" \
	      '[{path: $src, content: $text}]' >"$work/artifact.json"
fi

inputs=("$here"/tests/*.in)
: >"$work/tests.ndjson"
for i in "${!inputs[@]}"; do
	jq -nc --rawfile stdin "${inputs[$i]}" --slurpfile files "$work/artifact.json" \
	      --argjson argv "$run" --arg id "#$((i + 1))" --argjson env "$env_json" \
	      --arg lang "$lang" --argjson procs "$procs" --argjson mem "$mem" '{
		id: $id, argv: $argv, env: $env, policy: $lang,
		files: $files[0], stdin: $stdin,
		limits: {cpu_ms: 2000, wall_ms: 6000, memory_kb: $mem, procs: $procs}}' >>"$work/tests.ndjson"
done
run_jobs "$work/tests.ndjson" "$work/results.ndjson"

failed=0
for i in "${!inputs[@]}"; do
	input=${inputs[$i]}
	name=$(basename "$input" .in)
	sed -n "$((i + 1))p" "$work/results.ndjson" >"$work/result.json"
	status=$(jq -r '.status // "none"' "$work/result.json")
	if [ "$status" = OK ] && [ "$(jq -r .stdout "$work/result.json")" = "$(cat "${input%.in}.out")" ]; then
		verdict=accepted
	elif [ "$status" = OK ]; then
		verdict="wrong answer"
	else
		verdict="$status$(jq -r 'if .syscall then " (\(.syscall))" else "" end' "$work/result.json")"
	fi
	[ "$verdict" = accepted ] || failed=1
	echo "test $name: $verdict, $(jq -r '"\(.wall_ms) ms wall, \(.cpu_ms) ms cpu, \(.memory_kb) KiB"' "$work/result.json")"
done
if [ -n "$socket" ] && jq -e '.files[0].ref' "$work/compiled.json" >/dev/null 2>&1; then
	# A judge drops an artifact it is done with; the store would evict it
	# in time anyway.
	printf '{"op":"drop","ref":"%s"}\n' "$(jq -r '.files[0].ref' "$work/compiled.json")" |
		"$WARMBOX" submit --socket "$socket" >/dev/null 2>&1 || true
fi
exit "$failed"
