/* stdin_sum: reads stdin to the end and prints "bytes=N fnv=HEX" (64-bit
 * FNV-1a). The test runs it on the host too and compares the two lines.
 * Expected verdict: OK with the exact count and checksum. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	static unsigned char buf[1 << 16];
	uint64_t h = 1469598103934665603ULL;
	unsigned long long total = 0;
	ssize_t n;

	while ((n = read(0, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
		total += (unsigned long long)n;
	}
	if (n < 0) {
		perror("read");
		return 1;
	}
	printf("bytes=%llu fnv=%016llx\n", total, (unsigned long long)h);
	return 0;
}
