/* bigfile [PATH [BYTES]]: writes BYTES (default 2 MiB) to PATH (default
 * /box/f). Expected verdict: OL with --file-size 1024 (SIGXFSZ or EFBIG is
 * the file-size limit, not the program's fault). Exits 1 on a write error. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/box/f";
	long left = argc > 2 ? atol(argv[2]) : 2L << 20;
	char buf[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		perror("open");
		return 1;
	}
	memset(buf, 'f', sizeof(buf));
	while (left > 0) {
		ssize_t n = write(fd, buf, left < (long)sizeof(buf) ? (size_t)left : sizeof(buf));

		if (n < 0) {
			perror("write");
			return 1;
		}
		left -= n;
	}
	return close(fd) == 0 ? 0 : 1;
}
