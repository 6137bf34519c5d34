/* userns.c: writing /proc/PID/{setgroups,uid_map,gid_map} for a zygote. */
#include "manager/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd, rc = 0;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		rc = -errno ? -errno : -EIO;
	close(fd);
	return rc;
}

int wb_userns_write_maps(pid_t pid, bool rootless, unsigned slot)
{
	char uid_map[128], gid_map[128];
	int rc;

	if (rootless) {
		/* An unprivileged writer may map only itself, and only after
		 * giving up setgroups (else it could drop a deny-group). */
		snprintf(uid_map, sizeof(uid_map), "%d %u 1\n", WB_JOB_UID, (unsigned)getuid());
		snprintf(gid_map, sizeof(gid_map), "%d %u 1\n", WB_JOB_GID, (unsigned)getgid());
		rc = write_file(pid, "setgroups", "deny");
		if (rc < 0)
			return rc;
	} else {
		snprintf(uid_map, sizeof(uid_map), "0 0 1\n%d %u 1\n", WB_JOB_UID, WB_HOST_ID_BASE + slot);
		snprintf(gid_map, sizeof(gid_map), "0 0 1\n%d %u 1\n", WB_JOB_GID, WB_HOST_ID_BASE + slot);
	}
	rc = write_file(pid, "uid_map", uid_map);
	if (rc == 0)
		rc = write_file(pid, "gid_map", gid_map);
	return rc;
}
