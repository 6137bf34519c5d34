// socket_probe PORT: TCP connect to 127.0.0.1:PORT. Prints "connected" and
// exits 0 on success; otherwise prints the error and exits 3 (2 for a usage
// error). Inside the sandbox a connect must never succeed.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		std::cerr << "usage: socket_probe PORT\n";
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		std::cout << "socket: " << std::strerror(errno) << std::endl;
		return 3;
	}
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(static_cast<unsigned short>(std::atoi(argv[1])));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0) {
		std::cout << "connect: " << std::strerror(errno) << std::endl;
		return 3;
	}
	std::cout << "connected" << std::endl;
	close(fd);
	return 0;
}
