// busy: spins on the CPU forever. A side-effect-free infinite loop is
// undefined behaviour in C++, so the counter is volatile. Expected: TL.
int main()
{
	volatile unsigned long n = 0;

	for (;;)
		n = n + 1;
}
