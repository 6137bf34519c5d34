/* tcp_listener PORTFILE COUNTFILE SECONDS: runs on the HOST, not in the
 * sandbox. Listens on 127.0.0.1 on a free port, writes the port to PORTFILE,
 * accepts connections for SECONDS or until SIGTERM, then writes the number of
 * accepted connections to COUNTFILE. The network test expects 0. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int write_num(const char *path, long n)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", n);
	return fclose(f);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	long accepted = 0;
	int fd;

	if (argc < 4)
		return 2;
	signal(SIGTERM, on_term);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("listen");
		return 1;
	}
	write_num(argv[1], ntohs(sa.sin_port));
	time_t end = time(NULL) + atoi(argv[3]);
	while (!stop && time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) == 1) {
			int c = accept(fd, NULL, NULL);
			if (c >= 0) {
				accepted++;
				close(c);
			}
		}
	}
	return write_num(argv[2], accepted) == 0 ? 0 : 1;
}
