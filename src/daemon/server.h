/* server.h: the daemon's listeners (Unix socket, TCP) and connections: the
 * NDJSON protocol of SPEC.md "Daemon protocol" on top of the pool. */
#ifndef WB_SERVER_H
#define WB_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "policy/policy.h"
#include "daemon/pool.h"

struct wb_server;

struct wb_server_cfg {
	const char *socket_path;         /* NULL: no Unix socket */
	const char *listen;              /* HOST:PORT or NULL */
	const char *metrics;             /* HOST:PORT of GET /metrics, or NULL */
	size_t max_request;              /* bytes per line */
	size_t max_unsent;               /* unsent result bytes before we stop reading a client */
	uint64_t max_output_kb;          /* the largest output_kb a job may ask for */
	bool allow_network;              /* network jobs run, each with a pasta of its own */
	unsigned max_connections;        /* more are answered with an error and closed */
	size_t max_memory;               /* request buffers, jobs, their output and results */
	unsigned idle_ms;                /* a connection with nothing in flight, silent this long, is closed */
	unsigned write_ms;               /* a client that reads none of its results this long is dropped */
	unsigned drain_ms;               /* after the pool closed, how long clients get to read their results */
	const struct wb_policy *policies;
	size_t npolicies;
	unsigned queue_max;              /* for stats */
	uint64_t store_max;              /* the file store's bytes */
};

/* Binds and listens. -errno with the reason in err. */
int wb_server_start(uv_loop_t *loop, struct wb_pool *pool, const struct wb_server_cfg *cfg,
		    struct wb_server **out, char *err, size_t errlen);

/* Stops accepting; connections stay until their jobs are answered. */
void wb_server_stop_accepting(struct wb_server *srv);

/* Closes every connection once its pending results are written (or once
 * drain_ms has passed), removes the socket file; the server is freed when
 * its last handle is, and then closed (if not NULL) is called. */
void wb_server_close(struct wb_server *srv, void (*closed)(void *data), void *data);

/* Drops every client now: their jobs are cancelled, unsent results
 * discarded (a second SIGTERM). */
void wb_server_abort(struct wb_server *srv);

#endif
