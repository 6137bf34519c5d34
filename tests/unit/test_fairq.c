/* test_fairq.c: the daemon's queue serves clients in turn, keeps each
 * client's jobs in order, skips held clients without losing their place,
 * and removes cancelled jobs from any position. */
#include <stddef.h>

#include "check.h"
#include "core/fairq.h"

struct job {
	struct wb_fairq_item item;
	int client, seq;
};

static struct job *take(struct wb_fairq *q)
{
	struct wb_fairq_item *it = wb_fairq_take(q);

	return it ? (struct job *)((char *)it - offsetof(struct job, item)) : NULL;
}

/* A floods 100 jobs, then B sends 3: B's jobs are among the next 6 taken,
 * where one FIFO would run all of A's first. */
static void test_turns(void)
{
	struct wb_fairq q = { 0 };
	struct wb_fairq_src a = { 0 }, b = { 0 };
	static struct job ja[100], jb[3];
	int b_seen = 0, a_next = 0, b_next = 0, order_ok = 1;

	for (int i = 0; i < 100; i++) {
		ja[i] = (struct job){.client = 0, .seq = i};
		wb_fairq_push(&q, &a, &ja[i].item);
	}
	for (int i = 0; i < 3; i++) {
		jb[i] = (struct job){.client = 1, .seq = i};
		wb_fairq_push(&q, &b, &jb[i].item);
	}
	CHECK(q.queued == 103);
	for (int n = 0; n < 6; n++) {
		struct job *j = take(&q);

		if (!j)
			break;
		if (j->client == 1) {
			b_seen++;
			order_ok &= j->seq == b_next++;
		} else {
			order_ok &= j->seq == a_next++;
		}
	}
	CHECKF(b_seen == 3, "B had %d of its 3 jobs among the first 6 taken", b_seen);
	for (struct job *j; (j = take(&q));)
		order_ok &= j->client == 0 && j->seq == a_next++;
	CHECK(order_ok);
	CHECK(a_next == 100 && q.queued == 0 && q.turn == NULL);
	CHECK(take(&q) == NULL);
}

/* A held client is skipped; its jobs wait, take no unheld room, and go
 * first in its turn once it reads again. */
static void test_held(void)
{
	struct wb_fairq q = { 0 };
	bool paused = true;
	struct wb_fairq_src a = {.held = &paused}, b = { 0 };
	struct job ja[2] = {{.client = 0, .seq = 0}, {.client = 0, .seq = 1}}, jb = {.client = 1};
	struct job *j;

	wb_fairq_push(&q, &a, &ja[0].item);
	wb_fairq_push(&q, &a, &ja[1].item);
	CHECK(wb_fairq_unheld(&q) == 0);
	CHECK(take(&q) == NULL);
	wb_fairq_push(&q, &b, &jb.item);
	CHECK(wb_fairq_unheld(&q) == 1);
	CHECK(take(&q) == &jb);
	CHECK(take(&q) == NULL && q.queued == 2);
	paused = false;
	CHECK(wb_fairq_unheld(&q) == 2);
	j = take(&q);
	CHECK(j == &ja[0]);
	j = take(&q);
	CHECK(j == &ja[1]);
	CHECK(q.queued == 0 && q.turn == NULL);
}

/* Peek names what take takes next and changes nothing: the pool waits with
 * an interactive job at the head until two slots are free. */
static void test_peek(void)
{
	struct wb_fairq q = { 0 };
	bool paused = true;
	struct wb_fairq_src a = {.held = &paused}, b = { 0 };
	struct job ja = {.client = 0}, jb[2] = {{.client = 1, .seq = 0}, {.client = 1, .seq = 1}};

	CHECK(wb_fairq_peek(&q) == NULL);
	wb_fairq_push(&q, &a, &ja.item);
	CHECK(wb_fairq_peek(&q) == NULL);
	wb_fairq_push(&q, &b, &jb[0].item);
	wb_fairq_push(&q, &b, &jb[1].item);
	CHECK(wb_fairq_peek(&q) == &jb[0].item);
	CHECK(wb_fairq_peek(&q) == &jb[0].item && q.queued == 3);
	CHECK(take(&q) == &jb[0]);
	paused = false;
	CHECK(wb_fairq_peek(&q) == &ja.item);
	CHECK(take(&q) == &ja);
	CHECK(wb_fairq_peek(&q) == &jb[1].item);
	CHECK(take(&q) == &jb[1] && wb_fairq_peek(&q) == NULL);
}

/* Removal from the head, the middle and the tail, and of a job no longer
 * queued. */
static void test_remove(void)
{
	struct wb_fairq q = { 0 };
	struct wb_fairq_src a = { 0 }, b = { 0 };
	struct job j[4] = {{.seq = 0}, {.seq = 1}, {.seq = 2}, {.seq = 3}}, k = {.client = 1};

	for (int i = 0; i < 4; i++)
		wb_fairq_push(&q, &a, &j[i].item);
	wb_fairq_push(&q, &b, &k.item);
	CHECK(wb_fairq_remove(&q, &j[1].item));
	CHECK(wb_fairq_remove(&q, &j[3].item));
	CHECK(!wb_fairq_remove(&q, &j[3].item));
	CHECK(wb_fairq_remove(&q, &k.item));
	CHECK(q.queued == 2 && b.queued == 0);
	CHECK(take(&q) == &j[0]);
	/* j[2] is now a's tail: a push after it must follow it. */
	wb_fairq_push(&q, &a, &j[3].item);
	CHECK(take(&q) == &j[2]);
	CHECK(take(&q) == &j[3]);
	CHECK(!wb_fairq_remove(&q, &j[0].item));
	CHECK(q.queued == 0 && q.turn == NULL);
}

/* A full queue refuses whoever holds its share: A floods 4 of ROOM 4, B
 * C and D still get theirs in, the queue stops at twice ROOM; a held
 * flood takes no room, but its client gets no more in. */
static void test_full(void)
{
	struct wb_fairq q = { 0 };
	bool a_paused = false;
	struct wb_fairq_src a = {.held = &a_paused}, b = { 0 }, c = { 0 }, d = { 0 }, e = { 0 };
	static struct job ja[4], jb[2], jc, jd;

	for (int i = 0; i < 4; i++) {
		CHECKF(!wb_fairq_full(&q, &a, 4), "A's job %d gets in", i);
		wb_fairq_push(&q, &a, &ja[i].item);
	}
	CHECKF(wb_fairq_full(&q, &a, 4), "A, holding all 4, is refused");
	for (int i = 0; i < 2; i++) {
		CHECKF(!wb_fairq_full(&q, &b, 4), "B's job %d gets in (share 2 of 4)", i);
		wb_fairq_push(&q, &b, &jb[i].item);
	}
	CHECKF(wb_fairq_full(&q, &b, 4), "B, holding its share of 2, is refused");
	CHECKF(!wb_fairq_full(&q, &c, 4), "C (share 1 of 4) gets in");
	wb_fairq_push(&q, &c, &jc.item);
	CHECKF(wb_fairq_full(&q, &c, 4), "C, holding its share of 1, is refused");
	CHECKF(!wb_fairq_full(&q, &d, 4), "D gets in, the queue at 7");
	wb_fairq_push(&q, &d, &jd.item);
	CHECKF(wb_fairq_full(&q, &e, 4), "E, under its share of 1, is refused: the queue holds 8, twice ROOM");
	a_paused = true;
	CHECKF(!wb_fairq_full(&q, &e, 4), "A's held jobs take no room: E gets in");
	CHECKF(wb_fairq_full(&q, &a, 4), "held A, with 4 queued, is over its share of 1: refused");
}

/* More clients than room: each still has one place, within twice ROOM. */
static void test_full_small(void)
{
	struct wb_fairq q = { 0 };
	struct wb_fairq_src a = { 0 }, b = { 0 }, c = { 0 };
	static struct job ja, jb;

	CHECK(!wb_fairq_full(&q, &a, 1));
	wb_fairq_push(&q, &a, &ja.item);
	CHECKF(wb_fairq_full(&q, &a, 1), "A, holding the one place, is refused");
	CHECKF(!wb_fairq_full(&q, &b, 1), "B, with nothing queued, gets one in (share 1/2 rounds up)");
	wb_fairq_push(&q, &b, &jb.item);
	CHECKF(wb_fairq_full(&q, &c, 1), "C is refused: the queue holds 2, twice ROOM");
	CHECKF(wb_fairq_full(&q, &a, 0) && wb_fairq_full(&q, &c, 0), "ROOM 0 refuses everyone");
}

int main(void)
{
	test_turns();
	test_held();
	test_peek();
	test_remove();
	test_full();
	test_full_small();
	return check_report("test_fairq");
}
