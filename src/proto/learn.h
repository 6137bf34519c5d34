/* learn.h: what a job init run by `warmbox learn` counted, sent to the
 * manager as the bytes of a memfd (WB_RES_LEARNED) in place of copy_out. */
#ifndef WB_PROTO_LEARN_H
#define WB_PROTO_LEARN_H

#include <stdint.h>

/* x86_64 syscall numbers are below this; x32 and others are killed by the
 * filter's architecture check before they reach the listener. */
#define WB_LEARN_NR 512

struct wb_learn {
	uint32_t used[WB_LEARN_NR];     /* let through */
	uint32_t refused[WB_LEARN_NR];  /* the dangerous set: never learned */
	uint32_t socket_not_unix;       /* refused sockets of another family */
};

#endif
