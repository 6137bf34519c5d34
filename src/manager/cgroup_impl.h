/* cgroup_impl.h: what cgroup.c shares with cgroup_v1.c and cgroup_v2.c.
 * Not part of the public surface. */
#ifndef WB_CGROUP_IMPL_H
#define WB_CGROUP_IMPL_H

#include <limits.h>

#include "manager/cgroup.h"
#include "proto/cgread.h"

struct cgroup_ops {
	enum wb_accounting mode;
	int (*open)(struct wb_cgroup *cg, char *why, size_t whylen);
	int (*slot_open)(struct wb_cgroup_slot *s);
	int (*prepare)(struct wb_cgroup_slot *s, const struct wb_limits *lim, uint64_t *cpu_base_ns);
	int (*collect)(struct wb_cgroup_slot *s, uint64_t cpu_base_ns, struct wb_cgroup_usage *u);
	void (*close)(struct wb_cgroup *cg);   /* optional, before the dirs go */
};

/* A v1 host has one directory per controller; v2 uses only dirs[0]. */
#define CG_NDIRS 3

/* Our tasks in a job's cgroup with it, beyond its procs: the job init and
 * its zygote, which joins the cgroup so that the memory they share is
 * charged to the job (inside/zygote.c), and sleeps through it. */
#define CG_OWN_TASKS 2

struct wb_cgroup {
	const struct cgroup_ops *ops;
	char dirs[CG_NDIRS][PATH_MAX];   /* the manager's own warmbox-PID dirs */
	int locks[CG_NDIRS];             /* a flock held on each for our life (-1: none) */
	size_t ndirs;
	char v2_base[PATH_MAX];          /* v2: where we moved out of, "" if we did not */
	bool v2_enabled_base;            /* v2: we enabled controllers there */
	char **graves;                   /* job cgroups still to remove (rmdir said EBUSY) */
	size_t ngraves;
	uint64_t jobs;                   /* job cgroups opened: each one's number */
};

struct wb_cgroup_slot {
	struct wb_cgroup *cg;
	unsigned idx;
	char dirs[CG_NDIRS][PATH_MAX];
	int procs_fds[CG_NDIRS];
	int cpu_fd;
	int limit_fd;        /* v1 memory.limit_in_bytes / v2 memory.max */
	int swap_fd;         /* v1 memory.memsw.limit_in_bytes / v2 memory.swap.max, -1 */
	int peak_fd;
	int oom_fd;          /* v1 memory.oom_control / v2 memory.events */
	int pids_fd;
	uint64_t oom_base;
};

extern const struct cgroup_ops wb_cgroup_v1_ops;
extern const struct cgroup_ops wb_cgroup_v2_ops;

/* Helpers for the two backends. */
int cg_write(int fd, const char *text);
int cg_write_u64(int fd, uint64_t v);
int cg_open_at(const char *dir, const char *file, int flags);
/* The cgroup path of this process for a controller ("" = v2), e.g. "/a/b". */
int cg_self_path(const char *controller, char *out, size_t len);
/* Where the hierarchy holding the controller is mounted, and its root. */
int cg_mount_of(const char *controller, char *mnt, size_t mlen, char *root, size_t rlen);
/* Creates DIR/warmbox-PID after removing stale warmbox-* dirs of dead managers. */
int cg_make_manager_dir(const char *base, char *out, size_t len, int *lock_fd);
void cg_rmdir_tree(const char *dir);

#endif
