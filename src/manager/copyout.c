/* copyout.c: the memfd the job init fills after the run, decoded into the
 * result: copy_out's files (or why each was refused), or what warmbox
 * learn counted. The bytes were written by the job's side: every record is
 * bounds-checked by wb_wire_copyout_next before it is read. */
#include "manager/copyout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/learn.h"
#include "proto/wire.h"

static const char *copyout_reason(int err)
{
	switch (err) {
	case ELOOP:
		return "is or passes through a symlink (not followed)";
	case EXDEV:
		return "escapes /box";
	case EISDIR:
		return "is a directory, not a regular file";
	case EINVAL:
		return "not a regular file";
	case EFBIG:
		return "larger than the copy_out limit";
	default:
		return strerror(err);
	}
}

int wb_copyout_read_learned(int fd, struct wb_result *res)
{
	res->learned = malloc(sizeof(*res->learned));
	if (!res->learned)
		return -ENOMEM;
	if (pread(fd, res->learned, sizeof(*res->learned), 0) != (ssize_t)sizeof(*res->learned)) {
		free(res->learned);
		res->learned = NULL;
		return -EBADMSG;
	}
	return 0;
}

int wb_copyout_read(int fd, size_t max_files, struct wb_result *res)
{
	struct stat st;
	void *map;
	size_t off = 0, n = 0;
	struct wb_copyout_rec rec;
	int rc = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return 0;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	res->files = calloc(max_files ? max_files : 1, sizeof(*res->files));
	if (!res->files) {
		rc = -ENOMEM;
		goto out;
	}
	while (n < max_files && (rc = wb_wire_copyout_next(map, (size_t)st.st_size, &off, &rec)) > 0) {
		struct wb_outfile *f = &res->files[n++];

		f->path = strdup(rec.path);
		if (rec.err)
			f->error = strdup(copyout_reason(rec.err));
		else if (rec.len && (f->data = malloc(rec.len)))
			memcpy(f->data, rec.data, rec.len);
		f->len = rec.err ? 0 : rec.len;
		if (!f->path || (rec.err && !f->error) || (!rec.err && rec.len && !f->data))
			rc = -ENOMEM;
		res->nfiles = n;
		if (rc < 0)
			break;
	}
out:
	munmap(map, (size_t)st.st_size);
	return rc < 0 ? rc : 0;
}
