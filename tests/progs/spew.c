/* spew [BYTES]: writes BYTES (default 1 MiB) of 'x' to stdout.
 * Expected verdict: OL with --output 64, stdout_truncated true and exactly
 * 65536 bytes of stdout kept; OK when the limit is large enough. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long left = argc > 1 ? atol(argv[1]) : 1L << 20;
	char buf[8192];

	memset(buf, 'x', sizeof(buf));
	while (left > 0) {
		ssize_t n = write(1, buf, left < (long)sizeof(buf) ? (size_t)left : sizeof(buf));

		if (n < 0)
			return 1;
		left -= n;
	}
	return 0;
}
