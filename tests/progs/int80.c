/* int80: one 32-bit syscall through int 0x80 (getpid, number 20 in the i386
 * table), which no rule written for x86_64 covers.
 * Expected verdict: SV with syscall "foreign architecture"; exit 0 only if
 * the syscall ran (the filter let it through). */
#include <stdio.h>

int main(void)
{
#if defined(__x86_64__)
	long ret = 20;

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	printf("int 0x80 returned %ld\n", ret);
	return 0;
#else
	puts("not x86_64");
	return 2;
#endif
}
