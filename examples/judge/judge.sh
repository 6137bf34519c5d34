#!/usr/bin/env bash
# judge.sh LANG: the flow of an online judge, through warmbox, for one of
# c cpp python java node go rust. Compiles examples/judge/LANG's solution
# inside the sandbox with the "compile" policy, takes the artifact out with
# copy_out, runs it on every tests/N.in with the language's own policy and
# compares the output with tests/N.out. Prints one line per step and exits
# 0 when every test is accepted, 1 otherwise, 2 on bad usage.
#
# Jobs are JSON, as a judge would send them to `warmbox serve`; here each is
# run with `warmbox run --job -`. WARMBOX names the binary (default: the
# build/ of this tree, else warmbox in PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
WARMBOX=${WARMBOX:-$root/build/warmbox}
[ -x "$WARMBOX" ] || WARMBOX=$(command -v warmbox || true)
[ -n "$WARMBOX" ] || { echo "judge.sh: no warmbox binary (set WARMBOX)" >&2; exit 2; }
export WARMBOX_POLICIES=${WARMBOX_POLICIES:-$root/policies}
command -v jq >/dev/null || { echo "judge.sh: needs jq" >&2; exit 2; }

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

# artifact.json holds the "files" entry the run jobs get.
if [ -n "$compile" ]; then
	jq -n --arg src "$src" --rawfile text "$here/$lang/$src" --arg out "$out" \
	      --argjson argv "$compile" --argjson env "$env_json" '{
		id: "compile", argv: $argv, env: $env, policy: "compile",
		files: [{path: $src, content: $text}],
		limits: {cpu_ms: 20000, wall_ms: 60000, memory_kb: 1048576, procs: 64,
		         file_size_kb: 65536, output_kb: 64},
		copy_out: [$out]}' >"$work/compile.json"
	"$WARMBOX" run --job - <"$work/compile.json" >"$work/compiled.json"
	status=$(jq -r .status "$work/compiled.json")
	echo "compile $lang: $status$(jq -r 'if .syscall then " (\(.syscall))" else "" end' "$work/compiled.json"), $(jq -r '"\(.wall_ms) ms wall, \(.cpu_ms) ms cpu, \(.memory_kb) KiB"' "$work/compiled.json")"
	if [ "$status" != OK ] || ! jq -e '.files[0].base64' "$work/compiled.json" >/dev/null; then
		echo "compile $lang: failed (compilation error):"
		jq -r '.stderr, .error // empty' "$work/compiled.json" | head -20
		exit 1
	fi
	jq '[.files[0] | {path, base64, mode: 493}]' "$work/compiled.json" >"$work/artifact.json"
else
	jq -n --arg src "$src" --rawfile text "$here/$lang/$src" \
	      '[{path: $src, content: $text}]' >"$work/artifact.json"
fi

failed=0
for input in "$here"/tests/*.in; do
	name=$(basename "$input" .in)
	jq -n --rawfile stdin "$input" --slurpfile files "$work/artifact.json" \
	      --argjson argv "$run" --arg lang "$lang" --argjson env "$env_json" \
	      --argjson procs "$procs" --argjson mem "$mem" '{
		id: "test \($lang)", argv: $argv, env: $env, policy: $lang,
		files: $files[0], stdin: $stdin,
		limits: {cpu_ms: 2000, wall_ms: 6000, memory_kb: $mem, procs: $procs}}' >"$work/run.json"
	"$WARMBOX" run --job - <"$work/run.json" >"$work/result.json"
	status=$(jq -r .status "$work/result.json")
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
exit "$failed"
