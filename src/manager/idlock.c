/* idlock.c: slot numbers shared by every warmbox process of the host (as
 * root): a flock per number, released by the kernel if the holder dies. */
#include "manager/idlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int wb_idlock_acquire(unsigned first, unsigned *slot)
{
	if (mkdir(WB_IDLOCK_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	for (unsigned n = first; n < WB_IDLOCK_MAX; n++) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), WB_IDLOCK_DIR "/slot-%u.lock", n);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*slot = n;
			return fd;
		}
		close(fd);
		if (errno != EWOULDBLOCK)
			return -errno;
	}
	return -EAGAIN;
}

void wb_idlock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
