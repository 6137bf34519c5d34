/* stdin_rewrite: tries to change its own input, the way a program could
 * change what a judge reads back: fd 0 itself, then fd 0 reopened
 * read-write through /proc/self/fd/0. Prints "fd0=written" or "fd0=refused
 * ERR", the same for "reopen=", then what it reads from stdin's start.
 * Expected verdict: OK with both refused and the input unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void try_write(const char *what, int fd)
{
	if (fd >= 0 && pwrite(fd, "XX", 2, 0) == 2)
		printf("%s=written\n", what);
	else
		printf("%s=refused %s\n", what, strerror(errno));
}

int main(void)
{
	char buf[64];
	ssize_t n;
	int fd;

	try_write("fd0", 0);
	fd = open("/proc/self/fd/0", O_RDWR);
	try_write("reopen", fd);
	n = pread(0, buf, sizeof(buf) - 1, 0);
	buf[n < 0 ? 0 : n] = '\0';
	printf("stdin=%s\n", buf);
	return 0;
}
