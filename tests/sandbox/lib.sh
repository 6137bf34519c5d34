# lib.sh: shared helpers of the sandbox tests; sourced, never run.
#
# Environment (set by tests/CMakeLists.txt):
#   WB          the warmbox binary
#   PROGS       directory of the test programs (tests/progs/*.c)
#   WB_POLICIES the policies directory of the source tree
#   WB_AS_USER  when set (65534), warmbox runs through setpriv as that uid:
#               rootless mode (user namespaces, rlimit accounting)
# Set by the VM suite (tests/vm/guest-suite.sh), per deployment shape:
#   WB_LAUNCH   a command prefix for warmbox run/serve/learn (tests/vm/alone.sh
#               PARENT: each warmbox alone in a cgroup of its own)
#   WB_EXPECT_ACCOUNTING  the accounting every result must show; a result
#               that shows another is a failed check
#
# A script is a list of cases: functions named case_NAME, each a few checks
# on its own, and a last line `run_cases "$@"`: `bash SCRIPT NAME` runs
# case_NAME alone (one ctest entry per case, tests/CMakeLists.txt finds them
# with the regex ^case_[a-z0-9_]+\(\)), no argument runs them all in file
# order. wb_run ARGS... runs "warmbox ARGS..." and leaves stdout in $OUT,
# stderr in $ERR, the exit status in $RC and the elapsed time in $ELAPSED_MS.
# The expect_* helpers each count one check and print the full result on
# failure. The output is TAP; the exit status 1 if any check failed or none
# ran at all.

set -u

: "${WB:?WB must name the warmbox binary}"
: "${PROGS:?PROGS must name the test programs directory}"
if [ -n "${WB_POLICIES:-}" ]; then
	export WARMBOX_POLICIES="$WB_POLICIES"
fi

WB_NAME=$(basename "$0" .sh)
WB_N=0
WB_PASSED=0
WB_FAILED=0
WB_SKIPPED=0
WB_CMD=""
OUT=""
ERR=""
RC=""
ELAPSED_MS=0
WB_RUN_TIMEOUT=${WB_RUN_TIMEOUT:-60}
WB_PIDS=""   # host processes a test started, ended by pid in the trap
# shellcheck disable=SC2206 # a command prefix, split on purpose
WB_LAUNCH=(${WB_LAUNCH:-})

# A scratch directory readable by uid 65534 (rootless mode reads --stdin,
# --job and --copy-in files from it); removed by the trap.
# The pid in its name lets leftovers.sh tell a live script's from a leak.
WB_TMP=$(mktemp -d "/tmp/wbtest.$$.XXXXXX") || exit 1
chmod 755 "$WB_TMP"

wb_cleanup() {
	local pid
	for pid in $WB_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $WB_PIDS; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$WB_TMP"
}
trap wb_cleanup EXIT
trap 'exit 130' INT TERM

mode() {
	if [ -n "${WB_AS_USER:-}" ]; then echo rootless; else echo root; fi
}

# as_user CMD...: runs CMD as the tested uid (itself when not rootless).
as_user() {
	if [ -n "${WB_AS_USER:-}" ]; then
		setpriv --reuid "$WB_AS_USER" --regid "$WB_AS_USER" --clear-groups -- "$@"
	else
		"$@"
	fi
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wb_run ARGS...: warmbox ARGS, under a timeout (RC 124 means it hung).
wb_run() {
	local t0 t1
	WB_CMD="warmbox $*"
	[ -n "${WB_AS_USER:-}" ] && WB_CMD="setpriv --reuid $WB_AS_USER ... $WB_CMD"
	t0=$(now_ms)
	as_user timeout -k 5 "$WB_RUN_TIMEOUT" "${WB_LAUNCH[@]}" "$WB" "$@" >"$WB_TMP/out" 2>"$WB_TMP/err" </dev/null
	RC=$?
	t1=$(now_ms)
	ELAPSED_MS=$((t1 - t0))
	OUT=$(cat "$WB_TMP/out")
	ERR=$(cat "$WB_TMP/err")
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		echo "NOTE: warmbox did not finish within ${WB_RUN_TIMEOUT}s: $WB_CMD"
	fi
	check_accounting
}

# check_accounting: with WB_EXPECT_ACCOUNTING set, a result naming another
# accounting is a failed check (one that names it counts nothing: the
# tests' own checks are the count).
check_accounting() {
	local got
	[ -n "${WB_EXPECT_ACCOUNTING:-}" ] || return 0
	got=$(printf '%s' "$OUT" | jq -r '.accounting? // empty' 2>/dev/null | head -n 1)
	if [ -n "$got" ] && [ "$got" != "$WB_EXPECT_ACCOUNTING" ]; then
		fail "accounting $WB_EXPECT_ACCOUNTING in this shape" "got $got"
	fi
}

# wb_run_stdin FILE ARGS...: as wb_run, with FILE as warmbox's own stdin
# (for --job -).
wb_run_stdin() {
	local in=$1 t0 t1
	shift
	WB_CMD="warmbox $* < $in"
	t0=$(now_ms)
	as_user timeout -k 5 "$WB_RUN_TIMEOUT" "${WB_LAUNCH[@]}" "$WB" "$@" >"$WB_TMP/out" 2>"$WB_TMP/err" <"$in"
	RC=$?
	t1=$(now_ms)
	ELAPSED_MS=$((t1 - t0))
	OUT=$(cat "$WB_TMP/out")
	ERR=$(cat "$WB_TMP/err")
	check_accounting
}

# jf EXPR: jq -r EXPR on the last result ("<no json>" when it is not JSON).
jf() {
	printf '%s' "$OUT" | jq -r "$1" 2>/dev/null || echo "<no json>"
}

pass() {
	WB_N=$((WB_N + 1))
	WB_PASSED=$((WB_PASSED + 1))
	echo "ok $WB_N - $1"
}

# fail DESC [DETAIL]: one failed check, with the command and full result as
# TAP diagnostics.
fail() {
	WB_N=$((WB_N + 1))
	WB_FAILED=$((WB_FAILED + 1))
	echo "not ok $WB_N - $1"
	{
		[ $# -gt 1 ] && echo "$2"
		echo "mode:    $(mode)"
		echo "command: $WB_CMD"
		echo "exit:    $RC"
		if [ ${#OUT} -le 8000 ]; then
			echo "stdout:  $OUT"
		else
			echo "stdout:  ${OUT:0:8000}... (${#OUT} characters)"
		fi
		echo "stderr:  $(printf '%s' "$ERR" | head -c 2000)"
	} | sed 's/^/#   /'
}

# skip DESC REASON: a check that cannot be made here; never counted as passed.
skip() {
	WB_N=$((WB_N + 1))
	WB_SKIPPED=$((WB_SKIPPED + 1))
	echo "ok $WB_N - $1 # SKIP $2"
}

# skip_all REASON: the whole script cannot run here.
skip_all() {
	echo "1..0 # SKIP $1"
	exit 77
}

check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

expect_rc() {
	if [ "$RC" = "$1" ]; then
		pass "${2:-exit status $1}"
	else
		fail "${2:-exit status $1}" "expected exit status $1, got $RC"
	fi
}

# expect_field EXPR VALUE [DESC]: jq -r EXPR of the result equals VALUE.
expect_field() {
	local got
	got=$(jf "$1")
	if [ "$got" = "$2" ]; then
		pass "${3:-$1 == $2}"
	else
		fail "${3:-$1 == $2}" "expected $1 = '$2', got '$got'"
	fi
}

# expect_jq BOOLEXPR DESC: jq -e BOOLEXPR holds on the result. An empty
# result fails: jq 1.6's -e exits 0 when there is no input at all.
expect_jq() {
	if [ -n "$OUT" ] && printf '%s' "$OUT" | jq -e "$1" >/dev/null 2>&1; then
		pass "$2"
	else
		fail "$2" "expected: $1"
	fi
}

# expect_range EXPR LO HI [DESC]: LO <= number <= HI.
expect_range() {
	local got
	got=$(jf "$1")
	if [[ "$got" =~ ^[0-9]+$ ]] && [ "$got" -ge "$2" ] && [ "$got" -le "$3" ]; then
		pass "${4:-$1 in [$2, $3]} (got $got)"
	else
		fail "${4:-$1 in [$2, $3]}" "expected $1 in [$2, $3], got '$got'"
	fi
}

# expect_status S [DESC]: status is S (a space-separated list means one of).
expect_status() {
	local got s
	got=$(jf .status)
	for s in $1; do
		if [ "$got" = "$s" ]; then
			pass "${2:-status $1} (got $got)"
			return
		fi
	done
	fail "${2:-status $1}" "expected status in {$1}, got '$got'"
}

# expect_result_shape [DESC]: stdout is exactly one JSON object line with the SPEC fields.
expect_result_shape() {
	local lines
	lines=$(printf '%s\n' "$OUT" | grep -c .)
	if [ "$lines" = 1 ] && printf '%s' "$OUT" | jq -e '
	    type == "object" and has("status") and has("exit_code") and has("signal")
	    and has("cpu_ms") and has("wall_ms") and has("memory_kb") and has("stdout")
	    and has("stderr") and has("stdout_truncated") and has("stderr_truncated")
	    and has("syscall") and has("error")
	    and (.accounting | IN("cgroup-v1", "cgroup-v2", "rlimit"))' >/dev/null 2>&1; then
		pass "${1:-one result line with every SPEC field}"
	else
		fail "${1:-one result line with every SPEC field}"
	fi
}

# expect_invalid FIELD_REGEX DESC: exit 2, no stdout, one stderr line
# matching FIELD_REGEX (grep -E -i).
expect_invalid() {
	local lines
	lines=$(printf '%s\n' "$ERR" | grep -c .)
	if [ "$RC" = 2 ] && [ -z "$OUT" ] && [ "$lines" = 1 ] &&
	    printf '%s' "$ERR" | grep -Eqi -- "$1"; then
		pass "$2"
	else
		fail "$2" "expected exit 2, empty stdout, one stderr line matching /$1/ ($lines lines)"
	fi
}

# oneline TEXT: TEXT with its newlines turned into spaces, for log lines.
oneline() {
	printf '%s' "$1" | tr '\n' ' '
}

# out_lacks REGEX / out_has_line LINE: on the raw stdout of the last run.
out_lacks() {
	! printf '%s' "$OUT" | grep -qE -- "$1"
}
out_has_line() {
	printf '%s\n' "$OUT" | grep -qxF -- "$1"
}

# prog NAME [BOXNAME]: the --copy-in argument for a test program.
prog() {
	local p="$PROGS/$1"
	if [ ! -x "$p" ]; then
		echo "missing test program $p" >&2
	fi
	printf '%s:%s' "$p" "${2:-$1}"
}

# host_procs_named NAME: pids of host processes whose argv[0] or exe
# basename is NAME (other than this shell).
host_procs_named() {
	local d pid a0 exe
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] && continue
		a0=$(tr '\0' '\n' 2>/dev/null <"$d/cmdline" | head -n 1)
		exe=$(readlink "$d/exe" 2>/dev/null)
		exe=${exe% (deleted)}
		if [ "$(basename -- "${a0:-/}")" = "$1" ] || [ "$(basename -- "${exe:-/}")" = "$1" ]; then
			echo "$pid"
		fi
	done
}

# listener_start SECONDS: a TCP listener on the host's loopback
# (tests/progs/tcp_listener) for at most SECONDS; LISTENER_PORT is its port,
# empty when it did not start. listener_expect_none DESC stops it and
# checks that it accepted no connection.
listener_start() {
	"$PROGS/tcp_listener" "$WB_TMP/port" "$WB_TMP/count" "$1" &
	LISTENER_PID=$!
	WB_PIDS="$WB_PIDS $LISTENER_PID"
	for _ in $(seq 50); do [ -s "$WB_TMP/port" ] && break; sleep 0.1; done
	LISTENER_PORT=$(cat "$WB_TMP/port" 2>/dev/null)
}
listener_expect_none() {
	local count
	kill -TERM "$LISTENER_PID" 2>/dev/null
	wait "$LISTENER_PID" 2>/dev/null
	count=$(cat "$WB_TMP/count" 2>/dev/null)
	if [ "$count" = 0 ]; then
		pass "$1 accepted no connection"
	else
		fail "$1 accepted '${count:-?}' connections"
	fi
}

cgroup_accounting() {
	case "$(jf .accounting)" in
	cgroup-v1 | cgroup-v2) return 0 ;;
	*) return 1 ;;
	esac
}

# The binary and programs must exist, and in rootless mode be readable by
# the tested uid.
preflight() {
	[ -x "$WB" ] || skip_all "warmbox binary $WB not built"
	command -v jq >/dev/null || skip_all "jq not installed"
	[ -d "$PROGS" ] || skip_all "test programs not built in $PROGS"
	if [ -n "${WB_AS_USER:-}" ]; then
		[ "$(id -u)" = 0 ] || skip_all "rootless mode needs root to setpriv to $WB_AS_USER"
		command -v setpriv >/dev/null || skip_all "setpriv not installed"
		as_user test -x "$WB" -a -r "$PROGS/exit_code" ||
			skip_all "uid $WB_AS_USER cannot read $WB or $PROGS"
	fi
	echo "# $WB_NAME, $(mode) mode, warmbox $WB"
}

finish() {
	echo "# $WB_NAME ($(mode)): $WB_PASSED passed, $WB_FAILED failed, $WB_SKIPPED skipped"
	if [ "$WB_N" = 0 ]; then
		echo "1..0 # no check ran: that is a failure, not a pass"
		exit 1
	fi
	echo "1..$WB_N"
	if [ "$WB_FAILED" -gt 0 ]; then
		exit 1
	fi
	if [ "$WB_PASSED" = 0 ]; then
		# Only skips: reported as skipped (ctest SKIP_RETURN_CODE), never
		# as passed.
		exit 77
	fi
	exit 0
}

# run_cases [NAME]: case_NAME alone, or every case_* of the script in file
# order; then finish.
run_cases() {
	local c cases
	cases=$(sed -n 's/^case_\([a-z0-9_]*\)() *{.*/\1/p' "$0")
	if [ $# -gt 0 ]; then
		if ! printf '%s\n' "$cases" | grep -qxF -- "$1"; then
			WB_CMD="bash $0 $1"
			fail "case '$1' exists" "cases: $(oneline "$cases")"
			finish
		fi
		cases=$1
	fi
	for c in $cases; do
		echo "# --- $c"
		"case_$c"
	done
	finish
}

preflight
