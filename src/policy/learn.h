/* learn.h: `warmbox learn`'s two halves: in the job init, answering each
 * notified syscall (let it run, or refuse one of the dangerous set) and
 * counting it; in the CLI, printing the counts as a policy. */
#ifndef WB_LEARN_H
#define WB_LEARN_H

#include <stdint.h>
#include <stdio.h>

struct seccomp_notif;

/* x86_64 syscall numbers are below this; x32 and others are killed by the
 * filter's architecture check before they reach the listener. */
#define WB_LEARN_NR 512

struct wb_learn {
	uint32_t used[WB_LEARN_NR];     /* let through */
	uint32_t refused[WB_LEARN_NR];  /* the dangerous set: never learned */
	uint32_t socket_not_unix;       /* refused sockets of another family */
};

/* Answers one notification: a refused call fails (EPERM, EACCES for
 * socket, ENOSYS for clone3 as in every compiled policy), anything else
 * continues in the kernel. Either way it is counted. */
void wb_learn_answer(int listener, const struct seccomp_notif *req, struct wb_learn *l);

/* Whether a syscall is one no policy should allow (the dangerous
 * set); socket counts, as the sandbox has no network to offer. */
int wb_learn_is_dangerous(const char *name);

/* Prints what was learned as a policy JSON on f, its description naming
 * what it was learned from, refusing what was refused with the same errno
 * (so the program runs again as it did); and the counts, busiest first,
 * on counts_f.
 * 0 or -errno. */
int wb_learn_print(const struct wb_learn *l, const char *description, FILE *f, FILE *counts_f);

#endif
