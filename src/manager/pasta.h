/* pasta.h: a network job's way out (SPEC "Operator tools"): pasta, from
 * Debian's passt package, attached to the job init's own network namespace
 * for the job's life, with the host's loopback and ports out of its reach. */
#ifndef WB_PASTA_H
#define WB_PASTA_H

#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

struct wb_pasta;

/* err 0: the namespace is configured, the job may start. Otherwise msg says
 * why not; the pasta must still be stopped. Called at most once. */
typedef void (*wb_pasta_cb)(struct wb_pasta *p, int err, const char *msg, void *data);

/* 0 when pasta can be run here; else -ENOENT and err names the package. */
int wb_pasta_available(char *err, size_t errlen);

/* Starts pasta on the network and user namespaces of host pid target. */
int wb_pasta_start(uv_loop_t *loop, pid_t target, wb_pasta_cb cb, void *data, struct wb_pasta **out,
		   char *err, size_t errlen);

/* Kills it; freed once reaped. NULL is a no-op. */
void wb_pasta_stop(struct wb_pasta *p);

#endif
