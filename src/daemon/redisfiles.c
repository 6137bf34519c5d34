/* redisfiles.c: files by ref shared between workers through Redis (SPEC
 * "Worker"): a ref this host's store lacks is fetched from the key
 * warmbox:file:<hex> and checked against its hash before the job runs; a
 * file kept by copy_out is set there before its result is written. */
#include "daemon/worker_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/store.h"

#define KEY_PREFIX "warmbox:file:"
/* "sha256:" is not part of the key. */
#define HEX(ref) ((ref) + 7)

struct fetch {
	struct entry *e;
	const char *side;                /* "" or "interactor: ", for the message */
	size_t index;
	char ref[WB_REF_LEN + 1];
};

static void fetched_all(struct wb_worker *w, struct entry *e)
{
	if (e->fetch_lost)
		worker_let_go(e);
	else if (e->fetch_error[0])
		worker_answer_error(e, e->pj.job.id, e->fetch_error, WB_REJECT_INVALID);
	else
		worker_run_entry(w, e);
}

static void fail(struct entry *e, const struct fetch *f, const char *why)
{
	if (!e->fetch_error[0])
		snprintf(e->fetch_error, sizeof(e->fetch_error), "invalid job: %sfiles[%zu].ref: %s", f->side,
			 f->index, why);
}

static void on_fetched(redisAsyncContext *ac, void *reply, void *data)
{
	struct fetch *f = data;
	struct entry *e = f->e;
	struct wb_worker *w = e->w;
	redisReply *r = reply;
	char got[WB_REF_LEN + 1];
	int rc;

	(void)ac;
	if (!r) {
		e->fetch_lost = true;
	} else if (r->type != REDIS_REPLY_STRING) {
		fail(e, f, "not in the store");
	} else if ((rc = wb_store_put(w->store, r->str, r->len, got)) < 0) {
		fail(e, f, rc == -EFBIG ? "larger than the whole store (warmbox worker --store)"
					: "the store is full of files that queued and running jobs need");
	} else if (strcmp(got, f->ref) != 0) {
		/* Not the bytes the ref names: nobody's file, gone again. */
		wb_store_drop(w->store, got);
		fail(e, f, "the bytes in Redis do not have this hash");
	}
	free(f);
	if (--e->fetching == 0)
		fetched_all(w, e);
}

static void fetch_side(struct wb_worker *w, struct entry *e, const struct wb_job *job, const char *side)
{
	struct link *l = &w->link[LINK_WRITE];

	for (size_t i = 0; job && i < job->nfiles; i++) {
		const char *ref = job->files[i].ref;
		struct fetch *f;

		if (!ref || wb_store_find(w->store, ref))
			continue;
		if (!l->up || !(f = calloc(1, sizeof(*f)))) {
			e->fetch_lost = true;
			continue;
		}
		*f = (struct fetch){.e = e, .side = side, .index = i};
		snprintf(f->ref, sizeof(f->ref), "%s", ref);
		if (redisAsyncCommand(l->ac, on_fetched, f, "GET " KEY_PREFIX "%s", HEX(ref)) != REDIS_OK) {
			free(f);
			e->fetch_lost = true;
			continue;
		}
		e->fetching++;
	}
}

unsigned worker_fetch_refs(struct wb_worker *w, struct entry *e)
{
	fetch_side(w, e, &e->pj.job, "");
	fetch_side(w, e, e->pj.job.interactor, "interactor: ");
	/* Redis away: the entry waits for a later delivery. */
	if (!e->fetching && e->fetch_lost) {
		worker_let_go(e);
		return 1;
	}
	return e->fetching;
}

static void note_side(struct entry *e, const struct wb_result *res)
{
	for (size_t i = 0; res && i < res->nfiles; i++) {
		void *more;

		if (!res->files[i].ref[0])
			continue;
		more = realloc(e->publish, (e->npublish + 1) * sizeof(*e->publish));
		if (!more)
			return;
		e->publish = more;
		memcpy(e->publish[e->npublish++], res->files[i].ref, WB_REF_LEN + 1);
	}
}

void worker_note_kept(struct entry *e, const struct wb_result *res)
{
	note_side(e, res);
	note_side(e, res->interactor);
}

void worker_publish(struct wb_worker *w, struct entry *e)
{
	struct link *l = &w->link[LINK_WRITE];

	if (e->published)
		return;
	e->published = true;
	for (size_t i = 0; i < e->npublish; i++) {
		struct wb_store_entry *se = wb_store_find(w->store, e->publish[i]);
		char key[sizeof(KEY_PREFIX) + 64];
		size_t len;
		char *bytes;

		/* Evicted already (a tiny store): the result still names it,
		 * and a job that asks for it is told it is not in the store. */
		if (!se)
			continue;
		len = (size_t)wb_store_entry_size(se);
		bytes = malloc(len ? len : 1);
		if (!bytes || pread(wb_store_entry_fd(se), bytes, len, 0) != (ssize_t)len) {
			wb_log(WB_LOG_WARN, "cannot read %s from the store to share it", e->publish[i]);
			free(bytes);
			continue;
		}
		snprintf(key, sizeof(key), KEY_PREFIX "%s", HEX(e->publish[i]));
		redisAsyncCommandArgv(l->ac, NULL, NULL, 3, (const char *[]){"SET", key, bytes},
				      (const size_t[]){3, strlen(key), len});
		free(bytes);
	}
}
