#!/usr/bin/env bash
# bench_judge.sh [-t TESTS] [-k ROUNDS] [-o FILE]: what one submission costs
# a judge, end to end: examples/judge/cpp/sum.cpp compiled once and run on
# TESTS tests (default 50), in three ways, interleaved over ROUNDS rounds
# (default 5, the order rotating):
#   bare     g++ on the host, then each test run directly;
#   bwrap    the same compile inside bubblewrap (Debian's), then each test
#            in a bubblewrap of its own with the artifact bound read-only
#            (the binds of benchlib's bench_bwrap_argv, /box writable);
#   warmbox  a warm `warmbox serve --zygotes 2` started once: one `warmbox
#            submit` of the compile job keeping its artifact in the store,
#            then one `warmbox submit` of every test by ref.
# Timed: wall clock from the compile's start to the last test's output.
# Every output is checked against the expected sum afterwards; a round
# with a wrong answer is not counted. The report (medians; bench/README.md
# "A judge run") goes to stdout and FILE (default
# bench/results/judge-YYYYmmdd-HHMMSS.txt). WARMBOX names the binary.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
usage() { echo "usage: bench_judge.sh [-t TESTS] [-k ROUNDS] [-o FILE]" >&2; exit 2; }
tests=50 rounds=5 outpath=
while getopts t:k:o: opt; do
	case $opt in
	t) tests=$OPTARG ;;
	k) rounds=$OPTARG ;;
	o) outpath=$OPTARG ;;
	*) usage ;;
	esac
done
[ $# -eq $((OPTIND - 1)) ] || usage
[[ $tests =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || usage
die() { echo "bench_judge.sh: $*" >&2; exit 1; }
for b in jq /usr/bin/g++ /usr/bin/bwrap; do command -v "$b" >/dev/null || die "needs $b"; done
WARMBOX=${WARMBOX:-$root/build/warmbox}
[ -x "$WARMBOX" ] || die "no warmbox binary at $WARMBOX (build it, or set WARMBOX)"
export WARMBOX_POLICIES=${WARMBOX_POLICIES:-$root/policies}
outpath=${outpath:-$root/bench/results/judge-$(date +%Y%m%d-%H%M%S).txt}
src=$root/examples/judge/cpp/sum.cpp

tmp=$(mktemp -d /tmp/bench_judge.XXXXXX)
chmod 755 "$tmp"
serve_pid=
cleanup() {
	if [ -n "$serve_pid" ]; then
		kill "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$WARMBOX" "$tmp/warmbox"
report=$tmp/report
: >"$report"
say() { printf '%s\n' "$*" | tee -a "$report"; }
now_us() { echo $(($(date +%s%N) / 1000)); }

# ---- the tests: TESTS inputs of 1000 integers each, their sums -----------
mkdir "$tmp/in"
for ((i = 1; i <= tests; i++)); do
	awk -v seed="$i" 'BEGIN { srand(seed); s = 0
		for (j = 0; j < 1000; j++) { x = int(rand() * 2000001) - 1000000; s += x; printf "%d ", x }
		printf "\n"; print s > "/dev/stderr" }' >"$tmp/in/$i.in" 2>"$tmp/in/$i.out"
done

# ---- bare and bwrap ------------------------------------------------------
bwrap_base=(/usr/bin/bwrap --unshare-all --die-with-parent --new-session --ro-bind /usr /usr)
for top in /bin /lib /lib64 /lib32 /libx32 /sbin; do
	if [ -L "$top" ]; then
		bwrap_base+=(--symlink "$(readlink "$top")" "$top")
	elif [ -d "$top" ]; then
		bwrap_base+=(--ro-bind "$top" "$top")
	fi
done
for f in /etc/ld.so.cache /etc/localtime /etc/nsswitch.conf /etc/alternatives; do
	[ -e "$f" ] && bwrap_base+=(--ro-bind "$f" "$f")
done
bwrap_base+=(--proc /proc --dev /dev --tmpfs /tmp --setenv PATH /usr/bin:/bin)

# compile_WAY DIR: sum.cpp in DIR compiled; tests_WAY DIR: every test run,
# its output in DIR (N.got, or results.ndjson).
compile_bare() {
	(cd "$1" && /usr/bin/g++ -O2 -std=c++17 -o sum sum.cpp)
}
tests_bare() {
	local d=$1 i
	for ((i = 1; i <= tests; i++)); do
		"$d/sum" <"$tmp/in/$i.in" >"$d/$i.got"
	done
}
compile_bwrap() {
	"${bwrap_base[@]}" --bind "$1" /box --chdir /box /usr/bin/g++ -O2 -std=c++17 -o sum sum.cpp
}
tests_bwrap() {
	local d=$1 i
	for ((i = 1; i <= tests; i++)); do
		"${bwrap_base[@]}" --tmpfs /box --ro-bind "$d/sum" /box/sum --chdir /box ./sum \
			<"$tmp/in/$i.in" >"$d/$i.got"
	done
}

# ---- warmbox -------------------------------------------------------------
"$tmp/warmbox" serve --socket "$tmp/sock" --zygotes 2 --log-level warn 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [ -S "$tmp/sock" ] && break; sleep 0.05; done
[ -S "$tmp/sock" ] || die "warmbox serve did not start: $(cat "$tmp/serve.log")"
jq -nc --rawfile text "$src" '{id: "compile", argv: ["g++", "-O2", "-std=c++17", "-o", "sum", "sum.cpp"],
	policy: "compile", env: {PATH: "/usr/bin:/bin", HOME: "/tmp"},
	files: [{path: "sum.cpp", content: $text}],
	limits: {cpu_ms: 20000, wall_ms: 60000, memory_kb: 1048576, procs: 64, file_size_kb: 65536},
	copy_out: [{path: "sum", keep: true}]}' >"$tmp/compile.json"
# The test jobs, their ref filled in after the compile (a sed, not timed
# apart: it is a judge's own work too).
for ((i = 1; i <= tests; i++)); do
	jq -nc --arg id "$i" --rawfile in "$tmp/in/$i.in" '{id: $id, argv: ["./sum"], policy: "cpp",
		files: [{path: "sum", ref: "@REF@", mode: 493}], stdin: $in,
		limits: {cpu_ms: 2000, wall_ms: 6000}}'
done >"$tmp/tests.tmpl"
compile_warmbox() {
	"$tmp/warmbox" submit --socket "$tmp/sock" "$tmp/compile.json" >"$1/compiled.json" || true
}
tests_warmbox() {
	local d=$1 ref
	ref=$(jq -r '.files[0].ref // empty' "$d/compiled.json")
	[ -n "$ref" ] || return 0
	sed "s/@REF@/$ref/" "$tmp/tests.tmpl" >"$d/tests.ndjson"
	"$tmp/warmbox" submit --socket "$tmp/sock" "$d/tests.ndjson" >"$d/results.ndjson" || true
	printf '{"op":"drop","ref":"%s"}\n' "$ref" | "$tmp/warmbox" submit --socket "$tmp/sock" >/dev/null || true
}

# correct WAY DIR: every test's output is its sum.
correct() {
	local way=$1 d=$2 i
	if [ "$way" = warmbox ]; then
		[ "$(jq -s 'length' "$d/results.ndjson" 2>/dev/null)" = "$tests" ] || return 1
		jq -r '"\(.id) \(.status) \(.stdout | rtrimstr("\n"))"' "$d/results.ndjson" | while read -r i st got; do
			[ "$st" = OK ] && [ "$got" = "$(cat "$tmp/in/$i.out")" ] || { echo bad; break; }
		done | grep -q bad && return 1
		return 0
	fi
	for ((i = 1; i <= tests; i++)); do
		[ "$(cat "$d/$i.got")" = "$(cat "$tmp/in/$i.out")" ] || return 1
	done
}

# ---- the rounds ----------------------------------------------------------
load() { cut -d' ' -f1-3 /proc/loadavg; }
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$root" diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
say "bench_judge: one C++ submission compiled once and run on $tests tests"
say "command: bench/bench_judge.sh $*"
say "date: $(date '+%Y-%m-%d %H:%M:%S %Z'); kernel $(uname -r); $(nproc) CPUs; load $(load) at start"
say "warmbox: $WARMBOX (commit $commit), run from a copy; $(/usr/bin/bwrap --version); $(/usr/bin/g++ --version | head -1)"
say "program: examples/judge/cpp/sum.cpp; tests: 1000 random integers each"
ways=(bare bwrap warmbox)
declare -A times ctimes ttimes
for ((r = 0; r < rounds; r++)); do
	for ((w = 0; w < 3; w++)); do
		way=${ways[$(((r + w) % 3))]}
		d=$tmp/$way.$r
		mkdir "$d"
		cp "$src" "$d/sum.cpp"
		t0=$(now_us)
		"compile_$way" "$d"
		tc=$(now_us)
		"tests_$way" "$d"
		t1=$(now_us)
		if correct "$way" "$d"; then
			times[$way]="${times[$way]:-} $((t1 - t0))"
			ctimes[$way]="${ctimes[$way]:-} $((tc - t0))"
			ttimes[$way]="${ttimes[$way]:-} $((t1 - tc))"
		else
			say "round $r: $way gave a wrong answer or none; not counted"
		fi
		rm -rf "$d"
	done
	echo "bench_judge.sh: round $((r + 1))/$rounds" >&2
done

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
say ""
say "wall time per submission, milliseconds, median of the counted rounds: the whole"
say "(compile + $tests tests), the compile alone, the tests alone; each a median of its own"
say "$(printf '  %-8s %6s %9s %9s %9s %9s %9s   %s' way rounds whole compile tests per_test whole/bare 'each whole')"
bare_med=
for way in "${ways[@]}"; do
	# shellcheck disable=SC2086
	set -- ${times[$way]:-}
	if [ $# -eq 0 ]; then
		say "  $way: no round counted"
		continue
	fi
	m=$(median "$@")
	# shellcheck disable=SC2086
	c=$(median ${ctimes[$way]})
	# shellcheck disable=SC2086
	t=$(median ${ttimes[$way]})
	[ "$way" != bare ] || bare_med=$m
	say "$(printf '  %-8s %6d %9s %9s %9s %9s %9s   %s' "$way" $# "$(ms "$m")" "$(ms "$c")" "$(ms "$t")" \
		"$(awk -v u="$t" -v t="$tests" 'BEGIN { printf "%.2f", u / 1000 / t }')" \
		"$(awk -v a="$m" -v b="${bare_med:-$m}" 'BEGIN { printf "%.2f", a / b }')" \
		"$(for x in "$@"; do printf '%d ' $((x / 1000)); done)")"
done
say "load $(load) at end"
cp "$report" "$outpath"
echo "report: $outpath" >&2
