#!/usr/bin/env bash
# languages.sh: the seven judge languages, each under its own policy. Per
# language: the test programs (tests/lang/progs/LANG) compiled inside the
# sandbox with the compile policy and taken out with copy_out; hello is OK;
# the stdin-sum judge flow (examples/judge/judge.sh) accepts all three
# tests; a busy loop is TL; allocating past memory_kb is ML; a TCP connect
# to a listener on the host's loopback is SV (RE with EACCES in Java), never
# a connection. One case per language; a language whose toolchain is missing
# is skipped.
. "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/tests/lang/progs
[ -d "$src" ] || skip_all "no $src"
WB_RUN_TIMEOUT=120

# What each language needs on the host (Debian's packages, installed by
# .ci/install-deps).
toolchain() {
	case $1 in
	c) echo /usr/bin/gcc ;;
	cpp) echo /usr/bin/g++ ;;
	python) echo /usr/bin/python3 ;;
	java) echo /usr/bin/javac ;;
	node) echo /usr/bin/node ;;
	go) echo /usr/bin/go ;;
	rust) echo /usr/bin/rustc ;;
	esac
}

# The shell command that builds hello, busy, alloc and socket_probe in /box
# (empty: nothing to build), and the files it leaves to copy out.
build_cmd() {
	local p
	case $1 in
	c | cpp)
		local cc=gcc ext=c
		[ "$1" = cpp ] && cc="g++ -std=c++17" && ext=cpp
		for p in hello busy alloc socket_probe; do printf '%s -O2 -o %s %s.%s && ' "$cc" "$p" "$p" "$ext"; done
		echo true ;;
	go)
		for p in hello busy alloc socket_probe; do printf 'go build -o %s %s.go && ' "$p" "$p"; done
		echo true ;;
	rust)
		for p in hello busy alloc socket_probe; do printf 'rustc -O -C strip=debuginfo -o %s %s.rs && ' "$p" "$p"; done
		echo true ;;
	java) echo "javac -d classes *.java && jar --create --file progs.jar -C classes ." ;;
	esac
}

build_outputs() {
	case $1 in
	java) echo progs.jar ;;
	python | node) ;;
	*) echo hello busy alloc socket_probe ;;
	esac
}

# run_argv LANG PROG: the program's argv inside /box.
run_argv() {
	case $1 in
	python) echo "/usr/bin/python3 $2.py" ;;
	node) echo "/usr/bin/node $2.js" ;;
	java)
		local cls
		case $2 in hello) cls=Hello ;; busy) cls=Busy ;; alloc) cls=Alloc ;; socket_probe) cls=SocketProbe ;; esac
		# -Xmx above the job's memory_kb: the heap may grow past the
		# limit, so allocating too much is the sandbox's ML, not the
		# JVM's own OutOfMemoryError (README "Languages").
		echo "/usr/bin/java -Xmx1g -Xss64m -XX:+UseSerialGC -cp progs.jar $cls" ;;
	*) echo "./$2" ;;
	esac
}

# Threads of the runtime itself count against procs (README "Languages").
procs_of() {
	case $1 in
	java) echo 32 ;;
	node | go) echo 16 ;;
	*) echo 1 ;;
	esac
}

ENV_ARGS=(--env PATH=/usr/bin:/bin --env HOME=/tmp --env LANG=C.UTF-8
	--env GOCACHE=/tmp/gocache --env GOPATH=/tmp/go)

# Artifacts land in $WB_TMP/LANG, readable by the tested uid.
build() {
	local lang=$1 cmd copy_in=() copy_out=() f out nout=0
	mkdir -p "$WB_TMP/$lang"
	chmod 755 "$WB_TMP/$lang"
	for f in "$src/$lang"/*; do
		cp "$f" "$WB_TMP/$lang/"
		chmod 644 "$WB_TMP/$lang/$(basename "$f")"
		copy_in+=(--copy-in "$WB_TMP/$lang/$(basename "$f"):$(basename "$f")")
	done
	cmd=$(build_cmd "$lang")
	[ -n "$cmd" ] || return 0
	for out in $(build_outputs "$lang"); do
		copy_out+=(--copy-out "$out")
		nout=$((nout + 1))
	done
	wb_run run --policy compile --procs 64 --memory 1G --cpu 30000 --wall 90000 \
		--file-size 64M "${ENV_ARGS[@]}" "${copy_in[@]}" "${copy_out[@]}" -- /bin/sh -c "$cmd"
	if [ "$(jf .status)" != OK ] || [ "$(jf '[.files[] | select(.base64)] | length')" != "$nout" ]; then
		fail "$lang: test programs compile in the sandbox (compile policy)"
		return 1
	fi
	pass "$lang: test programs compile in the sandbox ($(jf .wall_ms) ms wall)"
	for out in $(build_outputs "$lang"); do
		printf '%s' "$OUT" | jq -r --arg p "$out" '.files[] | select(.path == $p) | .base64' |
			base64 -d >"$WB_TMP/$lang/$out"
		chmod 755 "$WB_TMP/$lang/$out"
	done
}

# run_prog LANG PROG [warmbox options...] -- [program args...]
run_prog() {
	local lang=$1 prog=$2 opts=() copy_in=() f
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	for f in "$WB_TMP/$lang"/*; do
		copy_in+=(--copy-in "$f:$(basename "$f")")
	done
	# shellcheck disable=SC2046
	wb_run run --policy "$lang" --procs "$(procs_of "$lang")" "${ENV_ARGS[@]}" "${copy_in[@]}" \
		"${opts[@]}" -- $(run_argv "$lang" "$prog") "$@"
}

# language LANG: every check of LANG, with a listener on the host's
# loopback that must see no connection.
language() {
	local lang=$1 tool out rc port
	tool=$(toolchain "$lang")
	if [ ! -x "$tool" ]; then
		skip "$lang" "$tool not installed"
		return
	fi
	listener_start 600
	port=$LISTENER_PORT
	[ -n "$port" ] || fail "host listener did not start"
	build "$lang" || return

	run_prog "$lang" hello --
	expect_status OK "$lang: hello is OK"
	expect_field .stdout hello "$lang: hello prints hello"

	out=$(as_user env WARMBOX="$WB" WARMBOX_POLICIES="$WB_POLICIES" TMPDIR=/tmp \
		bash "$root/examples/judge/judge.sh" "$lang" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | grep -c ': accepted,')" = 3 ]; then
		pass "$lang: judge flow accepts the stdin-sum solution on 3 tests"
	else
		WB_CMD="judge.sh $lang" RC=$rc OUT=$out ERR=""
		fail "$lang: judge flow accepts the stdin-sum solution on 3 tests"
	fi
	printf '%s\n' "$out" | sed "s/^/# $lang judge: /"

	run_prog "$lang" busy --cpu 1000 --wall 5000 --
	expect_status TL "$lang: a busy loop is TL"

	run_prog "$lang" alloc --memory 128M --wall 10000 --
	expect_status ML "$lang: allocating 2 GiB under --memory 128M is ML"

	if [ -n "$port" ]; then
		run_prog "$lang" socket_probe -- "$port"
		if [ "$lang" = java ]; then
			# The JVM probes IPv4 and IPv6 sockets at start: policies/java.json
			# answers socket() with EACCES instead of ending the job.
			expect_status RE "$lang: a TCP connect is RE (socket refused with EACCES)"
			expect_jq '.stdout | test("^connect: java.net.SocketException: Permission denied")' \
				"$lang: the program saw Permission denied, no connection"
		else
			expect_status SV "$lang: a TCP connect is SV"
			expect_field .syscall socket "$lang: the SV names socket"
		fi
	fi
	[ -z "$port" ] || listener_expect_none "the host listener"
}

case_c() { language c; }
case_cpp() { language cpp; }
case_python() { language python; }
case_java() { language java; }
case_node() { language node; }
case_go() { language go; }
case_rust() { language rust; }

run_cases "$@"
