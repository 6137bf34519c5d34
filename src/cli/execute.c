/* execute.c: warmbox run's job on zygotes of its own, started for it and
 * gone with it: one, or two for a job with an interactor (one sandbox per
 * side, SPEC "Interactive jobs"); with --tty, on a terminal (tty.c) that
 * is relayed on the same loop. */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/result.h"
#include "manager/cgroup.h"
#include "manager/idlock.h"
#include "manager/interact.h"
#include "manager/pasta.h"
#include "manager/slot.h"
#include "cli/tty.h"

struct exec_ctx;

struct side {
	struct exec_ctx *ctx;
	const struct wb_job *job;
	const struct wb_policy *policy;
	struct wb_slot *slot;
	struct wb_result *res;
	int lock;
	bool warm;
};

/* The signals that end warmbox run through its loop, so that the zygotes
 * are killed and the slot ids released; with --tty also SIGHUP (the
 * operator's terminal went away), so that it is restored too. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

struct exec_ctx {
	uv_loop_t loop;
	uv_signal_t sig[3];
	int nsig;
	struct wb_tty *tty;
	int tty_chan;            /* the job's end of the tty channel, until sent */
	struct side side[WB_SIDES];
	int nsides;
	bool trace, submitted;
	bool interrupted;        /* a signal or the terminal ended it: why says so */
	char why[256];
};

/* Slots may report the job and then their own end: close once. */
static void close_signals(struct exec_ctx *ctx)
{
	if (uv_is_closing((uv_handle_t *)&ctx->sig[0]))
		return;
	for (int i = 0; i < ctx->nsig; i++)
		uv_close((uv_handle_t *)&ctx->sig[i], NULL);
}

static void close_side(struct side *sd)
{
	struct wb_slot *slot = sd->slot;

	sd->slot = NULL;
	wb_slot_close(slot);
}

/* Each side's job in flight is answered XX through on_done. The terminal
 * first: from here on nothing is relayed. */
static void close_all(struct exec_ctx *ctx)
{
	wb_tty_finish(ctx->tty);
	for (int i = 0; i < ctx->nsides; i++)
		close_side(&ctx->side[i]);
	close_signals(ctx);
}

static void on_done(struct wb_slot *slot, struct wb_result *res, void *data)
{
	struct side *sd = data;
	struct exec_ctx *ctx = sd->ctx;

	(void)slot;
	sd->res = res;
	close_side(sd);
	for (int i = 0; i < ctx->nsides; i++)
		if (ctx->side[i].slot)
			return;
	/* The job has ended: its last output, then the terminal as it was. */
	wb_tty_finish(ctx->tty);
	close_signals(ctx);
}

static int submit_one(struct side *sd, const struct wb_slot_wiring *w)
{
	return wb_slot_submit(sd->slot, sd->job, sd->policy, w, sd->ctx->trace, on_done, sd);
}

/* Both sides at once, once both are warm: neither waits for the other. */
static void submit(struct exec_ctx *ctx)
{
	struct wb_slot_wiring w[WB_SIDES];
	int rc;

	ctx->submitted = true;
	if (ctx->tty) {
		w[0] = (struct wb_slot_wiring){.in_fd = ctx->tty_chan, .out_fd = ctx->tty_chan, .cpu = -1,
					       .tty = true};
		rc = submit_one(&ctx->side[0], &w[0]);
		close(ctx->tty_chan);
		ctx->tty_chan = -1;
	} else if (ctx->nsides == 1) {
		rc = submit_one(&ctx->side[0], NULL);
	} else if ((rc = wb_interact_wire(w)) == 0) {
		for (int i = 0; i < WB_SIDES && rc == 0; i++)
			rc = submit_one(&ctx->side[i], &w[i]);
		wb_interact_unwire(w);
	}
	if (rc == 0)
		return;
	snprintf(ctx->why, sizeof(ctx->why), "sandbox: cannot send the job: %s", strerror(-rc));
	close_all(ctx);
}

static void on_state(struct wb_slot *slot, int err, const char *msg, void *data)
{
	struct side *sd = data;
	struct exec_ctx *ctx = sd->ctx;

	(void)slot;
	if (err == 0) {
		/* Later calls: the next spare is ready, nothing more to run. */
		sd->warm = true;
		for (int i = 0; i < ctx->nsides; i++)
			if (!ctx->side[i].warm)
				return;
		if (!ctx->submitted)
			submit(ctx);
		return;
	}
	if (!ctx->why[0])
		snprintf(ctx->why, sizeof(ctx->why), "%s", msg ? msg : "sandbox: the zygote failed");
	/* Before the job: nothing can run. During it: the other side sees
	 * this one end, and ends in its own time. */
	if (!ctx->submitted)
		close_all(ctx);
	else
		close_side(sd);
}

/* Interrupted: kill the zygotes (and so the job) and still clean up. */
static void on_signal(uv_signal_t *h, int signum)
{
	struct exec_ctx *ctx = h->data;

	(void)signum;
	snprintf(ctx->why, sizeof(ctx->why), "interrupted");
	ctx->interrupted = true;
	close_all(ctx);
}

/* The operator's side of --tty is gone, or cannot be relayed: as if
 * interrupted, for a job on a terminal nobody can see. */
static void on_tty_gone(const char *why, void *data)
{
	struct exec_ctx *ctx = data;

	snprintf(ctx->why, sizeof(ctx->why), "%s", why);
	ctx->interrupted = true;
	close_all(ctx);
}

/* As root the slot number picks the side's host uid: held, so no other
 * warmbox runs a job under the same uid meanwhile; the two sides of one
 * job get two. */
static int claim_slots(struct exec_ctx *ctx, struct wb_slot_cfg cfg[WB_SIDES])
{
	unsigned next = 0;

	for (int i = 0; i < ctx->nsides; i++) {
		if (geteuid() != 0) {
			cfg[i].idx = (unsigned)i;
			continue;
		}
		ctx->side[i].lock = wb_idlock_acquire(next, &cfg[i].idx);
		if (ctx->side[i].lock < 0) {
			snprintf(ctx->why, sizeof(ctx->why), "sandbox: no free slot in " WB_IDLOCK_DIR ": %s",
				 strerror(-ctx->side[i].lock));
			return ctx->side[i].lock;
		}
		next = cfg[i].idx + 1;
	}
	return 0;
}

static void start_slots(struct exec_ctx *ctx, struct wb_slot_cfg cfg[WB_SIDES])
{
	for (int i = 0; i < ctx->nsides; i++) {
		if (wb_slot_start(&ctx->loop, &cfg[i], on_state, &ctx->side[i], &ctx->side[i].slot, ctx->why,
				  sizeof(ctx->why)) < 0) {
			close_all(ctx);
			return;
		}
	}
}

/* The result, or NULL with why saying what went wrong. */
static struct wb_result *collect(struct exec_ctx *ctx)
{
	struct side *prog = &ctx->side[WB_SIDE_PROGRAM], *inter = &ctx->side[WB_SIDE_INTERACTOR];

	if (ctx->nsides == 1)
		return prog->res;
	if (prog->res && inter->res)
		return wb_interact_merge(prog->res, inter->res);
	/* One side never ran: no answer from the pair. */
	for (int i = 0; i < WB_SIDES; i++) {
		wb_result_free(ctx->side[i].res);
		free(ctx->side[i].res);
	}
	return NULL;
}

/* With --tty, the channel before the loop (it carries the window size at
 * the time the job is sent) and the relay's wait for the master on it. */
static int start_tty(struct exec_ctx *ctx)
{
	int rc;

	if (!ctx->tty)
		return 0;
	if ((rc = ctx->tty_chan = wb_tty_channel(ctx->tty)) < 0 ||
	    (rc = wb_tty_start(ctx->tty, &ctx->loop, on_tty_gone, ctx)) < 0) {
		snprintf(ctx->why, sizeof(ctx->why), "sandbox: cannot set up the terminal: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

struct wb_result *wb_cli_execute(const struct wb_job *job, const struct wb_policy *policy,
				 const struct wb_policy *ipolicy, struct wb_tty *tty, bool trace, char *why,
				 size_t whylen, const char **accounting)
{
	struct exec_ctx ctx = {.trace = trace, .nsides = job->interactor ? WB_SIDES : 1, .tty = tty,
			       .tty_chan = -1, .nsig = tty ? 3 : 2};
	struct wb_slot_cfg cfg[WB_SIDES];
	struct wb_cgroup *cg = NULL;
	struct wb_result *res = NULL;
	char err[512];

	if (wb_cgroup_open(&cg, err, sizeof(err)) < 0 && geteuid() == 0)
		fprintf(stderr, "warmbox: note: no usable cgroup, rlimit accounting (%s)\n", err);
	/* Never the host's network instead: no pasta, no job. */
	if (job->network && wb_pasta_available(why, whylen) < 0) {
		*accounting = wb_accounting_name(wb_cgroup_mode(cg));
		wb_cgroup_close(cg);
		return NULL;
	}
	ctx.side[WB_SIDE_PROGRAM] = (struct side){.ctx = &ctx, .job = job, .policy = policy, .lock = -1};
	ctx.side[WB_SIDE_INTERACTOR] = (struct side){.ctx = &ctx, .job = job->interactor, .policy = ipolicy,
						     .lock = -1};
	for (int i = 0; i < ctx.nsides; i++)
		cfg[i] = (struct wb_slot_cfg){.cg = cg,
					      .binds = ctx.side[i].policy->binds,
					      .nbinds = ctx.side[i].policy->nbinds};
	if (claim_slots(&ctx, cfg) == 0) {
		uv_loop_init(&ctx.loop);
		for (int i = 0; i < ctx.nsig; i++) {
			uv_signal_init(&ctx.loop, &ctx.sig[i]);
			ctx.sig[i].data = &ctx;
			uv_signal_start(&ctx.sig[i], on_signal, stop_signals[i]);
		}
		if (start_tty(&ctx) == 0)
			start_slots(&ctx, cfg);
		else
			close_all(&ctx);
		uv_run(&ctx.loop, UV_RUN_DEFAULT);
		uv_loop_close(&ctx.loop);
		res = collect(&ctx);
	}
	/* A job cut short says why, not only that its zygote was closed. */
	if (res && ctx.interrupted && res->status == WB_STATUS_XX) {
		char *e = strdup(ctx.why);

		if (e) {
			free(res->error);
			res->error = e;
		}
	}
	if (ctx.tty_chan >= 0)
		close(ctx.tty_chan);
	for (int i = 0; i < ctx.nsides; i++)
		wb_idlock_release(ctx.side[i].lock);
	snprintf(why, whylen, "%s", ctx.why[0] ? ctx.why : "sandbox: no result");
	*accounting = wb_accounting_name(wb_cgroup_mode(cg));
	wb_cgroup_close(cg);
	return res;
}
