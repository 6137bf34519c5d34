/* interact MODE [ARG]: both sides of an interactive job (SPEC "Interactive
 * jobs"), with raw read/write and no stdio buffering on stdin and stdout.
 *   client N      writes i (4 bytes, host order) and reads back i+1, for i in
 *                 0..N-1. Expected verdict: OK opposite "server N"; exit 1
 *                 naming i and what came on a mismatch or an early EOF.
 *   server N      reads N values and answers each with value+1. Expected: OK
 *                 opposite "client N"; exit 1 on an early EOF.
 *   read-all      reads stdin to EOF. Run on both sides, neither writes, so
 *                 both block: expected TL by the wall clock on each side.
 *   close-out     closes stdout at once, then reads stdin to EOF. Expected:
 *                 OK, and the other side sees EOF at once.
 *   expect-eof    exit 0 if the first read of stdin is EOF, exit 1 (the byte
 *                 count on stderr) if bytes came.
 *   secret-probe WORD
 *                 walks the file system from / (no symlink followed, /proc
 *                 and /sys left out) looking for WORD in every name and in
 *                 the first 1 MiB of every regular file on a tmpfs (where
 *                 every sandbox's /box and /tmp are); writes "found WORD in
 *                 PATH" and exits 1, or "not found in N files (M read...)"
 *                 and exits 0, on stderr: in an interactive job the
 *                 program's stdout goes to the interactor. Run opposite an
 *                 interactor that holds WORD: expected OK, the
 *                 interactor's /box is not visible to the program.
 * SIGPIPE is ignored: a write to a side that has ended exits 3 with the
 * errno on stderr, so a test can tell it from a signal. Exit 2: bad usage
 * or a walk that could not finish. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#define PROBE_BYTES (1 << 20)

/* Reads until LEN bytes or EOF; returns the count, or -1 on an error. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int parse_count(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* One value the protocol expected and did not get: names what came instead. */
static int report_short(const char *mode, uint32_t i, ssize_t got)
{
	if (got < 0)
		fprintf(stderr, "%s: i=%u: read: %s\n", mode, i, strerror(errno));
	else
		fprintf(stderr, "%s: i=%u: end of file after %zd of 4 bytes\n", mode, i, got);
	return 1;
}

static int client(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v;
		ssize_t got;

		if (write_full(1, &i, sizeof(i)) < 0) {
			fprintf(stderr, "client: i=%u: write: %s\n", i, strerror(errno));
			return 3;
		}
		got = read_full(0, &v, sizeof(v));
		if (got != (ssize_t)sizeof(v))
			return report_short("client", i, got);
		if (v != i + 1) {
			fprintf(stderr, "client: i=%u: got %u, expected %u\n", i, v, i + 1);
			return 1;
		}
	}
	return 0;
}

static int server(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v;
		ssize_t got = read_full(0, &v, sizeof(v));

		if (got != (ssize_t)sizeof(v))
			return report_short("server", i, got);
		v++;
		if (write_full(1, &v, sizeof(v)) < 0) {
			fprintf(stderr, "server: i=%u: write: %s\n", i, strerror(errno));
			return 3;
		}
	}
	return 0;
}

static int drain(void)
{
	static char buf[1 << 16];
	ssize_t n;

	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("read");
			return 1;
		}
	}
	return 0;
}

static int expect_eof(void)
{
	char buf[4096];
	ssize_t n;

	do
		n = read(0, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		perror("read");
		return 1;
	}
	if (n > 0) {
		fprintf(stderr, "expect-eof: %zd bytes came\n", n);
		return 1;
	}
	return 0;
}

static const char *probe_word;
static size_t probe_len;
static unsigned long probe_files, probe_read;

static int probe_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	static char buf[PROBE_BYTES];
	struct statfs sf;
	ssize_t n;
	int fd;

	/* /proc holds every process's command line, where WORD stands as our
	 * own argument; the point is the file system, not the process table. */
	if (type == FTW_D && (!strcmp(path, "/proc") || !strcmp(path, "/sys")))
		return FTW_SKIP_SUBTREE;
	if (memmem(path + ftw->base, strlen(path + ftw->base), probe_word, probe_len)) {
		fprintf(stderr, "found %s in %s\n", probe_word, path);
		return FTW_STOP;
	}
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return FTW_CONTINUE;
	/* O_NONBLOCK: should the file have become a FIFO since the walk
	 * looked, the open must not wait for a writer. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return FTW_CONTINUE;
	probe_files++;
	/* Contents are read on tmpfs only, where every sandbox keeps /box and
	 * /tmp: reading the host's /usr too took longer than a test may. */
	if (fstatfs(fd, &sf) < 0 || sf.f_type != TMPFS_MAGIC) {
		close(fd);
		return FTW_CONTINUE;
	}
	n = read_full(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return FTW_CONTINUE;
	probe_read++;
	if (memmem(buf, (size_t)n, probe_word, probe_len)) {
		fprintf(stderr, "found %s in %s\n", probe_word, path);
		return FTW_STOP;
	}
	return FTW_CONTINUE;
}

static int secret_probe(const char *word)
{
	int r;

	probe_word = word;
	probe_len = strlen(word);
	r = nftw("/", probe_one, 32, FTW_PHYS | FTW_ACTIONRETVAL);
	if (r == FTW_STOP)
		return 1;
	if (r != 0) {
		/* An unfinished walk proves nothing either way. */
		perror("secret-probe: nftw");
		return 2;
	}
	fprintf(stderr, "not found in %lu files (%lu read: those on tmpfs)\n", probe_files, probe_read);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	uint32_t n;

	/* A side that has ended shows as EPIPE on our writes, reported by the
	 * mode that writes, rather than as death by SIGPIPE. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("signal");
		return 2;
	}
	if (argc == 3 && !strcmp(mode, "client") && parse_count(argv[2], &n) == 0)
		return client(n);
	if (argc == 3 && !strcmp(mode, "server") && parse_count(argv[2], &n) == 0)
		return server(n);
	if (argc == 2 && !strcmp(mode, "read-all"))
		return drain();
	if (argc == 2 && !strcmp(mode, "close-out")) {
		if (close(1) < 0) {
			perror("close");
			return 1;
		}
		return drain();
	}
	if (argc == 2 && !strcmp(mode, "expect-eof"))
		return expect_eof();
	if (argc == 3 && !strcmp(mode, "secret-probe") && argv[2][0])
		return secret_probe(argv[2]);
	fprintf(stderr, "usage: interact client N | server N | read-all | close-out | "
			"expect-eof | secret-probe WORD\n");
	return 2;
}
