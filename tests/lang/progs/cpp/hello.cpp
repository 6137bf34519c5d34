// hello: prints "hello" and a newline. Expected verdict: OK.
#include <iostream>

int main()
{
	std::cout << "hello\n";
	return 0;
}
