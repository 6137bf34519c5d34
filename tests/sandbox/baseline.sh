# baseline.sh: fixture set-up of the sandbox tests. Records what
# leftovers.sh compares against once every test has run: the number of
# mounts of this mount namespace and the scratch directories already in /tmp.
set -u
: "${WB_BASELINE:?WB_BASELINE must name the baseline file}"
{
	echo "mounts $(wc -l </proc/self/mountinfo)"
	for d in /tmp/warmbox* /tmp/tmp.* /tmp/wbtest.*; do
		if [ -e "$d" ]; then echo "tmp $d"; fi
	done
} >"$WB_BASELINE" || exit 1
cat "$WB_BASELINE"
echo "# baseline written to $WB_BASELINE"
