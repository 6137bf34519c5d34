/* cgroup_v1.c: the legacy hierarchies, one mount per controller: memory for
 * the limit and peak, pids for procs, cpuacct for CPU time. */
#include "manager/cgroup_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { V1_MEMORY, V1_PIDS, V1_CPUACCT };
static const char *const controllers[CG_NDIRS] = {"memory", "pids", "cpuacct"};

static int v1_open(struct wb_cgroup *cg, char *why, size_t whylen)
{
	for (size_t i = 0; i < CG_NDIRS; i++) {
		char mnt[PATH_MAX], root[PATH_MAX], self[PATH_MAX], base[PATH_MAX * 2];
		const char *rel;
		int rc;

		if (cg_mount_of(controllers[i], mnt, sizeof(mnt), root, sizeof(root)) < 0) {
			snprintf(why, whylen, "no %s hierarchy mounted", controllers[i]);
			return -ENOTSUP;
		}
		if (cg_self_path(controllers[i], self, sizeof(self)) < 0) {
			snprintf(why, whylen, "not in a %s cgroup", controllers[i]);
			return -ENOTSUP;
		}
		/* In a container the mount's root is our own cgroup, not "/". */
		rel = self;
		if (strcmp(root, "/") != 0 && strncmp(self, root, strlen(root)) == 0)
			rel = self + strlen(root);
		snprintf(base, sizeof(base), "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel);
		rc = cg_make_manager_dir(base, cg->dirs[i], sizeof(cg->dirs[i]), &cg->locks[i]);
		if (rc < 0) {
			snprintf(why, whylen, "cannot create a cgroup under %s: %s", base, strerror(-rc));
			return rc;
		}
		cg->ndirs = i + 1;
	}
	return 0;
}

static int v1_slot_open(struct wb_cgroup_slot *s)
{
	const char *mem = s->dirs[V1_MEMORY];
	int fd;

	if ((fd = cg_open_at(mem, "memory.limit_in_bytes", O_RDWR)) < 0)
		return fd;
	s->limit_fd = fd;
	/* Present only when swap accounting is on; without it swap is not
	 * counted, and this host may have no swap anyway. */
	fd = cg_open_at(mem, "memory.memsw.limit_in_bytes", O_RDWR);
	s->swap_fd = fd < 0 ? -1 : fd;
	/* The cgroup is new: its peak is the job's own, no reset needed. */
	if ((fd = cg_open_at(mem, "memory.max_usage_in_bytes", O_RDONLY)) < 0)
		return fd;
	s->peak_fd = fd;
	if ((fd = cg_open_at(mem, "memory.oom_control", O_RDONLY)) < 0)
		return fd;
	s->oom_fd = fd;
	if ((fd = cg_open_at(s->dirs[V1_PIDS], "pids.max", O_RDWR)) < 0)
		return fd;
	s->pids_fd = fd;
	if ((fd = cg_open_at(s->dirs[V1_CPUACCT], "cpuacct.usage", O_RDONLY)) < 0)
		return fd;
	s->cpu_fd = fd;
	return 0;
}

/* memsw may never be below the memory limit: lowering works limit first,
 * raising past the current memsw needs memsw first. */
static int set_memory(struct wb_cgroup_slot *s, uint64_t bytes)
{
	int rc = cg_write_u64(s->limit_fd, bytes);

	if (rc == -EINVAL && s->swap_fd >= 0) {
		rc = cg_write_u64(s->swap_fd, bytes);
		if (rc == 0)
			rc = cg_write_u64(s->limit_fd, bytes);
	}
	if (rc == 0 && s->swap_fd >= 0)
		rc = cg_write_u64(s->swap_fd, bytes);
	return rc;
}

static int v1_prepare(struct wb_cgroup_slot *s, const struct wb_limits *lim, uint64_t *cpu_base)
{
	int rc;

	if ((rc = set_memory(s, lim->memory_kb * 1024)) < 0)
		return rc;
	if ((rc = cg_write_u64(s->pids_fd, lim->procs + CG_OWN_TASKS)) < 0)
		return rc;
	if ((rc = wb_cgread_key(s->oom_fd, "oom_kill", &s->oom_base)) < 0)
		s->oom_base = 0;
	return wb_cgread_cpu(WB_ACCT_CGROUP_V1, s->cpu_fd, cpu_base);
}

static int v1_collect(struct wb_cgroup_slot *s, uint64_t cpu_base, struct wb_cgroup_usage *u)
{
	char buf[64];
	uint64_t cpu = 0, ooms = 0;
	int rc;

	if ((rc = wb_cgread_cpu(WB_ACCT_CGROUP_V1, s->cpu_fd, &cpu)) < 0)
		return rc;
	if ((rc = wb_cgread(s->peak_fd, buf, sizeof(buf))) < 0)
		return rc;
	u->cpu_ns = cpu > cpu_base ? cpu - cpu_base : 0;
	u->peak_kb = strtoull(buf, NULL, 10) / 1024;
	u->peak_valid = true;
	u->oom_killed = wb_cgread_key(s->oom_fd, "oom_kill", &ooms) == 0 && ooms > s->oom_base;
	return 0;
}

const struct cgroup_ops wb_cgroup_v1_ops = {
	.mode = WB_ACCT_CGROUP_V1,
	.open = v1_open,
	.slot_open = v1_slot_open,
	.prepare = v1_prepare,
	.collect = v1_collect,
};
