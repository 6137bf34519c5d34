/* socket_probe PORT: TCP connect to 127.0.0.1:PORT. Prints "connected" and
 * exits 0 on success; otherwise prints the error and exits 3 (2 for a usage
 * error). Inside the sandbox a connect must never succeed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: socket_probe PORT\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		printf("socket: %s\n", strerror(errno));
		return 3;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		printf("connect: %s\n", strerror(errno));
		return 3;
	}
	printf("connected\n");
	close(fd);
	return 0;
}
