/* hello: prints "hello" and a newline. Expected verdict: OK. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}
