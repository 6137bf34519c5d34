# dangerous.sh: no policy lets a dangerous syscall through. For every
# policy in $WB_POLICIES (new ones are covered as they appear) and every
# probe of tests/progs/dangerous_probe.c (namespaces, mounts, tracing,
# modules, kexec, keys, BPF, perf, io_uring, sockets, host settings...), the
# job must end in SV naming the syscall, or, where the policy answers with an
# errno, OK with the probe's "refused NAME" line. One summary line per policy;
# each probe that got through is a failure with its full result. The jobs go
# through warmbox serve: the daemon path, the one judges use.
WB_RUN_TIMEOUT=${WB_RUN_TIMEOUT:-20}
. "$(dirname "$0")/lib.sh"

PROBE="$PROGS/dangerous_probe"
[ -x "$PROBE" ] || skip_all "test program $PROBE not built"
if [ -z "${WB_POLICIES:-}" ] || [ ! -d "$WB_POLICIES" ]; then
	skip_all "WB_POLICIES names no policies directory"
fi

NAMES=$("$PROBE" --list) || skip_all "$PROBE --list failed"
NPROBES=$(printf '%s\n' "$NAMES" | grep -c .)

# expected_syscall NAME: sets WANT to the syscall a probe makes, as the
# result names it.
expected_syscall() {
	case "$1" in
	socket_*) WANT=socket ;;
	clone_*) WANT=clone ;;
	personality_change) WANT=personality ;;
	*_chardev) WANT=${1%_chardev} ;;
	*) WANT=$1 ;;
	esac
}

declare -A RESULT

# probe POLICY ARG: the status, syscall and first stdout line of that job's
# result in R_STATUS, R_SYSCALL and R_LINE ("-" when there is none).
probe() {
	local r=${RESULT["$1 $2"]:-}
	R_STATUS=- R_SYSCALL=- R_LINE=-
	[ -n "$r" ] || return 0
	IFS=$'\t' read -r R_STATUS R_SYSCALL R_LINE <<<"$r"
	OUT=$(grep -F "\"id\":\"$1 $2\"" "$WB_TMP/results.ndjson" | head -n 1)
	WB_CMD="job \"$1 $2\": ./probe $2 under policy $1"
}

# Every (policy, probe) pair is one job, and there are some 700: they go
# through one warm daemon, pipelined by warmbox submit, which takes seconds
# where as many `warmbox run`s take minutes (more under the sanitizers).
# A policy that cannot be loaded here (a missing bind) is skipped, by name:
# the daemon loads them all or none.
case_all_policies() {
	local pols sock_dir serve serve_pid t0 t1 serve_rc policy file listed sv refused meant bad name
	pols=$WB_TMP/policies
	mkdir -p "$pols"
	for file in "$WB_POLICIES"/*.json; do
		[ -e "$file" ] || continue
		policy=$(basename "$file" .json)
		wb_run run --policies "$WB_POLICIES" --policy "$policy" -- /bin/true
		if [ "$RC" = 2 ]; then
			skip "policy $policy: loads here" "$(oneline "$ERR")"
			continue
		fi
		cp "$file" "$pols/"
	done
	chmod -R a+rX "$pols"
	POLICY_NAMES=$(cd "$pols" && ls | sed -n 's/\.json$//p')
	[ -n "$POLICY_NAMES" ] || skip_all "no policy can be loaded here"

	jq -nc --rawfile b64 <(base64 -w0 "$PROBE") \
		--argjson policies "$(printf '%s\n' $POLICY_NAMES | jq -R . | jq -sc .)" \
		--argjson names "$(printf '%s\n' $NAMES | jq -R . | jq -sc .)" '
		$policies[] as $p | (["--list"] + $names)[] as $n |
		{id: "\($p) \($n)", argv: ["./probe", $n], policy: $p, limits: {procs: 4},
		 files: [{path: "probe", base64: $b64, mode: 493}]}' >"$WB_TMP/jobs.ndjson"

	sock_dir=$WB_TMP/sock
	mkdir -p "$sock_dir"
	[ -z "${WB_AS_USER:-}" ] || chown "$WB_AS_USER" "$sock_dir"
	# Not through as_user: a function in the background is a subshell, and its
	# pid is not the daemon's.
	serve=("${WB_LAUNCH[@]}" "$WB" serve --socket "$sock_dir/s" --policies "$pols" --zygotes 2 --log-level warn)
	if [ -n "${WB_AS_USER:-}" ]; then
		setpriv --reuid "$WB_AS_USER" --regid "$WB_AS_USER" --clear-groups -- "${serve[@]}" 2>"$WB_TMP/serve.log" &
	else
		"${serve[@]}" 2>"$WB_TMP/serve.log" &
	fi
	serve_pid=$!
	WB_PIDS="$WB_PIDS $serve_pid"
	for _ in $(seq 100); do [ -S "$sock_dir/s" ] && break; sleep 0.05; done
	[ -S "$sock_dir/s" ] || { fail "warmbox serve started" "$(cat "$WB_TMP/serve.log")"; return; }
	t0=$(now_ms)
	as_user timeout -k 5 300 "$WB" submit --socket "$sock_dir/s" "$WB_TMP/jobs.ndjson" \
		>"$WB_TMP/results.ndjson" 2>"$WB_TMP/submit.err"
	RC=$?
	t1=$(now_ms)
	kill -TERM "$serve_pid" 2>/dev/null
	wait "$serve_pid" 2>/dev/null
	serve_rc=$?
	WB_CMD="warmbox submit --socket SOCK jobs.ndjson ($(grep -c . "$WB_TMP/jobs.ndjson") jobs)"
	OUT="" ERR=$(cat "$WB_TMP/submit.err")
	expect_rc 0 "every probe job carried out through the daemon in $((t1 - t0)) ms"
	[ "$serve_rc" = 0 ] || fail "warmbox serve exited 0 on SIGTERM (got $serve_rc)" "$(cat "$WB_TMP/serve.log")"

	# id -> "status<TAB>syscall<TAB>first stdout line"
	while IFS=$'\t' read -r id st sc line; do
		RESULT[$id]="$st"$'\t'"$sc"$'\t'"$line"
	done < <(jq -r '[.id, .status, (.syscall // "-"), ((.stdout // "") | split("\n")[0])] | @tsv' \
		"$WB_TMP/results.ndjson")

	for policy in $POLICY_NAMES; do
		file=$pols/$policy.json
		# The probe must start and print under the policy at all; otherwise
		# nothing below would say anything about it.
		probe "$policy" --list
		if [ "$R_STATUS" != OK ] || [ "$(jf .stdout)" != "$NAMES" ]; then
			fail "policy $policy: dangerous_probe --list runs" \
				"the probe cannot start under this policy (status $R_STATUS, syscall $R_SYSCALL)"
			continue
		fi

		# Names the policy allows whatever their arguments. The probes' harmless
		# arguments may make the kernel refuse a call the policy let through
		# (syslog, AF_PACKET without CAP_NET_RAW): such a "refused" proves
		# nothing. clone and clone3 are exempt: every compiled policy checks
		# clone's namespace flags and answers clone3 with ENOSYS (policy.c).
		listed=" $(jq -r '.allow[]? | select(test("^[a-z0-9_]+$"))' "$file" 2>/dev/null | tr '\n' ' ') "

		sv=0
		refused=0
		meant=0
		bad=0
		t0=$(now_ms)
		for name in $NAMES; do
			expected_syscall "$name"
			probe "$policy" "$name"
			# net is the policy of network jobs: TCP and UDP sockets are
			# what it is for (README "Network jobs"); any other family is not.
			if [ "$policy" = net ] && { [ "$name" = socket_inet ] || [ "$name" = socket_inet6 ]; }; then
				if [ "$R_STATUS" = RE ] && [[ "$R_LINE" == "ALLOWED $name "* ]]; then
					meant=$((meant + 1))
				else
					bad=$((bad + 1))
					fail "policy net: $name allowed" "expected the probe to get through (RE, \"ALLOWED $name ...\"); got $R_STATUS: $R_LINE"
				fi
				continue
			fi
			if [[ "$listed" == *" $WANT "* ]] && [ "$WANT" != clone ] && [ "$WANT" != clone3 ]; then
				bad=$((bad + 1))
				fail "policy $policy: $name refused" \
					"$file lists \"$WANT\" in allow (the probe got $R_STATUS: $R_LINE)"
			elif [ "$R_STATUS" = SV ] && [ "$R_SYSCALL" = "$WANT" ]; then
				sv=$((sv + 1))
			elif [ "$R_STATUS" = OK ] && [[ "$R_LINE" == "refused $name "* ]]; then
				refused=$((refused + 1))
			else
				bad=$((bad + 1))
				fail "policy $policy: $name refused" \
					"expected SV with syscall $WANT, or OK with \"refused $name ...\"; got $R_STATUS, syscall $R_SYSCALL: $R_LINE"
			fi
		done
		t1=$(now_ms)
		if [ "$bad" = 0 ]; then
			pass "policy $policy: all $((NPROBES - meant)) probes refused ($sv SV, $refused by errno)$([ "$meant" = 0 ] || echo ", $meant allowed as meant") in $((t1 - t0)) ms"
		else
			echo "# policy $policy: $bad of $NPROBES probes NOT refused ($sv SV, $refused by errno)"
		fi
	done
}

run_cases "$@"
