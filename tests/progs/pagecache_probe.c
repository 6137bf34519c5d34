/* pagecache_probe: the two ends of a page-cache channel between jobs that
 * never run at once, through a file of the shared read-only binds.
 *   pagecache_probe send FILE BITS   reads the 64 KiB chunk 2k of FILE for
 *                                    each bit k set in BITS (0-255)
 *   pagecache_probe recv FILE        asks, without reading, which of those
 *                                    8 chunks are cached: preadv2 with
 *                                    RWF_NOWAIT, then mincore of a mapping
 * recv prints "preadv2=works" or "preadv2=refused ERR", the same for
 * "mincore=", then "decoded=N": how many of the 8 chunks it could classify
 * at all. Expected verdict: OK, both refused, decoded=0. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHUNK 65536

static void send_bits(int fd, unsigned bits)
{
	static char buf[CHUNK];

	for (int k = 0; k < 8; k++)
		if ((bits >> k & 1) && pread(fd, buf, sizeof(buf), (off_t)(2 * k) * CHUNK) < 0)
			perror("pread");
}

static int recv_bits(int fd)
{
	int by_preadv2 = 0, by_mincore = 0, err_p = 0, err_m = 0;
	char byte;
	struct iovec iov = {&byte, 1};
	unsigned char vec[CHUNK / 4096];
	void *map = mmap(NULL, 16 * CHUNK, PROT_READ, MAP_SHARED, fd, 0);

	for (int k = 0; k < 8; k++) {
		ssize_t n = preadv2(fd, &iov, 1, (off_t)(2 * k) * CHUNK, RWF_NOWAIT);

		if (n == 1 || (n < 0 && errno == EAGAIN))
			by_preadv2++;
		else if (n < 0)
			err_p = errno;
		if (map != MAP_FAILED && mincore((char *)map + 2 * k * CHUNK, CHUNK, vec) == 0)
			by_mincore++;
		else
			err_m = map == MAP_FAILED ? EINVAL : errno;
	}
	if (by_preadv2)
		puts("preadv2=works");
	else
		printf("preadv2=refused %s\n", strerror(err_p));
	if (by_mincore)
		puts("mincore=works");
	else
		printf("mincore=refused %s\n", strerror(err_m));
	printf("decoded=%d\n", by_preadv2 > by_mincore ? by_preadv2 : by_mincore);
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 3 || (strcmp(argv[1], "send") == 0 && argc != 4)) {
		fprintf(stderr, "usage: pagecache_probe send FILE BITS | recv FILE\n");
		return 2;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[2]);
		return 2;
	}
	if (strcmp(argv[1], "send") == 0) {
		send_bits(fd, (unsigned)atoi(argv[3]));
		return 0;
	}
	return recv_bits(fd);
}
