/* fuzz_wire.c: libFuzzer target for the two wire decoders: the copy-out
 * records the manager reads back from a job init (wb_wire_copyout_next)
 * and the job spec the job init maps (wb_wire_decode). Every record must
 * lie inside the buffer with its path terminated there, and a decoder must
 * refuse rather than read past what it was given. */
#include "proto/wire.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void copyout_records(const uint8_t *data, size_t size)
{
	/* An exact-size copy: ASan catches a read past its end. */
	uint8_t *buf = malloc(size ? size : 1);
	struct wb_copyout_rec rec;
	size_t off = 0, before;
	int rc;

	if (!buf)
		return;
	memcpy(buf, data, size);
	for (;;) {
		before = off;
		rc = wb_wire_copyout_next(buf, size, &off, &rec);
		if (rc <= 0)
			break;
		if (off <= before || off > size)
			abort();
		if ((const uint8_t *)rec.path < buf || (const uint8_t *)rec.path >= buf + size ||
		    !memchr(rec.path, '\0', size - (size_t)((const uint8_t *)rec.path - buf)))
			abort();
		if (!rec.data || (const uint8_t *)rec.data < buf || rec.len > size ||
		    (size_t)((const uint8_t *)rec.data - buf) + rec.len > size)
			abort();
	}
	if (rc == 0 && off != size)
		abort();
	if (rc < 0 && rc != -EBADMSG)
		abort();
	free(buf);
}

static void spec(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-spec", MFD_CLOEXEC);
	struct wb_spec s;

	if (fd < 0)
		return;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	if (wb_wire_decode(fd, size, &s) == 0) {
		/* What the job init then uses: all of it must be readable. */
		for (size_t i = 0; s.argv[i]; i++)
			(void)strlen(s.argv[i]);
		for (size_t i = 0; s.env && s.env[i]; i++)
			(void)strlen(s.env[i]);
		if (s.cwd)
			(void)strlen(s.cwd);
		for (size_t i = 0; i < s.nfiles; i++) {
			(void)strlen(s.files[i].path);
			if (s.files[i].len && !s.files[i].data)
				abort();
		}
		for (size_t i = 0; i < s.ncopy_out; i++)
			(void)strlen(s.copy_out[i]);
	}
	wb_wire_spec_free(&s);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	copyout_records(data, size);
	spec(data, size);
	return 0;
}
