/* procscan.c: summing CPU time and resident memory over the job's processes
 * from its own /proc, where no cgroup counts them. */
#include "inside/procscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One /proc/PID/stat: utime, stime (ticks) and rss (pages). Fields after
 * the ")" that ends comm: state is field 3, utime 14, stime 15, rss 24. */
static int read_stat(long pid, unsigned long long *ticks, unsigned long long *pages)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st, rss;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu "
			 "%*s %*s %*s %*s %*s %*s %*s %*s %llu", &ut, &st, &rss) != 3)
		return -EIO;
	*ticks = ut + st;
	*pages = rss;
	return 0;
}

int wb_procscan_read(pid_t skip, struct wb_procscan *out)
{
	static long hz, page_kb;
	unsigned long long ticks = 0, pages = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return -errno;
	if (!hz) {
		hz = sysconf(_SC_CLK_TCK);
		page_kb = sysconf(_SC_PAGESIZE) / 1024;
	}
	while ((e = readdir(d))) {
		unsigned long long t, pg;
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		/* A process that exits meanwhile is simply not counted. */
		if (*end || pid <= 1 || read_stat(pid, &t, &pg) < 0)
			continue;
		if (pid != skip)
			ticks += t;
		pages += pg;
	}
	closedir(d);
	out->cpu_ns = hz > 0 ? ticks * (1000000000ull / (unsigned long long)hz) : 0;
	out->rss_kb = pages * (unsigned long long)page_kb;
	return 0;
}
