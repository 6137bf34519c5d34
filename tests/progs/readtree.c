/* readtree: reads the regular files under DIR (symlinks not followed) until
 * MIB mebibytes have been read, filling the page cache the way a big
 * runtime's libraries do; prints "read N MiB". Expected verdict: OK. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long long budget, total;

static int one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd;

	(void)st;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	while (total < budget && (n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	return total >= budget; /* non-zero stops the walk */
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: readtree DIR MIB\n");
		return 2;
	}
	budget = atoll(argv[2]) << 20;
	nftw(argv[1], one, 16, FTW_PHYS);
	printf("read %lld MiB\n", total >> 20);
	return 0;
}
