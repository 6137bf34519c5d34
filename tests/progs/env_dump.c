/* env_dump: prints the environment, one NAME=VALUE a line, in order.
 * Expected verdict: OK; the test compares the lines with --env / defaults. */
#include <stdio.h>

extern char **environ;

int main(void)
{
	for (char **e = environ; *e; e++)
		printf("%s\n", *e);
	return 0;
}
