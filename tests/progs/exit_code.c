/* exit_code: prints "exit N" and exits with code N (argv[1], default 0).
 * Expected verdict: OK for 0; RE with "exit_code": N otherwise. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;

	printf("exit %d\n", code);
	return code;
}
