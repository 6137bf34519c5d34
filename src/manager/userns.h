/* userns.h: the uid/gid maps of a zygote's user namespace, written by the
 * manager from outside. The job always runs as WB_JOB_UID inside. */
#ifndef WB_USERNS_H
#define WB_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#define WB_JOB_UID 1000
#define WB_JOB_GID 1000
/* As root, slot k's job runs as host uid/gid WB_HOST_ID_BASE + k: beyond
 * systemd's container range (up to 0x6FFFFFFF), shared with no service. */
#define WB_HOST_ID_BASE 0x70000000u

/* Root: inside 0 is host root (the zygote) and WB_JOB_UID is the slot's own
 * host id. Rootless: WB_JOB_UID is the caller, the only id we may map. */
int wb_userns_write_maps(pid_t pid, bool rootless, unsigned slot);

#endif
