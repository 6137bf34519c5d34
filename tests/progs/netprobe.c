/* netprobe: a network job's two ends, for test_network.py.
 *   netprobe connect ADDR PORT   connects over TCP, sends "hello\n", prints
 *                                "reply: LINE"; exit 0, or 2 with
 *                                "connect failed: ERROR" and nothing sent.
 *   netprobe serve PORT SECONDS  listens on 0.0.0.0:PORT, prints "listening",
 *                                accepts for SECONDS, prints "accepted N". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int do_connect(const char *addr, const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
	char buf[256];
	ssize_t n;
	int fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		printf("bad address %s\n", addr);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		printf("socket failed: %s\n", strerror(errno));
		return 2;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("connect failed: %s\n", strerror(errno));
		return 2;
	}
	if (write(fd, "hello\n", 6) != 6) {
		printf("write failed: %s\n", strerror(errno));
		return 2;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		printf("read failed: %s\n", strerror(errno));
		return 2;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("reply: %s\n", buf);
	return 0;
}

static int do_serve(const char *port, const char *seconds)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port)),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	struct timespec start, now;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), accepted = 0, one = 1;
	long limit_ms = atol(seconds) * 1000;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		printf("listen failed: %s\n", strerror(errno));
		return 2;
	}
	printf("listening\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = limit_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) == 1) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0) {
				accepted++;
				close(c);
			}
		}
	}
	printf("accepted %d\n", accepted);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "connect") == 0)
		return do_connect(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return do_serve(argv[2], argv[3]);
	fputs("usage: netprobe connect ADDR PORT | netprobe serve PORT SECONDS\n", stderr);
	return 64;
}
