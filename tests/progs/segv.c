/* segv: writes through a null pointer.
 * Expected verdict: SG with "signal": 11. */
#include <stddef.h>

int main(void)
{
	volatile int *volatile p = NULL;

	*p = 42;
	return 0;
}
