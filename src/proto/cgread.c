/* cgread.c: reading a cgroup file through a descriptor already open, without
 * allocating: the manager's accounting and the job init's CPU watch share it. */
#include "proto/cgread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int wb_cgread(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

int wb_cgread_key(int fd, const char *key, uint64_t *v)
{
	char buf[1024];
	size_t klen = strlen(key);
	int rc = wb_cgread(fd, buf, sizeof(buf));
	char *line = buf;

	if (rc < 0)
		return rc;
	while (line && *line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*v = strtoull(line + klen + 1, NULL, 10);
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

int wb_cgread_cpu(enum wb_accounting mode, int fd, uint64_t *ns)
{
	char buf[64];
	uint64_t usec;
	int rc;

	if (mode == WB_ACCT_CGROUP_V2) {
		rc = wb_cgread_key(fd, "usage_usec", &usec);
		if (rc == 0)
			*ns = usec * 1000;
		return rc;
	}
	rc = wb_cgread(fd, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	*ns = strtoull(buf, NULL, 10);
	return 0;
}
