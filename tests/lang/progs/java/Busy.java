// Busy: spins on the CPU forever; the volatile field keeps the JIT from
// removing or hoisting the loop. Expected verdict: TL.
public class Busy {
	static volatile long n;

	public static void main(String[] args) {
		for (;;)
			n++;
	}
}
