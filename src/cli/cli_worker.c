/* cli_worker.c: `warmbox worker`: the warm pool fed from a Redis Stream
 * (SPEC "Worker"); on SIGTERM it reads no more, finishes, answers and
 * acknowledges what it holds, and exits 0. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/hostport.h"
#include "daemon/log.h"
#include "daemon/pool.h"
#include "daemon/worker.h"
#include "manager/cgroup.h"
#include "manager/pasta.h"
#include "policy/policy.h"

#define DEFAULT_STORE (1ull << 30)
#define DEFAULT_MAX_OUTPUT_KB (64u << 10)
#define DEFAULT_RECYCLE 10000
#define DEFAULT_CLAIM_IDLE_MS 30000
#define DEFAULT_MAX_DELIVERIES 3

struct work {
	uv_loop_t loop;
	uv_signal_t sig[2];
	struct wb_pool *pool;
	struct wb_worker *worker;
	bool stopping;
};

void wb_cli_worker_usage(FILE *f)
{
	fputs("usage: warmbox worker --redis HOST:PORT [OPTIONS]\n"
	      "  --redis HOST:PORT   the Redis server (IPv4 address or name; PORT alone: 127.0.0.1)\n"
	      "  --stream KEY        the jobs' stream (default warmbox:jobs); entries with a field \"job\"\n"
	      "  --group NAME        the consumer group (default warmbox), created when missing\n"
	      "  --consumer NAME     this worker's name in the group (default HOSTNAME-PID)\n"
	      "  --results KEY       the results' stream (default warmbox:results)\n"
	      "  --claim-idle MS     claim entries pending this long on any consumer (default 30000)\n"
	      "  --max-deliveries N  answer XX, not run, an entry delivered N times already (default 3)\n"
	      "  --zygotes N         warm zygotes (default: number of CPUs)\n"
	      "  --jobs N            jobs at once, and entries held (default: number of CPUs, at most --zygotes)\n"
	      "  --store SIZE        the file store's bytes (default 1G)\n"
	      "  --max-output SIZE   largest output_kb a job may ask for, per stream (default 64M)\n"
	      "  --policies DIR      where policies are found\n"
	      "  --allow-network     run network jobs, each with a network of its own through pasta\n"
	      "  --metrics HOST:PORT Prometheus metrics at GET /metrics over HTTP (PORT alone: 127.0.0.1)\n"
	      "  --log-level LEVEL   error, warn, info (default) or debug\n",
	      f);
}

static void on_drained(void *data)
{
	struct work *wk = data;

	wb_pool_close(wk->pool, NULL, NULL);
	uv_close((uv_handle_t *)&wk->sig[0], NULL);
	uv_close((uv_handle_t *)&wk->sig[1], NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct work *wk = h->data;
	const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";

	if (wk->stopping) {
		wb_log(WB_LOG_INFO, "%s again: ending the running jobs now (their entries stay pending)", name);
		wb_worker_abort(wk->worker);
		wb_pool_abort(wk->pool);
		return;
	}
	wk->stopping = true;
	wb_log(WB_LOG_INFO, "%s: reading no more entries; the ones held finish, are answered and acknowledged",
	       name);
	wb_worker_drain(wk->worker, on_drained, wk);
}

/* HOST:PORT or PORT; the host as hiredis takes it (an address or a name). */
static int parse_redis(const char *spec, char *host, size_t hostlen, int *port)
{
	const char *text;
	uint64_t p;

	if (wb_hostport_split(spec, host, hostlen, &text) < 0 || wb_cli_parse_u64(text, &p) < 0 || p == 0 ||
	    p > 65535)
		return -EINVAL;
	*port = (int)p;
	return 0;
}

/* Stream, group and consumer names go into commands as words. */
static bool name_ok(const char *opt, const char *s)
{
	if (*s && !strpbrk(s, " \t\r\n\"'"))
		return true;
	fprintf(stderr, "warmbox worker: --%s: a non-empty name without spaces or quotes, got \"%s\"\n", opt, s);
	return false;
}

int wb_cli_worker(int argc, char **argv)
{
	static const struct option opts[] = {
		{"redis", required_argument, NULL, 'R'}, {"stream", required_argument, NULL, 's'},
		{"group", required_argument, NULL, 'g'}, {"consumer", required_argument, NULL, 'c'},
		{"results", required_argument, NULL, 'r'}, {"zygotes", required_argument, NULL, 'z'},
		{"jobs", required_argument, NULL, 'j'}, {"store", required_argument, NULL, 'F'},
		{"max-output", required_argument, NULL, 'o'}, {"policies", required_argument, NULL, 'p'},
		{"log-level", required_argument, NULL, 'L'}, {"help", no_argument, NULL, 'h'},
		{"claim-idle", required_argument, NULL, 'C'}, {"max-deliveries", required_argument, NULL, 'D'},
		{"metrics", required_argument, NULL, 'P'}, {"allow-network", no_argument, NULL, 'N'},
		{NULL, 0, NULL, 0},
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct wb_pool_cfg pcfg = {.queue_max = 0, .recycle_after = DEFAULT_RECYCLE};
	struct wb_worker_cfg wcfg = {.stream = "warmbox:jobs", .group = "warmbox", .results = "warmbox:results",
				     .store_max = DEFAULT_STORE, .max_output_kb = DEFAULT_MAX_OUTPUT_KB,
				     .claim_idle_ms = DEFAULT_CLAIM_IDLE_MS, .max_deliveries = DEFAULT_MAX_DELIVERIES};
	const char *redis = NULL, *policies_dir = NULL;
	char host[256], consumer[HOST_NAME_MAX + 32], hostname[HOST_NAME_MAX + 1] = "", err[512], **binds = NULL;
	struct wb_policy *pols = NULL;
	size_t npols = 0, nbinds = 0;
	struct wb_cgroup *cg = NULL;
	static struct work wk;
	int opt, rc = WB_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'R': redis = optarg; break;
		case 's': wcfg.stream = optarg; break;
		case 'g': wcfg.group = optarg; break;
		case 'c': wcfg.consumer = optarg; break;
		case 'r': wcfg.results = optarg; break;
		case 'P': wcfg.metrics = optarg; break;
		case 'p': policies_dir = optarg; break;
		case 'N': wcfg.allow_network = true; break;
		case 'z': if (wb_cli_count_option("worker", "zygotes", optarg, 1, &pcfg.zygotes) < 0) return WB_EXIT_USAGE; break;
		case 'j': if (wb_cli_count_option("worker", "jobs", optarg, 1, &pcfg.max_jobs) < 0) return WB_EXIT_USAGE; break;
		case 'D': if (wb_cli_count_option("worker", "max-deliveries", optarg, 1, &wcfg.max_deliveries) < 0) return WB_EXIT_USAGE; break;
		case 'C': {
			uint64_t ms;

			if (wb_cli_parse_u64(optarg, &ms) < 0 || ms < 1 || ms > 86400000) {
				fprintf(stderr, "warmbox worker: --claim-idle: expected milliseconds from 1, got \"%s\"\n",
					optarg);
				return WB_EXIT_USAGE;
			}
			wcfg.claim_idle_ms = (unsigned)ms;
			break;
		}
		case 'F':
		case 'o':
		case 'L':
			if (wb_cli_pool_option("worker", opt, optarg, &wcfg.store_max, &wcfg.max_output_kb) < 0)
				return WB_EXIT_USAGE;
			break;
		case 'h':
			wb_cli_worker_usage(stdout);
			return WB_EXIT_OK;
		default:
			fprintf(stderr, "warmbox worker: unknown or incomplete option \"%s\" (see: warmbox help worker)\n",
				argv[optind - 1]);
			return WB_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "warmbox worker: unexpected argument \"%s\"\n", argv[optind]);
		return WB_EXIT_USAGE;
	}
	if (wcfg.allow_network && wb_pasta_available(err, sizeof(err)) < 0) {
		fprintf(stderr, "warmbox worker: --allow-network: %s\n", err);
		return WB_EXIT_SANDBOX;
	}
	if (!redis || parse_redis(redis, host, sizeof(host), &wcfg.port) < 0) {
		fprintf(stderr, "warmbox worker: --redis HOST:PORT is required (got \"%s\")\n", redis ? redis : "");
		return WB_EXIT_USAGE;
	}
	wcfg.host = host;
	if (!name_ok("stream", wcfg.stream) || !name_ok("group", wcfg.group) || !name_ok("results", wcfg.results) ||
	    (wcfg.consumer && !name_ok("consumer", wcfg.consumer)))
		return WB_EXIT_USAGE;
	if (!wcfg.consumer) {
		gethostname(hostname, sizeof(hostname) - 1);
		snprintf(consumer, sizeof(consumer), "%s-%ld", hostname[0] ? hostname : "worker", (long)getpid());
		wcfg.consumer = consumer;
	}
	if (cpus < 1)
		cpus = 1;
	if (!pcfg.zygotes)
		pcfg.zygotes = (unsigned)cpus;
	if (!pcfg.max_jobs)
		pcfg.max_jobs = (unsigned)cpus;
	if (pcfg.max_jobs > pcfg.zygotes)
		pcfg.max_jobs = pcfg.zygotes;
	/* The worker holds only what it can run: nothing queues behind. */
	wcfg.places = pcfg.max_jobs;
	pcfg.queue_max = pcfg.max_jobs;
	if (wb_cli_load_policies("worker", wb_policy_dir(policies_dir), &pols, &npols, &binds, &nbinds) < 0)
		return WB_EXIT_USAGE;
	wcfg.policies = pols;
	wcfg.npolicies = npols;
	if (wb_cgroup_open(&cg, err, sizeof(err)) < 0)
		wb_log(geteuid() == 0 ? WB_LOG_WARN : WB_LOG_INFO, "no usable cgroup, rlimit accounting (%s)", err);
	pcfg.cg = cg;
	pcfg.binds = binds;
	pcfg.nbinds = nbinds;

	uv_loop_init(&wk.loop);
	for (int i = 0; i < 2; i++) {
		uv_signal_init(&wk.loop, &wk.sig[i]);
		wk.sig[i].data = &wk;
		uv_signal_start(&wk.sig[i], on_signal, i ? SIGTERM : SIGINT);
	}
	signal(SIGPIPE, SIG_IGN);
	if (wb_pool_start(&wk.loop, &pcfg, &wk.pool) < 0 ||
	    wb_worker_start(&wk.loop, wk.pool, &wcfg, &wk.worker, err, sizeof(err)) < 0) {
		fprintf(stderr, "warmbox worker: cannot start: %s\n", wk.pool ? err : "the pool");
		wk.stopping = true;
		uv_close((uv_handle_t *)&wk.sig[0], NULL);
		uv_close((uv_handle_t *)&wk.sig[1], NULL);
		if (wk.pool)
			wb_pool_close(wk.pool, NULL, NULL);
	} else {
		wb_log(WB_LOG_INFO, "worker %s: redis %s:%d, stream %s, group %s, results %s; %u zygotes, %u jobs at once",
		       wcfg.consumer, host, wcfg.port, wcfg.stream, wcfg.group, wcfg.results, pcfg.zygotes,
		       pcfg.max_jobs);
		rc = WB_EXIT_OK;
	}
	uv_run(&wk.loop, UV_RUN_DEFAULT);
	uv_loop_close(&wk.loop);
	wb_worker_free(wk.worker);
	wb_pool_free(wk.pool);
	wb_cgroup_close(cg);
	for (size_t i = 0; i < npols; i++)
		wb_policy_free(&pols[i]);
	free(pols);
	for (size_t i = 0; i < nbinds; i++)
		free(binds[i]);
	free(binds);
	if (rc == WB_EXIT_OK)
		wb_log(WB_LOG_INFO, "stopped");
	return rc;
}
