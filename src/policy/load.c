/* load.c: where policies live (SPEC "Policies": --policies, then
 * $WARMBOX_POLICIES, the installed copy, the source tree), reading one and
 * those it includes (from the same directory), listing them. policy.c
 * parses and compiles what is read here, include.c merges. */
#include "policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WB_SOURCE_POLICIES
#define WB_SOURCE_POLICIES "policies"
#endif
#ifndef WB_INSTALL_POLICIES
#define WB_INSTALL_POLICIES "/usr/local/share/warmbox/policies"
#endif

#define MAX_POLICY_BYTES (1 << 20)

static bool dir_exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *wb_policy_dir(const char *explicit_dir)
{
	const char *env;

	if (explicit_dir)
		return explicit_dir;
	env = getenv("WARMBOX_POLICIES");
	if (env && *env)
		return env;
	if (dir_exists(WB_INSTALL_POLICIES))
		return WB_INSTALL_POLICIES;
	return WB_SOURCE_POLICIES;
}

static int read_small_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;
	int rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_POLICY_BYTES) {
		rc = -EFBIG;
		goto out;
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		rc = -ENOMEM;
		goto out;
	}
	n = read(fd, *text, (size_t)st.st_size);
	if (n != st.st_size) {
		free(*text);
		*text = NULL;
		rc = -EIO;
		goto out;
	}
	(*text)[n] = '\0';
	*len = (size_t)n;
	rc = 0;
out:
	close(fd);
	return rc;
}

struct dir_source {
	const char *dir;
};

static int policy_path(const char *dir, const char *name, char *path, size_t len)
{
	return snprintf(path, len, "%s/%s.json", dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

/* wb_policy_source's read: DIR/NAME.json, labelled with its path. */
static int read_from_dir(void *ctx, const char *name, char **label, char **text, size_t *len,
			 char *err, size_t errlen)
{
	const struct dir_source *d = ctx;
	char path[4096];
	int rc = policy_path(d->dir, name, path, sizeof(path));

	if (rc < 0) {
		snprintf(err, errlen, "path too long");
		return rc;
	}
	rc = read_small_file(path, text, len);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 rc == -ENOENT ? "no such file" :
			 rc == -EFBIG ? "not a regular file under 1 MiB" : strerror(-rc));
		return rc;
	}
	*label = strdup(path);
	if (!*label) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

int wb_policy_load(const char *dir, const char *name, struct wb_policy *p, char *err, size_t errlen)
{
	struct dir_source d = {.dir = dir};
	const struct wb_policy_source src = {.name = name, .read = read_from_dir, .ctx = &d};
	char path[4096];
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	if (policy_path(dir, name, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "policy: path too long");
		return -ENAMETOOLONG;
	}
	rc = read_small_file(path, &text, &len);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "policy: unknown policy \"%s\" (no %s)", name, path);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, rc == -EFBIG ? "not a regular file under 1 MiB" : strerror(-rc));
		return rc;
	}
	rc = wb_policy_resolve(path, text, len, &src, p, err, errlen);
	free(text);
	if (rc == 0) {
		free(p->name);
		p->name = strdup(name);
		if (!p->name) {
			wb_policy_free(p);
			rc = -ENOMEM;
		}
	}
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int wb_policy_names(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char **nv;

		if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv)
			goto nomem;
		v = nv;
		v[cnt] = strndup(e->d_name, len - 5);
		if (!v[cnt])
			goto nomem;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	return 0;
nomem:
	closedir(d);
	wb_policy_names_free(v, cnt);
	return -ENOMEM;
}

void wb_policy_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
