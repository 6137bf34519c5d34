#!/bin/bash
# guest-suite.sh BUILD_DIR SHAPE...: runs inside the VM (boot.sh), as PID 1's
# child on a cgroup v2 host, and runs warmbox's tests in each shape a judge
# deploys, one after the other:
#   root-delegated    root, every warmbox alone in a child cgroup of a
#                     delegated subtree (systemd's Delegate=yes; named
#                     judge.service: leftovers.sh looks for warmbox*): cgroup-v2
#   root-shared       root, warmbox sharing its cgroup with the test runner:
#                     the documented fallback to rlimit, with the reason said
#   rootless-owned    uid 65534, every warmbox alone in a child cgroup of a
#                     subtree the user owns (systemd's user@.service
#                     delegation, as rootless Podman uses): cgroup-v2
#   rootless-none     uid 65534 with no cgroup of its own: rlimit
# Each shape runs ctest on BUILD_DIR with the labels that fit it (see
# shape_tests), with WB_LAUNCH placing warmbox and WB_EXPECT_ACCOUNTING
# naming the accounting the results must show. Prints TAP, one line per
# test per shape, then "N passed, M failed"; exits 1 on any failure.
set -u
build=$(cd "${1:?usage: guest-suite.sh BUILD_DIR [--figures-only] SHAPE...}" && pwd)
shift
# --figures-only: only the tests whose figures and verdicts come from the
# kernel's cgroup (a second kernel: what differs between kernels is there).
tier=all
[ "${1:-}" = --figures-only ] && tier=figures && shift
here=$(cd "$(dirname "$0")" && pwd)
policies=$(cd "$here/../../policies" && pwd)
cgroot=/sys/fs/cgroup
kernel=$(uname -r)
passed=0
failed=0
n=0

tap() { # tap OK DESC
	n=$((n + 1))
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
		echo "ok $n - $kernel $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $kernel $2"
	fi
}

# The tests each shape runs (ctest -R): those whose outcome depends on the
# cgroup (figures, verdicts, pids, the zygote's life, the daemon, the
# hostile isolation checks of the daemon, an interactive job's two
# sandboxes) and the leftovers check. Under TCG a process start costs about
# 100 times what it costs natively, so the rest (the languages, the
# 700-probe dangerous.sh, badinput, features, the fork-heavy isolation.sh,
# the soak, the interactive 1 MiB exchange) stays on the host, where it
# runs in full; what differs there from here is the cgroup, and that is
# covered.
shape_tests() {
	if [ "$tier" = figures ]; then
		case $1 in
		root-*) echo '^(sandbox_(zygote_reuse|leftovers)|sandbox_(accuracy|status)\.[a-z0-9_]+)$' ;;
		rootless-*) echo '^(sandbox_leftovers|rootless_zygote_reuse|rootless_(accuracy|status)\.[a-z0-9_]+)$' ;;
		esac
		return
	fi
	case $1 in
	root-delegated) echo '^(sandbox_(zygote_reuse|leftovers)|sandbox_(accuracy|status|threads|learn)\.[a-z0-9_]+|sandbox_interactive\.(accepted|close_early|program_tl))$' ;;
	root-shared) echo '^(sandbox_leftovers|sandbox_accuracy\.[a-z0-9_]+)$' ;;
	rootless-*) echo '^(sandbox_leftovers|rootless_zygote_reuse|rootless_(accuracy|status|threads)\.[a-z0-9_]+|rootless_interactive\.(accepted|close_early|program_tl))$' ;;
	esac
}
# shape_daemon_scripts SHAPE: the daemon tests (tests/daemon/) a shape runs,
# each script whole: ctest runs each case alone with a daemon of its own,
# and under TCG a daemon and a Python start cost about 9 s a case (15
# cases of test_protocol.py took 157 s against 36 s whole). Rootless, the
# protocol is the same code as root's (the host runs it rootless in full):
# what the shape changes is the sandbox and its accounting, which
# test_isolation.py's jobs and every daemon's stats check (wbd.py).
shape_daemon_scripts() {
	if [ "$tier" = figures ]; then
		case $1 in root-delegated | rootless-owned) echo test_isolation.py ;; esac
		return
	fi
	case $1 in
	root-delegated) echo test_protocol.py test_isolation.py ;;
	rootless-*) echo test_isolation.py ;;
	esac
}
# daemon_script SHAPE RUNNER LAUNCH EXPECT SCRIPT: one daemon test, whole,
# from RUNNER, with the environment ctest gives it; one TAP line.
daemon_script() {
	local shape=$1 runner=$2 launch=$3 expect=$4 script=$5 as="" log rc t0=$SECONDS
	case $shape in rootless-*) as=65534 ;; esac
	log=/wbvm-out/daemon-$shape-$script.log
	(echo $BASHPID >"$runner/cgroup.procs" &&
		WB="$build/warmbox" PROGS="$build/tests/progs" WB_POLICIES="$policies" WB_AS_USER=$as \
			WB_LAUNCH=$launch WB_EXPECT_ACCOUNTING=$expect PYTHONDONTWRITEBYTECODE=1 \
			timeout -k 10 900 python3 "$here/../daemon/$script") >"$log" 2>&1
	rc=$?
	echo "# time: $kernel $shape $script $((SECONDS - t0)) s"
	case $rc in
	0) tap ok "$shape $script ($(grep -c '^ok ' "$log") checks)" ;;
	77) n=$((n + 1)); echo "ok $n - $kernel $shape $script # SKIP $(grep -m1 '^1\.\.0' "$log")" ;;
	*) tap fail "$shape $script (exit $rc)"; grep -E '^(not ok|#   )' "$log" | head -n 60 | sed 's/^/#   /' ;;
	esac
}

# enable DIR: cpu, memory and pids for DIR's children.
enable() { echo "+cpu +memory +pids" >"$1/cgroup.subtree_control"; }

# delegate DIR UID: what systemd does for Delegate= to a user: the
# directory and its cgroup.procs, cgroup.threads and cgroup.subtree_control
# belong to UID.
delegate() {
	chown "$2" "$1" "$1/cgroup.procs" "$1/cgroup.threads" "$1/cgroup.subtree_control"
}

remove_alone() { # remove_alone PARENT: the empty cgroups alone.sh made
	local d
	for d in "$1"/alone.*; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
}

# shape_checks SHAPE RUNNER LAUNCH EXPECT: what this shape alone shows, from
# a process in RUNNER: the accounting of one job and its memory figure for
# 100 MiB touched (102400 KiB; within 5% with a cgroup), and for the shared
# shape the reason warmbox gives for its fallback.
shape_checks() {
	local shape=$1 runner=$2 launch=$3 expect=$4 as="" out err acc kb
	case $shape in rootless-*) as="setpriv --reuid 65534 --regid 65534 --clear-groups --" ;; esac
	out=$(echo $BASHPID >"$runner/cgroup.procs" &&
		WARMBOX_POLICIES=$policies $as $launch "$build/warmbox" run --memory 256M --cpu 20000 --wall 60000 \
			--copy-in "$build/tests/progs/memhog:memhog" -- ./memhog 100 2>/wbvm-out/err)
	err=$(cat /wbvm-out/err)
	acc=$(printf '%s' "$out" | jq -r .accounting 2>/dev/null)
	kb=$(printf '%s' "$out" | jq -r .memory_kb 2>/dev/null)
	echo "# figure: $kernel $shape: memory_kb $kb for 100 MiB touched (102400 KiB), accounting $acc"
	if [ "$acc" = "$expect" ]; then tap ok "$shape: accounting $expect"; else
		tap fail "$shape: accounting $expect (got '$acc': $out $err)"; fi
	if [ "$expect" != rlimit ]; then
		if [[ $kb =~ ^[0-9]+$ ]] && [ "$kb" -ge 97280 ] && [ "$kb" -le 107520 ]; then
			tap ok "$shape: memory_kb within 5% of 102400 (got $kb)"
		else
			tap fail "$shape: memory_kb within 5% of 102400 (got '$kb')"
		fi
	fi
	if [ "$shape" = root-shared ]; then
		if printf '%s' "$err" | grep -q "no usable cgroup, rlimit accounting (cgroup v2: cannot enable memory and pids .*start warmbox alone in a delegated cgroup"; then
			tap ok "$shape: the fallback's reason on stderr"
		else
			tap fail "$shape: the fallback's reason on stderr (got: $err)"
		fi
	fi
}

# run_shape SHAPE: sets the shape up, runs its tests from a runner cgroup
# inside it, relays each ctest result as a TAP line, tears it down.
run_shape() {
	local shape=$1 parent runner launch="" expect user="" log
	case $shape in
	root-delegated)
		parent=$cgroot/system.slice/judge.service
		mkdir -p "$parent"
		enable "$cgroot/system.slice"
		runner=$cgroot/system.slice/runner.scope
		enable "$parent"
		launch="$here/alone.sh $parent"
		expect=cgroup-v2 ;;
	root-shared)
		parent=$cgroot/system.slice/runner.scope
		runner=$parent
		expect=rlimit ;;
	rootless-owned)
		parent=$cgroot/user.slice/user-65534.slice/user@65534.service
		mkdir -p "$parent"
		enable "$cgroot/user.slice"
		enable "$cgroot/user.slice/user-65534.slice"
		enable "$parent"
		delegate "$parent" 65534
		runner=$parent/runner.scope
		launch="$here/alone.sh $parent"
		expect=cgroup-v2 ;;
	rootless-none)
		parent=$cgroot/user.slice/user-65534.slice/session.scope
		runner=$parent
		expect=rlimit ;;
	*) tap fail "unknown shape $shape"; return ;;
	esac
	mkdir -p "$runner"
	shape_checks "$shape" "$runner" "$launch" "$expect"
	log=/wbvm-out/ctest-$shape.log
	echo "# shape $shape: runner $runner, launch '${launch:-none}', expect $expect"
	local t0=$SECONDS script
	# The leftovers baseline, the daemon scripts, then ctest with the
	# leftovers check last (-FS: the baseline is not taken again).
	(echo $BASHPID >"$runner/cgroup.procs" && ctest --test-dir "$build" -R '^sandbox_baseline$') >"$log.baseline" 2>&1 ||
		tap fail "$shape: sandbox_baseline"
	for script in $(shape_daemon_scripts "$shape"); do
		daemon_script "$shape" "$runner" "$launch" "$expect" "$script"
	done
	(echo $BASHPID >"$runner/cgroup.procs" &&
		WB_LAUNCH=$launch WB_EXPECT_ACCOUNTING=$expect \
			ctest --test-dir "$build" --output-on-failure --timeout 900 -FS wb_sandbox \
				-R "$(shape_tests "$shape")") >"$log" 2>&1
	local rc=$? line name res
	echo "# shape $shape: ctest exited $rc after $((SECONDS - t0)) s"
	while IFS= read -r line; do
		if [[ $line =~ Test\ +#[0-9]+:\ ([A-Za-z0-9_.]+)\ \.+\**\ *([A-Za-z]+) ]]; then
			name=${BASH_REMATCH[1]}
			res=${BASH_REMATCH[2]}
			# Each test's time, passed or not: where the VM suite's
			# minutes go is what decides what it can leave out.
			[[ $line =~ \ ([0-9]+)\.[0-9]+\ sec ]] && echo "# time: $kernel $shape $name ${BASH_REMATCH[1]} s"
			case $res in
			Passed) tap ok "$shape $name" ;;
			Skipped) n=$((n + 1)); echo "ok $n - $kernel $shape $name # SKIP (see the log)" ;;
			*) tap fail "$shape $name ($res)" ;;
			esac
		fi
	done <"$log"
	[ "$rc" = 0 ] || { tap fail "$shape: ctest exited $rc"; grep -v '^ *$' "$log" | tail -n 60 | sed 's/^/#   /'; }
	remove_alone "$parent"
}

for shape in "$@"; do
	run_shape "$shape"
done
echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
