/* jobfiles.h: files into the job's /box before it runs (files) and out of
 * it after (copy_out), done by the job init inside the job's mounts. */
#ifndef WB_JOBFILES_H
#define WB_JOBFILES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

/* Creates f under boxfd (parents too), owned by the job's uid, with its
 * bytes, or with those of src (a file by ref) when src >= 0. 0 or -errno. */
int wb_jobfiles_write(int boxfd, const struct wb_spec_file *f, int src);

/* Reads each path of /box into a new memfd of wire.h copy-out records: a
 * symlink on any component, a path out of /box, anything but a regular file
 * or one over cap bytes becomes an error record. Returns the memfd, -1 when
 * there is nothing to copy, or -errno. */
int wb_jobfiles_copy_out(int boxfd, const char *const *paths, size_t n, uint64_t cap);

#endif
