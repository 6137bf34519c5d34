/* claim.c: entries some consumer (a worker that died, or this one after a
 * sandbox failure) has held longer than --claim-idle: XPENDING names them
 * with their delivery counts, XCLAIM takes them; those delivered
 * --max-deliveries times already are answered XX instead of run again.
 * The entries a worker holds are kept alive meanwhile (the heartbeat), so
 * a job longer than --claim-idle is not taken from a worker still on it. */
#include "daemon/worker_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"

#define CLAIM_TICK_MIN_MS 100
#define CLAIM_TICK_MAX_MS 5000

/* What XPENDING said, for XCLAIM's reply. */
struct claim {
	struct wb_worker *w;
	size_t n;
	struct {
		char id[64];
		unsigned deliveries;     /* before this claim */
	} e[];
};

static unsigned deliveries_of(const struct claim *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].id, id) == 0)
			return c->e[i].deliveries;
	return 0;
}

/* [[id, [field, value, ...]], ...]: each run, or given up. */
static void on_claimed(redisAsyncContext *ac, void *reply, void *data)
{
	struct claim *c = data;
	struct wb_worker *w = c->w;
	redisReply *r = reply;
	char why[96];

	(void)ac;
	w->claiming = false;
	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *en = r->element[i];
		const char *text;
		unsigned before;
		size_t len = 0;

		/* A claimed entry deleted from the stream meanwhile: nothing to run. */
		if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 || en->element[0]->type != REDIS_REPLY_STRING ||
		    worker_holds(w, en->element[0]->str))
			continue;
		before = deliveries_of(c, en->element[0]->str);
		text = worker_field(en->element[1], "job", &len);
		if (before >= w->cfg.max_deliveries) {
			snprintf(why, sizeof(why), "given up after %u deliveries", before);
			wb_log(WB_LOG_WARN, "entry %s: %s", en->element[0]->str, why);
			worker_give_up(w, en->element[0]->str, text, len, why);
			continue;
		}
		wb_log(WB_LOG_INFO, "entry %s claimed (delivery %u)", en->element[0]->str, before + 1);
		worker_take_entry(w, en->element[0]->str, text, len, before + 1);
	}
	if (r && r->type == REDIS_REPLY_ERROR)
		wb_log(WB_LOG_WARN, "XCLAIM: %s", r->str);
	free(c);
	worker_maybe_drained(w);
}

/* [[id, consumer, idle ms, deliveries], ...]: claim them all at once. */
static void on_pending(redisAsyncContext *ac, void *reply, void *data)
{
	struct wb_worker *w = data;
	redisReply *r = reply;
	const char **argv = NULL;
	size_t *lens = NULL, argc = 0;
	struct claim *c = NULL;
	char idle[16];

	w->claiming = false;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0 || !w->link[LINK_WRITE].up || w->draining) {
		if (r && r->type == REDIS_REPLY_ERROR)
			wb_log(WB_LOG_WARN, "XPENDING: %s", r->str);
		worker_maybe_drained(w);
		return;
	}
	c = calloc(1, sizeof(*c) + r->elements * sizeof(c->e[0]));
	argv = calloc(r->elements + 5, sizeof(*argv));
	lens = calloc(r->elements + 5, sizeof(*lens));
	if (!c || !argv || !lens)
		goto out;
	snprintf(idle, sizeof(idle), "%u", w->cfg.claim_idle_ms);
	argv[argc++] = "XCLAIM";
	argv[argc++] = w->cfg.stream;
	argv[argc++] = w->cfg.group;
	argv[argc++] = w->cfg.consumer;
	argv[argc++] = idle;
	c->w = w;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *p = r->element[i];

		if (p->type != REDIS_REPLY_ARRAY || p->elements != 4 || p->element[0]->type != REDIS_REPLY_STRING ||
		    p->element[0]->len >= sizeof(c->e[0].id) || p->element[3]->type != REDIS_REPLY_INTEGER)
			continue;
		/* Our own, between two heartbeats: not to be claimed again. */
		if (worker_holds(w, p->element[0]->str))
			continue;
		memcpy(c->e[c->n].id, p->element[0]->str, p->element[0]->len + 1);
		c->e[c->n].deliveries = (unsigned)p->element[3]->integer;
		argv[argc++] = c->e[c->n].id;
		c->n++;
	}
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	/* Claimed only if still idle that long: two workers never both get one. */
	if (c->n && redisAsyncCommandArgv(ac, on_claimed, c, (int)argc, argv, lens) == REDIS_OK) {
		w->claiming = true;
		c = NULL;
	}
out:
	free(c);
	free(argv);
	free(lens);
	worker_maybe_drained(w);
}

void worker_claim_more(struct wb_worker *w)
{
	const struct link *l = &w->link[LINK_WRITE];
	unsigned free_places = w->held < w->cfg.places ? w->cfg.places - w->held : 0;

	if (w->claiming || w->draining || !free_places || !l->up || !w->group_checked)
		return;
	if (redisAsyncCommand(l->ac, on_pending, w, "XPENDING %s %s IDLE %u - + %u", w->cfg.stream, w->cfg.group,
			      w->cfg.claim_idle_ms, free_places) == REDIS_OK)
		w->claiming = true;
}

void worker_heartbeat(struct wb_worker *w)
{
	const struct link *l = &w->link[LINK_WRITE];
	const char **argv;
	size_t *lens, argc = 0;

	if (!w->held_list || !l->up)
		return;
	argv = calloc(w->held + 7, sizeof(*argv));
	lens = calloc(w->held + 7, sizeof(*lens));
	if (argv && lens) {
		argv[argc++] = "XCLAIM";
		argv[argc++] = w->cfg.stream;
		argv[argc++] = w->cfg.group;
		argv[argc++] = w->cfg.consumer;
		argv[argc++] = "0";
		for (const struct entry *e = w->held_list; e && argc < w->held + 5; e = e->hnext)
			argv[argc++] = e->id;
		/* JUSTID: the delivery count stays; the idle time restarts. */
		argv[argc++] = "JUSTID";
		for (size_t i = 0; i < argc; i++)
			lens[i] = strlen(argv[i]);
		redisAsyncCommandArgv(l->ac, NULL, NULL, (int)argc, argv, lens);
	}
	free(argv);
	free(lens);
}

static void on_tick(uv_timer_t *t)
{
	worker_tick(t->data);
}

void worker_claim_start(struct wb_worker *w)
{
	unsigned tick = w->cfg.claim_idle_ms / 2;

	if (tick < CLAIM_TICK_MIN_MS)
		tick = CLAIM_TICK_MIN_MS;
	if (tick > CLAIM_TICK_MAX_MS)
		tick = CLAIM_TICK_MAX_MS;
	uv_timer_start(&w->claim, on_tick, tick, tick);
}
