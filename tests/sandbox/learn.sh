#!/usr/bin/env bash
# learn.sh: warmbox learn prints a policy that, saved and used, runs the
# same program again with status OK; the counts go to stderr; a syscall of
# the dangerous set is refused and listed apart, never learned.
. "$(dirname "$0")/lib.sh"

# Learn what ls needs, then run it again under what was learned.
case_ls() {
	local pol=$WB_TMP/learned
	mkdir -p "$pol"
	chmod 755 "$pol"
	# Every syscall goes through the job init while learning: under
	# emulation (the VM suite) that can take seconds, and a run cut short
	# by a limit would learn only part of what ls needs.
	wb_run learn --cpu 20000 --wall 60000 -- /bin/ls -l /
	expect_rc 0 "learn /bin/ls: exit status 0"
	if printf '%s' "$ERR" | grep -q '^warmbox learn: the program ended OK (exit code 0)$'; then
		pass "learn /bin/ls: the learning run ended OK"
	else
		fail "learn /bin/ls: the learning run ended OK" "$(printf '%s' "$ERR" | head -1)"
	fi
	if printf '%s' "$OUT" | jq -e '.default_action == "kill" and (.allow | index("execve")) and (.allow | length > 10)' >/dev/null 2>&1; then
		pass "learn /bin/ls: stdout is a policy allowing execve and what ls used ($(jf '.allow | length') syscalls)"
	else
		fail "learn /bin/ls: stdout is a policy"
	fi
	if printf '%s' "$ERR" | grep -Eq '^  (openat|newfstatat) +[0-9]+$'; then
		pass "learn /bin/ls: stderr counts the calls"
	else
		fail "learn /bin/ls: stderr counts the calls"
	fi
	printf '%s\n' "$OUT" >"$pol/ls.json"
	chmod 644 "$pol/ls.json"

	wb_run run --policies "$pol" --policy ls -- /bin/ls -l /
	expect_status OK "the learned policy runs /bin/ls -l / again"
	expect_jq '.stdout | test("usr")' "and ls lists / (usr among it)"

	# The learned list is a whitelist: something ls never did is still refused.
	wb_run run --policies "$pol" --policy ls --copy-in "$(prog connect_probe)" -- ./connect_probe
	expect_status SV "the learned policy refuses what ls never did (socket)"
}

# A socket is in the dangerous set: refused while learning, listed apart.
case_dangerous() {
	wb_run learn --copy-in "$(prog connect_probe)" -- ./connect_probe
	expect_rc 0 "learn connect_probe: exit status 0"
	if [ -n "$OUT" ] && printf '%s' "$OUT" | jq -e '.allow | index("socket") | not' >/dev/null 2>&1 &&
	    printf '%s' "$ERR" | grep -q 'refused' && printf '%s' "$ERR" | grep -Eq '^  socket +[0-9]+$'; then
		pass "learn connect_probe: socket refused and listed apart, not learned"
	else
		fail "learn connect_probe: socket refused and listed apart, not learned"
	fi
}

case_copy_out() {
	wb_run learn --copy-out x -- /bin/true
	expect_invalid "copy-out" "learn refuses --copy-out with one line"
}

run_cases "$@"
