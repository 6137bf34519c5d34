/* admit.h: what a front end of the pool (the socket server, the Redis
 * worker) checks and holds for a job before it runs, and gives back after:
 * the policies by name, the output cap, both sides' files by ref pinned in
 * the store, and the copy_out kept into it. */
#ifndef WB_ADMIT_H
#define WB_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/pool.h"
#include "daemon/store.h"

struct wb_admit {
	const struct wb_policy *policies;
	size_t npolicies;
	uint64_t max_output_kb;          /* the largest output_kb a job may ask for */
	struct wb_store *store;
	const char *command;             /* "warmbox serve", ...: messages name its options */
	bool allow_network;              /* --allow-network: network jobs run (through pasta) */
};

/* A job's pinned store entries, both sides'. */
struct wb_pins {
	struct wb_store_entry *e[2 * WB_MAX_REFS];
	size_t n;
};

/* Fills pj->policy (and pj->ipolicy), pins the refs and sets their
 * descriptors. 0, or -EINVAL with the invalid job's answer in msg and
 * nothing pinned. */
int wb_admit_job(const struct wb_admit *a, struct wb_pool_job *pj, struct wb_pins *pins, char *msg, size_t len);

/* Unpins what wb_admit_job pinned. */
void wb_admit_release(const struct wb_admit *a, struct wb_pins *pins);

/* copy_out entries with keep, of both sides, into the store: the result
 * names them by ref and size without the bytes, or says why not. */
void wb_admit_keep(const struct wb_admit *a, const struct wb_job *job, struct wb_result *res);

/* The answer to a job wb_pool_submit refused with rc (-EAGAIN, -EXDEV,
 * -ESHUTDOWN), into msg; the reason for the stats. */
enum wb_reject wb_admit_refusal(const struct wb_admit *a, int rc, char *msg, size_t len);

#endif
