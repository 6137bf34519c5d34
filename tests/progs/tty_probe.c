/* tty_probe: the job must have no controlling terminal (bubblewrap
 * CVE-2017-5226, TIOCSTI): open("/dev/tty") fails, the tty_nr field of
 * /proc/self/stat is 0, and the program leads its own session
 * (getsid(0) == getpid()). Prints each fact; exit 0 when all hold.
 * Expected verdict: OK. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	int bad = 0, tty_nr = -1;
	char buf[1024], *p;
	int fd = open("/dev/tty", O_RDWR);
	FILE *f;

	printf("dev_tty=%s\n", fd >= 0 ? "OPENED" : strerror(errno));
	bad |= fd >= 0;
	f = fopen("/proc/self/stat", "r");
	if (f && fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %*d %*d %*d %d", &tty_nr);
	if (f)
		fclose(f);
	printf("tty_nr=%d\n", tty_nr);
	bad |= tty_nr != 0;
	printf("sid=%d pid=%d\n", (int)getsid(0), (int)getpid());
	bad |= getsid(0) != getpid();
	return bad;
}
