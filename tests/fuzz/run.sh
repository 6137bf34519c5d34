#!/usr/bin/env bash
# Runs a libFuzzer binary for a fixed time: run.sh BINARY SECONDS [EXTRA...].
# The corpus lives in a temporary directory that is removed afterwards;
# crash reproducers are written to the current directory (libFuzzer's
# default), so CI can keep them as artifacts.
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 BINARY SECONDS [LIBFUZZER-OPTIONS...]" >&2
	exit 2
fi
bin=$1
secs=$2
shift 2
case $secs in
	''|*[!0-9]*) echo "$0: SECONDS must be a whole number: $secs" >&2; exit 2 ;;
esac
if [ ! -x "$bin" ]; then
	echo "$0: not an executable: $bin" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wbfuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
mkdir "$tmp/corpus"

# Seeds and a dictionary per target, so that a fuzzer starts from real
# inputs rather than rediscovering the field names byte by byte.
here=$(cd "$(dirname "$0")" && pwd)
dict=()
case $(basename "$bin") in
fuzz_job)
	printf '%s' '{"argv":["/bin/true"]}' >"$tmp/corpus/minimal"
	printf '%s' '{"id":"x","argv":["/usr/bin/python3","main.py"],"env":{"LANG":"C.UTF-8"},"cwd":"/box","files":[{"path":"main.py","content":"print(input())\n"},{"path":"a.out","base64":"f0VMRgIB","mode":493}],"stdin":"42\n","limits":{"cpu_ms":1000,"wall_ms":3000,"memory_kb":262144,"procs":1,"output_kb":64,"file_size_kb":1024,"stack_kb":65536},"policy":"default","network":false,"copy_out":["out.txt"]}' >"$tmp/corpus/spec"
	printf '%s' '{"argv":["a"],"stdin":{"base64":"AAEC\n/w=="},"limits":{"cpu_ms":2.0e3}}' >"$tmp/corpus/stdin"
	cat >"$tmp/dict" <<'DICT'
"\"id\""
"\"argv\""
"\"env\""
"\"cwd\""
"\"files\""
"\"path\""
"\"content\""
"\"base64\""
"\"mode\""
"\"stdin\""
"\"limits\""
"\"cpu_ms\""
"\"wall_ms\""
"\"memory_kb\""
"\"procs\""
"\"output_kb\""
"\"file_size_kb\""
"\"stack_kb\""
"\"policy\""
"\"network\""
"\"copy_out\""
"\"..\""
"\"/\""
"\"\\u0000\""
"true"
"false"
"null"
"9007199254740993"
DICT
	dict=(-dict="$tmp/dict")
	;;
fuzz_policy)
	# The shipped policies, and their field names.
	cp "$here/../../policies/"*.json "$tmp/corpus/"
	cat >"$tmp/dict" <<'DICT'
"\"description\""
"\"default_action\""
"\"allow\""
"\"errno\""
"\"binds\""
"\"kill\""
"\"EPERM\""
" if arg0 == "
" & "
"\"?/usr\""
DICT
	dict=(-dict="$tmp/dict")
	;;
esac

# libFuzzer reports every new input; keep its log and show the end, which
# holds the final statistics or the crash report.
status=0
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	"${dict[@]}" "$@" "$tmp/corpus" >"$tmp/log" 2>&1 || status=$?
tail -n 40 "$tmp/log"
echo "fuzz: $(basename "$bin") ran ${secs}s, exit status $status"
exit "$status"
