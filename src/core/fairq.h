/* fairq.h: the daemon's job queue: one FIFO per source (a client), sources
 * served in turn, a source whose client does not read skipped. Pure list
 * work: no allocation, no I/O. */
#ifndef WB_FAIRQ_H
#define WB_FAIRQ_H

#include <stdbool.h>

struct wb_fairq_src;

/* Embedded in what is queued. */
struct wb_fairq_item {
	struct wb_fairq_item *next;
	struct wb_fairq_src *src;
};

/* Embedded in a client; zeroed before first use. */
struct wb_fairq_src {
	const bool *held;                  /* while *held, its items wait (NULL: never) */
	struct wb_fairq_item *head, *tail;
	unsigned queued;
	struct wb_fairq_src *prev, *next;  /* ring of sources with items */
};

struct wb_fairq {
	struct wb_fairq_src *turn;         /* served next; NULL when empty */
	unsigned queued;
};

void wb_fairq_push(struct wb_fairq *q, struct wb_fairq_src *src, struct wb_fairq_item *it);

/* The oldest item of the next source in turn that is not held, unlinked;
 * NULL when every queued item is held (or none is queued). */
struct wb_fairq_item *wb_fairq_take(struct wb_fairq *q);

/* The item wb_fairq_take would take now, left in place; NULL likewise. */
struct wb_fairq_item *wb_fairq_peek(const struct wb_fairq *q);

/* Unlinks a queued item: true, or false when it was not queued. */
bool wb_fairq_remove(struct wb_fairq *q, struct wb_fairq_item *it);

/* Items whose source is not held. */
unsigned wb_fairq_unheld(const struct wb_fairq *q);

/* Whether a job of SRC finds no room: the unheld items fill ROOM and SRC
 * already holds its share of it, ROOM split evenly between the sources
 * not held, SRC counted among them, one item at least. A client under its
 * share gets in past a flood, up to twice ROOM unheld items. */
bool wb_fairq_full(const struct wb_fairq *q, const struct wb_fairq_src *src, unsigned room);

#endif
