/* listen.c: the daemon's listeners: the Unix socket (a stale one from a
 * dead daemon removed, a live one's refused), TCP, and GET /metrics. */
#include "daemon/server_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/store.h"

/* A socket file left by a daemon that died is removed; one a live daemon
 * answers on is not ours to take. */
static int claim_socket_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s: another warmbox daemon is listening there", path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	wb_log(WB_LOG_INFO, "removed stale socket %s", path);
	return 0;
}

int server_listen_unix(struct wb_server *srv, const char *path, char *err, size_t errlen)
{
	int rc = claim_socket_path(path, err, errlen);

	if (rc < 0) {
		if (!*err)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	uv_pipe_init(srv->loop, &srv->unix_h, 0);
	srv->unix_h.data = srv;
	srv->has_unix = true;
	srv->handles++;
	if ((rc = uv_pipe_bind(&srv->unix_h, path)) < 0 || chmod(path, 0660) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&srv->unix_h, 511, server_on_connection)) < 0) {
		snprintf(err, errlen, "%s: %s", path, rc < 0 ? uv_strerror(rc) : strerror(errno));
		return rc < 0 ? rc : -errno;
	}
	srv->socket_path = strdup(path);
	return srv->socket_path ? 0 : -ENOMEM;
}

/* HOST:PORT, [IPv6]:PORT, or PORT alone (loopback). */
int server_listen_tcp(struct wb_server *srv, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	int rc;

	if (wb_hostport_parse(spec, &sa) < 0) {
		snprintf(err, errlen, "--listen %s: expected HOST:PORT (IPv4, [IPv6]) or PORT", spec);
		return -EINVAL;
	}
	uv_tcp_init(srv->loop, &srv->tcp_h);
	srv->tcp_h.data = srv;
	srv->has_tcp = true;
	srv->handles++;
	if ((rc = uv_tcp_bind(&srv->tcp_h, (struct sockaddr *)&sa, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&srv->tcp_h, 511, server_on_connection)) < 0) {
		snprintf(err, errlen, "--listen %s: %s", spec, uv_strerror(rc));
		return rc;
	}
	return 0;
}

static int render_metrics(void *data, struct wb_buf *out)
{
	struct wb_server *srv = data;

	return wb_metrics_render_pool(srv->pool, srv->store, srv->nconns, out);
}

int server_listen_metrics(struct wb_server *srv, const char *spec, char *err, size_t errlen)
{
	int rc = wb_metrics_listen(srv->loop, spec, render_metrics, srv, &srv->metrics, err, errlen);

	if (rc == 0)
		srv->handles++;
	return rc;
}

static void on_listener_closed(uv_handle_t *h)
{
	struct wb_server *srv = h->data;

	srv->handles--;
	server_maybe_free(srv);
}

static void on_metrics_closed(void *data)
{
	struct wb_server *srv = data;

	srv->handles--;
	server_maybe_free(srv);
}

void wb_server_stop_accepting(struct wb_server *srv)
{
	if (srv->has_unix && !uv_is_closing((uv_handle_t *)&srv->unix_h)) {
		uv_close((uv_handle_t *)&srv->unix_h, on_listener_closed);
		if (srv->socket_path)
			unlink(srv->socket_path);
	}
	if (srv->has_tcp && !uv_is_closing((uv_handle_t *)&srv->tcp_h))
		uv_close((uv_handle_t *)&srv->tcp_h, on_listener_closed);
	if (srv->metrics) {
		wb_metrics_close(srv->metrics, on_metrics_closed, srv);
		srv->metrics = NULL;
	}
}
