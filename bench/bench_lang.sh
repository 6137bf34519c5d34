#!/usr/bin/env bash
# bench_lang.sh [-n RUNS] [-W WARMUP] [-o FILE]: what `warmbox run` costs a
# hello world in each of c cpp python java node go rust, against the same
# command run bare on the host (bench/README.md, "Languages").
#
# Each hello (tests/lang/progs/LANG/hello.*, Java: Hello.java) is compiled
# once on the host into a temporary folder (not timed). Then, RUNS rounds
# (default 20, after WARMUP uncounted ones, default 1); in each, for every
# language, in turn:
#   bare     bench_timeit's fork + execve + waitpid of the command, in the
#            artifact's folder, with warmbox's default environment;
#   warmbox  bench_timeit's fork + execve + waitpid of `warmbox run` with the
#            language's policy, procs and memory (as examples/judge/judge.sh),
#            the artifact given with --copy-in, the same command. That is a
#            whole cold warmbox: manager, one zygote, one job, teardown.
#            From its result: wall_ms (the program inside) and memory_kb.
#   daemon   bench_timeit's fork + execve + waitpid of `warmbox submit` of
#            the same job, as JSON with the artifact in files, to a
#            `warmbox serve --zygotes 2` started once for the whole run:
#            a warm zygote, plus the client's own start and connect.
#   ref      the same, the artifact's files by ref: put into the daemon's
#            store once before the runs (SPEC "File store"), as a judge
#            sends a compiled submission to every test.
# bare goes first in odd rounds, warmbox in even ones. Every run must print
# "hello" (and warmbox's result be OK); failed runs are left out of the
# figures, counted, and the first failing result of each language is shown.
#
# The report goes to stdout and to FILE (default
# bench/results/lang-YYYYmmdd-HHMMSS.txt). Exits 1 when a run failed.
# WARMBOX names the warmbox binary (default build/warmbox), TIMEIT the timer
# (default build/bench/bench_timeit, built with cmake when unset and missing
# or older than its sources); both are copied to the temporary folder first.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
usage() { echo "usage: bench_lang.sh [-n RUNS] [-W WARMUP] [-o FILE]" >&2; exit 2; }
runs=20 warmup=1 outpath=
while getopts n:W:o: opt; do
	case $opt in
	n) runs=$OPTARG ;;
	W) warmup=$OPTARG ;;
	o) outpath=$OPTARG ;;
	*) usage ;;
	esac
done
[ $# -eq $((OPTIND - 1)) ] || usage
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $warmup =~ ^[0-9]+$ ]] || usage

die() { echo "bench_lang.sh: $*" >&2; exit 1; }
command -v jq >/dev/null || die "needs jq"
WARMBOX=${WARMBOX:-$root/build/warmbox}
[ -x "$WARMBOX" ] || die "no warmbox binary at $WARMBOX (build it, or set WARMBOX)"
if [ -z "${TIMEIT:-}" ]; then
	# Built only when missing or older than its sources: the build tree may be
	# shared with other work, and a build can re-run cmake's configure.
	TIMEIT=$root/build/bench/bench_timeit
	if [ ! -x "$TIMEIT" ] || [ "$here/timeit.c" -nt "$TIMEIT" ] || [ "$here/benchlib.c" -nt "$TIMEIT" ]; then
		cmake --build "$root/build" --target bench_timeit >/dev/null ||
			die "cannot build bench_timeit (cmake --build build --target bench_timeit)"
	fi
fi
[ -x "$TIMEIT" ] || die "no timer at $TIMEIT"
export WARMBOX_POLICIES=${WARMBOX_POLICIES:-$root/policies}
stamp=$(date +%Y%m%d-%H%M%S)
outpath=${outpath:-$root/bench/results/lang-$stamp.txt}
mkdir -p "$(dirname "$outpath")"

tmp=$(mktemp -d /tmp/bench_lang.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
report=$tmp/report
: >"$report"
say() { printf '%s\n' "$*" | tee -a "$report"; }

# warmbox and the timer are copied here first, so a rebuild of the tree
# during the run cannot swap the binary halfway through.
cp "$WARMBOX" "$tmp/warmbox"
cp "$TIMEIT" "$tmp/timeit"
WARMBOX_SRC=$WARMBOX WARMBOX=$tmp/warmbox TIMEIT=$tmp/timeit

load() { cut -d' ' -f1-3 /proc/loadavg; }
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')
if [ "$commit" != '?' ] && ! git -C "$root" diff --quiet HEAD 2>/dev/null; then
	commit="$commit + uncommitted changes"
fi
say "bench_lang: hello world per language, bare vs warmbox run"
say "command: bench/bench_lang.sh $*"
say "date: $(date '+%Y-%m-%d %H:%M:%S %Z')"
say "kernel: $(uname -r)"
say "cpus: $(nproc) ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))"
say "user: $(id -un) (uid $(id -u))"
say "load avg at start: $(load)"
say "warmbox: $WARMBOX_SRC (commit $commit; sha256 $(sha256sum "$WARMBOX" | cut -c1-12)), run from a copy"
say "runs: $runs per language and variant, after $warmup warm-up round(s) not counted"

# ---- per language: toolchain, build, command, limits ---------------------
# Toolchains are Debian's, in /usr/bin, called by full path (a rustup or
# pyenv earlier in PATH is not used). bins: what must be in /usr/bin; files:
# what --copy-in takes (relative to the language's folder); cmd: the command,
# run in that folder bare and in /box under warmbox; lim: warmbox run's
# limits (judge.sh's).
declare -A bins cmd lim files ver
progs=$root/tests/lang/progs
bins=([c]=gcc [cpp]=g++ [python]=python3 [java]="java javac" [node]=node [go]=go [rust]=rustc)
base='--cpu 2000 --wall 6000'
lim=([c]="$base" [cpp]="$base" [python]="$base" [rust]="$base"
     [java]="$base --procs 32 --memory 512M" [node]="$base --procs 16" [go]="$base --procs 16")
cmd=([c]=./hello [cpp]=./hello [rust]=./hello [go]=./hello
     [python]="/usr/bin/python3 hello.py" [node]="/usr/bin/node hello.js"
     [java]="/usr/bin/java -Xmx256m -Xss64m -XX:+UseSerialGC -cp . Hello")

build() { # LANG DIR: compile (or copy) the hello into DIR
	local l=$1 d=$2
	case $l in
	c)      /usr/bin/gcc -O2 -o "$d/hello" "$progs/c/hello.c" -lm ;;
	cpp)    /usr/bin/g++ -O2 -std=c++17 -o "$d/hello" "$progs/cpp/hello.cpp" ;;
	rust)   /usr/bin/rustc -O -C strip=debuginfo -o "$d/hello" "$progs/rust/hello.rs" ;;
	go)     (cd "$d" && cp "$progs/go/hello.go" . &&
	         GOCACHE=$tmp/gocache GOPATH=$tmp/gopath GOFLAGS=-modcacherw \
	         /usr/bin/go build -o hello hello.go && rm hello.go) ;;
	python) cp "$progs/python/hello.py" "$d/" ;;
	node)   cp "$progs/node/hello.js" "$d/" ;;
	java)   /usr/bin/javac -d "$d" "$progs/java/Hello.java" ;;
	esac
}
version() {
	case $1 in
	c)      /usr/bin/gcc --version | head -1 ;;
	cpp)    /usr/bin/g++ --version | head -1 ;;
	python) /usr/bin/python3 --version 2>&1 ;;
	java)   /usr/bin/java -version 2>&1 | head -1 ;;
	node)   echo "node $(/usr/bin/node --version)" ;;
	go)     /usr/bin/go version ;;
	rust)   /usr/bin/rustc --version ;;
	esac
}

langs=()
say ""
say "languages:"
for l in c cpp python java node go rust; do
	missing=
	for b in ${bins[$l]}; do
		[ -x "/usr/bin/$b" ] || missing="$missing /usr/bin/$b"
	done
	if [ -n "$missing" ]; then
		say "  $l: skipped, no$missing"
		continue
	fi
	mkdir "$tmp/$l"
	if ! build "$l" "$tmp/$l" >"$tmp/$l.build" 2>&1; then
		say "  $l: skipped, the hello did not build:"
		sed 's/^/    /' "$tmp/$l.build" | head -20 | tee -a "$report"
		continue
	fi
	files[$l]=$(cd "$tmp/$l" && ls)
	ver[$l]=$(version "$l")
	langs+=("$l")
	# shellcheck disable=SC2086
	say "  $l: ${ver[$l]}; $(cd "$tmp/$l" && du -b ${files[$l]} | awk '{ printf "%s%s %d bytes", (NR > 1 ? ", " : ""), $2, $1 }')"
	say "    bare:    ${cmd[$l]}"
	copyin=
	for f in ${files[$l]}; do copyin="$copyin --copy-in $tmp/$l/$f:$f"; done
	say "    warmbox: warmbox run --policy $l ${lim[$l]}$copyin -- ${cmd[$l]}"
done
[ ${#langs[@]} -gt 0 ] || die "no language has its toolchain"

# ---- the daemon: one warm pool for the whole run ----------------------------
# Each language's job is the JSON judge.sh would send: the artifact in
# files (mode 0755), the command, the policy, the limits above.
declare -A jprocs=([java]=32 [node]=16 [go]=16) jmem=([java]=524288)
for l in "${langs[@]}"; do
	# shellcheck disable=SC2086
	argv=$(printf '%s\n' ${cmd[$l]} | jq -R . | jq -sc .)
	jq -n --arg l "$l" --argjson procs "${jprocs[$l]:-1}" --argjson mem "${jmem[$l]:-262144}" \
	      --argjson argv "$argv" '{id: $l, argv: $argv, policy: $l,
		limits: {cpu_ms: 2000, wall_ms: 6000, procs: $procs, memory_kb: $mem}}' >"$tmp/$l.job0"
	for f in ${files[$l]}; do
		base64 -w0 "$tmp/$l/$f" >"$tmp/$l.b64"
		jq --arg p "$f" --rawfile b "$tmp/$l.b64" '.files += [{path: $p, base64: $b, mode: 493}]' \
			"$tmp/$l.job0" >"$tmp/$l.job1" && mv "$tmp/$l.job1" "$tmp/$l.job0"
	done
	jq -c . "$tmp/$l.job0" >"$tmp/$l.job"
	rm -f "$tmp/$l.job0" "$tmp/$l.b64"
done
"$WARMBOX" serve --socket "$tmp/sock" --zygotes 2 --log-level warn 2>"$tmp/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -S "$tmp/sock" ] && break; sleep 0.05; done
[ -S "$tmp/sock" ] || die "warmbox serve did not start: $(cat "$tmp/serve.log")"
say "    daemon:  warmbox submit --socket SOCK JOB (the job as JSON, to warmbox serve --zygotes 2)"
# The same jobs with each file by ref, put once now.
for l in "${langs[@]}"; do
	cp "$tmp/$l.job" "$tmp/$l.refjob"
	for f in ${files[$l]}; do
		ref=$("$WARMBOX" put --socket "$tmp/sock" "$tmp/$l/$f") || die "warmbox put $l/$f failed"
		jq -c --arg p "$f" --arg r "$ref" '.files |= map(if .path == $p then {path, mode, ref: $r} else . end)' \
			"$tmp/$l.refjob" >"$tmp/$l.refjob1" && mv "$tmp/$l.refjob1" "$tmp/$l.refjob"
	done
done
say "    ref:     warmbox submit --socket SOCK JOB (the same, its files by ref, put once before the runs)"

# ---- the runs --------------------------------------------------------------
# Per language: $tmp/L.bare (us), $tmp/L.wb (us, wall_ms, memory_kb), one
# line per counted OK run; $tmp/L.fail counts failures; $tmp/L.failed the
# first failing run's output.
envbare=(env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8)
accounting=
fail() { # LANG WHAT FILE
	echo x >>"$tmp/$1.fail"
	if [ ! -e "$tmp/$1.failed" ]; then
		{ echo "$2"; cat "$3"; echo; } >"$tmp/$1.failed"
		echo "bench_lang.sh: $1 $2 failed: $(head -c 2000 "$3")" >&2
	fi
}
run_bare() { # LANG COUNT
	local l=$1 count=$2 t code
	# shellcheck disable=SC2086
	read -r t code < <(cd "$tmp/$l" || exit; "${envbare[@]}" HOME="$tmp/$l" \
		"$TIMEIT" -o "$tmp/out" -- ${cmd[$l]} || true)
	if [ "$code" = 0 ] && [ "$(cat "$tmp/out")" = hello ]; then
		[ "$count" = 0 ] || echo "$t" >>"$tmp/$l.bare"
	else
		{ echo "exit status $code, stdout:"; cat "$tmp/out"; } >"$tmp/out2"
		fail "$l" "bare run" "$tmp/out2"
	fi
}
run_wb() { # LANG COUNT
	local l=$1 count=$2 t code r copyin=() f
	for f in ${files[$l]}; do copyin+=(--copy-in "$tmp/$l/$f:$f"); done
	# shellcheck disable=SC2086
	read -r t code < <("$TIMEIT" -o "$tmp/out" -- "$WARMBOX" run --policy "$l" ${lim[$l]} \
		"${copyin[@]}" -- ${cmd[$l]} || true)
	r=$(jq -r '[.status, (.stdout == "hello\n"), .wall_ms, .memory_kb, .accounting] | @tsv' \
		"$tmp/out" 2>/dev/null || true)
	read -r st okout wall mem acc <<<"$r"
	if [ "$code" = 0 ] && [ "${st:-}" = OK ] && [ "${okout:-}" = true ]; then
		[ "$count" = 0 ] || echo "$t $wall $mem" >>"$tmp/$l.wb"
		case $accounting in
		"") accounting=$acc ;;
		"$acc") ;;
		*) accounting=mixed ;;
		esac
	else
		[ -s "$tmp/out" ] || [ "$code" != 127 ] ||
			echo "(exit status 127 and no output: the timer could not execve warmbox)" >"$tmp/out"
		fail "$l" "warmbox run (exit status $code)" "$tmp/out"
	fi
}

run_daemon() { # LANG COUNT [ref]
	local l=$1 count=$2 t code r job=$tmp/$1.job out=$tmp/$1.dm
	[ "${3:-}" != ref ] || { job=$tmp/$l.refjob; out=$tmp/$l.rf; }
	read -r t code < <("$TIMEIT" -o "$tmp/out" -- "$WARMBOX" submit --socket "$tmp/sock" "$job" || true)
	r=$(jq -r '[.status, (.stdout == "hello\n"), .wall_ms, .memory_kb] | @tsv' "$tmp/out" 2>/dev/null || true)
	read -r st okout wall mem <<<"$r"
	if [ "$code" = 0 ] && [ "${st:-}" = OK ] && [ "${okout:-}" = true ]; then
		[ "$count" = 0 ] || echo "$t $wall $mem" >>"$out"
	else
		fail "$l" "warmbox submit${3:+ by ref} (exit status $code)" "$tmp/out"
	fi
}

total=$((warmup + runs))
for ((i = 1; i <= total; i++)); do
	count=1
	[ "$i" -gt "$warmup" ] || count=0
	printf 'bench_lang.sh: round %d/%d%s\n' "$i" "$total" "$([ $count = 1 ] || echo ' (warm-up)')" >&2
	for l in "${langs[@]}"; do
		if ((i % 2)); then
			run_bare "$l" $count; run_wb "$l" $count; run_daemon "$l" $count; run_daemon "$l" $count ref
		else
			run_daemon "$l" $count ref; run_daemon "$l" $count; run_wb "$l" $count; run_bare "$l" $count
		fi
	done
done
rm -f "$tmp/out" "$tmp/out2"

# ---- the report ------------------------------------------------------------
# stats FILE COLUMN: "n p50 p90" (nearest rank, as benchlib), or "0 - -".
stats() {
	[ -s "$1" ] || { echo "0 - -"; return; }
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '
		{ v[NR] = $1 }
		END { n = NR; print n, v[int((50 * n + 99) / 100)], v[int((90 * n + 99) / 100)] }'
}
ms() { if [ "$1" = - ]; then echo -; else awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; fi; }

say ""
say "accounting: ${accounting:-none (no warmbox run succeeded)}"
say ""
say "wall time per run, milliseconds (nearest-rank percentiles over the OK runs)"
say "  bare: fork -> waitpid of the command; warmbox run: fork -> waitpid of the whole"
say "  \`warmbox run\` (manager, one zygote, the job, teardown); inside: the result's wall_ms;"
say "  daemon: fork -> waitpid of \`warmbox submit\` of the job to a warm \`warmbox serve\`;"
say "  ref: the same with the job's files by ref"
hdr=$(printf '  %-7s %5s %9s %9s %9s %9s %9s %9s %9s %9s %8s %8s %9s %9s %9s %9s' \
	lang ok bare_p50 bare_p90 run_p50 run_p90 dmn_p50 dmn_p90 ref_p50 ref_p90 in_p50 in_p90 run/bare dmn/bare \
	ref/bare mem_kb_p50)
say "$hdr"
failed=0
for l in "${langs[@]}"; do
	read -r nb bp50 bp90 < <(stats "$tmp/$l.bare" 1)
	read -r nw wp50 wp90 < <(stats "$tmp/$l.wb" 1)
	read -r _ ip50 ip90 < <(stats "$tmp/$l.wb" 2)
	read -r _ mp50 _ < <(stats "$tmp/$l.wb" 3)
	read -r nd dp50 dp90 < <(stats "$tmp/$l.dm" 1)
	read -r nr rp50 rp90 < <(stats "$tmp/$l.rf" 1)
	ratio=- dratio=- rratio=-
	[ "$bp50" = - ] || [ "$wp50" = - ] || ratio=$(awk -v a="$wp50" -v b="$bp50" 'BEGIN { printf "%.1f", a / b }')
	[ "$bp50" = - ] || [ "$dp50" = - ] || dratio=$(awk -v a="$dp50" -v b="$bp50" 'BEGIN { printf "%.2f", a / b }')
	[ "$bp50" = - ] || [ "$rp50" = - ] || rratio=$(awk -v a="$rp50" -v b="$bp50" 'BEGIN { printf "%.2f", a / b }')
	ok=$((nb < nw ? nb : nw))
	ok=$((ok < nd ? ok : nd))
	ok=$((ok < nr ? ok : nr))
	line=$(printf '  %-7s %5s %9s %9s %9s %9s %9s %9s %9s %9s %8s %8s %9s %9s %9s %9s' "$l" "$ok/$runs" \
		"$(ms "$bp50")" "$(ms "$bp90")" "$(ms "$wp50")" "$(ms "$wp90")" "$(ms "$dp50")" "$(ms "$dp90")" \
		"$(ms "$rp50")" "$(ms "$rp90")" "$ip50" "$ip90" "$ratio" "$dratio" "$rratio" "$mp50")
	say "$line"
	[ ! -e "$tmp/$l.fail" ] || failed=1
done
for l in "${langs[@]}"; do
	if [ -e "$tmp/$l.failed" ]; then
		say ""
		say "$l: $(wc -l <"$tmp/$l.fail") failed run(s); the first:"
		sed 's/^/  /' "$tmp/$l.failed" | tee -a "$report"
	fi
done
say ""
say "load avg at end: $(load)"
cp "$report" "$outpath"
echo "report: $outpath" >&2
exit "$failed"
