/* cli_client.c: `warmbox submit` and `warmbox stats`, the daemon's clients:
 * plain blocking sockets, jobs pipelined, results printed as they come; the
 * connection options every client takes. */
#include "cli/cli.h"
#include "core/hostport.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Jobs sent and not yet answered, at most: more would only meet a full
 * queue on a busy daemon. */
#define SUBMIT_WINDOW 256

const char *wb_cli_default_socket(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return "/run/warmbox.sock";
	if (xdg && *xdg) {
		snprintf(buf, len, "%s/warmbox.sock", xdg);
		return buf;
	}
	snprintf(buf, len, "/tmp/warmbox-%u.sock", (unsigned)getuid());
	return buf;
}

void wb_cli_client_usage(FILE *f)
{
	fputs("usage: warmbox submit [--socket PATH | --connect HOST:PORT] [FILE]\n"
	      "       warmbox stats [--socket PATH | --connect HOST:PORT]\n"
	      "       warmbox put [--socket PATH | --connect HOST:PORT] [FILE]\n"
	      "       warmbox get [--socket PATH | --connect HOST:PORT] REF\n"
	      "submit sends the jobs of FILE (default stdin), one JSON object per line, and\n"
	      "prints one result line per job as they finish. Exit status: 0 when every job\n"
	      "was carried out, 1 when one ended XX, 2 for an invalid job or bad usage.\n"
	      "put stores FILE (default stdin) in the daemon's file store and prints its ref;\n"
	      "get writes the bytes of REF to stdout. Exit status 1 when the daemon refuses.\n",
	      f);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static int connect_tcp(const char *spec)
{
	char host[256];
	const char *port;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
	int fd = -ECONNREFUSED;

	if (wb_hostport_split(spec, host, sizeof(host), &port) < 0 || getaddrinfo(host, port, &hints, &ai) != 0)
		return -EINVAL;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -errno;
	}
	freeaddrinfo(ai);
	return fd;
}

int wb_cli_client_parse(int argc, char **argv, struct wb_client_opts *o, bool file_allowed)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			o->socket = argv[++i];
		else if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
			o->connect = argv[++i];
		else if ((strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0))
			return 1;
		else if (file_allowed && !o->file && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			o->file = argv[i];
		else {
			fprintf(stderr, "warmbox: unexpected argument \"%s\" (see: warmbox help %s)\n", argv[i], argv[0]);
			return -EINVAL;
		}
	}
	if (o->socket && o->connect) {
		fprintf(stderr, "warmbox: --socket and --connect exclude each other\n");
		return -EINVAL;
	}
	return 0;
}

int wb_cli_client_connect(const struct wb_client_opts *o)
{
	char buf[256];
	const char *path = o->socket ? o->socket : wb_cli_default_socket(buf, sizeof(buf));
	int fd = o->connect ? connect_tcp(o->connect) : connect_unix(path);

	if (fd < 0)
		fprintf(stderr, "warmbox: cannot connect to %s: %s\n", o->connect ? o->connect : path,
			strerror(-fd));
	return fd;
}

/* Jobs are the input's lines that are not blank. */
static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Lets more job lines into the window while it has room: *counted is
 * how far lines have been let in (whole lines only), *queued how many of
 * them are jobs. Sending may go up to *counted. */
static void open_window(const char *data, size_t len, size_t *counted, size_t *queued, size_t answers)
{
	while (*counted < len && *queued - answers < SUBMIT_WINDOW) {
		const char *nl = memchr(data + *counted, '\n', len - *counted);
		size_t next = nl ? (size_t)(nl - data) + 1 : len;

		if (!blank(data + *counted, next - *counted - (nl ? 1 : 0)))
			(*queued)++;
		*counted = next;
	}
}

static int judge_line(const char *line, int worst)
{
	/* Results are single-line JSON written by the daemon: a substring
	 * check is exact enough for the exit status. */
	if (strstr(line, "\"error\":\"invalid job:"))
		return WB_EXIT_USAGE;
	if (strstr(line, "\"status\":\"XX\"") && worst < WB_EXIT_SANDBOX)
		return WB_EXIT_SANDBOX;
	return worst;
}

int wb_cli_submit(int argc, char **argv)
{
	struct wb_client_opts o = {0};
	char *data, *rbuf = NULL;
	size_t len, off = 0, rlen = 0, rcap = 0, jobs = 0, answers = 0, queued = 0, counted = 0;
	int fd, rc = wb_cli_client_parse(argc, argv, &o, true), worst = WB_EXIT_OK;

	if (rc)
		return rc > 0 ? (wb_cli_client_usage(stdout), WB_EXIT_OK) : WB_EXIT_USAGE;
	rc = wb_cli_read_file(o.file ? o.file : "-", SIZE_MAX, (unsigned char **)&data, &len);
	if (rc < 0) {
		fprintf(stderr, "warmbox submit: %s: %s\n", o.file ? o.file : "standard input", strerror(-rc));
		return rc == -ENOMEM ? WB_EXIT_SANDBOX : WB_EXIT_USAGE;
	}
	for (size_t i = 0, start = 0; i <= len; i++)
		if (i == len || data[i] == '\n') {
			for (size_t k = start; k < i; k++)
				if (data[k] != ' ' && data[k] != '\t' && data[k] != '\r') {
					jobs++;
					break;
				}
			start = i + 1;
		}
	if ((fd = wb_cli_client_connect(&o)) < 0) {
		free(data);
		return WB_EXIT_SANDBOX;
	}
	/* Pipelined: keep sending while results come back, up to a window. */
	while (answers < jobs) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		open_window(data, len, &counted, &queued, answers);
		if (off < counted)
			p.events |= POLLOUT;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLOUT) {
			ssize_t n = send(fd, data + off, counted - off, MSG_NOSIGNAL);

			if (n < 0 && errno != EAGAIN && errno != EINTR)
				break;
			if (n > 0)
				off += (size_t)n;
			if (off == len && len && data[len - 1] != '\n')
				send(fd, "\n", 1, MSG_NOSIGNAL);
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			ssize_t n;
			char *nl;

			if (rcap - rlen < 65536) {
				char *nb = realloc(rbuf, rcap ? rcap * 2 : 131072);

				if (!nb)
					break;
				rbuf = nb;
				rcap = rcap ? rcap * 2 : 131072;
			}
			n = recv(fd, rbuf + rlen, rcap - rlen - 1, 0);
			if (n <= 0)
				break;
			rlen += (size_t)n;
			while ((nl = memchr(rbuf, '\n', rlen))) {
				*nl = '\0';
				printf("%s\n", rbuf);
				worst = judge_line(rbuf, worst);
				answers++;
				rlen -= (size_t)(nl + 1 - rbuf);
				memmove(rbuf, nl + 1, rlen);
			}
		}
	}
	fflush(stdout);
	close(fd);
	free(data);
	free(rbuf);
	if (answers < jobs) {
		fprintf(stderr, "warmbox submit: the daemon answered %zu of %zu jobs\n", answers, jobs);
		return WB_EXIT_SANDBOX;
	}
	return worst;
}

int wb_cli_ask(int fd, const char *request, char **answer)
{
	size_t len = strlen(request), n = 0, cap = 65536;
	char *buf = malloc(cap), *nl;

	*answer = NULL;
	if (!buf)
		return -ENOMEM;
	if (send(fd, request, len, MSG_NOSIGNAL) != (ssize_t)len) {
		free(buf);
		return -EPIPE;
	}
	while (!(nl = memchr(buf, '\n', n))) {
		ssize_t got;

		if (n == cap) {
			char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				return -EMSGSIZE;
			}
			buf = nb;
			cap *= 2;
		}
		got = recv(fd, buf + n, cap - n, 0);
		if (got <= 0) {
			free(buf);
			return got < 0 ? -errno : -ECONNRESET;
		}
		n += (size_t)got;
	}
	*nl = '\0';
	*answer = buf;
	return 0;
}

int wb_cli_stats(int argc, char **argv)
{
	struct wb_client_opts o = {0};
	char *answer;
	int fd, rc = wb_cli_client_parse(argc, argv, &o, false);

	if (rc)
		return rc > 0 ? (wb_cli_client_usage(stdout), WB_EXIT_OK) : WB_EXIT_USAGE;
	if ((fd = wb_cli_client_connect(&o)) < 0)
		return WB_EXIT_SANDBOX;
	rc = wb_cli_ask(fd, "{\"op\":\"stats\"}\n", &answer);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "warmbox stats: no answer from the daemon: %s\n", strerror(-rc));
		return WB_EXIT_SANDBOX;
	}
	puts(answer);
	free(answer);
	return WB_EXIT_OK;
}
