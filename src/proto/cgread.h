/* cgread.h: reading a cgroup file through a descriptor already open, without
 * allocating: the manager's accounting and the job init's CPU watch share it. */
#ifndef WB_CGREAD_H
#define WB_CGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

/* The file from offset 0, NUL-ended; returns its length or -errno. */
int wb_cgread(int fd, char *buf, size_t len);

/* The value of the "KEY VALUE" line of key (memory.events, cpu.stat, ...);
 * 0, -ENOENT when there is none, or -errno. */
int wb_cgread_key(int fd, const char *key, uint64_t *v);

/* CPU time used, in ns: cpuacct.usage on v1, cpu.stat's usage_usec on v2. */
int wb_cgread_cpu(enum wb_accounting mode, int fd, uint64_t *ns);

#endif
