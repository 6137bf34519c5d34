# interactive.sh: SPEC.md "Interactive jobs" through warmbox run: the two
# sides wired crosswise, each ended at its own limits, both results, the
# interactor's sandbox out of the program's sight, and the jobs refused.
. "$(dirname "$0")/lib.sh"

IA=$PROGS/interact
IA_B64=$(base64 -w0 "$IA") || exit 1

# ijob NAME PROGRAM_ARGV INTERACTOR_ARGV [PROGRAM_LIMITS [INTERACTOR_LIMITS [INTERACTOR_FILES]]]:
# a job file with the interact program in both sandboxes; ARGVs and LIMITS
# are JSON, INTERACTOR_FILES extra entries of the interactor's files.
ijob() {
	jq -n --arg b "$IA_B64" --argjson pa "$2" --argjson ia "$3" \
	      --argjson pl "${4:-{\}}" --argjson il "${5:-{\}}" --argjson xf "${6:-[]}" '{
		id: "i", argv: $pa, limits: $pl,
		files: [{path: "interact", base64: $b, mode: 493}],
		interactor: {argv: $ia, limits: $il,
		             files: ([{path: "interact", base64: $b, mode: 493}] + $xf)}}' >"$WB_TMP/$1.json"
	chmod 644 "$WB_TMP/$1.json"
	echo "$WB_TMP/$1.json"
}

# The interactor answers every message: both sides end OK, the program's
# output went to the interactor and not into the result.
case_accepted() {
	wb_run run --job "$(ijob acc '["./interact","client","1000"]' '["./interact","server","1000"]')"
	expect_rc 0 "accepted: exit status 0"
	expect_status OK "accepted: the program"
	expect_field .stdout "" "accepted: the program's stdout went to the interactor"
	expect_field .interactor.status OK "accepted: the interactor"
	expect_field .interactor.exit_code 0 "accepted: the interactor's exit code 0 is the judge's answer"
	expect_field .id i "accepted: the job's id on the result"
}

# The interactor rejects the first message: its exit code 1 is the answer;
# the program then reads end-of-file and fails on its own.
case_wrong_answer() {
	wb_run run --job "$(ijob wa '["./interact","client","5"]' '["./interact","expect-eof"]')"
	expect_field .interactor.exit_code 1 "wrong answer: the interactor exits 1"
	expect_field .interactor.status RE "wrong answer: the interactor's status RE"
	expect_jq '.status == "RE" and (.stderr | test("end of file"))' "wrong answer: the program saw end-of-file"
}

# The program spins past its CPU limit while the interactor waits for it:
# the program is TL, the interactor reads end-of-file and ends OK.
case_program_tl() {
	jq -n --arg b "$IA_B64" --arg busy "$(base64 -w0 "$PROGS/busy")" '{
		argv: ["./busy"], limits: {cpu_ms: 300, wall_ms: 5000},
		files: [{path: "busy", base64: $busy, mode: 493}],
		interactor: {argv: ["./interact", "read-all"], limits: {wall_ms: 10000},
		             files: [{path: "interact", base64: $b, mode: 493}]}}' >"$WB_TMP/tl.json"
	chmod 644 "$WB_TMP/tl.json"
	wb_run run --job "$WB_TMP/tl.json"
	expect_status TL "program TL: the program"
	expect_field .interactor.status OK "program TL: the interactor ends when the program does"
	expect_range .interactor.wall_ms 0 4000 "program TL: the interactor did not wait for its own wall limit"
}

# The interactor dies of a signal: it is SG, the program reads end-of-file.
case_interactor_crash() {
	jq -n --arg b "$IA_B64" --arg segv "$(base64 -w0 "$PROGS/segv")" '{
		argv: ["./interact", "read-all"],
		files: [{path: "interact", base64: $b, mode: 493}],
		interactor: {argv: ["./segv"], files: [{path: "segv", base64: $segv, mode: 493}]}}' >"$WB_TMP/crash.json"
	chmod 644 "$WB_TMP/crash.json"
	wb_run run --job "$WB_TMP/crash.json"
	expect_rc 0 "interactor crash: a verdict, not a sandbox failure"
	expect_field .interactor.status SG "interactor crash: the interactor SG"
	expect_field .interactor.signal 11 "interactor crash: signal 11"
	expect_status OK "interactor crash: the program reads end-of-file and ends"
}

# The program closes its stdout first thing: the interactor must see
# end-of-file then, not when the program ends (nobody else may hold the
# pipe open), and the program, reading on, sees the interactor end.
case_close_early() {
	wb_run run --job "$(ijob close '["./interact","close-out"]' '["./interact","expect-eof"]' \
		'{"wall_ms":5000}' '{"wall_ms":5000}')"
	expect_field .interactor.exit_code 0 "close early: the interactor's first read is end-of-file"
	expect_status OK "close early: the program ends on end-of-file"
	expect_range .wall_ms 0 2500 "close early: nobody waited for a wall limit"
}

# Both sides read first, so neither ever writes: the side with the shorter
# wall limit is ended by it, the other sees end-of-file, nothing hangs.
case_both_read() {
	wb_run run --job "$(ijob both '["./interact","read-all"]' '["./interact","read-all"]' \
		'{"wall_ms":1000}' '{"wall_ms":10000}')"
	expect_status TL "both read: the program ends at its wall limit"
	expect_field .interactor.status OK "both read: the interactor sees end-of-file"
	expect_range .interactor.wall_ms 0 4000 "both read: the interactor did not wait for its own limit"
}

# A side writing to one that has ended gets EPIPE, not SIGPIPE: `yes` ends
# with an error of its own, not a signal.
case_epipe() {
	wb_run run --job "$(ijob epipe '["yes"]' '["true"]')"
	expect_jq '.status == "RE" and .signal == null and (.stderr | test("Broken pipe"))' \
		"epipe: the program's write fails with EPIPE"
	expect_field .interactor.status OK "epipe: the interactor ended first"
}

# The interactor holds the test's secret in its own /box; the program
# searches every path it can reach while the interactor is still running.
case_secret() {
	local word
	word="wb-secret-$$-$RANDOM$RANDOM"
	wb_run run --job "$(ijob secret "[\"./interact\",\"secret-probe\",\"$word\"]" \
		'["sh","-c","cat secret.txt >&2; exec ./interact read-all"]' \
		'{"wall_ms":20000,"cpu_ms":10000}' '{"wall_ms":30000,"procs":4}' \
		"[{\"path\":\"secret.txt\",\"content\":\"$word\"}]")"
	expect_status OK "secret: the probe finished its walk"
	expect_jq '.stderr | test("^not found in [1-9][0-9]* files")' "secret: the word is nowhere the program can see"
	expect_field .interactor.stderr "$word" "secret: the interactor read it from its own /box"
	# The probe's control: the same walk finds the word in the program's own /box.
	jq -n --arg b "$IA_B64" --arg w "$word" '{argv: ["./interact", "secret-probe", $w],
		limits: {wall_ms: 20000, cpu_ms: 10000},
		files: [{path: "interact", base64: $b, mode: 493}, {path: "sub/mine.txt", content: ("x" + $w)}]}' \
		>"$WB_TMP/control.json"
	chmod 644 "$WB_TMP/control.json"
	wb_run run --job "$WB_TMP/control.json"
	expect_jq '.status == "RE" and .exit_code == 1 and (.stderr | test("^found .* in /box/sub/mine.txt"))' \
		"secret: the probe finds the word where it is visible"
}

# 1 MiB each way in 4-byte messages: 262144 round trips, nothing lost.
case_mebibyte() {
	wb_run run --job "$(ijob mib '["./interact","client","262144"]' '["./interact","server","262144"]' \
		'{"cpu_ms":20000,"wall_ms":60000}' '{"cpu_ms":20000,"wall_ms":60000}')"
	expect_status OK "1 MiB: the program checked every answer"
	expect_field .interactor.status OK "1 MiB: the interactor answered every message"
}

# What the SPEC forbids is refused with a clear error naming the field.
case_refused() {
	local base='"argv":["true"],"interactor":'
	printf '{%s{"argv":["true"],"stdin":"x"}}\n' "$base" >"$WB_TMP/r1.json"
	printf '{%s{"argv":["true"],"interactor":{"argv":["true"]}}}\n' "$base" >"$WB_TMP/r2.json"
	printf '{%s{"argv":["true"],"network":true}}\n' "$base" >"$WB_TMP/r3.json"
	printf '{"stdin":"x",%s{"argv":["true"]}}\n' "$base" >"$WB_TMP/r4.json"
	printf '{%s["true"]}\n' "$base" >"$WB_TMP/r5.json"
	printf '{%s{"argv":["true"],"policy":"no-such-policy"}}\n' "$base" >"$WB_TMP/r6.json"
	printf '{%s{"argv":["true"],"files":[{"path":"../x","content":""}]}}\n' "$base" >"$WB_TMP/r7.json"
	chmod 644 "$WB_TMP"/r*.json
	wb_run run --job "$WB_TMP/r1.json"
	expect_invalid 'interactor: stdin: not allowed' "refused: an interactor with stdin"
	wb_run run --job "$WB_TMP/r2.json"
	expect_invalid 'interactor: interactor: not allowed' "refused: a nested interactor"
	wb_run run --job "$WB_TMP/r3.json"
	expect_invalid 'interactor: network: not allowed' "refused: an interactor with network"
	wb_run run --job "$WB_TMP/r4.json"
	expect_invalid '^warmbox run: invalid job: stdin: not with an interactor' "refused: stdin beside an interactor"
	wb_run run --job "$WB_TMP/r5.json"
	expect_invalid 'interactor: must be an object' "refused: an interactor that is not an object"
	wb_run run --job "$WB_TMP/r6.json"
	expect_invalid 'interactor: .*no-such-policy' "refused: an unknown interactor policy"
	wb_run run --job "$WB_TMP/r7.json"
	expect_invalid 'interactor: files\[0\]\.path' "refused: a hostile path in the interactor's files"
}

run_cases "$@"
