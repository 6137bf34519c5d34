/* test_wire.c: the job spec memfd (proto/wire.c): what the manager encodes
 * the job init decodes unchanged, the seals hold against every way of
 * writing, and copy-out records round-trip and refuse a blob whose
 * terminator is missing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "core/job.h"
#include "policy/policy.h"
#include "proto/wire.h"

#ifndef WB_TEST_POLICIES
#error "WB_TEST_POLICIES must name the source tree's policies/"
#endif

static const char job_text[] =
	"{\"id\":\"w1\",\"argv\":[\"./a.out\",\"x y\"],\"env\":{\"LANG\":\"C.UTF-8\"},"
	"\"files\":[{\"path\":\"a.out\",\"content\":\"#!/bin/sh\\n\",\"mode\":493},"
	"{\"path\":\"empty\",\"content\":\"\"}],\"copy_out\":[\"out.txt\"]}";

static void test_spec(void)
{
	struct wb_job job;
	struct wb_policy pol;
	struct wb_spec spec;
	char err[256];
	size_t len = 0;
	int fd, seals;
	void *map;

	CHECK(wb_job_parse(job_text, strlen(job_text), &job, err, sizeof err) == 0);
	CHECKF(wb_policy_load(WB_TEST_POLICIES, "default", &pol, err, sizeof err) == 0, "%s", err);
	fd = wb_wire_encode(&job, &pol, &len);
	CHECKF(fd >= 0, "encode: %d", fd);
	if (fd < 0)
		return;

	/* The seals: no write, no resize, no writable shared mapping, no more
	 * seals to lift them. */
	seals = fcntl(fd, F_GET_SEALS);
	CHECK(seals == WB_WIRE_SEALS);
	CHECK(write(fd, "x", 1) < 0 && errno == EPERM);
	CHECK(pwrite(fd, "x", 1, 0) < 0 && errno == EPERM);
	CHECK(ftruncate(fd, 0) < 0 && errno == EPERM);
	CHECK(ftruncate(fd, (off_t)len + 4096) < 0 && errno == EPERM);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(map == MAP_FAILED && errno == EPERM);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(map != MAP_FAILED);
	if (map != MAP_FAILED) {
		/* A read-only shared mapping cannot be made writable later. */
		CHECK(mprotect(map, len, PROT_READ | PROT_WRITE) < 0);
		munmap(map, len);
	}
	CHECK(fcntl(fd, F_ADD_SEALS, 0) < 0 && errno == EPERM);

	/* What the job init reads back. */
	CHECK(wb_wire_decode(fd, len, &spec) == 0);
	CHECK(spec.argv && strcmp(spec.argv[0], "./a.out") == 0 && strcmp(spec.argv[1], "x y") == 0 &&
	      spec.argv[2] == NULL);
	CHECK(spec.env && strcmp(spec.env[0], "LANG=C.UTF-8") == 0);
	CHECK(spec.cwd && strcmp(spec.cwd, "/box") == 0);
	CHECK(spec.nfiles == 2 && strcmp(spec.files[0].path, "a.out") == 0 && spec.files[0].mode == 0755 &&
	      spec.files[0].len == 10 && memcmp(spec.files[0].data, "#!/bin/sh\n", 10) == 0);
	CHECK(spec.files[1].len == 0);
	CHECK(spec.ncopy_out == 1 && strcmp(spec.copy_out[0], "out.txt") == 0);
	CHECK(spec.bpf_len == pol.bpf_len && memcmp(spec.bpf, pol.bpf, pol.bpf_len * sizeof(*pol.bpf)) == 0);
	wb_wire_spec_free(&spec);
	/* A truncated spec is refused, not read past its end. */
	CHECK(wb_wire_decode(fd, len - 8, &spec) == -EBADMSG);
	close(fd);
	wb_policy_free(&pol);
	wb_job_free(&job);
}

static void test_copyout(void)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	struct wb_copyout_rec rec;
	size_t off = 0;
	char buf[256];
	ssize_t n;

	CHECK(fd >= 0);
	CHECK(wb_wire_copyout_add(fd, "out.txt", 0, "42\n", 3) == 0);
	CHECK(wb_wire_copyout_add(fd, "link", ELOOP, NULL, 0) == 0);
	n = pread(fd, buf, sizeof buf, 0);
	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK(wb_wire_copyout_next(buf, (size_t)n, &off, &rec) == 1 && strcmp(rec.path, "out.txt") == 0 &&
	      rec.err == 0 && rec.len == 3 && memcmp(rec.data, "42\n", 3) == 0);
	CHECK(wb_wire_copyout_next(buf, (size_t)n, &off, &rec) == 1 && strcmp(rec.path, "link") == 0 &&
	      rec.err == ELOOP && rec.len == 0);
	CHECK(wb_wire_copyout_next(buf, (size_t)n, &off, &rec) == 0 && off == (size_t)n);
	/* The path's terminator overwritten: refused. "out.txt" is 7 bytes
	 * after its 8-byte length. */
	buf[8 + 7] = 'X';
	off = 0;
	CHECK(wb_wire_copyout_next(buf, (size_t)n, &off, &rec) == -EBADMSG && off == 0);
	close(fd);
}

int main(void)
{
	test_spec();
	test_copyout();
	return check_report("test_wire");
}
