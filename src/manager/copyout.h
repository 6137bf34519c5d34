/* copyout.h: the copy-out memfd a job init hands back with its report,
 * read into the result (its files, or warmbox learn's counts). */
#ifndef WB_COPYOUT_H
#define WB_COPYOUT_H

#include <stddef.h>

#include "core/result.h"

/* copy_out's records into res->files, at most max_files of them (the
 * job's copy_out list): each a file's bytes or why it was refused.
 * 0, or -errno (-EBADMSG for a malformed record, -ENOMEM); res->nfiles
 * counts what was read either way. */
int wb_copyout_read(int fd, size_t max_files, struct wb_result *res);

/* warmbox learn's counts into res->learned. 0, -ENOMEM or -EBADMSG. */
int wb_copyout_read_learned(int fd, struct wb_result *res);

#endif
