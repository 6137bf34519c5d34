// sum: reads whitespace-separated signed 64-bit integers from stdin until
// EOF and prints their sum and a newline.
// Bound: every input and every partial sum must fit in a long (|x| < 2^63);
// the test inputs keep |sum| well below 2^53. StreamTokenizer parses into a
// double and so is not exact past 2^53: this uses a buffered byte reader.
// Build: javac Main.java
// Run:   java -Xmx256m -Xss64m -XX:+UseSerialGC Main
import java.io.IOException;
import java.io.InputStream;

public class Main {
	private static final class Reader {
		private final InputStream in;
		private final byte[] buf = new byte[1 << 16];
		private int len = 0;
		private int pos = 0;

		Reader(InputStream in) {
			this.in = in;
		}

		private int read() throws IOException {
			if (pos == len) {
				len = in.read(buf, 0, buf.length);
				pos = 0;
				if (len <= 0) {
					len = 0;
					return -1;
				}
			}
			return buf[pos++] & 0xff;
		}

		/** Returns true and stores the next integer in out[0]; false at EOF. */
		boolean nextLong(long[] out) throws IOException {
			int c = read();
			while (c != -1 && c <= ' ') // skip whitespace
				c = read();
			if (c == -1)
				return false;
			boolean neg = false;
			if (c == '-' || c == '+') {
				neg = c == '-';
				c = read();
			}
			// Accumulate negatively so Long.MIN_VALUE parses too.
			long v = 0;
			while (c >= '0' && c <= '9') {
				v = v * 10 - (c - '0');
				c = read();
			}
			out[0] = neg ? v : -v;
			return true;
		}
	}

	public static void main(String[] args) throws IOException {
		Reader r = new Reader(System.in);
		long[] x = new long[1];
		long sum = 0;
		while (r.nextLong(x))
			sum += x[0];
		System.out.println(sum);
	}
}
