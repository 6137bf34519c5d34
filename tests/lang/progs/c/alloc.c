/* alloc: allocates 2 GiB in 16 MiB steps, writes one byte in every 4 KiB
 * page of each block and keeps every block until exit, then prints
 * "allocated 2048 MiB". Prints how far it got and exits 3 if malloc fails.
 * Expected verdict: ML under any memory limit below 2 GiB. */
#include <stdio.h>
#include <stdlib.h>

#define STEP (16L << 20)
#define TOTAL (2048L << 20)
#define PAGE 4096L

int main(void)
{
	static char *blocks[TOTAL / STEP];
	long i, off;

	for (i = 0; i < TOTAL / STEP; i++) {
		volatile char *p = malloc(STEP);

		if (!p) {
			printf("malloc failed after %ld MiB\n", i * (STEP >> 20));
			return 3;
		}
		for (off = 0; off < STEP; off += PAGE)
			p[off] = (char)(i + 1);
		blocks[i] = (char *)p;
	}
	printf("allocated %ld MiB\n", TOTAL >> 20);
	return blocks[0][0] == 1 ? 0 : 1;
}
