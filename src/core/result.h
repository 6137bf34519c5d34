/* result.h: the result of SPEC.md "Result" and its verdict precedence.
 * Owns status names and the byte buffers; render.h writes its JSON. */
#ifndef WB_RESULT_H
#define WB_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"

enum wb_status {
	WB_STATUS_OK,
	WB_STATUS_RE,
	WB_STATUS_SG,
	WB_STATUS_TL,
	WB_STATUS_ML,
	WB_STATUS_OL,
	WB_STATUS_SV,
	WB_STATUS_XX,
};

struct wb_learn;

struct wb_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

struct wb_outfile {
	char *path;
	unsigned char *data;
	size_t len;
	char *error;         /* set instead of data when the file was refused */
	char ref[WB_REF_LEN + 1]; /* kept in the store: no data, len is its size */
};

/* Stages between wire.h's trace points: decode, files, clone, fds, creds,
 * seccomp, run (execve to everything reaped), report. */
#define WB_RESULT_TRACE_STAGES 8

struct wb_result {
	const char *id;      /* borrowed from the job; NULL renders as null */
	enum wb_status status;
	int exit_code;       /* -1: none */
	int signal;          /* 0: none */
	uint64_t cpu_ms;
	uint64_t wall_ms;
	uint64_t memory_kb;
	struct wb_buf out;
	struct wb_buf err;
	bool out_truncated;
	bool err_truncated;
	struct wb_outfile *files;
	size_t nfiles;
	char *syscall;       /* name of the refused syscall for SV */
	struct wb_learn *learned; /* warmbox learn's counts (proto/learn.h), else NULL */
	char *error;
	const char *accounting;
	/* --trace: from the manager's send, and from the job init's receive,
	 * to the moment just before the program's execve. */
	bool has_trace;
	uint64_t trace_send_to_exec_us;
	uint64_t trace_recv_to_exec_us;
	uint64_t trace_send_to_report_us;
	uint64_t trace_stage_us[WB_RESULT_TRACE_STAGES];
	/* An interactive job's other side (SPEC "Interactive jobs"), owned. */
	struct wb_result *interactor;
};

/* Which limits or events were hit; wb_result_verdict applies SPEC's precedence. */
struct wb_verdict_in {
	bool seccomp;        /* a syscall outside the policy */
	bool memory;         /* killed by the memory limit or peak above it */
	bool time;           /* cpu or wall limit */
	bool output;         /* output_kb or file_size_kb */
	int signal;          /* terminating signal of the program, 0 if it exited */
	int exit_code;
};

enum wb_status wb_result_verdict(const struct wb_verdict_in *in);
const char *wb_status_name(enum wb_status s);

/* Frees what the result owns (not id or accounting). NULL is a no-op. */
void wb_result_free(struct wb_result *r);

/* Room for more bytes past len: 0 or -ENOMEM. */
int wb_buf_reserve(struct wb_buf *b, size_t more);
int wb_buf_append(struct wb_buf *b, const void *data, size_t len);
void wb_buf_free(struct wb_buf *b);

#endif
