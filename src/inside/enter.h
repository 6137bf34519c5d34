/* enter.h: `warmbox enter`'s way into a running job: its namespaces, its
 * uid, no capabilities, no_new_privs, a policy's filter (SPEC "Operator tools"). */
#ifndef WB_ENTER_H
#define WB_ENTER_H

#include <sys/types.h>

#include "policy/policy.h"

struct wb_enter {
	int pidfd;                   /* the job init's, on the host */
	pid_t pid;                   /* its pid there, held by pidfd */
	const struct wb_policy *policy;
	char *const *argv;           /* looked up in the sandbox's PATH */
	char *const *envp;
	int tty;                     /* its stdin/out/err and controlling tty, or -1 */
	int stdio[3];                /* without a tty: its stdin, stdout, stderr */
};

/* Starts argv inside the job: 0 once it has been exec'd, its joiner's pid
 * in *joiner_pid, or -errno when it could not be (said on stderr). */
int wb_enter_start(const struct wb_enter *e, pid_t *joiner_pid);
/* Its exit status as a shell gives it (128 + signal when killed, as when
 * the job ends under it), or -errno. */
int wb_enter_wait(pid_t joiner_pid);

#endif
