/* escaper [SECONDS]: double fork + setsid; the grandchild sleeps SECONDS
 * (default 2), writes /tmp/escaper_marker, then sleeps 30 s more. The program
 * itself exits 0 at once. Expected verdict: OK, and once the result is out no
 * process of this program is left anywhere on the host (SPEC: a job ends when
 * its program exits and everything it started is killed). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 2;
	pid_t child = fork();

	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		sleep(secs);
		int fd = open("/tmp/escaper_marker", O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		sleep(30);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("parent done\n");
	return 0;
}
