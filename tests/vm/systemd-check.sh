#!/usr/bin/env bash
# systemd-check.sh WARMBOX_BINARY: the shipped docker/warmbox.service, run by
# a real systemd (PID 1). Meant for the VM, where wbvm-run.service runs it:
#   bash tests/vm/boot.sh KERNEL_DIR OUT_DIR --systemd -- \
#       bash tests/vm/systemd-check.sh build/warmbox
# It installs the unit, starts it, sends jobs through /run/warmbox.sock,
# checks the daemon's accounting, stops the unit and checks that nothing is
# left behind. TAP on stdout; exit 1 on any failure, or when no check ran.
# It changes the system it runs on (/usr/local/bin/warmbox, its policies in
# /usr/local/share/warmbox, /etc/systemd/system/warmbox.service): do not run
# it on a real host.
set -u
export SYSTEMD_COLORS=0 SYSTEMD_PAGER='' PAGER=cat
[ $# -eq 1 ] || { echo "usage: systemd-check.sh WARMBOX_BINARY" >&2; exit 2; }
wb=$(realpath -e "$1" 2>/dev/null) || wb=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
unit=/etc/systemd/system/warmbox.service
sock=/run/warmbox.sock
cg=/sys/fs/cgroup/system.slice/warmbox.service
work=$(mktemp -d /var/tmp/wb-systemd-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

n=0 passed=0 failed=0
# check DESCRIPTION COMMAND...: one TAP line; on failure, the command's
# output as TAP comments.
check() {
	local desc=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		echo "not ok $n - $desc"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}
finish() {
	if [ "$failed" -gt 0 ]; then
		echo "# journalctl -u warmbox:"
		journalctl -b -u warmbox --no-pager -o short-monotonic 2>&1 | sed 's/^/#   /'
	fi
	echo "1..$n"
	echo "$passed passed, $failed failed"
	[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
	exit $?
}
# expect_json FILE JQ_TEST: FILE holds exactly one JSON value, for which
# JQ_TEST is true; else prints FILE.
expect_json() {
	jq -s -e "length == 1 and (.[0] | $2)" "$1" >/dev/null 2>&1 && return 0
	echo "got: $(cat "$1" 2>&1)"
	return 1
}

# prop NAME EXPECTED: warmbox.service's property NAME is EXPECTED.
prop() {
	local v
	v=$(systemctl show -p "$1" --value warmbox)
	echo "$1=$v"
	[ "$v" = "$2" ]
}

echo "# $(uname -r), $(systemctl --version | head -n 1), binary $wb"
check "the warmbox binary is executable: $wb" test -x "$wb"
if [ "$(cat /proc/1/comm)" != systemd ]; then
	check "PID 1 is systemd" false
	finish
fi

# Installed the way the unit's own comment says (cmake --install: the
# binary in /usr/local/bin, the policies in /usr/local/share/warmbox), into
# the guest's writable overlay, and the unit exactly as shipped. (The unit
# has PrivateTmp=yes: a binary left in a tree under /tmp would not even be
# found by it.)
install_warmbox() {
	install -D -m 0755 "$wb" /usr/local/bin/warmbox &&
		mkdir -p /usr/local/share/warmbox &&
		rm -rf /usr/local/share/warmbox/policies &&
		cp -r "$src/policies" /usr/local/share/warmbox/policies &&
		install -m 0644 "$src/docker/warmbox.service" "$unit"
}
check "warmbox, its policies and docker/warmbox.service installed as the unit says" install_warmbox
unit_same() { cmp "$src/docker/warmbox.service" "$unit"; }
check "the installed unit is docker/warmbox.service, unchanged" unit_same
# Once stopped, an inactive unit that nothing refers to is unloaded at once,
# and `systemctl show` then reports a fresh unit's zeros (ExecMainCode=0)
# instead of this run's exit. On a real host `systemctl enable` makes
# multi-user.target want it; in the VM the boot target, wbvm.target (whose
# start job lasts as long as this script), wants it: a symlink in
# /etc/systemd/system/wbvm.target.wants, nothing in the unit.
target=multi-user.target
[ "$(systemctl show -p LoadState --value wbvm.target)" = loaded ] && target=wbvm.target
check "systemctl add-wants $target warmbox.service succeeds" systemctl add-wants "$target" warmbox.service
check "systemctl daemon-reload succeeds" systemctl daemon-reload
check "systemctl start warmbox succeeds" timeout 120 systemctl start warmbox

# The socket, within 60 s (the daemon creates it before warming the pool,
# but TCG is slow); stop waiting early if the unit is no longer running or
# its process has already exited once (Restart=on-failure restarts it).
wait_socket() {
	local state
	for _ in $(seq 600); do
		[ -S "$sock" ] && return 0
		state=$(systemctl show -p ActiveState --value warmbox)
		case "$state" in
		active | activating | reloading) ;;
		*) echo "warmbox.service is $state"; return 1 ;;
		esac
		if [ "$(systemctl show -p NRestarts --value warmbox)" != 0 ]; then
			echo "warmbox.service is restarting: its process exited"
			return 1
		fi
		sleep 0.1
	done
	echo "no socket after 60 s"
	return 1
}
check "$sock appears while the unit runs" wait_socket

mainpid=$(systemctl show -p MainPID --value warmbox)
in_manager_cgroup() {
	local c
	c=$(cat "/proc/$mainpid/cgroup" 2>&1)
	echo "MainPID $mainpid: $c"
	[[ $c == "0::/system.slice/warmbox.service/warmbox-"*/manager ]]
}
check "the main process sits in system.slice/warmbox.service/warmbox-PID/manager" in_manager_cgroup

# submit NAME JOB_FILE: the result (one line) in $work/NAME.json.
submit() {
	timeout 300 "$wb" submit --socket "$sock" "$2" >"$work/$1.json" 2>"$work/$1.err"
	local rc=$?
	[ "$rc" -eq 0 ] || { echo "exit status $rc, stderr: $(cat "$work/$1.err")"; cat "$work/$1.json"; }
	return "$rc"
}
# submit reads one job per line; examples/hello.json is pretty-printed.
jq -c . "$src/examples/hello.json" >"$work/hello-job.json"
check "submit examples/hello.json (as one line) exits 0" submit hello "$work/hello-job.json"
check "hello.json: status OK" expect_json "$work/hello.json" '.status == "OK"'
check 'hello.json: stdout is "hello from warmbox\n"' expect_json "$work/hello.json" '.stdout == "hello from warmbox\n"'

# memhog (tests/progs/memhog.c) touches 256 MiB under a 64 MiB limit.
memhog=$(dirname "$wb")/tests/progs/memhog
if [ -x "$memhog" ]; then
	jq -cn --arg b64 "$(base64 -w0 "$memhog")" \
		'{id: "memhog", argv: ["./memhog", "256"],
		  files: [{path: "memhog", base64: $b64, mode: 493}],
		  limits: {memory_kb: 65536}}' >"$work/memhog-job.json"
	check "submit memhog 256 (memory_kb 65536) exits 0" submit memhog "$work/memhog-job.json"
	check "memhog 256 under memory_kb 65536: status ML" expect_json "$work/memhog.json" '.status == "ML"'
	# systemd sees the OOM kill in the unit's cgroup (it logs it, a moment
	# later); with Delegate=yes the default OOMPolicy is continue
	# (systemd.service(5), OOMPolicy=), so the unit must keep running: the
	# limit was the job's, not the service's.
	for _ in $(seq 50); do
		journalctl -b -u warmbox -o cat 2>/dev/null | grep -q 'killed by the OOM killer' && break
		sleep 0.2
	done
	sleep 1
	check "warmbox.service is still active after the job's OOM kill" prop ActiveState active
else
	check "build/tests/progs/memhog exists (build the tests)" false
fi

stats() {
	timeout 60 "$wb" stats --socket "$sock" >"$work/stats.json" 2>&1 || { cat "$work/stats.json"; return 1; }
	expect_json "$work/stats.json" '.accounting == "cgroup-v2"'
}
check 'warmbox stats shows "accounting":"cgroup-v2"' stats

check "the unit was never restarted (NRestarts=0)" prop NRestarts 0
check "systemctl stop warmbox succeeds" timeout 150 systemctl stop warmbox

no_process() {
	local p e found=0
	for p in /proc/[0-9]*; do
		e=$(readlink "$p/exe" 2>/dev/null) || continue
		case "$e" in
		"$wb" | "$wb (deleted)" | */warmbox | *"/warmbox (deleted)" | "/memfd:wb-zygote (deleted)")
			echo "${p#/proc/}: $e: $(tr '\0' ' ' <"$p/cmdline")"
			found=1
			;;
		esac
	done
	[ "$found" = 0 ]
}
check "no warmbox process is left" no_process
# systemd itself removes the unit's empty cgroups (recursively) once it is
# stopped, so this catches cgroups that still hold a process.
no_cgroup() {
	local l
	l=$(find "$cg" -name 'warmbox-*' 2>/dev/null)
	printf '%s' "$l"
	[ -z "$l" ]
}
check "no warmbox-* cgroup is left under $cg" no_cgroup
no_socket() { ls -l "$sock" 2>/dev/null; [ ! -e "$sock" ]; }
check "$sock is gone" no_socket
check "the unit is inactive (ActiveState=inactive)" prop ActiveState inactive
check "the main process exited (ExecMainCode=1, not killed)" prop ExecMainCode 1
check "the main process's exit status is 0 (ExecMainStatus=0)" prop ExecMainStatus 0
finish
