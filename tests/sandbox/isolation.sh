# Isolation.sh (label hostile): SPEC.md "Isolation promises", each tried by a
# Real program from tests/progs.
. "$(dirname "$0")/lib.sh"

# Signals and ptrace against a host process.
# The victim runs as the tested uid: in rootless mode that is the uid the
# Sandbox itself maps to, the case where only the namespaces protect it.
case_kill_ptrace() {
	if [ -n "${WB_AS_USER:-}" ]; then
		setpriv --reuid "$WB_AS_USER" --regid "$WB_AS_USER" --clear-groups -- sleep 60 &
	else
		sleep 60 &
	fi
	victim=$!
	WB_PIDS="$WB_PIDS $victim"
	sleep 0.2
	wb_run run --copy-in "$(prog hostile_kill)" -- ./hostile_kill "$victim"
	# The kills fail (no such process in the job's pid namespace); then
	# PTRACE_ATTACH is outside every shipped policy.
	expect_status SV "kill/ptrace: the job's PTRACE_ATTACH is SV"
	expect_field .syscall ptrace "kill/ptrace: the SV names ptrace"
	if kill -0 "$victim" 2>/dev/null; then
		pass "kill/ptrace: host process $victim survived kill(-1) and kill(pid)"
	else
		fail "kill/ptrace: host process $victim was killed from inside the job"
	fi
	if printf '%s' "$(jf .stdout)" | grep -q '^ptrace=ok'; then
		fail "kill/ptrace: PTRACE_ATTACH on a host pid succeeded"
	else
		pass "kill/ptrace: PTRACE_ATTACH failed or was SV ($(jf .status) $(jf .syscall))"
	fi
	kill "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
}

# A process that outlives the job.
case_outlive() {
	name="escaper_$$"
	wb_run run --procs 4 --copy-in "$(prog escaper "$name")" -- "./$name" 2
	expect_status OK "outlive: double fork + setsid job is OK"
	expect_range .wall_ms 0 1900 "outlive: the job ended with its program, not with the grandchild"
	left=$(host_procs_named "$name")
	if [ -z "$left" ]; then
		pass "outlive: no process of the job left right after the result"
	else
		fail "outlive: processes left after the job: $left"
	fi
	sleep 3
	left=$(host_procs_named "$name")
	if [ -z "$left" ]; then
		pass "outlive: none 3 s later either"
	else
		fail "outlive: processes alive 3 s after the job: $left"
	fi
	# shellcheck disable=SC2086 # several pids
	[ -n "$left" ] && kill -9 $left 2>/dev/null
}

# Files, SysV shm and POSIX queues left for the next job.
# One job per kind, so that the default policy refusing shmget and mq_open
# (SV) does not hide the files; a kind the policy refuses cannot leak.
case_ipc() {
	host_shm_before=$(ipcs -m 2>/dev/null | grep -ci '0x000004d2')
	declare -A ipc_status=([files]=OK [shm]=SV [mq]=SV)
	for kind in files shm mq; do
		wb_run run --copy-in "$(prog ipc_probe)" -- ./ipc_probe create "$kind"
		expect_status "${ipc_status[$kind]}" "ipc: the job creating $kind is ${ipc_status[$kind]} under the default policy"
		if [ "$(jf .status)" = SV ]; then
			echo "# ipc: $kind refused by the policy (SV, syscall $(jf .syscall)): it cannot leak"
			continue
		fi
		echo "# ipc: job 1: $(oneline "$(jf .stdout)")"
		if ! printf '%s' "$(jf .stdout)" | grep -q '=created'; then
			echo "# ipc: $kind could not be created: it cannot leak"
			continue
		fi
		wb_run run --copy-in "$(prog ipc_probe)" -- ./ipc_probe check "$kind"
		expect_status OK "ipc: next job finds no $kind of the previous one"
		echo "# ipc: job 2: $(oneline "$(jf .stdout)")"
	done
	if command -v ipcs >/dev/null; then
		host_shm_after=$(ipcs -m 2>/dev/null | grep -ci '0x000004d2')
		check "ipc: no shm segment of a job in the host's IPC namespace" \
			test "$host_shm_after" = "$host_shm_before"
	fi
}

# Network: a listener on the host's loopback. Under the default policy the
# socket itself is refused; under net, which allows them, the job is in a
# network namespace of its own, with no route to the host's loopback.
case_network() {
	local port
	listener_start 30
	port=$LISTENER_PORT
	if [ -z "$port" ]; then
		fail "network: host listener did not start"
		return
	fi
	wb_run run --copy-in "$(prog connect_probe)" -- ./connect_probe "$port"
	expect_status SV "network: socket() under the default policy is SV"
	expect_field .syscall socket "network: the SV names socket"
	wb_run run --policy net --copy-in "$(prog connect_probe)" -- ./connect_probe "$port"
	expect_status RE "network: with sockets allowed, the connect to the host fails (RE)"
	expect_jq '.exit_code == 2 and (.stdout | test("^socket ok\nconnect failed: "))' \
		"network: socket() worked, connect() to the host's 127.0.0.1:$port failed"
	listener_expect_none "network: listener"
}

# Writes outside /box and /tmp.
case_writes() {
	wb_run run --copy-in "$(prog write_probe)" -- ./write_probe
	expect_status OK "writes: only /box and /tmp are writable"
	printf '%s\n' "$(jf .stdout)" | grep -E '=(WRITABLE|FAILED)' | sed 's/^/# /'
}

# The job's input is read-only, also reopened.
case_stdin_readonly() {
	printf 'judge input\n' >"$WB_TMP/input.txt"
	chmod 644 "$WB_TMP/input.txt"
	wb_run run --stdin "$WB_TMP/input.txt" --copy-in "$(prog stdin_rewrite)" -- ./stdin_rewrite
	expect_status OK "stdin: the rewrite probe ran"
	expect_jq '.stdout | test("(?m)^fd0=refused ")' "stdin: fd 0 cannot be written"
	expect_jq '.stdout | test("(?m)^reopen=refused ")' "stdin: /proc/self/fd/0 reopened read-write cannot be written (sealed)"
	expect_jq '.stdout | test("(?m)^stdin=judge input$")' "stdin: the input is unchanged"
}

# No page-cache channel between jobs.
# A sender job reads chosen chunks of a shared library; a later receiver
# Job asks which are cached without reading them: every way is refused
# (README "Isolation", "The page cache"), so it classifies nothing.
case_page_cache() {
	lib=/usr/lib/x86_64-linux-gnu/libc.so.6
	wb_run run --copy-in "$(prog pagecache_probe)" -- ./pagecache_probe send "$lib" 165
	expect_status OK "page cache: the sender ran"
	for pol in default c cpp python java node go rust compile; do
		wb_run run --policy "$pol" --copy-in "$(prog pagecache_probe)" -- ./pagecache_probe recv "$lib"
		expect_jq '.status == "OK" and (.stdout | test("(?m)^preadv2=refused ") and test("(?m)^mincore=refused ")
			and test("(?m)^decoded=0$"))' "page cache: under policy $pol the receiver decodes nothing"
	done
}

# /dev holds only the five nodes.
case_dev() {
	wb_run run --copy-in "$(prog dev_list)" -- ./dev_list
	expect_status OK "dev: exactly full null random urandom zero"
	echo "# /dev: $(oneline "$(jf .stdout | cut -d' ' -f1)")"
}

# Setuid binaries gain nothing.
case_setuid() {
	suid=""
	for b in /usr/bin/su /usr/bin/passwd /usr/bin/chfn /usr/bin/newgrp /bin/mount; do
		if [ -u "$b" ] && [ "$(stat -c %u "$b")" = 0 ]; then suid=$b; break; fi
	done
	if [ -z "$suid" ]; then
		wb_run run --procs 4 --copy-in "$(prog setuid_probe)" -- ./setuid_probe
		expect_status OK "setuid: uid, no_new_privs and capabilities"
		skip "setuid: a setuid-root binary gains nothing" "no setuid-root binary on the host (su, passwd, chfn, newgrp, mount)"
	else
		case $suid in
		*/su) args="root -c id" ;;
		*/mount) args="" ;;
		*) args="--help" ;;
		esac
		# shellcheck disable=SC2086
		wb_run run --procs 4 --copy-in "$(prog setuid_probe)" -- ./setuid_probe "$suid" $args
		if [ "$(jf .status)" = SV ] && printf '%s' "$(jf .stdout)" | grep -q '^child_done bad=0'; then
			pass "setuid: $suid gained no uid 0 (it was then killed by the policy: SV $(jf .syscall))"
		else
			expect_status OK "setuid: unprivileged, no_new_privs, no caps, $suid gains no uid 0"
		fi
		if printf '%s' "$(jf .stdout)" | grep -q 'setuid_bit=absent'; then
			skip "setuid: the exec of $suid" "no visible setuid bit inside the sandbox: the exec part proves nothing"
		elif ! printf '%s' "$(jf .stdout)" | grep -q 'setuid_bit=present owner=0'; then
			skip "setuid: the exec of $suid" "not owned by a mapped root inside (user namespace): the setuid-root exec needs root mode"
		fi
		echo "# $(oneline "$(jf .stdout)")"
	fi
}

# Copy_out through symlinks, .., FIFOs and directories.
# The default policy refuses mknodat, so the traps are planted under a copy
# Of it that allows mkfifo; the copy_out side is the sandbox's, not policed.
case_copy_out() {
	mkdir -p "$WB_TMP/pol_fifo"
	jq '.allow += ["mknodat", "mknod"]' "${WB_POLICIES:-/nonexistent}/default.json" \
		>"$WB_TMP/pol_fifo/default.json" 2>/dev/null
	cp "${WB_POLICIES:-/nonexistent}/base.json" "$WB_TMP/pol_fifo/" 2>/dev/null
	chmod -R a+rX "$WB_TMP/pol_fifo"
	polargs=(--policies "$WB_TMP/pol_fifo")
	check "copy_out: a default policy with mknodat made for the FIFO" test -s "$WB_TMP/pol_fifo/default.json"
	WB_RUN_TIMEOUT=20
	wb_run run "${polargs[@]}" --copy-in "$(prog copyout_prep)" --copy-out link --copy-out dirlink/passwd \
		--copy-out fifo --copy-out d --copy-out ok.txt -- ./copyout_prep
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		fail "copy_out: warmbox hung (FIFO?)"
	else
		expect_status OK "copy_out: the trap-planting job is OK"
		if ! printf '%s' "$(jf .stdout)" | grep -q '^fifo=made'; then
			skip "copy_out: the FIFO case" "the FIFO could not be made ($(jf .status) $(jf .syscall) $(jf .stdout))"
		fi
		expect_jq '[.files[] | select(.path == "ok.txt")][0].base64 | @base64d == "copy me\n"' \
			"copy_out: ok.txt comes back"
		for p in link dirlink/passwd fifo d; do
			expect_jq "[.files[] | select(.path == \"$p\")] | length == 1 and
				(.[0] | has(\"base64\") | not) and (.[0].error | type == \"string\" and length > 0)" \
				"copy_out: $p is an error entry without data"
		done
	fi
	check "copy_out: no host passwd content anywhere in the result" \
		out_lacks 'cm9vdDp4|root:x:0:0'
	wb_run run --copy-in "$(prog copyout_prep)" --copy-out ../etc/passwd --copy-out /etc/passwd \
		--copy-out ok.txt -- ./copyout_prep
	if [ "$RC" = 2 ] && [ -z "$OUT" ]; then
		pass "copy_out: ../etc/passwd and /etc/passwd rejected up front (exit 2)"
	elif [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		fail "copy_out: warmbox hung"
	else
		for p in ../etc/passwd /etc/passwd; do
			expect_jq "[.files[] | select(.path == \"$p\")] | length == 1 and
				(.[0] | has(\"base64\") | not) and (.[0].error | type == \"string\" and length > 0)" \
				"copy_out: $p is an error entry without data"
		done
	fi
	check "copy_out: no host passwd content in the escaping copy_out result" \
		out_lacks 'cm9vdDp4|root:x:0:0'
	WB_RUN_TIMEOUT=60
}

# Fork bomb.
case_fork_bomb() {
	name="forkbomb_$$"
	wb_run run --procs 8 --cpu 1000 --wall 3000 --copy-in "$(prog forkbomb "$name")" -- "./$name"
	# Its processes spin on fork's EAGAIN once --procs is reached: the CPU
	# limit ends it, on every accounting.
	expect_status TL "fork bomb: TL once its 8 processes spin"
	if [ "$ELAPSED_MS" -le 8000 ]; then
		pass "fork bomb: ended in ${ELAPSED_MS} ms (wall 3000 + 5000)"
	else
		fail "fork bomb: took ${ELAPSED_MS} ms (> wall 3000 + 5000)"
	fi
	left=$(host_procs_named "$name")
	check "fork bomb: nothing of it left on the host" test -z "$left"
	# shellcheck disable=SC2086 # several pids
	[ -n "$left" ] && kill -9 $left 2>/dev/null
	wb_run run -- /bin/true
	expect_status OK "fork bomb: next job is OK"
}

# No controlling terminal.
case_tty() {
	wb_run run --copy-in "$(prog tty_probe)" -- ./tty_probe
	expect_status OK "tty: no controlling terminal, own session"
	echo "# $(oneline "$(jf .stdout)")"
}

# Inherited fds.
case_fds() {
	exec 7</etc/passwd 8>/dev/null
	wb_run run --copy-in "$(prog fd_list)" -- ./fd_list
	exec 7<&- 8>&-
	expect_status OK "fds: only 0, 1, 2 open (fds 7 and 8 of the caller not inherited)"
	echo "# $(oneline "$(jf .stdout)")"
}

# /proc shows only the job.
case_proc() {
	wb_run run --copy-in "$(prog proc_list)" -- ./proc_list
	expect_status OK "proc: job runs"
	out=$(jf .stdout)
	count=$(printf '%s\n' "$out" | sed -n 's/^count=//p')
	self=$(printf '%s\n' "$out" | sed -n 's/^self=//p')
	pid1=$(printf '%s\n' "$out" | sed -n 's/^pid 1 //p')
	if [[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -le 3 ]; then
		pass "proc: $count processes visible"
	else
		fail "proc: '$count' processes visible (want <= 3)"
	fi
	if [[ "$self" =~ ^[0-9]+$ ]] && [ "$self" -le 3 ]; then
		pass "proc: program's pid is $self"
	else
		fail "proc: program's pid '$self' (want a pid of its own namespace)"
	fi
	host_pid1=$(cat /proc/1/comm)
	if [ -n "$pid1" ] && [ "$pid1" != "$host_pid1" ]; then
		pass "proc: pid 1 is '$pid1', not the host's '$host_pid1'"
	else
		fail "proc: pid 1 is '$pid1' (host pid 1: '$host_pid1')"
	fi
	# The job init stays undumpable while the job runs: its /proc files are
	# not the job's, even rootless where both have the same uid (the
	# program's own set-up once made the shared memory dumpable).
	wb_run run --procs 8 -- /bin/sh -c 'me=$(id -u); echo "owner=$(stat -c %u /proc/1/oom_score_adj) me=$me"
		(echo 1000 >/proc/1/oom_score_adj) 2>/dev/null && echo wrote || echo refused'
	out=$(jf .stdout)
	owner=$(printf '%s\n' "$out" | sed -n 's/^owner=\([0-9]*\) .*/\1/p')
	me=$(printf '%s\n' "$out" | sed -n 's/.* me=\([0-9]*\)$/\1/p')
	if [ -n "$owner" ] && [ -n "$me" ] && [ "$owner" != "$me" ] && grep -qx refused <<<"$out"; then
		pass "proc: pid 1's files are not the job's (owner $owner, job $me) and its oom_score_adj is refused"
	else
		fail "proc: pid 1's files belong to the job, or it wrote oom_score_adj" "stdout: $out"
	fi
	# The program's own /proc files are its own: its execve made its memory
	# dumpable, and nothing before it had to (program.c).
	wb_run run --procs 8 -- /bin/sh -c 'echo "self=$(stat -c %u /proc/self/status) me=$(id -u) adj=$(cat /proc/self/oom_score_adj)"'
	expect_field .stdout "self=1000 me=1000 adj=1000" "proc: the program owns its /proc/self and its oom_score_adj is 1000"
}

# Signals: the program starts with every disposition at its default and
# nothing blocked, even when warmbox itself was started ignoring some
# (execve keeps "ignored"; the zygote resets them once, zygote.c).
case_signals() {
	trap '' HUP PIPE USR1
	wb_run run -- /bin/sh -c 'exec grep -E "^Sig(Blk|Ign):" /proc/self/status'
	trap - HUP PIPE USR1
	expect_field .stdout $'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000' \
		"signals: none blocked or ignored in the program, though warmbox was started ignoring HUP, PIPE and USR1"
}

# Environment.
case_env() {
	export WB_SECRET=x
	wb_run run --env FOO=bar --copy-in "$(prog env_dump)" -- ./env_dump
	expect_field .stdout "FOO=bar" "env: --env FOO=bar gives exactly FOO=bar"
	wb_run run --copy-in "$(prog env_dump)" -- ./env_dump
	expect_field '.stdout | split("\n") | map(select(length > 0)) | sort | join(" ")' \
		"HOME=/box LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin" "env: defaults PATH, HOME, LANG only"
	check "env: host WB_SECRET never appears" out_lacks WB_SECRET
	unset WB_SECRET
}

# Jobs running at the same time never share a host uid (DESIGN.md): two
# Concurrent runs as root each hold their own slot, hence their own uid.
case_concurrent_uids() {
	if [ "$(id -u)" = 0 ] && [ -z "${WB_AS_USER:-}" ]; then
		WB_CMD="two concurrent: warmbox run -- /bin/sleep 1"
		"$WB" run --wall 5000 -- /bin/sleep 1 >/dev/null 2>&1 &
		p1=$!
		"$WB" run --wall 5000 -- /bin/sleep 1 >/dev/null 2>&1 &
		p2=$!
		sleep 0.5
		uids=$(ps -eo uid=,args= | awk '$2 == "/bin/sleep" && $3 == "1" && $1 >= 1879048192 {print $1}' | sort -u | wc -l)
		wait "$p1" "$p2"
		OUT="distinct sandbox uids seen: $uids"
		if [ "$uids" = 2 ]; then pass "uid: concurrent jobs run as different host uids"; else fail "uid: concurrent jobs run as different host uids"; fi
	else
		skip "uid: concurrent jobs run as different host uids" "rootless jobs of one user share that user's uid"
	fi
}

run_cases "$@"
