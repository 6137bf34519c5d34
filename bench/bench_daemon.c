/*
 * bench_daemon: what a job costs through a running warmbox daemon (`warmbox
 * serve`, warm zygotes), against a bare fork+execve+waitpid of the same
 * program and against bubblewrap, in one interleaved run on one machine.
 *
 *   bench_daemon [-n N] [-W WARMUP] [-o FILE] [-w WARMBOX] [-H HELLO]
 *   bench_daemon -m scale [-n JOBS] [-R ROUNDS] [-W JOBS] [-N LIST] [-o FILE]
 *                [-w WARMBOX [-w WARMBOX]] [-H HELLO]
 *
 * This file is the default mode; -m scale is scale.c's, and the daemon and
 * its clients are daemonlib.c's.
 *
 * Three programs: /bin/true; a static C hello (bench/hello.c) that the
 * daemon gets as a base64 file with mode 493 (0755), as a judge would send a
 * compiled submission, and bwrap through `--file`; and the same hello put
 * once into the daemon's file store and named by ref in every job, as a
 * judge runs one compiled submission on many tests (SPEC "File store").
 *
 * Latency: N rounds; each round runs every variant (bare, daemon with 1
 * client, daemon with 2 concurrent clients, bwrap; for each program) once,
 * the starting variant rotating, so drift and noise hit all alike. A daemon
 * client sends one job on its connection, waits for the result line, and
 * sends the next; the latency is from the send to the result line received.
 *
 * Throughput: jobs per second with 2 and 4 clients, each keeping 2 jobs in
 * flight (pipelined), against 2 parallel bare fork+execve+waitpid loops, in
 * rounds with the variant order rotating.
 *
 * Memory: private RSS (Private_Clean + Private_Dirty of smaps_rollup) of the
 * manager, of each warm zygote and of its spare job init, with the pool idle
 * after the warm-up and again at the end.
 *
 * The benchmark starts `warmbox serve --socket TMP --zygotes 2` itself and
 * stops it with SIGTERM. The report goes to stdout and to FILE (default
 * bench/results/daemon-YYYYmmdd-HHMMSS.txt in the source tree).
 */
#include "core/base64.h"
#include "benchlib.h"
#include "daemonlib.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXCLIENTS 4
#define DEPTH 2            /* jobs in flight per client when pipelined */
#define TPUT_ROUNDS 5      /* throughput rounds per variant */
#define NPROGS 3           /* /bin/true, hello as base64, hello by ref */

const char bench_name[] = "bench_daemon";

/* ---- the programs ------------------------------------------------------ */

struct prog {
	struct bd_job job;       /* its name and expected stdout too */
	char *bare[2];
	char **bwrap;
	const char *file;        /* host file bwrap copies in, or NULL */
	size_t b64_len;          /* of the file in the job, 0 for none */
};

static void make_progs(struct prog p[NPROGS], const char *hello)
{
	size_t len;
	char *bin = bd_read_file(hello, &len), *b64 = wb_base64_encode((unsigned char *)bin, len);
	const char *true_job = "\"argv\":[\"/bin/true\"]}\n";
	const char *fmt = "\"argv\":[\"./hello\"],\"files\":[{\"path\":\"hello\",\"base64\":\"%s\",\"mode\":493}]}\n";

	if (!b64)
		bench_die("out of memory");
	free(bin);
	p[0] = (struct prog){.job = {.name = "true", .expect = ""}, .bare = {"/bin/true", NULL},
			     .bwrap = bench_bwrap_argv("/bin/true", false)};
	p[0].job.text = strdup(true_job);
	p[0].job.len = strlen(true_job);
	p[1] = (struct prog){.job = {.name = "hello", .expect = "hello\n"}, .bare = {(char *)hello, NULL},
			     .bwrap = bench_bwrap_argv("/box/hello", true), .file = hello};
	if (!p[0].job.text || asprintf(&p[1].job.text, fmt, b64) < 0)
		bench_die("out of memory");
	p[1].job.len = strlen(p[1].job.text);
	p[1].b64_len = strlen(b64);
	free(b64);
	/* Its job names the daemon's ref, known once the daemon has it (bd_put_hello). */
	p[2] = p[1];
	p[2].job.name = "ref";
	p[2].job.text = NULL;
	p[2].job.len = p[2].b64_len = 0;
}

/* ---- machine facts ----------------------------------------------------- */

static void print_facts(FILE *o, const char *warmbox, int argc, char **argv)
{
	fprintf(o, "warmbox bench_daemon\n");
	bench_facts_head(o, argc, argv);
	fprintf(o, "user:       uid %d\n", (int)geteuid());
	bench_facts_tail(o, warmbox);
}

/* ---- latency ----------------------------------------------------------- */

enum { V_BARE, V_D1, V_D2, V_BWRAP, NV };
static const char *const vname[NV] = {"bare", "daemon, 1 client", "daemon, 2 clients", "bwrap"};

struct series {
	double *v;
	int n;
};

static void run_variant(int v, const struct prog *p, struct bd_client *cl, struct series *s,
			struct bench_buf *out, bool record)
{
	int ws, got = 0;
	double us;

	switch (v) {
	case V_BARE:
	case V_BWRAP:
		us = bench_run_cmd(v == V_BARE ? p->bare : p->bwrap, v == V_BWRAP ? p->file : NULL, out, &ws);
		if (!bench_exited_zero(ws) || strcmp(out->p, p->job.expect) != 0)
			bench_die("%s %s: wait status %#x, stdout \"%s\"", p->job.name, vname[v], ws, out->p);
		if (record)
			s->v[s->n++] = us;
		break;
	case V_D1:
	case V_D2:
		bd_drive(cl, v == V_D1 ? 1 : 2, &p->job, 1, v == V_D1 ? 1 : 2, record ? s->v + s->n : NULL, &got);
		s->n += got;
		break;
	}
}

/* Returns the /bin/true summaries, for the targets. */
static void latency(FILE *o, const struct prog *progs, struct bd_client *cl, int n, int warmup,
		    struct bench_summary out[NPROGS][NV])
{
	struct series s[NPROGS][NV];
	struct bench_buf buf = {0};

	for (int p = 0; p < NPROGS; p++)
		for (int v = 0; v < NV; v++)
			s[p][v] = (struct series){.v = bench_xmalloc(sizeof(double) * (size_t)n * 2)};
	for (int r = 0; r < warmup + n; r++) {
		for (int k = 0; k < NPROGS * NV; k++) {
			int x = (r + k) % (NPROGS * NV), p = x / NV, v = x % NV;

			run_variant(v, &progs[p], cl, &s[p][v], &buf, r >= warmup);
		}
	}
	fprintf(o, "\nlatency per job, microseconds (nearest-rank percentiles). bare and bwrap:\n"
		   "fork -> waitpid, stdout read to EOF; daemon: job sent -> result line received\n");
	fprintf(o, "  %-24s %5s %7s %7s %7s %7s %7s %7s  %8s %8s\n", "variant", "runs", "min", "p50",
		"p90", "p99", "mean", "max", "p50/bare", "p99/bare");
	for (int p = 0; p < NPROGS; p++) {
		for (int v = 0; v < NV; v++) {
			char label[48];
			struct bench_summary m = bench_summarize(s[p][v].v, s[p][v].n);

			out[p][v] = m;
			snprintf(label, sizeof(label), "%-5s %s", progs[p].job.name, vname[v]);
			fprintf(o, "  %-24s %5d %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f  %8.2f %8.2f\n", label,
				s[p][v].n, m.min, m.p50, m.p90, m.p99, m.mean, m.max, m.p50 / out[p][V_BARE].p50,
				m.p99 / out[p][V_BARE].p99);
			free(s[p][v].v);
		}
	}
	free(buf.p);
}

/* ---- throughput -------------------------------------------------------- */

enum { T_BARE, T_D2, T_D4, NT };
static const char *const tname[NT] = {"bare, 2 loops", "daemon, 2 clients x 2", "daemon, 4 clients x 2"};

static void throughput(FILE *o, const struct prog *progs, struct bd_client *cl, int n, double ratio[NPROGS][NT])
{
	/* Jobs per round, a multiple of 4 so that every variant runs as many. */
	int per_round = ((n + TPUT_ROUNDS - 1) / TPUT_ROUNDS + 3) / 4 * 4;
	uint64_t ns[NPROGS][NT] = {{0}};

	for (int r = 0; r < TPUT_ROUNDS; r++) {
		for (int k = 0; k < NPROGS * NT; k++) {
			int x = (r + k) % (NPROGS * NT), p = x / NT, v = x % NT;

			if (v == T_BARE)
				ns[p][v] += bench_loops(progs[p].job.name, progs[p].job.expect, progs[p].bare, NULL, 2,
							 per_round, NULL);
			else
				ns[p][v] += bd_drive(cl, v == T_D2 ? 2 : 4, &progs[p].job, DEPTH, per_round,
						     NULL, NULL);
		}
	}
	fprintf(o, "\nthroughput: %d rounds of %d jobs per variant, variant order rotating;\n"
		   "daemon clients each keep %d jobs in flight (pipelined)\n", TPUT_ROUNDS, per_round, DEPTH);
	fprintf(o, "  %-30s %7s %9s %9s %8s\n", "variant", "jobs", "seconds", "jobs/s", "/bare");
	for (int p = 0; p < NPROGS; p++) {
		double bare = TPUT_ROUNDS * per_round / ((double)ns[p][T_BARE] / 1e9);

		for (int v = 0; v < NT; v++) {
			char label[48];
			double secs = (double)ns[p][v] / 1e9, rate = TPUT_ROUNDS * per_round / secs;

			ratio[p][v] = rate / bare;
			snprintf(label, sizeof(label), "%-5s %s", progs[p].job.name, tname[v]);
			fprintf(o, "  %-30s %7d %9.2f %9.0f %8.2f\n", label, TPUT_ROUNDS * per_round, secs,
				rate, rate / bare);
		}
	}
}

/* ---- the default mode ------------------------------------------------- */

static const char *verdict(bool pass)
{
	return pass ? "PASS" : "MISS";
}

static void targets(FILE *o, struct bench_summary lat[NPROGS][NV], double ratio[NPROGS][NT], long zyg)
{
	const struct bench_summary *t = lat[0];
	double p50 = t[V_D1].p50 / t[V_BARE].p50, p50b = t[V_D2].p50 / t[V_BARE].p50;
	double p99 = t[V_D1].p99 / t[V_BARE].p99, p99b = t[V_D2].p99 / t[V_BARE].p99;

	fprintf(o, "\ntargets (from the issue; informational, not asserted), /bin/true:\n");
	fprintf(o, "  %-46s %6.2fx  <= 1.5x (goal 1.3x)  %s%s\n", "p50 daemon 1 client / p50 bare", p50,
		verdict(p50 <= 1.5), p50 <= 1.3 ? ", goal met" : "");
	fprintf(o, "  %-46s %6.2fx  <= 1.5x (goal 1.3x)  %s%s\n", "p50 daemon 2 clients / p50 bare", p50b,
		verdict(p50b <= 1.5), p50b <= 1.3 ? ", goal met" : "");
	fprintf(o, "  %-46s %6.2fx  <= 2.5x              %s\n", "p99 daemon 1 client / p99 bare", p99,
		verdict(p99 <= 2.5));
	fprintf(o, "  %-46s %6.2fx  <= 2.5x              %s\n", "p99 daemon 2 clients / p99 bare", p99b,
		verdict(p99b <= 2.5));
	fprintf(o, "  %-46s %6.2fx  >= 0.7x              %s\n", "jobs/s daemon 2 clients / bare 2 loops",
		ratio[0][T_D2], verdict(ratio[0][T_D2] >= 0.7));
	fprintf(o, "  %-46s %6.2fx  >= 0.7x              %s\n", "jobs/s daemon 4 clients / bare 2 loops",
		ratio[0][T_D4], verdict(ratio[0][T_D4] >= 0.7));
	fprintf(o, "  %-46s %5ld KiB < 1024 KiB            %s\n", "warm zygote private RSS (largest seen)",
		zyg, verdict(zyg >= 0 && zyg < 1024));
	t = lat[2];
	fprintf(o, "\ntargets of the file store issue, hello by ref (informational):\n");
	fprintf(o, "  %-46s %6.2fx  <= 1.5x              %s\n", "p50 daemon 1 client / p50 bare",
		t[V_D1].p50 / t[V_BARE].p50, verdict(t[V_D1].p50 / t[V_BARE].p50 <= 1.5));
	fprintf(o, "  %-46s %6.2fx  >= 0.35x             %s\n", "jobs/s daemon 2 clients / bare 2 loops",
		ratio[2][T_D2], verdict(ratio[2][T_D2] >= 0.35));
}

static void print_commands(FILE *o, const struct bd_daemon *d, const struct prog *progs)
{
	fprintf(o, "commands:\n");
	bench_print_argv(o, 14, "daemon", d->argv);
	bench_print_argv(o, 14, "true bare", progs[0].bare);
	bench_print_argv(o, 14, "true bwrap", progs[0].bwrap);
	bench_print_argv(o, 14, "hello bare", progs[1].bare);
	bench_print_argv(o, 14, "hello bwrap", progs[1].bwrap);
	fprintf(o, "  %-14s {\"id\":\"cK-SEQ\",%.*s\n", "true job", (int)progs[0].job.len - 1, progs[0].job.text);
	fprintf(o, "  %-14s {\"id\":\"cK-SEQ\",\"argv\":[\"./hello\"],\"files\":[{\"path\":\"hello\","
		   "\"base64\":\"(%zu characters)\",\"mode\":493}]}  (about %zu bytes a line)\n", "hello job",
		progs[1].b64_len, progs[1].job.len + 20);
	fprintf(o, "  %-14s {\"id\":\"cK-SEQ\",%.*s\n", "ref job", (int)progs[2].job.len - 1, progs[2].job.text);
	fprintf(o, "  %-14s the same hello, put once into the daemon's store ({\"op\":\"put\"}); its bare and\n"
		   "  %-14s bwrap variants are hello's again, measured in the same rounds\n", "", "");
}

static int run_default(const struct bd_options *opt, int argc, char **argv)
{
	const char *outpath = opt->out, *warmbox = opt->nwarmbox ? opt->warmbox[0] : BENCH_WARMBOX;
	int n = opt->n >= 0 ? opt->n : 1000, warmup = opt->warmup >= 0 ? opt->warmup : 10;
	char defpath[PATH_MAX], *report = NULL, *st;
	size_t report_len = 0;
	struct prog progs[NPROGS];
	struct bd_daemon d;
	struct bd_client cl[MAXCLIENTS];
	struct bench_summary lat[NPROGS][NV];
	double ratio[NPROGS][NT];
	long zyg_start, zyg_end;
	struct bd_mem m;
	FILE *o;

	if (opt->rounds >= 0 || opt->nshapes || opt->nwarmbox > 1)
		bench_die("-R, -N and a second -w are for -m scale");
	if (n < 1)
		bench_die("-n must be at least 1");
	if (access(warmbox, X_OK) < 0)
		bench_die_errno(warmbox);
	if (!outpath) {
		bench_report_path(defpath, sizeof(defpath), "daemon", "");
		outpath = defpath;
	}
	make_progs(progs, opt->hello);

	bd_daemon_start(&d, warmbox);
	for (int i = 0; i < MAXCLIENTS; i++)
		bd_client_open(&cl[i], &d, i);
	bd_wait_warm(&cl[0]);
	bd_put_hello(&cl[0], opt->hello, &progs[2].job);

	o = open_memstream(&report, &report_len);
	if (!o)
		bench_die_errno("open_memstream");
	print_facts(o, warmbox, argc, argv);
	print_commands(o, &d, progs);
	fprintf(o, "rounds:     %d (+%d warm-up, not counted); each round runs every variant of both\n"
		   "            programs once, starting variant rotating. The 2-client variant runs\n"
		   "            one job on each of 2 connections at once: 2 latencies a round.\n", n, warmup);

	zyg_start = bd_report_memory(o, &d, "pool idle after start-up, before any job");
	latency(o, progs, cl, n, warmup, lat);
	throughput(o, progs, cl, n, ratio);
	fprintf(o, "\naccounting: %s (from the results)\n", bd_accounting());
	bd_wait_warm(&cl[0]);
	zyg_end = bd_report_memory(o, &d, "pool idle at the end, after every job");
	st = bd_stats(&cl[0]);
	fprintf(o, "\ndaemon stats at the end:\n  %s\n", st);
	free(st);
	for (int i = 0; i < MAXCLIENTS; i++)
		bd_client_close(&cl[i]);
	/* Connection buffers grow to the largest request seen and go with the
	 * connection: what stays after is the manager's own. */
	bd_sleep_ms(200);
	if (bd_smaps(d.pid, &m))
		fprintf(o, "\nmanager after its %d clients disconnected: private %ld KiB, pss %ld, rss %ld\n",
			MAXCLIENTS, m.priv, m.pss, m.rss);
	bd_daemon_stop(&d, o);
	bd_report_log(o, &d);
	bd_daemon_remove(&d);

	targets(o, lat, ratio, zyg_end > zyg_start ? zyg_end : zyg_start);
	bench_report_finish(o, &report, &report_len, outpath);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_daemon [-n N] [-W WARMUP] [-o FILE] [-w WARMBOX] [-H HELLO]\n"
		   "       bench_daemon -m scale [-n JOBS] [-R ROUNDS] [-W JOBS] [-N LIST] [-o FILE]\n"
		   "                    [-w WARMBOX [-w WARMBOX]] [-H HELLO]\n"
		   "  -m MODE   default, or scale: latency and jobs/s against the number of clients\n"
		   "  -n N      default: latency rounds and throughput jobs per variant (1000);\n"
		   "            scale: jobs per cell and round (200)\n"
		   "  -W N      default: warm-up rounds, not counted (10);\n"
		   "            scale: jobs per cell in one warm-up pass, not counted (10)\n"
		   "  -R N      scale: rounds (5)\n"
		   "  -N LIST   scale: client counts, comma-separated, each 1..%d (1,2,4,8)\n"
		   "  -o FILE   report file (default %s/results/daemon-DATE-TIME.txt, scale-...;\n"
		   "            scale also writes FILE with .csv for .txt)\n"
		   "  -w PATH   warmbox binary (default %s); scale: twice for two daemons, A and B\n"
		   "  -H PATH   static hello binary (default %s)\n",
		BD_MAXCLIENTS, BENCH_DIR, BENCH_WARMBOX, BENCH_HELLO);
}

/* "1,2,4,8" into opt->nclients. */
static void parse_shapes(struct bd_options *opt, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	int max = (int)(sizeof(opt->nclients) / sizeof(opt->nclients[0]));

	if (!copy)
		bench_die("out of memory");
	opt->nshapes = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int v = bench_number(t);

		if (v < 1 || v > BD_MAXCLIENTS || opt->nshapes == max)
			bench_die("-N: at most %d counts, each 1 to %d: %s", max, BD_MAXCLIENTS, list);
		opt->nclients[opt->nshapes++] = v;
	}
	if (!opt->nshapes)
		bench_die("-N: no count in \"%s\"", list);
	free(copy);
}

int main(int argc, char **argv)
{
	struct bd_options opt = {.hello = BENCH_HELLO, .n = -1, .warmup = -1, .rounds = -1};
	const char *mode = "default";
	int c;

	while ((c = getopt(argc, argv, "m:n:W:R:N:o:w:H:h")) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'n': opt.n = bench_number(optarg); break;
		case 'W': opt.warmup = bench_number(optarg); break;
		case 'R': opt.rounds = bench_number(optarg); break;
		case 'N': parse_shapes(&opt, optarg); break;
		case 'o': opt.out = optarg; break;
		case 'w':
			if (opt.nwarmbox == 2)
				bench_die("-w at most twice");
			opt.warmbox[opt.nwarmbox++] = optarg;
			break;
		case 'H': opt.hello = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (access(opt.hello, X_OK) < 0)
		bench_die_errno(opt.hello);
	/* A daemon that dies mid-run must end the benchmark with an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "scale") == 0)
		return bd_scale(&opt, argc, argv);
	if (strcmp(mode, "default") != 0)
		bench_die("unknown mode %s (default or scale)", mode);
	return run_default(&opt, argc, argv);
}
