// alloc: allocates 2 GiB in 16 MiB steps with new[], writes one byte in
// every 4 KiB page and keeps every block until exit, then prints
// "allocated 2048 MiB". Prints how far it got and exits 3 on bad_alloc.
// Expected verdict: ML under any memory limit below 2 GiB.
#include <cstddef>
#include <iostream>
#include <memory>
#include <new>
#include <vector>

int main()
{
	constexpr std::size_t step = std::size_t(16) << 20;
	constexpr std::size_t total = std::size_t(2048) << 20;
	constexpr std::size_t page = 4096;
	std::vector<std::unique_ptr<char[]>> blocks;

	blocks.reserve(total / step);
	try {
		for (std::size_t i = 0; i < total / step; i++) {
			std::unique_ptr<char[]> b(new char[step]);
			volatile char *p = b.get();

			for (std::size_t off = 0; off < step; off += page)
				p[off] = static_cast<char>(i + 1);
			blocks.push_back(std::move(b));
		}
	} catch (const std::bad_alloc &) {
		std::cout << "bad_alloc after " << blocks.size() * (step >> 20)
			  << " MiB" << std::endl;
		return 3;
	}
	std::cout << "allocated " << (total >> 20) << " MiB\n";
	return blocks[0][0] == 1 ? 0 : 1;
}
