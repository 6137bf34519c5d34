/* threads MODE N: MODE "spin" starts N threads that spin with the main one
 * forever (CPU time must count every thread); MODE "count" tries to start
 * N sleeping threads and prints "created K" (procs must count threads).
 * Exits 3 on bad usage. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned long sink;

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		sink++;
	return NULL;
}

static void *nap(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0, k = 0;
	void *(*fn)(void *);

	if (argc != 3 || n <= 0)
		return 3;
	if (strcmp(argv[1], "spin") == 0)
		fn = spin;
	else if (strcmp(argv[1], "count") == 0)
		fn = nap;
	else
		return 3;
	for (; k < n; k++) {
		pthread_t t;

		if (pthread_create(&t, NULL, fn, NULL) != 0)
			break;
	}
	printf("created %d\n", k);
	fflush(stdout);
	if (fn == spin)
		spin(NULL);
	return 0;
}
