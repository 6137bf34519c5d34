// Alloc: allocates 2 GiB in 16 MiB byte arrays, writes one byte in every
// 4 KiB page of each and keeps them all in a list, then prints
// "allocated 2048 MiB". On OutOfMemoryError (e.g. past -Xmx) prints how far
// it got and exits 3. Expected verdict: ML under any memory limit below
// 2 GiB (or the program's own exit 3 when -Xmx is the lower bound).
import java.util.ArrayList;
import java.util.List;

public class Alloc {
	static final int STEP = 16 << 20;
	static final long TOTAL = 2048L << 20;
	static final int PAGE = 4096;

	public static void main(String[] args) {
		List<byte[]> blocks = new ArrayList<>();
		try {
			for (int i = 0; i < TOTAL / STEP; i++) {
				byte[] b = new byte[STEP];
				for (int off = 0; off < STEP; off += PAGE)
					b[off] = (byte) (i + 1);
				blocks.add(b);
			}
		} catch (OutOfMemoryError e) {
			int mib = blocks.size() * (STEP >> 20);
			blocks = null; // let the println below allocate
			System.out.println("OutOfMemoryError after " + mib + " MiB");
			System.exit(3);
		}
		System.out.println("allocated " + (TOTAL >> 20) + " MiB");
	}
}
