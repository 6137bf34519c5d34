/* zygote.h: the zygote's own recipe, run by its own program (inside/main.c)
 * once its uid map is written: build the root, then run spare job inits,
 * one at a time, in its own memory, each ready before its job comes. */
#ifndef WB_ZYGOTE_H
#define WB_ZYGOTE_H

#include <stddef.h>

struct wb_zygote_cfg {
	int ctl;             /* SOCK_SEQPACKET to the manager, shared with the spares */
	int zsock;           /* SOCK_SEQPACKET from the manager, the zygote's alone:
			      * a WB_MSG_SPARE_CGROUP before each spare */
	char *const *binds;  /* extra read-only binds from the policies */
	size_t nbinds;
};

/* Runs as pid 1 of the zygote's namespaces; never returns. */
_Noreturn void wb_zygote_main(const struct wb_zygote_cfg *cfg);

#endif
