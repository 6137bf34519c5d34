/*
 * bench_run: what one warmbox job costs, measured against a bare
 * fork+execve+waitpid of the same program and against bubblewrap, in one
 * interleaved run on one machine (DESIGN.md, "Where time goes").
 *
 *   bench_run [-n N] [-W WARMUP] [-o FILE] [-w WARMBOX] [-b BUSY]
 *   bench_run -m cpu [-n N] ...
 *
 * Mode "latency" (default): N rounds; each round runs bare, warmbox and bwrap
 * once, the starting variant rotating, so drift and noise hit all three alike.
 * Mode "cpu": N runs of a busy loop under `warmbox run --cpu 500`; how far
 * past the limit cpu_ms and wall_ms land.
 *
 * The report goes to stdout and to FILE (default
 * bench/results/run-YYYYmmdd-HHMMSS[-cpu].txt in the source tree).
 */
#include "benchlib.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CPU_LIMIT_MS 500

const char bench_name[] = "bench_run";

/* ---- the warmbox result line ------------------------------------------- */

struct wres {
	char status[8];
	char accounting[24];
	double cpu_ms, wall_ms;
	double send_us, recv_us; /* trace; -1 when absent */
};

static double num_field(const cJSON *o, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(f) ? f->valuedouble : -1;
}

static void str_field(const cJSON *o, const char *name, char *dst, size_t n)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));

	snprintf(dst, n, "%s", s ? s : "?");
}

static void parse_result(const char *line, struct wres *r)
{
	cJSON *o = cJSON_Parse(line);
	const cJSON *tr;

	if (!cJSON_IsObject(o))
		bench_die("warmbox printed no result JSON: %s", line);
	str_field(o, "status", r->status, sizeof(r->status));
	str_field(o, "accounting", r->accounting, sizeof(r->accounting));
	r->cpu_ms = num_field(o, "cpu_ms");
	r->wall_ms = num_field(o, "wall_ms");
	tr = cJSON_GetObjectItemCaseSensitive(o, "trace");
	r->send_us = num_field(tr, "send_to_exec_us");
	r->recv_us = num_field(tr, "recv_to_exec_us");
	cJSON_Delete(o);
}

/* ---- statistics -------------------------------------------------------- */

static double *alloc_series(int n)
{
	double *v = calloc((size_t)n, sizeof(double));

	if (!v)
		bench_die("out of memory");
	return v;
}

/* ---- machine facts ----------------------------------------------------- */

static void print_facts(FILE *o, const char *mode, const char *warmbox, int argc, char **argv)
{
	fprintf(o, "warmbox bench_run, mode %s\n", mode);
	bench_facts_head(o, argc, argv);
	bench_facts_tail(o, warmbox);
}

/* ---- the two modes ----------------------------------------------------- */

enum { V_BARE, V_WARMBOX, V_BWRAP, NVAR };
static const char *const var_name[NVAR] = {"bare", "warmbox", "bwrap"};

static void print_row(FILE *o, const char *name, struct bench_summary s)
{
	fprintf(o, "  %-15s %9.0f %9.0f %9.0f %9.0f %9.0f\n", name, s.min, s.p50, s.p90, s.mean,
		s.max);
}

static void latency(FILE *o, int n, int warmup, const char *warmbox)
{
	char *bare[] = {"/bin/true", NULL};
	char *wb[] = {(char *)warmbox, "run", "--trace", "--", "/bin/true", NULL};
	char **bw = bench_bwrap_argv("/bin/true", false);
	char *const *cmds[NVAR] = {bare, wb, bw};
	double *t[NVAR], *send = alloc_series(n), *recv = alloc_series(n);
	struct bench_summary s[NVAR];
	char acc[24] = "";
	struct bench_buf out = {0};

	for (int v = 0; v < NVAR; v++)
		t[v] = alloc_series(n);
	for (int r = 0; r < warmup + n; r++) {
		for (int k = 0; k < NVAR; k++) {
			int v = (r + k) % NVAR, ws;
			double us = bench_run_cmd(cmds[v], NULL, v == V_WARMBOX ? &out : NULL, &ws);

			if (!bench_exited_zero(ws))
				bench_die("%s run failed (wait status %#x)", var_name[v], ws);
			if (v == V_WARMBOX) {
				struct wres res;

				parse_result(out.p, &res);
				if (strcmp(res.status, "OK") != 0)
					bench_die("warmbox status %s: %s", res.status, out.p);
				if (res.send_us < 0 || res.recv_us < 0)
					bench_die("warmbox result has no trace: %s", out.p);
				bench_note_accounting(acc, sizeof(acc), res.accounting);
				if (r >= warmup) {
					send[r - warmup] = res.send_us;
					recv[r - warmup] = res.recv_us;
				}
			}
			if (r >= warmup)
				t[v][r - warmup] = us;
		}
	}

	fprintf(o, "accounting: %s\n", acc);
	fprintf(o, "rounds:     %d (+%d warm-up, not counted), one run of each variant per round,\n"
		   "            starting variant rotating\n", n, warmup);
	fprintf(o, "commands (each timed fork -> waitpid, CLOCK_MONOTONIC; warmbox's stdout read to EOF):\n");
	bench_print_argv(o, 8, "bare", bare);
	bench_print_argv(o, 8, "warmbox", wb);
	bench_print_argv(o, 8, "bwrap", bw);
	fprintf(o, "\nwall time per run, microseconds (nearest-rank percentiles)\n");
	fprintf(o, "  %-15s %9s %9s %9s %9s %9s\n", "variant", "min", "median", "p90", "mean", "max");
	for (int v = 0; v < NVAR; v++) {
		s[v] = bench_summarize(t[v], n);
		print_row(o, var_name[v], s[v]);
	}
	fprintf(o, "\nmedian ratios: warmbox/bare %.1f, bwrap/bare %.1f (warmbox/bwrap %.2f)\n",
		s[V_WARMBOX].p50 / s[V_BARE].p50, s[V_BWRAP].p50 / s[V_BARE].p50,
		s[V_WARMBOX].p50 / s[V_BWRAP].p50);
	fprintf(o, "\nwarmbox --trace, microseconds\n");
	fprintf(o, "  %-15s %9s %9s %9s %9s %9s\n", "figure", "min", "median", "p90", "mean", "max");
	print_row(o, "send_to_exec", bench_summarize(send, n));
	print_row(o, "recv_to_exec", bench_summarize(recv, n));

	for (int v = 0; v < NVAR; v++)
		free(t[v]);
	free(send);
	free(recv);
	free(out.p);
}

/* Returns the number of runs whose status was not TL. */
static int cpu_overshoot(FILE *o, int n, const char *warmbox, const char *busy)
{
	char cpu[16], copy[PATH_MAX + 8];
	char *cmd[] = {(char *)warmbox, "run", "--cpu", cpu, "--copy-in", copy, "--", "./busy", NULL};
	double *dcpu = alloc_series(n), *dwall = alloc_series(n), *whole = alloc_series(n);
	char acc[24] = "";
	struct bench_buf out = {0};
	int tl = 0, bad = 0;

	snprintf(cpu, sizeof(cpu), "%d", CPU_LIMIT_MS);
	if (snprintf(copy, sizeof(copy), "%s:busy", busy) >= (int)sizeof(copy))
		bench_die("busy path too long");
	if (access(busy, X_OK) < 0)
		bench_die_errno(busy);
	for (int i = 0; i < n; i++) {
		struct wres res;
		int ws;
		double us = bench_run_cmd(cmd, NULL, &out, &ws);

		if (!bench_exited_zero(ws))
			bench_die("warmbox run failed (wait status %#x): %s", ws, out.p);
		parse_result(out.p, &res);
		bench_note_accounting(acc, sizeof(acc), res.accounting);
		if (strcmp(res.status, "TL") != 0) {
			fprintf(stderr, "bench_run: run %d: status %s, not TL: %s", i, res.status, out.p);
			bad++;
			continue;
		}
		dcpu[tl] = res.cpu_ms - CPU_LIMIT_MS;
		dwall[tl] = res.wall_ms - CPU_LIMIT_MS;
		whole[tl] = us / 1000.0;
		tl++;
	}

	fprintf(o, "accounting: %s\n", acc);
	fprintf(o, "runs:       %d, each `--cpu %d` on a static busy loop; %d of %d were TL\n", n,
		CPU_LIMIT_MS, tl, n);
	fprintf(o, "commands:\n");
	bench_print_argv(o, 8, "warmbox", cmd);
	if (tl > 0) {
		fprintf(o, "\nmilliseconds past the %d ms limit, over the TL runs (negative = under)\n",
			CPU_LIMIT_MS);
		fprintf(o, "  %-15s %9s %9s %9s %9s %9s\n", "figure", "min", "median", "p90", "mean", "max");
		print_row(o, "cpu_ms - 500", bench_summarize(dcpu, tl));
		print_row(o, "wall_ms - 500", bench_summarize(dwall, tl));
		fprintf(o, "\nwhole `warmbox run` command, milliseconds\n");
		print_row(o, "command wall", bench_summarize(whole, tl));
	}
	free(dcpu);
	free(dwall);
	free(whole);
	free(out.p);
	return bad;
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_run [-m latency|cpu] [-n N] [-W WARMUP] [-o FILE]\n"
		   "                 [-w WARMBOX] [-b BUSY]\n"
		   "  -m MODE   latency (default): bare vs warmbox vs bwrap on /bin/true\n"
		   "            cpu: overshoot of `warmbox run --cpu %d` on a busy loop\n"
		   "  -n N      rounds (default 200 latency, 50 cpu)\n"
		   "  -W N      latency warm-up rounds, not counted (default 5)\n"
		   "  -o FILE   report file (default %s/results/run-DATE-TIME[-cpu].txt)\n"
		   "  -w PATH   warmbox binary (default %s)\n"
		   "  -b PATH   busy-loop binary for -m cpu (default %s)\n",
		CPU_LIMIT_MS, BENCH_DIR, BENCH_WARMBOX, BENCH_BUSY);
}

int main(int argc, char **argv)
{
	const char *mode = "latency", *outpath = NULL;
	const char *warmbox = BENCH_WARMBOX, *busy = BENCH_BUSY;
	int n = -1, warmup = 5, c, bad = 0;
	char defpath[PATH_MAX], *report = NULL;
	size_t report_len = 0;
	FILE *o;

	while ((c = getopt(argc, argv, "m:n:W:o:w:b:h")) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'n': n = bench_number(optarg); break;
		case 'W': warmup = bench_number(optarg); break;
		case 'o': outpath = optarg; break;
		case 'w': warmbox = optarg; break;
		case 'b': busy = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (strcmp(mode, "latency") != 0 && strcmp(mode, "cpu") != 0)) {
		usage(stderr);
		return 2;
	}
	if (n < 0)
		n = strcmp(mode, "cpu") == 0 ? 50 : 200;
	if (n < 1)
		bench_die("-n must be at least 1");
	if (access(warmbox, X_OK) < 0)
		bench_die_errno(warmbox);

	if (!outpath) {
		bench_report_path(defpath, sizeof(defpath), "run", strcmp(mode, "cpu") == 0 ? "-cpu" : "");
		outpath = defpath;
	}

	o = open_memstream(&report, &report_len);
	if (!o)
		bench_die_errno("open_memstream");
	print_facts(o, mode, warmbox, argc, argv);
	if (strcmp(mode, "cpu") == 0)
		bad = cpu_overshoot(o, n, warmbox, busy);
	else
		latency(o, n, warmup, warmbox);
	bench_report_finish(o, &report, &report_len, outpath);
	return bad ? 1 : 0;
}
