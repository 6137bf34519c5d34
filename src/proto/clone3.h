/* clone3.h: struct clone_args as far as warmbox uses it (the CLONE_INTO_CGROUP
 * version), and the raw call: glibc 2.36 has no clone3 wrapper. */
#ifndef WB_CLONE3_H
#define WB_CLONE3_H

#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct wb_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* Like fork when args has no stack: 0 in the child, the pid in the parent,
 * -1 with errno set on failure. */
static inline pid_t wb_clone3(struct wb_clone_args *args)
{
	return (pid_t)syscall(SYS_clone3, args, sizeof(*args));
}

#endif
