/* fairq.c: a ring of per-source FIFOs. Taking serves the source in turn
 * and passes the turn on, so a client that floods the queue delays another
 * client's job by at most one of its own per idle zygote, not by its whole
 * backlog. */
#include "core/fairq.h"

#include <stddef.h>

static bool is_held(const struct wb_fairq_src *s)
{
	return s->held && *s->held;
}

static void ring_add(struct wb_fairq *q, struct wb_fairq_src *s)
{
	if (!q->turn) {
		s->prev = s->next = s;
		q->turn = s;
		return;
	}
	/* Just before the source in turn: the newcomer is served last. */
	s->next = q->turn;
	s->prev = q->turn->prev;
	s->prev->next = s;
	q->turn->prev = s;
}

static void ring_remove(struct wb_fairq *q, struct wb_fairq_src *s)
{
	if (s->next == s) {
		q->turn = NULL;
	} else {
		s->prev->next = s->next;
		s->next->prev = s->prev;
		if (q->turn == s)
			q->turn = s->next;
	}
	s->prev = s->next = NULL;
}

void wb_fairq_push(struct wb_fairq *q, struct wb_fairq_src *src, struct wb_fairq_item *it)
{
	it->next = NULL;
	it->src = src;
	if (src->tail)
		src->tail->next = it;
	else
		src->head = it;
	src->tail = it;
	if (src->queued++ == 0)
		ring_add(q, src);
	q->queued++;
}

static void unlink_item(struct wb_fairq *q, struct wb_fairq_item *prev, struct wb_fairq_item *it)
{
	struct wb_fairq_src *s = it->src;

	if (prev)
		prev->next = it->next;
	else
		s->head = it->next;
	if (s->tail == it)
		s->tail = prev;
	it->next = NULL;
	q->queued--;
	if (--s->queued == 0)
		ring_remove(q, s);
}

/* The first source from the turn on that is not held, or NULL. */
static struct wb_fairq_src *next_unheld(const struct wb_fairq *q)
{
	struct wb_fairq_src *s = q->turn;

	if (!s)
		return NULL;
	do {
		if (!is_held(s))
			return s;
		s = s->next;
	} while (s != q->turn);
	return NULL;
}

struct wb_fairq_item *wb_fairq_peek(const struct wb_fairq *q)
{
	struct wb_fairq_src *s = next_unheld(q);

	return s ? s->head : NULL;
}

struct wb_fairq_item *wb_fairq_take(struct wb_fairq *q)
{
	struct wb_fairq_src *s = next_unheld(q);
	struct wb_fairq_item *it;

	if (!s)
		return NULL;
	it = s->head;
	/* The turn passes on before s may leave the ring. */
	q->turn = s->next;
	unlink_item(q, NULL, it);
	return it;
}

bool wb_fairq_remove(struct wb_fairq *q, struct wb_fairq_item *it)
{
	struct wb_fairq_item *prev = NULL;

	if (!it->src)
		return false;
	for (struct wb_fairq_item *x = it->src->head; x; prev = x, x = x->next) {
		if (x == it) {
			unlink_item(q, prev, it);
			return true;
		}
	}
	return false;
}

unsigned wb_fairq_unheld(const struct wb_fairq *q)
{
	const struct wb_fairq_src *s = q->turn;
	unsigned n = 0;

	if (!s)
		return 0;
	do {
		if (!is_held(s))
			n += s->queued;
		s = s->next;
	} while (s != q->turn);
	return n;
}

bool wb_fairq_full(const struct wb_fairq *q, const struct wb_fairq_src *src, unsigned room)
{
	const struct wb_fairq_src *s = q->turn;
	unsigned unheld = 0, sources = (src->queued == 0 || is_held(src)) ? 1 : 0, share;

	if (s) {
		do {
			if (!is_held(s)) {
				unheld += s->queued;
				sources++;
			}
			s = s->next;
		} while (s != q->turn);
	}
	if (unheld >= 2 * room)
		return true;
	/* A place at least: more clients than room must not shut all out. */
	share = room / sources ? room / sources : 1;
	return unheld >= room && src->queued >= share;
}
