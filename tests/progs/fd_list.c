/* fd_list: lists /proc/self/fd ("FD -> TARGET", leaving out the fd of the
 * directory being read). Exit 0 when the open fds are exactly 0, 1 and 2.
 * Expected verdict: OK; an fd the caller of warmbox had open (e.g. 7) must
 * not show up. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int bad = 0, n = 0;

	if (!d) {
		perror("opendir");
		return 1;
	}
	while ((e = readdir(d))) {
		char path[300], target[512];
		ssize_t len;

		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = 0;
		printf("%s -> %s\n", e->d_name, target);
		n++;
		if (atoi(e->d_name) > 2)
			bad = 1;
	}
	closedir(d);
	return bad || n != 3;
}
