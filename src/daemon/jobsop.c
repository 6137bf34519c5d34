/* jobsop.c: {"op":"jobs"}, the jobs running now with the host pid of each
 * side's job init: what `warmbox enter` needs, and only the owner gets. */
#include "daemon/server_impl.h"

#include <cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/job.h"
#include "daemon/pool.h"
#include "manager/interact.h"

#define MAX_SIDES 1024

struct sides {
	struct wb_pool_side v[MAX_SIDES];
	size_t n;
};

static void collect(const struct wb_pool_side *side, void *data)
{
	struct sides *s = data;

	if (s->n < MAX_SIDES)
		s->v[s->n++] = *side;
}

/* The pids of jobs are the daemon's owner's business: they are what
 * setns needs, and other clients' job ids are not another client's. Over
 * TCP there is no peer to know, so the answer is no. */
static bool peer_is_owner(struct conn *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&c->h.stream, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static uint64_t started_unix_ms(uint64_t mono_ns)
{
	struct timespec now;
	uint64_t ago_ns = wb_clock_now_ns() - mono_ns;

	clock_gettime(CLOCK_REALTIME, &now);
	return ((uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec - ago_ns) / 1000000ull;
}

static void add_limits(cJSON *o, const struct wb_limits *l)
{
	cJSON *q = cJSON_AddObjectToObject(o, "limits");

	cJSON_AddNumberToObject(q, "cpu_ms", (double)l->cpu_ms);
	cJSON_AddNumberToObject(q, "wall_ms", (double)l->wall_ms);
	cJSON_AddNumberToObject(q, "memory_kb", (double)l->memory_kb);
	cJSON_AddNumberToObject(q, "procs", (double)l->procs);
	cJSON_AddNumberToObject(q, "output_kb", (double)l->output_kb);
	cJSON_AddNumberToObject(q, "file_size_kb", (double)l->file_size_kb);
	cJSON_AddNumberToObject(q, "stack_kb", (double)l->stack_kb);
}

static void add_side(cJSON *o, const struct wb_pool_side *s)
{
	cJSON_AddNumberToObject(o, "zygote", s->zygote);
	cJSON_AddNumberToObject(o, "pid", s->pid);
}

/* One entry per job: the program side's zygote and pid (null once that
 * side has ended while its interactor runs on), the interactor's nested. */
static cJSON *job_entry(const struct sides *all, const struct wb_pool_job *pj)
{
	const struct wb_pool_side *prog = NULL, *inter = NULL;
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < all->n; i++)
		if (all->v[i].pj == pj) {
			if (all->v[i].side == WB_SIDE_PROGRAM)
				prog = &all->v[i];
			else
				inter = &all->v[i];
		}
	if (pj->job.id)
		cJSON_AddStringToObject(o, "id", pj->job.id);
	else
		cJSON_AddNullToObject(o, "id");
	if (prog) {
		add_side(o, prog);
	} else {
		cJSON_AddNullToObject(o, "zygote");
		cJSON_AddNullToObject(o, "pid");
	}
	cJSON_AddNumberToObject(o, "started", (double)started_unix_ms(pj->dispatched_ns));
	add_limits(o, &pj->job.limits);
	if (inter)
		add_side(cJSON_AddObjectToObject(o, "interactor"), inter);
	return o;
}

static bool seen_before(const struct sides *all, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (all->v[k].pj == all->v[i].pj)
			return true;
	return false;
}

void jobsop_send(struct conn *c)
{
	struct sides *all;
	cJSON *o, *list;
	char *json;

	if (!peer_is_owner(c)) {
		op_send_failed(c, "jobs", "jobs: only the daemon's owner may list its jobs (over its unix socket)");
		return;
	}
	all = calloc(1, sizeof(*all));
	o = cJSON_CreateObject();
	if (!all || !o)
		goto nomem;
	cJSON_AddStringToObject(o, "op", "jobs");
	cJSON_AddTrueToObject(o, "ok");
	list = cJSON_AddArrayToObject(o, "jobs");
	wb_pool_each_running(c->srv->pool, collect, all);
	for (size_t i = 0; i < all->n; i++)
		if (!seen_before(all, i))
			cJSON_AddItemToArray(list, job_entry(all, all->v[i].pj));
	json = cJSON_PrintUnformatted(o);
	if (!json)
		goto nomem;
	conn_send_line(c, json);
	free(json);
	cJSON_Delete(o);
	free(all);
	return;
nomem:
	cJSON_Delete(o);
	free(all);
	op_send_failed(c, "jobs", "manager: out of memory");
}
