#!/bin/sh
# plot_scale.sh: draws the CSV of `bench_daemon -m scale` as one PNG with gnuplot: for each
# program, p50 and p99 latency and jobs/s against the number of clients, a line per system.
#
#   bench/plot_scale.sh CSV [PNG]        (PNG defaults to CSV with .png for .csv)
#
# Needs gnuplot (Debian: apt-get install gnuplot-nox). The x axis is the
# number of clients (bare and bwrap: loops) on a log2 scale; `seq` (one
# client, one job at a time) is drawn on its own at the left, x = 0, not
# joined to the N=1,2,4,... line of its system.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 CSV [PNG]" >&2
	exit 2
fi
csv=$1
png=${2:-${csv%.csv}.png}
header=program,system,shape,clients,depth,jobs,seconds,jobs_per_s,tput_vs_bare,min_us,p50_us,p90_us,p99_us,max_us,p50_vs_bare,p99_vs_bare

command -v gnuplot >/dev/null || { echo "$0: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
[ -r "$csv" ] || { echo "$0: cannot read $csv" >&2; exit 1; }
if [ "$(head -n 1 "$csv")" != "$header" ]; then
	echo "$0: $csv: not a bench_daemon -m scale CSV (its first line is not the header)" >&2
	exit 1
fi
# pngcairo draws smoother lines; gnuplot-nox has it, a gnuplot built without
# cairo has only libgd's png.
if gnuplot -e 'set terminal pngcairo' 2>/dev/null; then
	term="pngcairo size 1500,900 font 'sans,10'"
else
	term="png size 1500,900"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One data file per program and system (seq, a blank line, the N rows by
# clients: the blank line keeps seq unjoined); the programs, systems and
# x tics in the order the CSV first names them.
awk -F, -v dir="$tmp" '
BEGIN { np = 0; ns = 0 }
NR == 1 { next }
{
	if (!($1 in pi)) { pi[$1] = np; pname[np++] = $1 }
	if (!($2 in si)) { si[$2] = ns; sname[ns++] = $2 }
	x = $3 == "seq" ? 0 : 1 + log($4) / log(2)
	row = sprintf("%g %g %g %g", x, $11 / 1000, $13 / 1000, $8)
	k = pi[$1] SUBSEP si[$2]
	if ($3 == "seq") {
		seq[k] = row
	} else {
		n = cnt[k]++
		rows[k, n] = row; key[k, n] = $4 + 0
	}
	if (!($3 in tic)) { tic[$3] = x; tics = tics (tics == "" ? "" : ", ") sprintf("\"%s\" %g", $3 == "seq" ? "seq" : $4, x) }
}
END {
	for (p = 0; p < np; p++) print pname[p] > (dir "/programs")
	for (s = 0; s < ns; s++) print sname[s] > (dir "/systems")
	print tics > (dir "/tics")
	for (p = 0; p < np; p++) for (s = 0; s < ns; s++) {
		k = p SUBSEP s
		f = sprintf("%s/d_%d_%d.dat", dir, p, s)
		printf "" > f
		if (k in seq) print seq[k] "\n" >> f
		# Insertion sort by clients: -N need not be in order.
		for (i = 1; i < cnt[k]; i++) for (j = i; j > 0 && key[k, j - 1] > key[k, j]; j--) {
			t = rows[k, j]; rows[k, j] = rows[k, j - 1]; rows[k, j - 1] = t
			t = key[k, j]; key[k, j] = key[k, j - 1]; key[k, j - 1] = t
		}
		for (i = 0; i < cnt[k]; i++) print rows[k, i] >> f
		close(f)
	}
}' "$csv"

np=$(wc -l < "$tmp/programs")
ns=$(wc -l < "$tmp/systems")
tics=$(cat "$tmp/tics")
if [ "$ns" -lt 1 ] || [ "$np" -lt 1 ]; then
	echo "$0: $csv has no rows" >&2
	exit 1
fi

# Line colours by system, in the CSV's order: bare, warmbox (A, B), bwrap.
colour() {
	case $1 in
	bare) echo "#000000" ;;
	bwrap) echo "#d62728" ;;
	"warmbox B") echo "#2ca02c" ;;
	*) echo "#1f77b4" ;;
	esac
}

{
	echo "set terminal $term"
	echo "set output '$png'"
	# Names as written: no _ as a subscript.
	echo "set termoption noenhanced"
	echo "set multiplot layout $np,3 title 'bench_daemon -m scale: $(basename "$csv")'"
	echo "set xtics ($tics)"
	echo "set xlabel 'clients N (bare, bwrap: loops), log2; seq alone at the left'"
	echo "set grid"
	echo "set key top left"
	p=0
	while IFS= read -r prog; do
		for panel in p50 p99 tput; do
			case $panel in
			p50) col=2 ylabel="p50 latency, ms (log)" title="$prog: p50 latency per job" ;;
			p99) col=3 ylabel="p99 latency, ms (log)" title="$prog: p99 latency per job" ;;
			tput) col=4 ylabel="jobs/s" title="$prog: jobs per second" ;;
			esac
			if [ "$panel" = tput ]; then
				# Room above the lines for the key.
				echo "unset logscale y; set yrange [0:*]; set offsets 0.3, 0.3, graph 0.3, 0"
			else
				echo "set logscale y; set yrange [*:*]; set offsets 0.3, 0.3, 0, 0"
			fi
			echo "set title '$title'"
			echo "set ylabel '$ylabel'"
			printf 'plot '
			s=0
			while IFS= read -r sys; do
				[ $s -gt 0 ] && printf ', '
				printf "'%s/d_%d_%d.dat' using 1:%d with linespoints lw 2 pt 7 ps 1.2 lc rgb '%s' title '%s'" \
					"$tmp" "$p" "$s" "$col" "$(colour "$sys")" "$sys"
				s=$((s + 1))
			done < "$tmp/systems"
			echo
		done
		p=$((p + 1))
	done < "$tmp/programs"
	echo "unset multiplot"
} > "$tmp/plot.gp"

gnuplot "$tmp/plot.gp"
echo "$0: wrote $png" >&2
