/* cgroup.c: choosing the hierarchy, the slot life cycle and the file helpers
 * both backends share. Version differences live in cgroup_v1.c and v2. */
#include "manager/cgroup_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int cg_write(int fd, const char *text)
{
	size_t len = strlen(text);
	ssize_t n = pwrite(fd, text, len, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int cg_write_u64(int fd, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cg_write(fd, buf);
}

int cg_open_at(const char *dir, const char *file, int flags)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	{
		int fd = open(path, flags | O_CLOEXEC);

		return fd < 0 ? -errno : fd;
	}
}

int cg_self_path(const char *controller, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *ctrls = strchr(line, ':'), *path;

		if (!ctrls)
			continue;
		ctrls++;
		path = strchr(ctrls, ':');
		if (!path)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (*controller == '\0' ? *ctrls != '\0' : !strstr(ctrls, controller))
			continue;
		if (*controller) {
			/* "cpu,cpuacct" must match "cpuacct" as a whole word. */
			bool found = false;
			char *save, *tok;

			for (tok = strtok_r(ctrls, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (strcmp(tok, controller) == 0)
					found = true;
			if (!found)
				continue;
		}
		snprintf(out, len, "%s", path);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int cg_mount_of(const char *controller, char *mnt, size_t mlen, char *root, size_t rlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char r[PATH_MAX], m[PATH_MAX], fstype[64], opts[1024];
		const char *sep = strstr(line, " - ");
		char *save, *tok;
		bool found = false;

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (*controller == '\0') {
			found = strcmp(fstype, "cgroup2") == 0;
		} else if (strcmp(fstype, "cgroup") == 0) {
			for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (strcmp(tok, controller) == 0)
					found = true;
		}
		if (!found)
			continue;
		snprintf(mnt, mlen, "%s", m);
		snprintf(root, rlen, "%s", r);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

void cg_rmdir_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[PATH_MAX];

		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < (int)sizeof(sub))
			cg_rmdir_tree(sub);
	}
	closedir(d);
	rmdir(dir);
}

/* Each manager holds a flock on its warmbox-PID directories for its life.
 * A PID alone cannot say a manager is gone: seen from another PID
 * namespace, kill() misses a live one, whose cgroups were then removed
 * under it (its spare's, empty, went; its next jobs failed ENODEV).
 * Returns the locked descriptor, or -EWOULDBLOCK while another holds it. */
static int lock_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* A manager killed with SIGKILL leaves its warmbox-PID behind; the next one
 * to start under the same parent removes it once that PID is gone and no
 * manager holds its lock. */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid;
		char sub[PATH_MAX];

		if (strncmp(e->d_name, "warmbox-", 8) != 0)
			continue;
		pid = strtol(e->d_name + 8, &end, 10);
		int fd;

		if (*end || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", base, e->d_name) >= (int)sizeof(sub) ||
		    (fd = lock_dir(sub)) < 0)
			continue;
		cg_rmdir_tree(sub);
		close(fd);
	}
	closedir(d);
}

int cg_make_manager_dir(const char *base, char *out, size_t len, int *lock_fd)
{
	bool made;

	remove_stale(base);
	if (snprintf(out, len, "%s/warmbox-%d", base, (int)getpid()) >= (int)len)
		return -ENAMETOOLONG;
	made = mkdir(out, 0755) == 0;
	if (!made && errno != EEXIST)
		return -errno;
	/* Held: a manager with our PID in another PID namespace. */
	if ((*lock_fd = lock_dir(out)) < 0) {
		int rc = *lock_fd == -EWOULDBLOCK ? -EBUSY : *lock_fd;

		if (made)
			rmdir(out);
		return rc;
	}
	return 0;
}

int wb_cgroup_open(struct wb_cgroup **out, char *why, size_t whylen)
{
	static const struct cgroup_ops *const order[] = {&wb_cgroup_v2_ops, &wb_cgroup_v1_ops};
	struct wb_cgroup *cg;
	char reason[2][256] = {"", ""};

	*out = NULL;
	for (size_t i = 0; i < 2; i++) {
		cg = calloc(1, sizeof(*cg));
		if (!cg)
			return -ENOMEM;
		for (size_t k = 0; k < CG_NDIRS; k++)
			cg->locks[k] = -1;
		cg->ops = order[i];
		if (cg->ops->open(cg, reason[i], sizeof(reason[i])) == 0) {
			*out = cg;
			return 0;
		}
		wb_cgroup_close(cg);
	}
	snprintf(why, whylen, "cgroup v2: %s; cgroup v1: %s", reason[0], reason[1]);
	return -ENOTSUP;
}

enum wb_accounting wb_cgroup_mode(const struct wb_cgroup *cg)
{
	return cg ? cg->ops->mode : WB_ACCT_RLIMIT;
}

/* A job cgroup is removed once its job is over, off the loop (cgroup.h);
 * whatever is left when the manager closes goes with cg_rmdir_tree. */
static void bury(struct wb_cgroup *cg, const char *dir)
{
	char **graves = realloc(cg->graves, (cg->ngraves + 1) * sizeof(*graves));

	if (!graves)
		return;
	cg->graves = graves;
	if ((graves[cg->ngraves] = strdup(dir)))
		cg->ngraves++;
}

size_t wb_cgroup_graves_take(struct wb_cgroup *cg, char ***dirs)
{
	size_t n = cg ? cg->ngraves : 0;

	*dirs = n ? cg->graves : NULL;
	if (n) {
		cg->graves = NULL;
		cg->ngraves = 0;
	}
	return n;
}

void wb_cgroup_graves_return(struct wb_cgroup *cg, char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bury(cg, dirs[i]);
		free(dirs[i]);
	}
	free(dirs);
}

void wb_cgroup_remove(char *const *dirs, size_t n, int *errs)
{
	for (size_t i = 0; i < n; i++)
		errs[i] = rmdir(dirs[i]) < 0 ? errno : 0;
}

void wb_cgroup_close(struct wb_cgroup *cg)
{
	if (!cg)
		return;
	/* The slots are gone already (wb_cgroup_slot_close). */
	if (cg->ops->close)
		cg->ops->close(cg);
	for (size_t i = 0; i < cg->ndirs; i++)
		cg_rmdir_tree(cg->dirs[i]);
	for (size_t i = 0; i < CG_NDIRS; i++)
		if (cg->locks[i] >= 0)
			close(cg->locks[i]);
	for (size_t i = 0; i < cg->ngraves; i++)
		free(cg->graves[i]);
	free(cg->graves);
	free(cg);
}

int wb_cgroup_slot_open(struct wb_cgroup *cg, unsigned idx, struct wb_cgroup_slot **out)
{
	struct wb_cgroup_slot *s = calloc(1, sizeof(*s));
	uint64_t nth = cg->jobs++;
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cg = cg;
	s->idx = idx;
	s->cpu_fd = s->limit_fd = s->swap_fd = s->peak_fd = s->oom_fd = s->pids_fd = -1;
	for (size_t i = 0; i < CG_NDIRS; i++)
		s->procs_fds[i] = -1;
	for (size_t i = 0; i < cg->ndirs; i++) {
		if (snprintf(s->dirs[i], sizeof(s->dirs[i]), "%s/slot%u.%llu", cg->dirs[i], idx,
			     (unsigned long long)nth) >= (int)sizeof(s->dirs[i])) {
			rc = -ENAMETOOLONG;
			goto fail;
		}
		if (mkdir(s->dirs[i], 0755) < 0) {
			rc = -errno;
			s->dirs[i][0] = '\0';
			goto fail;
		}
		rc = cg_open_at(s->dirs[i], "cgroup.procs", O_WRONLY);
		if (rc < 0)
			goto fail;
		s->procs_fds[i] = rc;
	}
	rc = cg->ops->slot_open(s);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	wb_cgroup_slot_close(s);
	return rc;
}

void wb_cgroup_slot_close(struct wb_cgroup_slot *s)
{
	if (!s)
		return;
	int *fds[] = {&s->cpu_fd, &s->limit_fd, &s->swap_fd, &s->peak_fd, &s->oom_fd, &s->pids_fd};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	for (size_t i = 0; i < CG_NDIRS; i++) {
		if (s->procs_fds[i] >= 0)
			close(s->procs_fds[i]);
		if (s->dirs[i][0])
			bury(s->cg, s->dirs[i]);
	}
	free(s);
}

int wb_cgroup_slot_prepare(struct wb_cgroup_slot *s, const struct wb_limits *lim, uint64_t *cpu_base_ns)
{
	return s->cg->ops->prepare(s, lim, cpu_base_ns);
}

size_t wb_cgroup_slot_procs_fds(const struct wb_cgroup_slot *s, int *fds)
{
	size_t n = 0;

	for (size_t i = 0; i < CG_NDIRS; i++)
		if (s->procs_fds[i] >= 0)
			fds[n++] = s->procs_fds[i];
	return n;
}

int wb_cgroup_slot_cpu_fd(const struct wb_cgroup_slot *s)
{
	return s->cpu_fd;
}

int wb_cgroup_slot_collect(struct wb_cgroup_slot *s, uint64_t cpu_base_ns, struct wb_cgroup_usage *u)
{
	return s->cg->ops->collect(s, cpu_base_ns, u);
}
