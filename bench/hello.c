/* A static C hello for bench_daemon: the smallest real submission, sent to
 * the daemon as a base64 file. Linked statically (bench/CMakeLists.txt) so
 * it needs no loader or libraries inside the sandbox. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}
