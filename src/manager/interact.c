/* interact.c: the wiring and the result of an interactive job; the slots
 * run each side like any job (run.c), the caller owns the two slots. */
#include "manager/interact.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Starting from the CPU the manager is on (where the scheduler found room:
 * separate `warmbox run`s spread out), the CPUs it may use in turn: two
 * interactive jobs of one daemon land on different CPUs, each job's two
 * sides on the same one. The manager is single-threaded. */
static int next_cpu(void)
{
	static unsigned turn;
	cpu_set_t set;
	int n, first = sched_getcpu(), pick;

	if (sched_getaffinity(0, sizeof(set), &set) < 0 || (n = CPU_COUNT(&set)) == 0)
		return -1;
	pick = (int)(turn++ % (unsigned)n);
	if (first < 0)
		first = 0;
	for (int i = 0; i < CPU_SETSIZE; i++) {
		int cpu = (first + i) % CPU_SETSIZE;

		if (CPU_ISSET(cpu, &set) && pick-- == 0)
			return cpu;
	}
	return -1;
}

int wb_interact_wire(struct wb_slot_wiring w[WB_SIDES])
{
	int to_program[2], to_interactor[2];

	if (pipe2(to_program, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(to_interactor, O_CLOEXEC) < 0) {
		int err = errno;

		close(to_program[0]);
		close(to_program[1]);
		return -err;
	}
	w[WB_SIDE_PROGRAM] = (struct wb_slot_wiring){.in_fd = to_program[0], .out_fd = to_interactor[1]};
	w[WB_SIDE_INTERACTOR] = (struct wb_slot_wiring){.in_fd = to_interactor[0], .out_fd = to_program[1]};
	w[WB_SIDE_PROGRAM].cpu = w[WB_SIDE_INTERACTOR].cpu = next_cpu();
	return 0;
}

void wb_interact_unwire(struct wb_slot_wiring w[WB_SIDES])
{
	for (int i = 0; i < WB_SIDES; i++) {
		close(w[i].in_fd);
		close(w[i].out_fd);
		w[i].in_fd = w[i].out_fd = -1;
	}
}

static void make_xx(struct wb_result *r, const char *why)
{
	char *copy = strdup(why);

	if (!copy)
		return;
	r->status = WB_STATUS_XX;
	free(r->error);
	r->error = copy;
}

struct wb_result *wb_interact_merge(struct wb_result *program, struct wb_result *interactor)
{
	char why[512];

	if (!program) {
		wb_result_free(interactor);
		free(interactor);
		return NULL;
	}
	program->interactor = interactor;
	if (!interactor) {
		make_xx(program, "manager: out of memory for the interactor's result");
	} else if (interactor->status == WB_STATUS_XX && program->status != WB_STATUS_XX) {
		/* The judge's answer is the interactor's: without it, none. */
		snprintf(why, sizeof(why), "interactor: %s", interactor->error ? interactor->error : "sandbox error");
		make_xx(program, why);
	}
	return program;
}
