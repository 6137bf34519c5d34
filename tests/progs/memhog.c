/* memhog MIB: allocates MIB MiB in 1 MiB steps and touches every page, keeps
 * it all until exit, prints "touched N MiB". Exits 3 if malloc fails.
 * Expected verdict: ML when MIB is past --memory (cgroup accounting; with
 * rlimit accounting the failure may show as the program's own RE or SG);
 * OK with memory_kb about MIB*1024 when it fits. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 256;
	long page = sysconf(_SC_PAGESIZE);
	long i, off;

	for (i = 0; i < mib; i++) {
		volatile char *p = malloc(1 << 20);

		if (!p) {
			printf("malloc failed after %ld MiB\n", i);
			return 3;
		}
		for (off = 0; off < (1 << 20); off += page)
			p[off] = (char)(i + 1);
	}
	printf("touched %ld MiB\n", mib);
	return 0;
}
