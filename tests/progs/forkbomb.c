/* forkbomb: every process forks forever (and spins on EAGAIN).
 * Expected: with --procs 8 and --cpu 1000 the job is TL within its wall
 * limit, nothing of it is left, and the next job runs normally.
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
