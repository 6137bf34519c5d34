/* server_impl.h: what server.c (connections), request.c (answering a
 * line) and listen.c (accepting) share; not public, server.h is. */
#ifndef WB_SERVER_IMPL_H
#define WB_SERVER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/fairq.h"
#include "daemon/admit.h"
#include "daemon/outq.h"
#include "daemon/pool.h"
#include "daemon/server.h"

struct conn;
struct wb_store_entry;

struct req {
	struct wb_pool_job pj;
	struct conn *conn;
	size_t charge;           /* its share of the memory budget until done */
	struct wb_pins pins;     /* its files by ref, both sides' */
	struct req *prev, *next;
};

struct conn {
	struct wb_server *srv;
	union {
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} h;
	char *buf;
	size_t len, cap;
	size_t scanned;          /* bytes of buf known to hold no '\n' */
	struct wb_outq out;      /* results and answers not yet flushed */
	struct req *reqs;        /* jobs in flight */
	struct wb_fairq_src source; /* its queued jobs; held while paused */
	unsigned inflight;
	bool paused;             /* reading stopped: too much unsent */
	bool no_input;           /* reading stopped for good: closes once answered */
	bool leaving;            /* the client went away or must go */
	bool abandon;            /* close without flushing what is unsent */
	bool closed;             /* uv_close called */
	uint64_t active_ms;      /* loop time of the last byte read or write flushed */
	struct conn *prev, *next;
};

struct wb_server {
	uv_loop_t *loop;
	struct wb_pool *pool;
	struct wb_server_cfg cfg;
	char *socket_path;
	uv_pipe_t unix_h;
	uv_tcp_t tcp_h;
	bool has_unix, has_tcp;
	bool closing;
	uint64_t closing_ms;
	struct conn *conns;
	unsigned nconns;
	unsigned handles;        /* listener and sweep handles not yet closed */
	uv_timer_t sweep;
	size_t mem_used;         /* counted against cfg.max_memory */
	struct wb_store *store;  /* the file store (store.h) */
	struct wb_admit admit;   /* the rules a job passes, with the store (admit.h) */
	struct wb_metrics *metrics; /* GET /metrics (metrics.h), NULL without --metrics */
	uint64_t refusal_logged_ms[3];
	unsigned long refusals_unlogged[3];
	void (*closed)(void *data);
	void *closed_data;
};

enum { REFUSE_CONNECTIONS, REFUSE_STALLED, REFUSE_MEMORY };

#define MEMORY_FULL "memory budget full: try again later (warmbox serve --max-memory)"

/* server.c */
void server_log_refusal(struct wb_server *srv, int kind, const char *what);
void server_maybe_free(struct wb_server *srv);
void server_on_connection(uv_stream_t *listener, int status);
void conn_send_line(struct conn *c, const char *text);
/* An XX result with this id and error, naming the daemon's accounting. */
void conn_send_error(struct conn *c, const char *id, const char *error);
/* A request answered without running it: counted, logged at debug. */
void conn_reject(struct conn *c, const char *id, const char *error, enum wb_reject why);
void conn_check_pause(struct conn *c);
void conn_leave(struct conn *c);
void conn_maybe_close(struct conn *c);

/* request.c: one complete line, a job or an {"op": ...}. */
void request_handle_line(struct conn *c, const char *line, size_t len);

/* storeop.c: answers put, get and drop (root: the parsed line); false for
 * any other op. */
struct cJSON;
/* {"op":OP,"ok":false,"error":ERROR}: a failed op; the connection stays. */
void op_send_failed(struct conn *c, const char *op, const char *error);
/* {"op":"jobs"}: the running jobs, to the daemon's owner only. (jobsop.c) */
void jobsop_send(struct conn *c);
bool storeop_handle(struct conn *c, const char *op, const struct cJSON *root, const char *line, size_t len);

/* listen.c: -errno with the reason in err. */
int server_listen_unix(struct wb_server *srv, const char *path, char *err, size_t errlen);
int server_listen_tcp(struct wb_server *srv, const char *spec, char *err, size_t errlen);
int server_listen_metrics(struct wb_server *srv, const char *spec, char *err, size_t errlen);

#endif
