/* test_cgroup_files.c: the cgroup backends against a fake cgroup tree of
 * plain files, so that what each writes and reads is checked on any host
 * (this one has no usable v2). The regression it guards: on kernel 6.1,
 * memory.peak is read-only, root opens it O_RDWR all the same, and a reset
 * written to it failed every job (XX "cannot send the job: Invalid
 * argument"). A plain 0444 file behaves the same for root: the v2 backend
 * must leave it untouched and still report the peak it holds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/cgroup_impl.h"
#include "check.h"

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[2 * PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECKF(fd >= 0, "create %s: %s", path, strerror(errno));
	if (fd < 0)
		return;
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

static const char *get(const char *dir, const char *name)
{
	static char buf[256];
	char path[2 * PATH_MAX];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return "<missing>";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* What the kernel shows in a new v2 job cgroup, as plain files. */
static void fake_v2_cgroup(const char *dir)
{
	mkdir(dir, 0755);
	put(dir, "cgroup.procs", "", 0644);
	put(dir, "memory.max", "", 0644);
	put(dir, "memory.swap.max", "", 0644);
	put(dir, "memory.peak", "104857600\n", 0444);
	put(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n", 0444);
	put(dir, "pids.max", "", 0644);
	put(dir, "cpu.stat", "usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\n", 0444);
}

/* Removal is the pool's (off its loop); a test that closed job cgroups
 * frees the names they left in the graves. */
static void free_graves(struct wb_cgroup *cg)
{
	for (size_t i = 0; i < cg->ngraves; i++)
		free(cg->graves[i]);
	free(cg->graves);
}

/* A job cgroup over prepared directories, as wb_cgroup_slot_open leaves it
 * once mkdir made them (plain directories have none of the kernel's files,
 * so the directories are made here and the backend's open is called). */
static struct wb_cgroup_slot *open_prepared(struct wb_cgroup *cg, char dirs[][PATH_MAX + 32])
{
	struct wb_cgroup_slot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cg = cg;
	s->cpu_fd = s->limit_fd = s->swap_fd = s->peak_fd = s->oom_fd = s->pids_fd = -1;
	for (size_t i = 0; i < CG_NDIRS; i++) {
		s->procs_fds[i] = -1;
		if (i < cg->ndirs)
			snprintf(s->dirs[i], sizeof(s->dirs[i]), "%s", dirs[i]);
	}
	if (cg->ops->slot_open(s) < 0) {
		wb_cgroup_slot_close(s);
		return NULL;
	}
	return s;
}

static void test_v2(const char *top)
{
	struct wb_cgroup cg = {.ops = &wb_cgroup_v2_ops, .ndirs = 1};
	struct wb_limits lim = {.memory_kb = 65536, .procs = 3};
	struct wb_cgroup_slot *s;
	struct wb_cgroup_usage u = {0};
	char dir[1][PATH_MAX + 32];
	uint64_t base = 0;

	snprintf(cg.dirs[0], sizeof(cg.dirs[0]), "%s/v2", top);
	mkdir(cg.dirs[0], 0755);
	snprintf(dir[0], sizeof(dir[0]), "%s/slot3.7", cg.dirs[0]);
	fake_v2_cgroup(dir[0]);

	s = open_prepared(&cg, dir);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECKF(strcmp(get(dir[0], "memory.swap.max"), "0") == 0, "swap.max '%s'", get(dir[0], "memory.swap.max"));

	CHECK(wb_cgroup_slot_prepare(s, &lim, &base) == 0);
	CHECKF(strcmp(get(dir[0], "memory.max"), "67108864") == 0, "memory.max '%s'", get(dir[0], "memory.max"));
	CHECKF(strcmp(get(dir[0], "pids.max"), "5") == 0, "pids.max '%s' (procs + the job init and its zygote)",
	       get(dir[0], "pids.max"));
	CHECK(base == 5000000);
	CHECKF(strcmp(get(dir[0], "memory.peak"), "104857600\n") == 0, "memory.peak was written: '%s'",
	       get(dir[0], "memory.peak"));

	/* The job ran: 7 ms of CPU, one OOM kill. */
	put(dir[0], "cpu.stat", "usage_usec 12000\nuser_usec 9000\nsystem_usec 3000\n", 0444);
	put(dir[0], "memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n", 0444);
	CHECK(wb_cgroup_slot_collect(s, base, &u) == 0);
	CHECK(u.cpu_ns == 7000000);
	CHECK(u.peak_valid && u.peak_kb == 102400);
	CHECK(u.oom_killed);
	CHECKF(strcmp(get(dir[0], "memory.peak"), "104857600\n") == 0, "memory.peak was written: '%s'",
	       get(dir[0], "memory.peak"));
	wb_cgroup_slot_close(s);

	/* Kernels before 5.19 have no memory.peak: no figure, no failure. */
	snprintf(dir[0], sizeof(dir[0]), "%s/slot3.8", cg.dirs[0]);
	fake_v2_cgroup(dir[0]);
	{
		char peak[sizeof(dir[0]) + 16];

		snprintf(peak, sizeof(peak), "%s/memory.peak", dir[0]);
		unlink(peak);
	}
	s = open_prepared(&cg, dir);
	CHECK(s != NULL);
	if (s) {
		CHECK(wb_cgroup_slot_prepare(s, &lim, &base) == 0);
		CHECK(wb_cgroup_slot_collect(s, base, &u) == 0);
		CHECK(!u.peak_valid);
		wb_cgroup_slot_close(s);
	}
	free_graves(&cg);
}

static void test_v1(const char *top)
{
	struct wb_cgroup cg = {.ops = &wb_cgroup_v1_ops, .ndirs = 3};
	static const char *const ctl[3] = {"memory", "pids", "cpuacct"};
	struct wb_limits lim = {.memory_kb = 1024, .procs = 1};
	struct wb_cgroup_slot *s;
	struct wb_cgroup_usage u = {0};
	char dir[CG_NDIRS][PATH_MAX + 32];
	uint64_t base = 0;

	for (int i = 0; i < 3; i++) {
		snprintf(cg.dirs[i], sizeof(cg.dirs[i]), "%s/%s", top, ctl[i]);
		mkdir(cg.dirs[i], 0755);
		snprintf(dir[i], sizeof(dir[i]), "%s/slot0.4", cg.dirs[i]);
		mkdir(dir[i], 0755);
	}
	put(dir[0], "memory.limit_in_bytes", "", 0644);
	put(dir[0], "memory.max_usage_in_bytes", "2097152\n", 0444);
	put(dir[0], "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", 0444);
	put(dir[1], "pids.max", "", 0644);
	put(dir[2], "cpuacct.usage", "42\n", 0444);
	s = open_prepared(&cg, dir);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(wb_cgroup_slot_prepare(s, &lim, &base) == 0);
	CHECK(strcmp(get(dir[0], "memory.limit_in_bytes"), "1048576") == 0);
	CHECK(strcmp(get(dir[1], "pids.max"), "3") == 0);
	CHECK(base == 42);
	put(dir[2], "cpuacct.usage", "5000042\n", 0444);
	CHECK(wb_cgroup_slot_collect(s, base, &u) == 0);
	CHECK(u.cpu_ns == 5000000);
	/* A new cgroup's peak is the job's: read as it is, not reset. */
	CHECK(u.peak_valid && u.peak_kb == 2048);
	CHECK(strcmp(get(dir[0], "memory.max_usage_in_bytes"), "2097152\n") == 0);
	CHECK(!u.oom_killed);
	wb_cgroup_slot_close(s);
	free_graves(&cg);
}

/* Every job gets a cgroup of its own: one that exists already is refused,
 * and a failed open leaves no directory behind. */
static void test_fresh(const char *top)
{
	struct wb_cgroup cg = {.ops = &wb_cgroup_v2_ops, .ndirs = 1};
	struct wb_cgroup_slot *s = NULL;
	char dir[PATH_MAX + 32];

	snprintf(cg.dirs[0], sizeof(cg.dirs[0]), "%s/fresh", top);
	mkdir(cg.dirs[0], 0755);
	snprintf(dir, sizeof(dir), "%s/slot1.2", cg.dirs[0]);
	mkdir(dir, 0755);
	cg.jobs = 2;
	CHECK(wb_cgroup_slot_open(&cg, 1, &s) == -EEXIST && s == NULL);
	CHECK(access(dir, F_OK) == 0); /* not ours to remove */
	CHECK(wb_cgroup_slot_open(&cg, 1, &s) < 0); /* slot1.3: a plain dir has no memory.max */
	snprintf(dir, sizeof(dir), "%s/slot1.3", cg.dirs[0]);
	/* Removal is the pool's, off its loop: the directory waits in the
	 * graves until taken and removed. */
	CHECK(access(dir, F_OK) == 0);
	{
		char **dirs;
		size_t n = wb_cgroup_graves_take(&cg, &dirs);
		int errs[1] = {-1};

		CHECK(n == 1 && cg.ngraves == 0 && strcmp(dirs[0], dir) == 0);
		if (n == 1) {
			wb_cgroup_remove(dirs, n, errs);
			CHECK(errs[0] == 0);
			free(dirs[0]);
		}
		free(dirs);
	}
	CHECK(access(dir, F_OK) < 0 && errno == ENOENT);
	free_graves(&cg);
}

int main(void)
{
	char top[] = "/tmp/wbtest-cgfiles.XXXXXX";
	char cmd[PATH_MAX + 16];

	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	test_v2(top);
	test_v1(top);
	test_fresh(top);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
	return check_report("test_cgroup_files");
}
