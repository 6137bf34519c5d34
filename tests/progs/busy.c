/* busy: spins on the CPU forever without a syscall.
 * Expected verdict: TL, with cpu_ms close to the --cpu limit. */
int main(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
	return 0;
}
