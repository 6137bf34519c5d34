// sum: reads whitespace-separated signed 64-bit integers from stdin until
// EOF and prints their sum and a newline.
// Bound: every input and every partial sum must fit in a signed 64-bit
// integer (|x| < 2^63); the test inputs keep |sum| well below 2^53.
// Build: g++ -O2 -std=c++17 -o sum sum.cpp
#include <cstdint>
#include <iostream>

int main()
{
	std::ios::sync_with_stdio(false);
	std::cin.tie(nullptr);

	std::int64_t x, sum = 0;
	while (std::cin >> x)
		sum += x;
	std::cout << sum << '\n';
	return 0;
}
