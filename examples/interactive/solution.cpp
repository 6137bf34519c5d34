// solution.cpp: guess the number by binary search (examples/interactive).
#include <iostream>
#include <string>

int main()
{
	long long n;
	if (!(std::cin >> n))
		return 1;
	long long lo = 1, hi = n;
	while (lo < hi) {
		long long mid = lo + (hi - lo) / 2;
		std::cout << "? " << mid << std::endl;  // endl flushes: the judge waits for the line
		std::string answer;
		if (!(std::cin >> answer))
			return 1;
		if (answer == "=") {
			lo = hi = mid;
		} else if (answer == "<") {
			hi = mid - 1;
		} else {
			lo = mid + 1;
		}
	}
	std::cout << "! " << lo << std::endl;
	return 0;
}
