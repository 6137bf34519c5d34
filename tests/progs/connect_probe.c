/* connect_probe [PORT]: socket(AF_INET, SOCK_STREAM) and, with PORT,
 * connect() to 127.0.0.1:PORT. Prints what happened.
 * Expected verdict under the default policy: SV with "syscall": "socket".
 * Otherwise the connect must fail: exit 2 with the errno printed. Exit 0
 * (connected) is an isolation failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		printf("socket failed: %s\n", strerror(errno));
		return 2;
	}
	printf("socket ok\n");
	if (argc < 2)
		return 0;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		printf("connect failed: %s\n", strerror(errno));
		return 2;
	}
	printf("connect ok\n");
	return 0;
}
