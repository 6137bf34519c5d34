/* wire.c: the job spec memfd. A job's files may be megabytes, too big for one
 * socket message, so the spec travels as a sealed memfd the job init maps. */
#include "proto/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SPEC_MAGIC 0x57424a31u /* "WBJ1" */

static const char *const stage_names[WB_STAGE_COUNT] = {
	[WB_STAGE_NONE] = "none",
	[WB_STAGE_ZYGOTE_SYNC] = "zygote start",
	[WB_STAGE_ROOTFS] = "root filesystem",
	[WB_STAGE_HOSTNAME] = "hostname",
	[WB_STAGE_SPARE] = "spare job init",
	[WB_STAGE_JOB_MOUNTS] = "job mounts",
	[WB_STAGE_JOB_DECODE] = "job decode",
	[WB_STAGE_FILES] = "job files",
	[WB_STAGE_FORK] = "fork program",
	[WB_STAGE_COPY_OUT] = "copy_out",
	[WB_STAGE_OOM_SCORE] = "oom_score_adj",
	[WB_STAGE_FDS] = "file descriptors",
	[WB_STAGE_CHDIR] = "chdir",
	[WB_STAGE_RLIMIT] = "rlimits",
	[WB_STAGE_CREDS] = "uid/gid",
	[WB_STAGE_CAPS] = "capabilities",
	[WB_STAGE_SECCOMP] = "seccomp",
	[WB_STAGE_EXECVE] = "execve",
	[WB_STAGE_NETWORK] = "network",
	[WB_STAGE_ZYGOTE_EXEC] = "zygote exec",
};

const char *wb_stage_name(enum wb_stage stage)
{
	if ((int)stage < 0 || stage >= WB_STAGE_COUNT)
		return "unknown";
	return stage_names[stage];
}

struct enc {
	unsigned char *buf;
	size_t len;
	size_t cap;
	int err;
};

/* Blobs are padded to 8 bytes so the decoder can point into the mapping
 * (the BPF program needs 4-byte alignment). */
static void put(struct enc *e, const void *data, size_t len)
{
	size_t padded = (len + 7) & ~(size_t)7;

	if (e->err)
		return;
	if (e->len + padded > e->cap) {
		size_t cap = e->cap ? e->cap : 4096;
		unsigned char *nb;

		while (cap < e->len + padded)
			cap *= 2;
		nb = realloc(e->buf, cap);
		if (!nb) {
			e->err = -ENOMEM;
			return;
		}
		e->buf = nb;
		e->cap = cap;
	}
	if (data && len)
		memcpy(e->buf + e->len, data, len);
	else
		memset(e->buf + e->len, 0, len);
	memset(e->buf + e->len + len, 0, padded - len);
	e->len += padded;
}

static void put_u64(struct enc *e, uint64_t v)
{
	put(e, &v, sizeof(v));
}

/* A blob: length, then bytes and a NUL so strings can be used in place. */
static void put_blob(struct enc *e, const void *data, size_t len)
{
	put_u64(e, len);
	if (e->err)
		return;
	{
		size_t start = e->len;

		put(e, NULL, len + 1);
		if (!e->err && len)
			memcpy(e->buf + start, data, len);
	}
}

static void put_str(struct enc *e, const char *s)
{
	put_blob(e, s, strlen(s));
}

int wb_wire_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *buf = data;

	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int wb_wire_encode(const struct wb_job *job, const struct wb_policy *policy, size_t *len)
{
	struct enc e = {0};
	uint64_t refs = 0;
	int fd, rc;

	put_u64(&e, SPEC_MAGIC);
	put_u64(&e, job->argc);
	for (size_t i = 0; i < job->argc; i++)
		put_str(&e, job->argv[i]);
	put_u64(&e, job->envc);
	for (size_t i = 0; i < job->envc; i++)
		put_str(&e, job->env[i]);
	put_str(&e, job->cwd);
	put_u64(&e, job->nfiles);
	for (size_t i = 0; i < job->nfiles; i++) {
		put_str(&e, job->files[i].path);
		put_u64(&e, job->files[i].mode);
		/* 0: the bytes follow; r + 1: the job's r-th descriptor by ref. */
		put_u64(&e, job->files[i].ref ? ++refs : 0);
		put_blob(&e, job->files[i].data, job->files[i].len);
	}
	put_u64(&e, job->ncopy_out);
	for (size_t i = 0; i < job->ncopy_out; i++)
		put_str(&e, job->copy_out[i]);
	put_blob(&e, policy->bpf, policy->bpf_len * sizeof(struct sock_filter));
	if (e.err) {
		free(e.buf);
		return e.err;
	}
	fd = memfd_create("wb-job", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = wb_wire_write_all(fd, e.buf, e.len);
	/* Sealed, the spec cannot change under the job init once sent. */
	if (rc == 0 && fcntl(fd, F_ADD_SEALS, WB_WIRE_SEALS) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		goto out;
	}
	*len = e.len;
	rc = fd;
out:
	free(e.buf);
	return rc;
}

struct dec {
	const unsigned char *p;
	size_t off;
	size_t len;
	int err;
};

static uint64_t get_u64(struct dec *d)
{
	uint64_t v = 0;

	if (d->err || d->len - d->off < 8) {
		d->err = -EBADMSG;
		return 0;
	}
	memcpy(&v, d->p + d->off, 8);
	d->off += 8;
	return v;
}

static const void *get_blob(struct dec *d, size_t *len)
{
	uint64_t n = get_u64(d);
	uint64_t padded;
	const void *at;

	if (d->err || n > d->len)
		goto bad;
	padded = (n + 1 + 7) & ~(uint64_t)7;
	if (d->len - d->off < padded)
		goto bad;
	at = d->p + d->off;
	/* Paths are used as C strings: the terminator the encoder wrote must
	 * be there, or a malformed record reads past its blob. */
	if (((const char *)at)[n] != '\0')
		goto bad;
	d->off += padded;
	if (len)
		*len = n;
	return at;
bad:
	d->err = -EBADMSG;
	return NULL;
}

static void *get_array(struct dec *d, size_t *n, size_t elem)
{
	uint64_t cnt = get_u64(d);

	if (d->err || cnt > d->len / 8) {
		d->err = -EBADMSG;
		return NULL;
	}
	*n = cnt;
	return calloc(cnt + 1, elem);
}

int wb_wire_decode(int fd, size_t len, struct wb_spec *s)
{
	struct dec d;
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	if (len < 8)
		return -EBADMSG;
	/* Populated: the decoder reads every page at once, and a fault per
	 * page costs more than mapping them all in this call. */
	s->map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	s->map_len = len;
	d = (struct dec){.p = s->map, .len = len};
	if (get_u64(&d) != SPEC_MAGIC)
		goto bad;
	s->argv = get_array(&d, &n, sizeof(char *));
	for (size_t i = 0; s->argv && i < n; i++)
		s->argv[i] = (char *)get_blob(&d, NULL);
	if (!s->argv || d.err || n == 0)
		goto bad;
	s->env = get_array(&d, &n, sizeof(char *));
	for (size_t i = 0; s->env && i < n; i++)
		s->env[i] = (char *)get_blob(&d, NULL);
	s->cwd = get_blob(&d, NULL);
	s->files = get_array(&d, &s->nfiles, sizeof(*s->files));
	for (size_t i = 0; s->files && i < s->nfiles; i++) {
		s->files[i].path = get_blob(&d, NULL);
		s->files[i].mode = (unsigned)get_u64(&d) & 0777;
		n = get_u64(&d);
		if (n > WB_MAX_REFS)
			goto bad;
		s->files[i].ref = (int)n - 1;
		s->files[i].data = get_blob(&d, &s->files[i].len);
	}
	s->copy_out = get_array(&d, &s->ncopy_out, sizeof(char *));
	for (size_t i = 0; s->copy_out && i < s->ncopy_out; i++)
		s->copy_out[i] = get_blob(&d, NULL);
	s->bpf = (struct sock_filter *)get_blob(&d, &n);
	s->bpf_len = n / sizeof(struct sock_filter);
	if (d.err || !s->env || !s->files || !s->copy_out || s->bpf_len == 0)
		goto bad;
	return 0;
bad:
	wb_wire_spec_free(s);
	return -EBADMSG;
}

void wb_wire_spec_free(struct wb_spec *s)
{
	if (!s)
		return;
	free(s->argv);
	free(s->env);
	free(s->files);
	free(s->copy_out);
	if (s->map)
		munmap(s->map, s->map_len);
	memset(s, 0, sizeof(*s));
}

int wb_wire_copyout_add(int fd, const char *path, int err, const void *data, size_t len)
{
	struct enc e = {0};
	int rc;

	put_str(&e, path);
	put_u64(&e, (uint64_t)(int64_t)err);
	put_blob(&e, err ? NULL : data, err ? 0 : len);
	rc = e.err ? e.err : wb_wire_write_all(fd, e.buf, e.len);
	free(e.buf);
	return rc;
}

int wb_wire_copyout_next(const void *buf, size_t len, size_t *off, struct wb_copyout_rec *rec)
{
	struct dec d = {.p = buf, .off = *off, .len = len};

	if (*off == len)
		return 0;
	rec->path = get_blob(&d, NULL);
	rec->err = (int)(int64_t)get_u64(&d);
	rec->data = get_blob(&d, &rec->len);
	if (d.err)
		return -EBADMSG;
	*off = d.off;
	return 1;
}
