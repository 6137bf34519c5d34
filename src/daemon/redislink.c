/* redislink.c: one Redis link of a worker (hiredis's async context on the
 * loop through its libuv adapter): connecting, noticing it gone, and
 * connecting again with backoff while the worker is not closing. */
#include "daemon/worker_impl.h"

#include <hiredis/adapters/libuv.h>
#include <stdio.h>

#include "core/job.h"
#include "daemon/log.h"

/* How long between tries: from this, doubling, up to that. */
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000
/* hiredis 0.14's libuv adapter drops the error of a refused connect (its
 * poll callback returns on a non-zero status), so a connect that has not
 * succeeded by then is given up and tried again. */
#define CONNECT_TIMEOUT_MS 1000

static void link_lost(struct link *l, const char *why);

static void on_retry(uv_timer_t *t)
{
	struct link *l = t->data;
	redisAsyncContext *ac = l->ac;

	if (ac && !l->up) {
		l->ac = NULL;
		redisAsyncFree(ac);
		link_lost(l, "cannot connect (refused, or no answer within " WB_STR(CONNECT_TIMEOUT_MS) " ms)");
		return;
	}
	worker_link_connect(l);
}

/* The link is gone (hiredis frees the context): try again later. */
static void link_lost(struct link *l, const char *why)
{
	struct wb_worker *w = l->w;

	l->ac = NULL;
	l->up = false;
	if (w->closing) {
		worker_maybe_drained(w);
		return;
	}
	/* Said once per outage, not at every retry. */
	if (!l->backoff_ms)
		wb_log(WB_LOG_WARN, "redis %s:%d: %s; reconnecting", w->cfg.host, w->cfg.port, why);
	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : RECONNECT_MIN_MS;
	if (l->backoff_ms > RECONNECT_MAX_MS)
		l->backoff_ms = RECONNECT_MAX_MS;
	uv_timer_start(&l->retry, on_retry, l->backoff_ms, 0);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct link *l = ac->data;

	if (status != REDIS_OK) {
		link_lost(l, ac->errstr);
		return;
	}
	uv_timer_stop(&l->retry);
	l->up = true;
	l->backoff_ms = 0;
	worker_link_up(l->w, l);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct link *l = ac->data;

	link_lost(l, status == REDIS_OK ? "disconnected" : ac->errstr);
}

void worker_link_connect(struct link *l)
{
	struct wb_worker *w = l->w;
	redisAsyncContext *ac;

	if (w->closing)
		return;
	ac = redisAsyncConnect(w->cfg.host, w->cfg.port);
	if (!ac || ac->err) {
		char why[128];

		snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		link_lost(l, why);
		return;
	}
	ac->data = l;
	if (redisLibuvAttach(ac, w->loop) != REDIS_OK) {
		/* 0.14's attach may set its cleanup before failing, with no data
		 * for it: it must not run. */
		ac->ev.cleanup = NULL;
		redisAsyncFree(ac);
		link_lost(l, "cannot attach to the loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	/* A Redis that vanished without a word (a host gone) is noticed. */
	redisEnableKeepAlive(&ac->c);
	l->ac = ac;
	/* hiredis 0.14 watches a connection in progress only once a command
	 * waits to be written. */
	redisAsyncCommand(ac, NULL, NULL, "PING");
	uv_timer_start(&l->retry, on_retry, CONNECT_TIMEOUT_MS, 0);
}

