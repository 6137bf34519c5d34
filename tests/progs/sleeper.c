/* sleeper: nanosleep for argv[1] seconds (default 10), using no CPU.
 * Expected verdict: TL by the wall clock, with a small cpu_ms. */
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct timespec ts = { .tv_sec = argc > 1 ? atoi(argv[1]) : 10 };

	while (nanosleep(&ts, &ts) != 0)
		;
	return 0;
}
