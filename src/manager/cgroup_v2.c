/* cgroup_v2.c: the unified hierarchy. The manager's subtree needs memory and
 * pids delegated to it; CPU time comes from cpu.stat, present in any cgroup. */
#include "manager/cgroup_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool has_controllers(const char *dir, const char *file)
{
	char buf[512];
	int fd = cg_open_at(dir, file, O_RDONLY), n;

	if (fd < 0)
		return false;
	n = wb_cgread(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && strstr(buf, "memory") && strstr(buf, "pids");
}

static int enable_controllers(const char *dir)
{
	int fd = cg_open_at(dir, "cgroup.subtree_control", O_WRONLY), rc;

	if (fd < 0)
		return fd;
	rc = cg_write(fd, "+memory +pids");
	close(fd);
	return rc;
}

/* True when this process is the only one in the cgroup at dir. */
static bool alone_in(const char *dir)
{
	char buf[256], self[32];
	int fd = cg_open_at(dir, "cgroup.procs", O_RDONLY), n;

	if (fd < 0)
		return false;
	n = wb_cgread(fd, buf, sizeof(buf));
	close(fd);
	snprintf(self, sizeof(self), "%d\n", (int)getpid());
	return n > 0 && strcmp(buf, self) == 0;
}

static int move_to(const char *dir)
{
	int fd = cg_open_at(dir, "cgroup.procs", O_WRONLY), rc;

	if (fd < 0)
		return fd;
	rc = cg_write(fd, "0");
	close(fd);
	return rc;
}

static int move_into_leaf(struct wb_cgroup *cg)
{
	char leaf[PATH_MAX + 16];

	snprintf(leaf, sizeof(leaf), "%s/manager", cg->dirs[0]);
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return move_to(leaf);
}

/* Undoes v2_open's changes to the cgroup we started in, once the slots are
 * gone: controllers off again, and ourselves back where we came from. */
static void v2_close(struct wb_cgroup *cg)
{
	int fd;

	if (!cg->v2_base[0])
		return;
	fd = cg_open_at(cg->dirs[0], "cgroup.subtree_control", O_WRONLY);
	if (fd >= 0) {
		cg_write(fd, "-memory -pids");
		close(fd);
	}
	if (cg->v2_enabled_base && (fd = cg_open_at(cg->v2_base, "cgroup.subtree_control", O_WRONLY)) >= 0) {
		cg_write(fd, "-memory -pids");
		close(fd);
	}
	move_to(cg->v2_base);
}

static int v2_open(struct wb_cgroup *cg, char *why, size_t whylen)
{
	char mnt[PATH_MAX], root[PATH_MAX], self[PATH_MAX], base[PATH_MAX];
	const char *rel;
	int rc;

	if (cg_mount_of("", mnt, sizeof(mnt), root, sizeof(root)) < 0) {
		snprintf(why, whylen, "no cgroup2 mount");
		return -ENOTSUP;
	}
	if (cg_self_path("", self, sizeof(self)) < 0) {
		snprintf(why, whylen, "no unified entry in /proc/self/cgroup");
		return -ENOTSUP;
	}
	rel = self;
	if (strcmp(root, "/") != 0 && strncmp(self, root, strlen(root)) == 0)
		rel = self + strlen(root);
	if (snprintf(base, sizeof(base), "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel) >= (int)sizeof(base)) {
		snprintf(why, whylen, "cgroup path too long");
		return -ENAMETOOLONG;
	}
	if (!has_controllers(base, "cgroup.controllers")) {
		snprintf(why, whylen, "memory and pids controllers not available in %s", base);
		return -ENOTSUP;
	}
	rc = cg_make_manager_dir(base, cg->dirs[0], sizeof(cg->dirs[0]), &cg->locks[0]);
	if (rc < 0) {
		snprintf(why, whylen, "cannot create a cgroup under %s: %s", base, strerror(-rc));
		return rc;
	}
	cg->ndirs = 1;
	/* Our own cgroup must hand memory and pids down to its children, and
	 * the kernel allows that only with no process in it ("no internal
	 * processes"). Under systemd's Delegate=yes we are alone in it: we
	 * move into a leaf of our own first, and back on close. */
	if (!has_controllers(base, "cgroup.subtree_control")) {
		rc = enable_controllers(base);
		if (rc == -EBUSY && alone_in(base) && (rc = move_into_leaf(cg)) == 0) {
			snprintf(cg->v2_base, sizeof(cg->v2_base), "%s", base);
			rc = enable_controllers(base);
		}
		if (rc < 0) {
			snprintf(why, whylen, "cannot enable memory and pids in %s/cgroup.subtree_control "
				 "(start warmbox alone in a delegated cgroup): %s", base, strerror(-rc));
			return -ENOTSUP;
		}
		cg->v2_enabled_base = true;
	}
	if ((rc = enable_controllers(cg->dirs[0])) < 0) {
		snprintf(why, whylen, "cannot enable controllers in %s: %s", cg->dirs[0], strerror(-rc));
		return rc;
	}
	return 0;
}

static int v2_slot_open(struct wb_cgroup_slot *s)
{
	const char *dir = s->dirs[0];
	int fd;

	if ((fd = cg_open_at(dir, "memory.max", O_WRONLY)) < 0)
		return fd;
	s->limit_fd = fd;
	/* No swap for jobs: a job over memory_kb is ML, not slow. The file is
	 * missing without swap accounting, and so is the need. */
	fd = cg_open_at(dir, "memory.swap.max", O_WRONLY);
	s->swap_fd = fd < 0 ? -1 : fd;
	if (s->swap_fd >= 0 && (fd = cg_write(s->swap_fd, "0")) < 0)
		return fd;
	/* The cgroup is new: its peak is the job's own, on every kernel that
	 * has the file (5.19+), and is only read, never reset (6.1 refuses
	 * the reset write). */
	fd = cg_open_at(dir, "memory.peak", O_RDONLY);
	s->peak_fd = fd < 0 ? -1 : fd;
	if ((fd = cg_open_at(dir, "memory.events", O_RDONLY)) < 0)
		return fd;
	s->oom_fd = fd;
	if ((fd = cg_open_at(dir, "pids.max", O_WRONLY)) < 0)
		return fd;
	s->pids_fd = fd;
	if ((fd = cg_open_at(dir, "cpu.stat", O_RDONLY)) < 0)
		return fd;
	s->cpu_fd = fd;
	return 0;
}

static int v2_prepare(struct wb_cgroup_slot *s, const struct wb_limits *lim, uint64_t *cpu_base)
{
	int rc;

	if ((rc = cg_write_u64(s->limit_fd, lim->memory_kb * 1024)) < 0)
		return rc;
	if ((rc = cg_write_u64(s->pids_fd, lim->procs + CG_OWN_TASKS)) < 0)
		return rc;
	if (wb_cgread_key(s->oom_fd, "oom_kill", &s->oom_base) < 0)
		s->oom_base = 0;
	return wb_cgread_cpu(WB_ACCT_CGROUP_V2, s->cpu_fd, cpu_base);
}

static int v2_collect(struct wb_cgroup_slot *s, uint64_t cpu_base, struct wb_cgroup_usage *u)
{
	char buf[64];
	uint64_t cpu = 0, ooms = 0;
	int rc;

	if ((rc = wb_cgread_cpu(WB_ACCT_CGROUP_V2, s->cpu_fd, &cpu)) < 0)
		return rc;
	u->cpu_ns = cpu > cpu_base ? cpu - cpu_base : 0;
	u->peak_valid = s->peak_fd >= 0 && wb_cgread(s->peak_fd, buf, sizeof(buf)) > 0;
	u->peak_kb = u->peak_valid ? strtoull(buf, NULL, 10) / 1024 : 0;
	u->oom_killed = wb_cgread_key(s->oom_fd, "oom_kill", &ooms) == 0 && ooms > s->oom_base;
	return 0;
}

const struct cgroup_ops wb_cgroup_v2_ops = {
	.mode = WB_ACCT_CGROUP_V2,
	.open = v2_open,
	.slot_open = v2_slot_open,
	.prepare = v2_prepare,
	.collect = v2_collect,
	.close = v2_close,
};
