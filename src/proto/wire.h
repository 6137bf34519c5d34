/* wire.h: the named messages between manager, zygote and job init, and the
 * encoding of a job spec into the memfd that carries it into the sandbox. */
#ifndef WB_WIRE_H
#define WB_WIRE_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#include "core/job.h"
#include "policy/policy.h"

enum wb_msg_type {
	WB_MSG_SPARE_READY = 1,  /* spare job init → manager: mounted, in its cgroup, waiting */
	WB_MSG_ZYGOTE_FAILED,    /* zygote or spare → manager: struct wb_msg_fail */
	WB_MSG_JOB,              /* manager → spare job init: struct wb_msg_job + fds */
	WB_MSG_KILL,             /* manager → job init on the job socket: end the job now */
	WB_MSG_RESULT,           /* job init → manager on the job socket: struct wb_msg_result */
	WB_MSG_MAPS_WRITTEN,     /* manager → zygote: its uid/gid maps are in place */
	WB_MSG_SPARE_CGROUP,     /* manager → zygote: struct wb_msg_cgroup + the next spare's cgroup */
	WB_MSG_TTY_SIZE,         /* warmbox run --tty → job init, on the tty channel: struct wb_msg_tty */
	WB_MSG_TTY_MASTER,       /* job init → warmbox run --tty, on it: struct wb_msg_tty + the pty's master */
	WB_MSG_NET_READY,        /* job init → manager on the job socket: its own network namespace is made */
	WB_MSG_NET_UP,           /* manager → job init on it: pasta has configured that namespace */
};

/* Where a sandbox step failed; names in wb_stage_name(). */
enum wb_stage {
	WB_STAGE_NONE,
	WB_STAGE_ZYGOTE_SYNC,
	WB_STAGE_ROOTFS,
	WB_STAGE_HOSTNAME,
	WB_STAGE_SPARE,
	WB_STAGE_JOB_MOUNTS,
	WB_STAGE_JOB_DECODE,
	WB_STAGE_FILES,
	WB_STAGE_FORK,
	WB_STAGE_COPY_OUT,
	WB_STAGE_OOM_SCORE,
	WB_STAGE_FDS,
	WB_STAGE_CHDIR,
	WB_STAGE_RLIMIT,
	WB_STAGE_CREDS,
	WB_STAGE_CAPS,
	WB_STAGE_SECCOMP,
	WB_STAGE_EXECVE,
	WB_STAGE_NETWORK,
	WB_STAGE_ZYGOTE_EXEC,
	WB_STAGE_COUNT,
};

const char *wb_stage_name(enum wb_stage stage);

enum wb_accounting {
	WB_ACCT_RLIMIT,
	WB_ACCT_CGROUP_V1,
	WB_ACCT_CGROUP_V2,
};

struct wb_msg_fail {
	uint32_t type;
	int32_t stage;
	int32_t err;             /* positive errno */
};

/* The cgroup the zygote's next spare starts in: its fds are the
 * cgroup.procs files the spare writes "0" into. No fds: no cgroup. */
#define WB_SPARE_CGROUP_MAX_FDS 4

struct wb_msg_cgroup {
	uint32_t type;
};

#define WB_JOB_CPU_FD 0x2u       /* a cgroup CPU usage fd follows the std fds */
#define WB_JOB_LEARN 0x4u        /* warmbox learn: answer and count every notification */
/* One side of an interactive job: SIGPIPE ignored, so that writing to a
 * side that has ended gives EPIPE (SPEC "Interactive jobs"). */
#define WB_JOB_INTERACTIVE 0x8u
/* warmbox run --tty: the stdin and stdout descriptors are both the job's
 * end of the tty channel, a SOCK_SEQPACKET socket that holds a
 * WB_MSG_TTY_SIZE already. The job init makes a pty on a devpts of the
 * job's own, sends its master back as WB_MSG_TTY_MASTER, and gives the
 * program the other side as stdin, stdout, stderr and controlling
 * terminal (SPEC "Operator tools"). */
#define WB_JOB_TTY 0x10u
/* network: true: the job init makes a network namespace of its own, says
 * WB_MSG_NET_READY and waits for WB_MSG_NET_UP (or WB_MSG_KILL) while the
 * manager attaches pasta to it (manager/pasta.h). */
#define WB_JOB_NETWORK 0x20u

/* Descriptors of WB_MSG_JOB, in this order; then the CPU usage file
 * (WB_JOB_CPU_FD), then one per file by ref, in the files' order. */
enum { WB_JOBFD_SPEC, WB_JOBFD_SOCK, WB_JOBFD_STDIN, WB_JOBFD_STDOUT, WB_JOBFD_STDERR, WB_JOBFD_FIXED };

struct wb_msg_job {
	uint32_t type;
	uint32_t flags;
	struct wb_limits limits;
	uint32_t accounting;     /* enum wb_accounting */
	uint32_t nproc_extra;    /* our own processes that share the job's uid */
	uint64_t cpu_base_ns;    /* cgroup CPU usage before the job */
	uint64_t sent_ns;        /* CLOCK_MONOTONIC at send, for --trace */
	uint64_t spec_len;
	int32_t cpu;             /* the CPU the program runs on, -1: any */
	uint32_t pad;
};

/* The terminal's window size, in characters (TIOCGWINSZ's first two). */
struct wb_msg_tty {
	uint32_t type;
	uint16_t rows, cols;
};

/* Points on a job's critical path, stamped with CLOCK_MONOTONIC by the job
 * init and the program (--trace shows the stages between them). */
enum wb_trace_point {
	WB_TRACE_RECV,       /* the spare job init received the job */
	WB_TRACE_DECODED,    /* spec mapped, tmpfs sized */
	WB_TRACE_FILES,      /* files written */
	WB_TRACE_CLONED,     /* first step of the program process */
	WB_TRACE_FDS,        /* stdio in place, process group, signals reset */
	WB_TRACE_CREDS,      /* rlimits, uid/gid, capabilities dropped */
	WB_TRACE_EXEC,       /* about to install seccomp, hand the listener over and execve */
	WB_TRACE_REAPED,     /* the program and every other process reaped */
	WB_TRACE_REPORT,     /* copy_out done, mounts dropped: the report goes out */
	WB_TRACE_POINTS,
};

#define WB_RES_TL_CPU 0x1u
#define WB_RES_TL_WALL 0x2u
#define WB_RES_SECCOMP 0x4u
#define WB_RES_EXITED 0x10u      /* the program exited (else it was signalled) */
#define WB_RES_EXEC_FAILED 0x20u /* chdir or execve failed: RE 127 */
#define WB_RES_COPY_OUT 0x40u    /* a copy-out memfd is attached */
#define WB_RES_LEARNED 0x80u     /* a memfd of struct wb_learn is attached instead */

/* syscall_nr of a syscall made through another ABI (32-bit int 0x80, x32),
 * which no rule written for the native one covers. */
#define WB_SYSCALL_FOREIGN_ARCH (-2)

struct wb_msg_result {
	uint32_t type;
	uint32_t flags;
	int32_t stage;           /* sandbox failure, or the failed exec step */
	int32_t err;             /* its errno */
	int32_t exit_code;
	int32_t signal;
	int32_t syscall_nr;      /* first refused syscall, -1 none, or WB_SYSCALL_FOREIGN_ARCH */
	uint32_t pad;
	uint64_t cpu_ns;         /* rusage of every reaped process */
	uint64_t wall_ns;
	uint64_t maxrss_kb;      /* largest single process */
	uint64_t trace[WB_TRACE_POINTS];
};

/* A decoded spec; pointers into the mapped memfd, arrays malloc'd. */
struct wb_spec_file {
	const char *path;
	const unsigned char *data;
	size_t len;
	unsigned mode;
	int ref;                 /* -1, or the bytes are the r-th ref descriptor's */
};

struct wb_spec {
	void *map;
	size_t map_len;
	char **argv;
	char **env;
	const char *cwd;
	struct wb_spec_file *files;
	size_t nfiles;
	const char **copy_out;
	size_t ncopy_out;
	struct sock_filter *bpf;
	size_t bpf_len;
};

/* The seals on a memfd the manager hands to the job side (the spec, the
 * job's stdin): no write, no resize, no further seals. FUTURE_WRITE, not
 * WRITE: F_SEAL_WRITE waits for page references to drop and answers EBUSY
 * when one on another CPU's LRU batch outlives the wait (under load: two
 * of about 30,000 jobs with a 900 KB spec in bench_daemon, one of 20,000
 * seals of a 900 KB memfd beside three busy loops); FUTURE_WRITE refuses
 * every write and writable mapping from then on without that wait, and no
 * writable mapping exists before (the manager only ever write()s). */
#define WB_WIRE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)

/* write(2) until done, through EINTR. 0 or -errno. */
int wb_wire_write_all(int fd, const void *data, size_t len);

/* Writes job + policy into a new sealed memfd. Returns the fd or -errno. */
int wb_wire_encode(const struct wb_job *job, const struct wb_policy *policy, size_t *len);

/* Maps and decodes a spec memfd. 0 or -errno (-EBADMSG on a bad encoding). */
int wb_wire_decode(int fd, size_t len, struct wb_spec *spec);
void wb_wire_spec_free(struct wb_spec *spec);

/* copy_out records in a memfd: path, errno (0 = data follows), data. */
int wb_wire_copyout_add(int fd, const char *path, int err, const void *data, size_t len);

struct wb_copyout_rec {
	const char *path;
	int err;
	const void *data;
	size_t len;
};

/* Reads the record at *off and advances it: 1, 0 at the end, -EBADMSG. */
int wb_wire_copyout_next(const void *buf, size_t len, size_t *off, struct wb_copyout_rec *rec);

#endif
