/* learn.c: the job init's side of `warmbox learn`: each notified syscall
 * answered (let through, or refused if dangerous) and counted. */
#include "inside/learn.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "policy/dangerous.h"
#include "policy/policy.h"

void wb_learn_answer(int listener, const struct seccomp_notif *req, struct wb_learn *l)
{
	struct seccomp_notif_resp resp = {.id = req->id};
	int nr = req->data.nr;

	if (nr == SCMP_SYS(clone3)) {
		/* As every compiled policy answers it: glibc falls back to
		 * clone, whose flags a filter can see. */
		resp.error = -ENOSYS;
	} else if (nr == SCMP_SYS(socket)) {
		resp.error = -EACCES;
	} else if (wb_dangerous_nr(nr) || (nr == SCMP_SYS(clone) && (req->data.args[0] & WB_POLICY_NS_FLAGS))) {
		resp.error = -EPERM;
	} else {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	}
	if (nr >= 0 && nr < WB_LEARN_NR) {
		bool refused = resp.error != 0 && nr != SCMP_SYS(clone3);

		if (refused)
			l->refused[nr]++;
		else
			l->used[nr]++;
		if (nr == SCMP_SYS(socket) && req->data.args[0] != AF_UNIX)
			l->socket_not_unix++;
	}
	/* The caller may be gone (killed, or its thread exited): ENOENT. */
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}
