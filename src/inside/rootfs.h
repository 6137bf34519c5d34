/* rootfs.h: the zygote's root: an empty tmpfs with read-only binds of the
 * host's system directories, a minimal /etc and /dev, then pivot_root. */
#ifndef WB_ROOTFS_H
#define WB_ROOTFS_H

#include <stddef.h>

/* Runs in the zygote, in its fresh user and mount namespaces, before any job.
 * binds are extra host paths from the policies (read-only, same place).
 * Returns 0 or -errno. */
int wb_rootfs_build(char *const *binds, size_t nbinds);

#endif
