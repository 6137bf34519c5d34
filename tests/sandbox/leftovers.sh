# leftovers.sh: runs after every other sandbox test (fixture cleanup) and
# checks that none of them left anything behind: warmbox or test-program
# processes, mounts, cgroups named warmbox*, scratch directories in /tmp.
set -u
: "${WB:?}" "${PROGS:?}" "${WB_BASELINE:?}"
n=0
passed=0
failed=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; }

if [ ! -r "$WB_BASELINE" ]; then
	echo "1..0 # SKIP no baseline $WB_BASELINE (sandbox_baseline did not run)"
	exit 77
fi

wb_real=$(readlink -f "$WB" 2>/dev/null || echo "$WB")
wb_zygote=$(dirname -- "$wb_real")/wb-zygote
progs_real=$(readlink -f "$PROGS" 2>/dev/null || echo "$PROGS")
procs=""
for d in /proc/[0-9]*; do
	pid=${d#/proc/}
	[ "$pid" = "$$" ] && continue
	exe=$(readlink "$d/exe" 2>/dev/null)
	exe=${exe% (deleted)}
	cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline")
	# Zygotes and job inits run warmbox's embedded zygote program from a
	# memfd: ours if it is the wb-zygote built beside $WB (another warmbox
	# on this host is not a leftover of these tests).
	if [ -n "$exe" ] && { [ "$exe" = "$wb_real" ] ||
		{ [ "$exe" = "/memfd:wb-zygote" ] && cmp -s "$d/exe" "$wb_zygote"; }; }; then
		procs="$procs$pid warmbox: $cmd"$'\n'
	elif [[ "$cmd" == "$PROGS"* || "$cmd" == "$progs_real"* || "$exe" == "$progs_real"/* ]]; then
		procs="$procs$pid test program: $cmd"$'\n'
	fi
done
if [ -z "$procs" ]; then
	ok "no warmbox or test-program process left"
else
	bad "processes left behind" "$procs"
fi

want=$(sed -n 's/^mounts //p' "$WB_BASELINE")
have=$(wc -l </proc/self/mountinfo)
if [ "$want" = "$have" ]; then
	ok "mount count unchanged ($have)"
else
	bad "mount count $have, baseline $want" "$(tail -n +$((want + 1)) /proc/self/mountinfo)"
fi

# A cgroup is named warmbox-PID after the manager that made it; one whose
# PID is still running belongs to a warmbox at work (ours would have been
# reported above), so only those of finished managers are leftovers.
cg=""
while IFS= read -r d; do
	[ -n "$d" ] || continue
	pid=$(basename "$d" | sed -n 's/^warmbox-\([0-9][0-9]*\).*/\1/p')
	if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
		echo "# note: $d belongs to running pid $pid ($(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline"))"
		continue
	fi
	cg="$cg$d"$'\n'
done < <(find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d -name 'warmbox*' 2>/dev/null)
# A manager that finished a moment ago may still be removing its tree.
if [ -n "$cg" ]; then
	sleep 1
	cg=$(printf '%s' "$cg" | while IFS= read -r d; do [ -d "$d" ] && echo "$d"; done)
fi
if [ -z "$cg" ]; then
	ok "no cgroup named warmbox* of a finished warmbox under /sys/fs/cgroup"
else
	bad "cgroups left behind by finished warmbox runs" "$cg"
fi

tmp=""
for d in /tmp/warmbox* /tmp/tmp.* /tmp/wbtest.*; do
	[ -e "$d" ] || continue
	grep -qxF "tmp $d" "$WB_BASELINE" && continue
	# /tmp/wbtest.PID.*: scratch of a test script still running elsewhere
	pid=$(basename "$d" | sed -n 's/^wbtest\.\([0-9][0-9]*\)\..*/\1/p')
	if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
		echo "# note: $d belongs to running test script $pid"
		continue
	fi
	tmp="$tmp$d"$'\n'
done
if [ -z "$tmp" ]; then
	ok "no new /tmp/warmbox*, /tmp/tmp.* or /tmp/wbtest.* directory"
else
	bad "scratch directories left in /tmp" "$tmp"
fi

echo "# leftovers: $passed passed, $failed failed"
echo "1..$n"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
