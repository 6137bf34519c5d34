/* cli_serve.c: `warmbox serve`: loads every policy, opens the cgroup
 * subtree, starts the pool and the listeners, and shuts down cleanly on
 * SIGTERM or SIGINT (jobs in flight finish, queued ones are answered). */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "manager/cgroup.h"
#include "manager/pasta.h"
#include "daemon/log.h"
#include "policy/policy.h"
#include "daemon/pool.h"
#include "daemon/server.h"

#define DEFAULT_MAX_REQUEST (64u << 20)
#define DEFAULT_MAX_UNSENT (16u << 20)
#define DEFAULT_MAX_OUTPUT_KB (64u << 10)
#define DEFAULT_MIN_MEMORY ((size_t)256 << 20)
#define DEFAULT_MAX_MEMORY ((size_t)16 << 30)
#define DEFAULT_IDLE_S 300
#define DEFAULT_WRITE_S 60
#define DEFAULT_STOP_S 10
/* The default --max-connections leaves this many descriptors per zygote
 * (its sockets, pidfd, the running and the next job's pipes and cgroup
 * files), and as many again for the daemon itself. */
#define FDS_PER_ZYGOTE 32
#define MAX_DEFAULT_CONNECTIONS 4096
#define DEFAULT_QUEUE 1024
#define DEFAULT_RECYCLE 10000
#define DEFAULT_STORE (1ull << 30)

struct serve {
	uv_loop_t loop;
	uv_signal_t sig[2];
	struct wb_pool *pool;
	struct wb_server *srv;
	bool stopping;
};

void wb_cli_serve_usage(FILE *f)
{
	fputs("usage: warmbox serve [OPTIONS]\n"
	      "  --socket PATH       Unix socket (default $XDG_RUNTIME_DIR/warmbox.sock, as root /run/warmbox.sock)\n"
	      "  --listen HOST:PORT  also listen on TCP (PORT alone: 127.0.0.1)\n"
	      "  --metrics HOST:PORT Prometheus metrics at GET /metrics over HTTP (PORT alone: 127.0.0.1)\n"
	      "  --zygotes N         warm zygotes (default: number of CPUs)\n"
	      "  --jobs N            jobs at once (default: number of CPUs, at most --zygotes)\n"
	      "  --queue N           jobs waiting beyond that (default 1024); more are refused\n"
	      "  --recycle N         replace a zygote after N jobs (default 10000, 0 = never)\n"
	      "  --max-request SIZE  longest request line (default 64M)\n"
	      "  --max-output SIZE   largest output_kb a job may ask for, per stream (default 64M)\n"
	      "  --max-memory SIZE   memory for request buffers, jobs, their output and results; past it\n"
	      "                      jobs are refused (default: a quarter of RAM, 256M to 16G)\n"
	      "  --store SIZE        the file store's bytes (default 1G); put, get, drop and files by ref\n"
	      "  --max-connections N clients at once; more are told so and closed (default: what the\n"
	      "                      descriptor limit leaves after the zygotes' share, at most 4096)\n"
	      "  --idle-timeout S    close a connection with nothing in flight after S seconds of silence (300)\n"
	      "  --write-timeout S   drop a client that reads none of its results for S seconds (60)\n"
	      "  --stop-timeout S    after SIGTERM, S seconds for clients to read their last results (10)\n"
	      "  --policies DIR      where policies are found\n"
	      "  --allow-network     accept network jobs: each gets a network of its own through pasta\n"
	      "                      (package passt), without the host's loopback\n"
	      "  --log-level LEVEL   error, warn, info (default) or debug\n"
	      "  --trace             add sandbox timings (\"trace\") to every result\n",
	      f);
}

/* The signal handles stay until the very end: a second SIGTERM must reach
 * on_signal, not the default action, which would skip the cleanup. */
static void on_server_closed(void *data)
{
	struct serve *sv = data;

	uv_close((uv_handle_t *)&sv->sig[0], NULL);
	uv_close((uv_handle_t *)&sv->sig[1], NULL);
}

static void on_pool_closed(void *data)
{
	struct serve *sv = data;

	wb_server_close(sv->srv, on_server_closed, sv);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct serve *sv = h->data;
	const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";

	if (sv->stopping) {
		wb_log(WB_LOG_INFO, "%s again: ending the running jobs and dropping every client now", name);
		wb_pool_abort(sv->pool);
		wb_server_abort(sv->srv);
		return;
	}
	sv->stopping = true;
	wb_log(WB_LOG_INFO, "%s: stopping (jobs in flight finish, queued ones are refused; a second one "
	       "ends them now)", name);
	wb_server_stop_accepting(sv->srv);
	wb_pool_close(sv->pool, on_pool_closed, sv);
}

int wb_cli_load_policies(const char *cmd, const char *dir, struct wb_policy **out, size_t *n, char ***binds,
			 size_t *nbinds)
{
	char **names = NULL, err[1024];
	size_t count = 0;
	struct wb_policy *pols;
	int rc = wb_policy_names(dir, &names, &count);

	if (rc < 0 || count == 0) {
		fprintf(stderr, "warmbox %s: no policies in %s%s%s\n", cmd, dir, rc < 0 ? ": " : "",
			rc < 0 ? strerror(-rc) : "");
		wb_policy_names_free(names, count);
		return -ENOENT;
	}
	pols = calloc(count, sizeof(*pols));
	if (!pols)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct wb_policy *p = &pols[*n];

		rc = wb_policy_load(dir, names[i], p, err, sizeof(err));
		/* A bind missing on this host is a runtime not installed here
		 * (no JDK, no java policy): the other languages still run. Any
		 * other fault in a policy stops the start. */
		if (rc == -ENOENT) {
			fprintf(stderr, "warmbox %s: policy %s left out, its runtime is not on this host: %s\n",
				cmd, names[i], err);
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "warmbox %s: %s\n", cmd, err);
			for (size_t k = 0; k < *n; k++)
				wb_policy_free(&pols[k]);
			free(pols);
			wb_policy_names_free(names, count);
			*n = 0;
			return rc;
		}
		(*n)++;
		/* Every zygote carries every policy's binds: any job may land
		 * on any zygote. */
		for (size_t b = 0; b < p->nbinds; b++) {
			bool dup = false;

			for (size_t k = 0; k < *nbinds; k++)
				dup |= strcmp((*binds)[k], p->binds[b]) == 0;
			if (!dup && wb_strv_push(binds, nbinds, p->binds[b]) < 0)
				return -ENOMEM;
		}
	}
	wb_policy_names_free(names, count);
	*out = pols;
	if (*n == 0) {
		fprintf(stderr, "warmbox %s: no usable policy in %s\n", cmd, dir);
		free(pols);
		*out = NULL;
		return -ENOENT;
	}
	return 0;
}

int wb_cli_count_option(const char *cmd, const char *opt, const char *s, unsigned min, unsigned *v)
{
	uint64_t n;

	if (wb_cli_parse_u64(s, &n) < 0 || n < min || n > 100000) {
		fprintf(stderr, "warmbox %s: --%s: expected a number from %u, got \"%s\"\n", cmd, opt, min, s);
		return -EINVAL;
	}
	*v = (unsigned)n;
	return 0;
}

int wb_cli_pool_option(const char *cmd, int opt, const char *arg, uint64_t *store, uint64_t *max_output_kb)
{
	enum wb_log_level level;

	switch (opt) {
	case 'F':
		if (wb_cli_parse_size(arg, 1, store) == 0)
			return 0;
		fprintf(stderr, "warmbox %s: --store: expected a size such as 512M or 4G, got \"%s\"\n", cmd, arg);
		return -EINVAL;
	case 'o':
		if (wb_cli_parse_size_kb(arg, max_output_kb) == 0 && *max_output_kb >= 1 &&
		    *max_output_kb <= WB_MAX_OUTPUT_KB)
			return 0;
		fprintf(stderr, "warmbox %s: --max-output: expected 1K to 1G, got \"%s\"\n", cmd, arg);
		return -EINVAL;
	case 'L':
		if (wb_log_parse_level(arg, &level) == 0) {
			wb_log_set_level(level);
			return 0;
		}
		fprintf(stderr, "warmbox %s: --log-level: expected error, warn, info or debug\n", cmd);
		return -EINVAL;
	}
	return -ENOENT;
}

/* File descriptors: the soft limit raised to the hard one; the zygotes and
 * the daemon keep their share of it, the rest may be clients. */
static unsigned raise_nofile(unsigned zygotes)
{
	struct rlimit rl;
	rlim_t reserve = (rlim_t)(zygotes + 1) * FDS_PER_ZYGOTE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 16;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur <= reserve + 16)
		return 16;
	return rl.rlim_cur - reserve > MAX_DEFAULT_CONNECTIONS ? MAX_DEFAULT_CONNECTIONS
							      : (unsigned)(rl.rlim_cur - reserve);
}

/* A quarter of the host's memory, between 256 MiB and 16 GiB: room for
 * the defaults' largest request and output many times over, and never
 * enough for clients to push the host into swap or the OOM killer. */
static size_t default_max_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t quarter = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4 : 0;

	if (quarter < DEFAULT_MIN_MEMORY)
		return DEFAULT_MIN_MEMORY;
	if (quarter > DEFAULT_MAX_MEMORY)
		return DEFAULT_MAX_MEMORY;
	return (size_t)quarter;
}

int wb_cli_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'}, {"listen", required_argument, NULL, 'l'},
		{"zygotes", required_argument, NULL, 'z'}, {"jobs", required_argument, NULL, 'j'},
		{"queue", required_argument, NULL, 'q'}, {"recycle", required_argument, NULL, 'r'},
		{"max-request", required_argument, NULL, 'm'}, {"policies", required_argument, NULL, 'p'},
		{"max-output", required_argument, NULL, 'o'}, {"max-memory", required_argument, NULL, 'M'},
		{"store", required_argument, NULL, 'F'},
		{"max-connections", required_argument, NULL, 'c'}, {"idle-timeout", required_argument, NULL, 'I'},
		{"write-timeout", required_argument, NULL, 'W'}, {"stop-timeout", required_argument, NULL, 'S'},
		{"log-level", required_argument, NULL, 'L'}, {"trace", no_argument, NULL, 't'},
		{"metrics", required_argument, NULL, 'P'}, {"allow-network", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct wb_pool_cfg pcfg = {.zygotes = 0, .max_jobs = 0, .queue_max = DEFAULT_QUEUE,
				   .recycle_after = DEFAULT_RECYCLE};
	struct wb_server_cfg scfg = {.max_request = DEFAULT_MAX_REQUEST, .max_unsent = DEFAULT_MAX_UNSENT,
				     .max_output_kb = DEFAULT_MAX_OUTPUT_KB, .idle_ms = DEFAULT_IDLE_S * 1000,
				     .write_ms = DEFAULT_WRITE_S * 1000, .drain_ms = DEFAULT_STOP_S * 1000,
				     .store_max = DEFAULT_STORE};
	unsigned secs, fd_room;
	uint64_t max_memory_kb = 0;
	const char *socket_path = NULL, *policies_dir = NULL;
	struct wb_policy *pols = NULL;
	size_t npols = 0, nbinds = 0;
	char **binds = NULL, sockbuf[256], err[512];
	struct wb_cgroup *cg = NULL;
	static struct serve sv;
	int opt, rc = WB_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': socket_path = optarg; break;
		case 'l': scfg.listen = optarg; break;
		case 'P': scfg.metrics = optarg; break;
		case 'p': policies_dir = optarg; break;
		case 't': pcfg.trace = true; break;
		case 'N': scfg.allow_network = true; break;
		case 'z': if (wb_cli_count_option("serve", "zygotes", optarg, 1, &pcfg.zygotes) < 0) return WB_EXIT_USAGE; break;
		case 'j': if (wb_cli_count_option("serve", "jobs", optarg, 1, &pcfg.max_jobs) < 0) return WB_EXIT_USAGE; break;
		case 'q': if (wb_cli_count_option("serve", "queue", optarg, 0, &pcfg.queue_max) < 0) return WB_EXIT_USAGE; break;
		case 'r': if (wb_cli_count_option("serve", "recycle", optarg, 0, &pcfg.recycle_after) < 0) return WB_EXIT_USAGE; break;
		case 'c': if (wb_cli_count_option("serve", "max-connections", optarg, 1, &scfg.max_connections) < 0) return WB_EXIT_USAGE; break;
		case 'I': if (wb_cli_count_option("serve", "idle-timeout", optarg, 1, &secs) < 0) return WB_EXIT_USAGE; scfg.idle_ms = secs * 1000; break;
		case 'W': if (wb_cli_count_option("serve", "write-timeout", optarg, 1, &secs) < 0) return WB_EXIT_USAGE; scfg.write_ms = secs * 1000; break;
		case 'S': if (wb_cli_count_option("serve", "stop-timeout", optarg, 0, &secs) < 0) return WB_EXIT_USAGE; scfg.drain_ms = secs * 1000; break;
		case 'm': {
			uint64_t v;

			if (wb_cli_parse_size(optarg, 1, &v) < 0 || v < 1024 || v > (1ull << 30)) {
				fprintf(stderr, "warmbox serve: --max-request: expected 1K to 1024M, got \"%s\"\n", optarg);
				return WB_EXIT_USAGE;
			}
			scfg.max_request = (size_t)v;
			break;
		}
		case 'M':
			if (wb_cli_parse_size_kb(optarg, &max_memory_kb) < 0 || max_memory_kb < 1024 ||
			    max_memory_kb > (SIZE_MAX >> 11)) {
				fprintf(stderr, "warmbox serve: --max-memory: expected a size of at least 1M, got \"%s\"\n",
					optarg);
				return WB_EXIT_USAGE;
			}
			break;
		case 'F':
		case 'o':
		case 'L':
			if (wb_cli_pool_option("serve", opt, optarg, &scfg.store_max, &scfg.max_output_kb) < 0)
				return WB_EXIT_USAGE;
			break;
		case 'h':
			wb_cli_serve_usage(stdout);
			return WB_EXIT_OK;
		default:
			fprintf(stderr, "warmbox serve: unknown or incomplete option \"%s\" (see: warmbox help serve)\n",
				argv[optind - 1]);
			return WB_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "warmbox serve: unexpected argument \"%s\"\n", argv[optind]);
		return WB_EXIT_USAGE;
	}
	if (scfg.allow_network && wb_pasta_available(err, sizeof(err)) < 0) {
		fprintf(stderr, "warmbox serve: --allow-network: %s\n", err);
		return WB_EXIT_SANDBOX;
	}
	if (cpus < 1)
		cpus = 1;
	if (!pcfg.zygotes)
		pcfg.zygotes = (unsigned)cpus;
	if (!pcfg.max_jobs)
		pcfg.max_jobs = (unsigned)cpus;
	if (pcfg.max_jobs > pcfg.zygotes)
		pcfg.max_jobs = pcfg.zygotes;
	if (!socket_path)
		socket_path = wb_cli_default_socket(sockbuf, sizeof(sockbuf));
	policies_dir = wb_policy_dir(policies_dir);
	if (wb_cli_load_policies("serve", policies_dir, &pols, &npols, &binds, &nbinds) < 0)
		return WB_EXIT_USAGE;
	scfg.max_memory = max_memory_kb ? (size_t)max_memory_kb << 10 : default_max_memory();
	if (scfg.max_memory < scfg.max_request + (size_t)(2 * scfg.max_output_kb << 10)) {
		fprintf(stderr, "warmbox serve: --max-memory %zuM cannot hold one request of --max-request (%zuM) "
			"and one job's output at --max-output (%lluM per stream): raise it or lower them\n",
			scfg.max_memory >> 20, scfg.max_request >> 20, (unsigned long long)scfg.max_output_kb >> 10);
		return WB_EXIT_USAGE;
	}
	fd_room = raise_nofile(pcfg.zygotes);
	if (!scfg.max_connections)
		scfg.max_connections = fd_room;
	if (wb_cgroup_open(&cg, err, sizeof(err)) < 0)
		wb_log(geteuid() == 0 ? WB_LOG_WARN : WB_LOG_INFO, "no usable cgroup, rlimit accounting (%s)", err);
	pcfg.cg = cg;
	pcfg.binds = binds;
	pcfg.nbinds = nbinds;
	scfg.socket_path = socket_path;
	scfg.policies = pols;
	scfg.npolicies = npols;
	scfg.queue_max = pcfg.queue_max;

	uv_loop_init(&sv.loop);
	for (int i = 0; i < 2; i++) {
		uv_signal_init(&sv.loop, &sv.sig[i]);
		sv.sig[i].data = &sv;
		uv_signal_start(&sv.sig[i], on_signal, i ? SIGTERM : SIGINT);
	}
	/* A client that goes away mid-write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (wb_pool_start(&sv.loop, &pcfg, &sv.pool) < 0) {
		fprintf(stderr, "warmbox serve: cannot start the pool\n");
		goto stop;
	}
	if (wb_server_start(&sv.loop, sv.pool, &scfg, &sv.srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "warmbox serve: %s\n", err);
		goto stop;
	}
	wb_log(WB_LOG_INFO, "serving on %s%s%s: %u zygotes, %u jobs at once, queue %u, %zu policies, %s accounting",
	       socket_path, scfg.listen ? " and tcp " : "", scfg.listen ? scfg.listen : "", pcfg.zygotes,
	       pcfg.max_jobs, pcfg.queue_max, npols, cg ? (wb_cgroup_mode(cg) == WB_ACCT_CGROUP_V2 ? "cgroup-v2" : "cgroup-v1") : "rlimit");
	rc = WB_EXIT_OK;
	uv_run(&sv.loop, UV_RUN_DEFAULT);
	goto out;
stop:
	/* Start-up failed: close what opened, then leave with status 2. */
	sv.stopping = true;
	uv_close((uv_handle_t *)&sv.sig[0], NULL);
	uv_close((uv_handle_t *)&sv.sig[1], NULL);
	if (sv.srv)
		wb_server_close(sv.srv, NULL, NULL);
	if (sv.pool)
		wb_pool_close(sv.pool, NULL, NULL);
	uv_run(&sv.loop, UV_RUN_DEFAULT);
out:
	uv_loop_close(&sv.loop);
	wb_pool_free(sv.pool);
	wb_cgroup_close(cg);
	for (size_t i = 0; i < npols; i++)
		wb_policy_free(&pols[i]);
	free(pols);
	for (size_t i = 0; i < nbinds; i++)
		free(binds[i]);
	free(binds);
	if (rc == 0)
		wb_log(WB_LOG_INFO, "stopped");
	return rc;
}
