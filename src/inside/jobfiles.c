/* jobfiles.c: the job's files, written into a fresh /box before the run and
 * read out of it after, inside the job's own mounts, never through a link. */
#include "inside/jobfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "manager/userns.h"

/* copy_out returns at most this much in all, whatever file_size_kb says. */
#define COPY_OUT_MAX (64u << 20)

/* Paths were validated by the manager (relative, no ".."), and /box is
 * fresh: nothing here can be a planted symlink, O_NOFOLLOW notwithstanding. */
/* All of src from its start into dst: the kernel copies, tmpfs to tmpfs
 * (a store memfd into /box); read and write where it cannot. */
static int copy_all(int src, int dst)
{
	char buf[65536];
	loff_t off = 0;
	ssize_t n;

	while ((n = copy_file_range(src, &off, dst, NULL, 1 << 30, 0)) > 0)
		;
	if (n == 0)
		return 0;
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	while ((n = pread(src, buf, sizeof(buf), off)) > 0) {
		int rc = wb_wire_write_all(dst, buf, (size_t)n);

		if (rc < 0)
			return rc;
		off += n;
	}
	return n < 0 ? -errno : 0;
}

int wb_jobfiles_write(int boxfd, const struct wb_spec_file *f, int src)
{
	char dir[4096];
	int fd, rc;

	for (const char *p = strchr(f->path, '/'); p; p = strchr(p + 1, '/')) {
		size_t len = (size_t)(p - f->path);

		if (len >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, f->path, len);
		dir[len] = '\0';
		if (mkdirat(boxfd, dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (fchownat(boxfd, dir, WB_JOB_UID, WB_JOB_GID, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	fd = openat(boxfd, f->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, f->mode);
	if (fd < 0)
		return -errno;
	rc = src >= 0 ? copy_all(src, fd) : wb_wire_write_all(fd, f->data, f->len);
	if (rc == 0 && (fchown(fd, WB_JOB_UID, WB_JOB_GID) < 0 || fchmod(fd, f->mode) < 0))
		rc = -errno;
	close(fd);
	return rc;
}

/* Opens BOXPATH inside the job's own /box with no symlink followed on any
 * component and no way out of /box; the job's processes are all gone, so
 * nothing can change the tree between the checks and the read. */
static int copy_one(int boxfd, int out, const char *path, uint64_t cap, uint64_t *total)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	struct stat st;
	unsigned char *data = NULL;
	int fd, err = 0, rc;
	ssize_t n = 0;

	fd = (int)syscall(SYS_openat2, boxfd, path, &how, sizeof(how));
	if (fd < 0)
		return wb_wire_copyout_add(out, path, errno, NULL, 0);
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	else if ((uint64_t)st.st_size > cap || *total + (uint64_t)st.st_size > COPY_OUT_MAX)
		err = EFBIG;
	else if (st.st_size > 0 && !(data = malloc((size_t)st.st_size)))
		err = ENOMEM;
	else if (st.st_size > 0 && (n = pread(fd, data, (size_t)st.st_size, 0)) < 0)
		err = errno;
	close(fd);
	if (!err)
		*total += (uint64_t)n;
	rc = wb_wire_copyout_add(out, path, err, data, err ? 0 : (size_t)n);
	free(data);
	return rc;
}

int wb_jobfiles_copy_out(int boxfd, const char *const *paths, size_t n, uint64_t cap)
{
	uint64_t total = 0;
	int out, rc = 0;

	if (n == 0)
		return -1;
	out = memfd_create("wb-out", MFD_CLOEXEC);
	if (out < 0)
		return -errno;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = copy_one(boxfd, out, paths[i], cap, &total);
	if (rc < 0) {
		close(out);
		return rc;
	}
	return out;
}
