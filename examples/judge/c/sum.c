/* sum: reads whitespace-separated signed 64-bit integers from stdin until
 * EOF and prints their sum and a newline.
 * Bound: every input and every partial sum must fit in a signed 64-bit
 * integer (|x| < 2^63); the test inputs keep |sum| well below 2^53 so that
 * every language's solution is exact.
 * Build: gcc -O2 -o sum sum.c -lm */
#include <stdio.h>

int main(void)
{
	long long x, sum = 0;

	while (scanf("%lld", &x) == 1)
		sum += x;
	printf("%lld\n", sum);
	return 0;
}
