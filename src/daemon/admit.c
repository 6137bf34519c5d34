/* admit.c: the rules both front ends apply to a job before the pool gets
 * it (server.h's request.c, worker.h), in one place. */
#include "daemon/admit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct wb_policy *find_policy(const struct wb_admit *a, const char *name)
{
	for (size_t i = 0; i < a->npolicies; i++)
		if (strcmp(a->policies[i].name, name) == 0)
			return &a->policies[i];
	return NULL;
}

/* A side's files by ref, pinned so that no eviction takes them from a
 * queued job. 0, or -ENOENT with the first missing entry's index. */
static int pin_side(const struct wb_admit *a, struct wb_pins *pins, struct wb_job *job, size_t *missing)
{
	for (size_t i = 0; i < job->nfiles; i++) {
		struct wb_store_entry *e;

		if (!job->files[i].ref)
			continue;
		e = wb_store_find(a->store, job->files[i].ref);
		if (!e || pins->n == sizeof(pins->e) / sizeof(pins->e[0])) {
			*missing = i;
			return -ENOENT;
		}
		wb_store_pin(e);
		pins->e[pins->n++] = e;
		job->files[i].ref_fd = wb_store_entry_fd(e);
	}
	return 0;
}

void wb_admit_release(const struct wb_admit *a, struct wb_pins *pins)
{
	while (pins->n > 0)
		wb_store_unpin(a->store, pins->e[--pins->n]);
}

int wb_admit_job(const struct wb_admit *a, struct wb_pool_job *pj, struct wb_pins *pins, char *msg, size_t len)
{
	struct wb_job *job = &pj->job, *in = job->interactor;
	size_t missing;

	pins->n = 0;
	if (!(pj->policy = find_policy(a, job->policy))) {
		snprintf(msg, len, "invalid job: policy: no such policy");
		return -EINVAL;
	}
	if (job->network && !a->allow_network) {
		snprintf(msg, len, "invalid job: network: this daemon runs jobs without network (%s --allow-network)",
			 a->command);
		return -EINVAL;
	}
	if (in && !(pj->ipolicy = find_policy(a, in->policy))) {
		snprintf(msg, len, "invalid job: interactor: policy: no such policy");
		return -EINVAL;
	}
	/* Each stream's output is held whole until the result is written:
	 * the cap keeps one job from taking gigabytes. */
	if (job->limits.output_kb > a->max_output_kb || (in && in->limits.output_kb > a->max_output_kb)) {
		snprintf(msg, len, "invalid job: %slimits.output_kb: at most %llu in this daemon (%s --max-output)",
			 job->limits.output_kb > a->max_output_kb ? "" : "interactor: ",
			 (unsigned long long)a->max_output_kb, a->command);
		return -EINVAL;
	}
	if (pin_side(a, pins, job, &missing) < 0) {
		snprintf(msg, len, "invalid job: files[%zu].ref: not in the store", missing);
	} else if (in && pin_side(a, pins, in, &missing) < 0) {
		snprintf(msg, len, "invalid job: interactor: files[%zu].ref: not in the store", missing);
	} else {
		return 0;
	}
	wb_admit_release(a, pins);
	return -EINVAL;
}

static void keep_side(const struct wb_admit *a, const struct wb_job *job, struct wb_result *res)
{
	for (size_t i = 0; job->copy_keep && i < res->nfiles && i < job->ncopy_out; i++) {
		struct wb_outfile *f = &res->files[i];
		char why[128];
		int rc;

		if (!job->copy_keep[i] || f->error || strcmp(f->path, job->copy_out[i]) != 0)
			continue;
		rc = wb_store_put(a->store, f->data, f->len, f->ref);
		if (rc == -EFBIG)
			snprintf(why, sizeof(why), "keep: larger than the whole store (%s --store)", a->command);
		else if (rc == -ENOSPC)
			snprintf(why, sizeof(why), "keep: the store is full of files that queued and running jobs need");
		else if (rc < 0)
			snprintf(why, sizeof(why), "keep: manager: cannot store the file");
		free(f->data);
		f->data = NULL;
		if (rc < 0) {
			f->ref[0] = '\0';
			f->len = 0;
			f->error = strdup(why);
		}
	}
}

void wb_admit_keep(const struct wb_admit *a, const struct wb_job *job, struct wb_result *res)
{
	keep_side(a, job, res);
	if (job->interactor && res->interactor)
		keep_side(a, job->interactor, res->interactor);
}

enum wb_reject wb_admit_refusal(const struct wb_admit *a, int rc, char *msg, size_t len)
{
	if (rc == -EAGAIN) {
		snprintf(msg, len, "queue full: try again later");
		return WB_REJECT_QUEUE_FULL;
	}
	if (rc == -EXDEV) {
		snprintf(msg, len, "invalid job: interactor: needs two zygotes, one per side, and this daemon has "
			 "one (%s --zygotes)", a->command);
		return WB_REJECT_INVALID;
	}
	snprintf(msg, len, "the daemon is shutting down");
	return WB_REJECT_SHUTDOWN;
}
