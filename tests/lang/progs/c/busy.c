/* busy: spins on the CPU forever; the volatile counter keeps the optimizer
 * from removing the loop. Expected verdict: TL. */
int main(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
	return 0;
}
