// SocketProbe PORT: TCP connect to 127.0.0.1:PORT. Prints "connected" and
// exits 0 on success; otherwise prints the error and exits 3 (2 for a usage
// error). Inside the sandbox a connect must never succeed.
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

public class SocketProbe {
	public static void main(String[] args) {
		if (args.length < 1) {
			System.err.println("usage: java SocketProbe PORT");
			System.exit(2);
		}
		try (Socket s = new Socket()) {
			s.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 5000);
		} catch (IOException | SecurityException e) {
			System.out.println("connect: " + e);
			System.exit(3);
		}
		System.out.println("connected");
	}
}
