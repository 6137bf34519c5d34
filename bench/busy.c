/* A CPU burner for `bench_run -m cpu`: spins until killed. Linked statically
 * so the sandbox needs no loader or libraries to start it. */
int main(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
}
