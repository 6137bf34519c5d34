/* tiocsti_probe: for warmbox run --tty. The job's terminal is a pty of its
 * own, its controlling terminal, and the only terminal it can reach:
 *   ctty=ok       fd 0 is the controlling terminal of our own session
 *   ttyname=P     fd 0's name, which exists inside the sandbox (stat)
 *   sti=ok|E      TIOCSTI of a marker line on fd 0 (E: refused, e.g. by
 *                 the kernel's dev.tty.legacy_tiocsti = 0)
 *   marks=N       copies of the marker then read back from fd 0 within half
 *                 a second: 1 when TIOCSTI went through (our own queue
 *                 only), 0 when refused. A second copy would have come
 *                 through warmbox's relay from the operator's terminal.
 *   open PATH=R   every other terminal tried: R is the errno, or "opened"
 *                 (with sti=... on it) for a new pty of the private devpts
 * Exit 0 when all of that holds (nothing opened but ptmx), else 1.
 * Expected verdict: OK. Not for a plain job: there fd 0 is no terminal. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MARK "wb-tiocsti-mark"

static const char *const others[] = {
	"/dev/tty", "/dev/console", "/dev/tty0", "/dev/tty1", "/dev/ttyS0", "/dev/pts/1", "/dev/pts/2",
	"/dev/ptmx", "/dev/pts/ptmx", "/proc/1/fd/0", "/proc/1/fd/1", "/proc/1/fd/2",
};

static int inject(int fd, const char *s)
{
	for (; *s; s++)
		if (ioctl(fd, TIOCSTI, s) < 0)
			return errno;
	return 0;
}

/* Reads what arrives on fd 0 for half a second and counts the markers. */
static int count_marks(void)
{
	static char buf[65536];
	size_t len = 0;
	int n = 0;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = 0, .events = POLLIN};
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= 500 || poll(&p, 1, (int)(500 - ms)) <= 0)
			break;
		ssize_t r = read(0, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	for (char *p = buf; (p = strstr(p, MARK)); p += strlen(MARK))
		n++;
	return n;
}

int main(void)
{
	struct termios tio;
	struct stat st;
	const char *name = ttyname(0);
	int bad = 0, err, marks;

	printf("ctty=%s\n", tcgetsid(0) == getpid() && getsid(0) == getpid() ? "ok" : "no");
	bad |= tcgetsid(0) != getpid();
	printf("ttyname=%s\n", name ? name : strerror(errno));
	bad |= !name || stat(name, &st) < 0;
	/* Non-canonical and silent: the marker is readable at once and not
	 * echoed into the output, where the test would see it as output. */
	if (tcgetattr(0, &tio) == 0) {
		tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		tio.c_cc[VMIN] = 1;
		tio.c_cc[VTIME] = 0;
		tcsetattr(0, TCSANOW, &tio);
	}
	err = inject(0, MARK "\n");
	printf("sti=%s\n", err ? strerror(err) : "ok");
	marks = count_marks();
	printf("marks=%d\n", marks);
	bad |= marks != (err ? 0 : 1);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		int fd = open(others[i], O_RDWR | O_NOCTTY | O_NONBLOCK);

		if (fd < 0) {
			printf("open %s=%s\n", others[i], strerror(errno));
			continue;
		}
		err = inject(fd, MARK "\n");
		printf("open %s=opened sti=%s\n", others[i], err ? strerror(err) : "ok");
		bad |= strstr(others[i], "ptmx") == NULL;
		close(fd);
	}
	fflush(stdout);
	return bad;
}
