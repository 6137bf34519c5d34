/* forkbomb: every process forks forever (and spins on EAGAIN).
 * Expected: with --procs 8 the job still ends within its wall limit (RE, SG,
 * TL or OK are all acceptable) and the next job runs normally.
 * Refuses to run outside a pid namespace. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	if (getpid() > 50) {
		fprintf(stderr, "forkbomb: only inside a sandbox\n");
		return 100;
	}
	for (;;)
		fork();
	return 0;
}
