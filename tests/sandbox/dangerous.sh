# dangerous.sh: no policy lets a dangerous syscall through. For every
# policy in $WB_POLICIES (new ones are covered as they appear) and every
# probe of tests/progs/dangerous_probe.c (namespaces, mounts, tracing,
# modules, kexec, keys, BPF, perf, io_uring, sockets, host settings...), the
# job must end in SV naming the syscall, or, where the policy answers with an
# errno, OK with the probe's "refused NAME" line. One summary line per policy;
# each probe that got through is a failure with its full result.
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

COPY_IN=$(prog dangerous_probe probe)

# probe POLICY ARG: runs the probe with ARG under POLICY; the status,
# syscall and first stdout line of the result are left in R_STATUS,
# R_SYSCALL and R_LINE ("-" when absent). Read from the one-line result
# with bash patterns rather than jq, to spare a process in each of ~650 runs:
# a JSON string holds no unescaped quote, so the keys cannot be mistaken.
RE_STATUS='"status":"([A-Z]+)"'
RE_SYSCALL='"syscall":"([a-z0-9_]+)"'
RE_LINE='"stdout":"(([^"\\]|\\[^n])*)'
probe() {
	wb_run run --policy "$1" --procs 4 --copy-in "$COPY_IN" -- ./probe "$2"
	R_STATUS=-
	R_SYSCALL=-
	R_LINE=-
	[[ $OUT =~ $RE_STATUS ]] && R_STATUS=${BASH_REMATCH[1]}
	[[ $OUT =~ $RE_SYSCALL ]] && R_SYSCALL=${BASH_REMATCH[1]}
	[[ $OUT =~ $RE_LINE ]] && R_LINE=${BASH_REMATCH[1]}
}

for file in "$WB_POLICIES"/*.json; do
	[ -e "$file" ] || continue
	policy=$(basename "$file" .json)

	# The probe must start and print under the policy at all; otherwise
	# nothing below would say anything about it.
	probe "$policy" --list
	if [ "$RC" = 2 ]; then
		skip "policy $policy cannot be used here: $(oneline "$ERR")"
		continue
	fi
	if [ "$RC" != 0 ] || [ "$R_STATUS" != OK ] || [ "$OUT" = "" ] ||
	    [ "$(jf .stdout)" != "$NAMES" ]; then
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
	bad=0
	t0=$(now_ms)
	for name in $NAMES; do
		expected_syscall "$name"
		probe "$policy" "$name"
		if [[ "$listed" == *" $WANT "* ]] && [ "$WANT" != clone ] && [ "$WANT" != clone3 ]; then
			bad=$((bad + 1))
			fail "policy $policy: $name refused" \
				"$file lists \"$WANT\" in allow (the probe got $R_STATUS: $R_LINE)"
		elif [ "$RC" = 0 ] && [ "$R_STATUS" = SV ] && [ "$R_SYSCALL" = "$WANT" ]; then
			sv=$((sv + 1))
		elif [ "$RC" = 0 ] && [ "$R_STATUS" = OK ] && [[ "$R_LINE" == "refused $name "* ]]; then
			refused=$((refused + 1))
		else
			bad=$((bad + 1))
			fail "policy $policy: $name refused" \
				"expected SV with syscall $WANT, or OK with \"refused $name ...\"; got $R_STATUS, syscall $R_SYSCALL: $R_LINE"
		fi
	done
	t1=$(now_ms)
	if [ "$bad" = 0 ]; then
		pass "policy $policy: all $NPROBES probes refused ($sv SV, $refused by errno) in $((t1 - t0)) ms"
	else
		echo "# policy $policy: $bad of $NPROBES probes NOT refused ($sv SV, $refused by errno)"
	fi
done

finish
