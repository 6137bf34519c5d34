// Hello: prints "hello" and a newline. Expected verdict: OK.
// Build: javac Hello.java   Run: java -Xmx256m -Xss64m -XX:+UseSerialGC Hello
public class Hello {
	public static void main(String[] args) {
		System.out.println("hello");
	}
}
