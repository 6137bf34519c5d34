/* job.h: the job request of SPEC.md "Job", parsed from JSON and validated.
 * Owns field syntax, defaults and bounds; does no I/O and never exits. */
#ifndef WB_JOB_H
#define WB_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_ERR_LEN 256

/* A numeric macro as a string literal, for messages and mount options
 * that name a bound: WB_STR(WB_MAX_PATH) is "4096". */
#define WB_STR_(x) #x
#define WB_STR(x) WB_STR_(x)

/* Defaults, documented in README.md "Job". */
#define WB_DEFAULT_CPU_MS 1000
#define WB_DEFAULT_WALL_MS 3000
#define WB_DEFAULT_MEMORY_KB 262144
#define WB_DEFAULT_PROCS 1
#define WB_DEFAULT_OUTPUT_KB 64
#define WB_DEFAULT_FILE_SIZE_KB 1024
#define WB_DEFAULT_STACK_KB 65536

/* Upper bounds: anything above is an invalid job, not a silent clamp. */
#define WB_MAX_TIME_MS (24ULL * 3600 * 1000)
#define WB_MAX_MEMORY_KB (64ULL * 1024 * 1024)
#define WB_MAX_PROCS 4096
#define WB_MAX_OUTPUT_KB (1024ULL * 1024)
#define WB_MAX_FILE_SIZE_KB (64ULL * 1024 * 1024)
#define WB_MAX_ARGS 4096
#define WB_MAX_FILES 4096
/* Files by ref travel as descriptors, one each, in one message. */
#define WB_MAX_REFS 32
/* A ref: "sha256:" and 64 lowercase hex digits (SPEC "File store"). */
#define WB_REF_LEN 71
#define WB_MAX_PATH 4096

struct wb_file {
	char *path;          /* relative to /box, validated */
	unsigned char *data;
	size_t len;
	unsigned mode;       /* permission bits only, <= 0777 */
	char *ref;           /* by ref (the daemon's store): no data */
	int ref_fd;          /* the store's sealed memfd, set by the daemon */
};

struct wb_limits {
	uint64_t cpu_ms;
	uint64_t wall_ms;
	uint64_t memory_kb;
	uint64_t procs;
	uint64_t output_kb;
	uint64_t file_size_kb;
	uint64_t stack_kb;
};

struct wb_job {
	char *id;            /* NULL when the request had none */
	char **argv;         /* NULL-terminated, argc >= 1 */
	size_t argc;
	char **env;          /* "NAME=VALUE", NULL-terminated */
	size_t envc;
	char *cwd;
	struct wb_file *files;
	size_t nfiles;
	unsigned char *stdin_data;
	size_t stdin_len;
	struct wb_limits limits;
	char *policy;
	bool network;
	char **copy_out;     /* NULL-terminated; checked inside the job, not here */
	size_t ncopy_out;
	bool *copy_keep;     /* per copy_out: into the daemon's store; may be NULL */
	/* SPEC "Interactive jobs": the second program, wired crosswise to this
	 * one; no id, stdin, network or interactor of its own. NULL: none. */
	struct wb_job *interactor;
};

/* Parses one job from JSON text. On error returns -EINVAL and writes a
 * one-line message naming the bad field into err; *job is left empty. */
int wb_job_parse(const char *text, size_t len, struct wb_job *job, char *err, size_t errlen);

/* The checks wb_job_parse makes on the raw text before parsing it, for
 * other requests: UTF-8, no NUL or raw control character in a string, no
 * "\u0000" (which cJSON's NUL-terminated strings would cut short). 0, or
 * -EINVAL with the message in err. */
int wb_job_check_text(const char *text, size_t len, char *err, size_t errlen);

/* The request's "id" when text is a JSON object with a string id, else
 * NULL (malloc'd): an invalid job's answer still names the job. */
char *wb_job_peek_id(const char *text, size_t len);

/* Fills a job with the defaults of every optional field (no argv). */
int wb_job_init(struct wb_job *job);

/* Checks a job assembled by other means (the CLI) against the same rules. */
int wb_job_validate(const struct wb_job *job, char *err, size_t errlen);

/* Path rules shared with the CLI: relative, no empty, "." or ".." part. */
bool wb_job_path_ok(const char *path);

/* Appends to a NULL-terminated string vector; 0 or -ENOMEM. */
int wb_strv_push(char ***v, size_t *n, const char *s);

void wb_job_free(struct wb_job *job);

#endif
