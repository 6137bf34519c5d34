/* write_probe: open(O_WRONLY|O_CREAT) on places outside /box and /tmp (each
 * must fail) and on /box/a and /tmp/b (each must succeed); prints
 * "PATH=denied ERR" / "PATH=WRITABLE" / "PATH=ok" per path.
 * Expected verdict: OK (exit 0); exit 1 when any of the rules is broken.
 * Refuses to run outside a pid namespace: as root on a host it would create
 * the files it probes for. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const outside[] = {
	"/etc/passwd", "/etc/wb_new", "/usr/bin/x", "/bin/x", "/lib/x", "/x", "/",
	"/dev/x", "/dev/null/x", "/proc/sys/kernel/hostname", "/proc/sysrq-trigger",
	"/proc/self/mem_x", "/sys/x", "/box/../etc/x", "/var/x", "/root/x",
};
static const char *const inside[] = { "/box/a", "/tmp/b" };

int main(void)
{
	int bad = 0;

	if (getpid() > 50) {
		fprintf(stderr, "write_probe: only inside a sandbox\n");
		return 100;
	}
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		int fd = open(outside[i], O_WRONLY | O_CREAT, 0644);
		if (fd >= 0) {
			printf("%s=WRITABLE\n", outside[i]);
			close(fd);
			bad = 1;
		} else {
			printf("%s=denied %s\n", outside[i], strerror(errno));
		}
	}
	for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		int fd = open(inside[i], O_WRONLY | O_CREAT, 0644);
		if (fd < 0 || write(fd, "ok\n", 3) != 3) {
			printf("%s=FAILED %s\n", inside[i], strerror(errno));
			bad = 1;
		} else {
			printf("%s=ok\n", inside[i]);
		}
		if (fd >= 0)
			close(fd);
	}
	return bad;
}
