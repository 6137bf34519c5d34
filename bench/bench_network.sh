#!/usr/bin/env bash
# bench_network.sh [-n RUNS] [-o FILE]: what network: true costs a job
# (README "Network jobs"), as root. Inside a network namespace of its own
# (unshare --net) with a veth pair and a TCP listener on 10.77.0.2, it runs
# RUNS times each, interleaved, `warmbox run --policy net`:
#   plain      /bin/true without network;
#   network    /bin/true with --network (pasta started, the namespace set up);
#   connect    netprobe connect 10.77.0.2 with --network (one round trip).
# Per variant: the median of the whole command's wall time, of --trace's
# send_to_exec_us (the job sent to the program's execve: for network, the
# namespace made, pasta started and ready), and of the result's wall_ms.
# The report goes to stdout and FILE (default
# bench/results/network-YYYYmmdd-HHMMSS.txt). WARMBOX names the binary.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
usage() { echo "usage: bench_network.sh [-n RUNS] [-o FILE]" >&2; exit 2; }
runs=21 outpath=
while getopts n:o: opt; do
	case $opt in
	n) runs=$OPTARG ;;
	o) outpath=$OPTARG ;;
	*) usage ;;
	esac
done
[ $# -eq $((OPTIND - 1)) ] || usage
[[ $runs =~ ^[1-9][0-9]*$ ]] || usage
die() { echo "bench_network.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it makes a network namespace of its own)"
for b in jq python3 ip unshare pasta; do command -v "$b" >/dev/null || die "needs $b"; done
WARMBOX=${WARMBOX:-$root/build/warmbox}
PROBE=${PROBE:-$root/build/tests/progs/netprobe}
[ -x "$WARMBOX" ] || die "no warmbox binary at $WARMBOX (build it, or set WARMBOX)"
[ -x "$PROBE" ] || die "no netprobe at $PROBE (build the tests, or set PROBE)"
export WARMBOX_POLICIES=${WARMBOX_POLICIES:-$root/policies}
outpath=${outpath:-$root/bench/results/network-$(date +%Y%m%d-%H%M%S).txt}

if [ -z "${WB_BENCH_NETNS:-}" ]; then
	export WB_BENCH_NETNS=1 WARMBOX PROBE
	exec unshare --net -- "$0" -n "$runs" -o "$outpath"
fi

ip link add wbn0 type veth peer name wbn1
ip link set wbn1 up
ip addr add 10.77.0.1/24 dev wbn0
ip addr add 10.77.0.2/24 dev wbn0
ip link set wbn0 up
ip link set lo up
ip route add default via 10.77.0.254
tmp=$(mktemp -d)
trap 'kill "$listener" 2>/dev/null; rm -rf "$tmp"' EXIT
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.2", 0)); s.listen(64)
print(s.getsockname()[1], flush=True); sys.stdout.close()
while True:
    c, _ = s.accept(); c.sendall(b"pong " + c.recv(100)); c.close()
' >"$tmp/port" &
listener=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")

one() { # one VARIANT: "total_us send_to_exec_us wall_ms" on a line of $tmp/VARIANT
	local v=$1 t0 t1 out
	local args=(run --trace --policy net --procs 1)
	case $v in
	plain) args+=(-- /bin/true) ;;
	network) args+=(--network -- /bin/true) ;;
	connect) args+=(--network --copy-in "$PROBE" -- ./netprobe connect 10.77.0.2 "$port") ;;
	esac
	t0=$(date +%s%N)
	out=$("$WARMBOX" "${args[@]}")
	t1=$(date +%s%N)
	[ "$(jq -r .status <<<"$out")" = OK ] || die "$v: $out"
	echo "$(((t1 - t0) / 1000)) $(jq -r '.trace.send_to_exec_us' <<<"$out") $(jq -r .wall_ms <<<"$out")" >>"$tmp/$v"
}
for i in $(seq "$runs"); do
	case $((i % 3)) in
	0) one plain; one network; one connect ;;
	1) one network; one connect; one plain ;;
	2) one connect; one plain; one network ;;
	esac
done
{
	echo "# bench_network.sh -n $runs, $(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) CPUs"
	echo "# warmbox run --policy net in a network namespace of the bench's own; medians of $runs interleaved runs"
	python3 - "$tmp" <<'EOF'
import statistics, sys
d = sys.argv[1]
rows = {v: [list(map(int, l.split())) for l in open("%s/%s" % (d, v))] for v in ("plain", "network", "connect")}
med = {v: [statistics.median(r[i] for r in rows[v]) for i in range(3)] for v in rows}
print("%-8s %12s %18s %10s" % ("variant", "command ms", "send_to_exec ms", "wall_ms"))
for v in ("plain", "network", "connect"):
    t, s, w = med[v]
    print("%-8s %12.1f %18.2f %10.0f" % (v, t / 1000, s / 1000, w))
print("network set-up (send_to_exec, network - plain): %.1f ms" % ((med["network"][1] - med["plain"][1]) / 1000))
print("first connect and round trip (wall_ms, connect): %.0f ms" % med["connect"][2])
EOF
} | tee "$outpath"
