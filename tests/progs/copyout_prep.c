/* copyout_prep: plants traps for copy_out in /box: link -> /etc/passwd,
 * dirlink -> /etc, a directory "d", the regular file ok.txt ("copy me\n"),
 * and last a FIFO "fifo" (mknodat: the test runs this under a policy that
 * allows it). Prints "fifo=made" or "fifo=fail ERR".
 * Expected verdict: OK; of the copy_out entries only ok.txt comes back with
 * data, the rest carry "error", and the sandbox must not block on the FIFO.
 * Exit 1 if a trap could not be planted, 2 if only the FIFO failed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
	int bad = 0;
	FILE *f;

	f = fopen("/box/ok.txt", "w");
	if (!f || fputs("copy me\n", f) < 0 || fclose(f) != 0)
		bad = 1;
	bad |= symlink("/etc/passwd", "/box/link") != 0;
	bad |= symlink("/etc", "/box/dirlink") != 0;
	bad |= mkdir("/box/d", 0755) != 0;
	if (bad) {
		perror("copyout_prep");
		return 1;
	}
	fflush(stdout);
	if (mkfifo("/box/fifo", 0644) != 0) {
		printf("fifo=fail %s\n", strerror(errno));
		return 2;
	}
	printf("fifo=made\n");
	return 0;
}
