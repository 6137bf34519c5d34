/* zygote.h: the zygote's own recipe: wait for its uid map, build the root,
 * then keep one spare job init cloned ahead for the next job. */
#ifndef WB_ZYGOTE_H
#define WB_ZYGOTE_H

#include <stddef.h>

struct wb_zygote_cfg {
	int ctl;             /* SOCK_SEQPACKET to the manager */
	int sync;            /* read end: one byte once the uid/gid maps are written */
	char *const *binds;  /* extra read-only binds from the policies */
	size_t nbinds;
	const int *cg_fds;   /* cgroup.procs of cgroup A, then of cgroup B */
	size_t ncg_each;     /* how many per cgroup; 0 without cgroups */
};

/* Runs as pid 1 of the zygote's namespaces; never returns. */
_Noreturn void wb_zygote_main(const struct wb_zygote_cfg *cfg);

#endif
