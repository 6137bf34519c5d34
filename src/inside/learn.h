/* learn.h: the job init's side of `warmbox learn`: answering each syscall
 * the program's filter notifies, and counting it in struct wb_learn. */
#ifndef WB_INSIDE_LEARN_H
#define WB_INSIDE_LEARN_H

#include "proto/learn.h"

struct seccomp_notif;

/* Answers one notification: a refused call fails (EPERM, EACCES for
 * socket, ENOSYS for clone3 as in every compiled policy), anything else
 * continues in the kernel. Either way it is counted. */
void wb_learn_answer(int listener, const struct seccomp_notif *req, struct wb_learn *l);

#endif
