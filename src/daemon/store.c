/* store.c: the content-addressed store. An index of entries by SHA-256
 * (OpenSSL's libcrypto), a least-recently-used list of what is listed, and
 * one sealed memfd per entry: what a job gets is a descriptor nobody can
 * write through, which its job init copies into the job's own /box. */
#include "daemon/store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DIGEST_LEN 32
#define NBUCKETS 1024
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct wb_store_entry {
	unsigned char digest[DIGEST_LEN];
	int fd;
	uint64_t size;
	unsigned pins;
	bool listed;                     /* in the index and the LRU list */
	struct wb_store_entry *chain;    /* the next in its bucket */
	struct wb_store_entry *newer, *older; /* the LRU list, or limbo */
};

/* Entries in a doubly linked list, newest first. */
struct entry_list {
	struct wb_store_entry *newest, *oldest;
};

struct wb_store {
	uint64_t max_bytes;
	uint64_t bytes;                  /* held: listed, and dropped but pinned */
	uint64_t entries;                /* listed */
	uint64_t hits, misses, evictions;
	struct entry_list lru;           /* the listed entries, most recently used first */
	struct entry_list limbo;         /* dropped or evicted, still pinned */
	struct wb_store_entry *bucket[NBUCKETS];
};

int wb_store_new(uint64_t max_bytes, struct wb_store **out)
{
	struct wb_store *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->max_bytes = max_bytes;
	*out = s;
	return 0;
}

static struct wb_store_entry **slot_of(struct wb_store *s, const unsigned char *digest)
{
	return &s->bucket[(digest[0] | digest[1] << 8) % NBUCKETS];
}

static void list_unlink(struct entry_list *l, struct wb_store_entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		l->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		l->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void list_push(struct entry_list *l, struct wb_store_entry *e)
{
	e->older = l->newest;
	e->newer = NULL;
	if (l->newest)
		l->newest->newer = e;
	else
		l->oldest = e;
	l->newest = e;
}

static void release(struct wb_store *s, struct wb_store_entry *e)
{
	s->bytes -= e->size;
	close(e->fd);
	free(e);
}

/* Out of the index and the LRU list; freed now, or kept in limbo until
 * the last job pinning it ends. */
static void unlist(struct wb_store *s, struct wb_store_entry *e)
{
	struct wb_store_entry **p = slot_of(s, e->digest);

	while (*p != e)
		p = &(*p)->chain;
	*p = e->chain;
	list_unlink(&s->lru, e);
	e->listed = false;
	s->entries--;
	if (e->pins)
		list_push(&s->limbo, e);
	else
		release(s, e);
}

static struct wb_store_entry *lookup(struct wb_store *s, const unsigned char *digest)
{
	struct wb_store_entry *e = *slot_of(s, digest);

	while (e && memcmp(e->digest, digest, DIGEST_LEN) != 0)
		e = e->chain;
	return e;
}

static void format_ref(const unsigned char *digest, char *ref)
{
	static const char hex[] = "0123456789abcdef";

	memcpy(ref, "sha256:", 7);
	for (int i = 0; i < DIGEST_LEN; i++) {
		ref[7 + 2 * i] = hex[digest[i] >> 4];
		ref[8 + 2 * i] = hex[digest[i] & 15];
	}
	ref[WB_REF_LEN] = '\0';
}

static int parse_ref(const char *ref, unsigned char *digest)
{
	if (strncmp(ref, "sha256:", 7) != 0 || strlen(ref) != WB_REF_LEN)
		return -EINVAL;
	for (int i = 0; i < 2 * DIGEST_LEN; i++) {
		char c = ref[7 + i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -EINVAL;
		digest[i / 2] = (unsigned char)(i % 2 ? digest[i / 2] | v : v << 4);
	}
	return 0;
}

/* Evicts the least recently used unpinned entries until len more bytes
 * fit. 0 or -ENOSPC (what is left is pinned). */
static int make_room(struct wb_store *s, uint64_t len)
{
	struct wb_store_entry *e = s->lru.oldest, *next;

	while (s->bytes + len > s->max_bytes) {
		while (e && e->pins)
			e = e->newer;
		if (!e)
			return -ENOSPC;
		next = e->newer;
		unlist(s, e);
		s->evictions++;
		e = next;
	}
	return 0;
}

static int sealed_copy(const void *data, size_t len)
{
	int fd = memfd_create("wb-store", MFD_CLOEXEC | MFD_ALLOW_SEALING), rc = 0;
	const char *p = data;

	if (fd < 0)
		return -errno;
	while (len > 0 && rc == 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			p += n, len -= (size_t)n;
	}
	if (rc == 0 && fcntl(fd, F_ADD_SEALS, SEALS) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int wb_store_put(struct wb_store *s, const void *data, size_t len, char *ref)
{
	unsigned char digest[DIGEST_LEN];
	unsigned int dlen = 0;
	struct wb_store_entry *e;
	int fd, rc;

	if (!EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL) || dlen != DIGEST_LEN)
		return -EIO;
	format_ref(digest, ref);
	e = lookup(s, digest);
	if (e) {
		list_unlink(&s->lru, e);
		list_push(&s->lru, e);
		return 0;
	}
	if (len > s->max_bytes)
		return -EFBIG;
	if ((rc = make_room(s, len)) < 0)
		return rc;
	if (!(e = calloc(1, sizeof(*e))))
		return -ENOMEM;
	if ((fd = sealed_copy(data, len)) < 0) {
		free(e);
		return fd;
	}
	memcpy(e->digest, digest, DIGEST_LEN);
	e->fd = fd;
	e->size = len;
	e->listed = true;
	e->chain = *slot_of(s, digest);
	*slot_of(s, digest) = e;
	list_push(&s->lru, e);
	s->entries++;
	s->bytes += len;
	return 0;
}

struct wb_store_entry *wb_store_find(struct wb_store *s, const char *ref)
{
	unsigned char digest[DIGEST_LEN];
	struct wb_store_entry *e = NULL;

	if (parse_ref(ref, digest) == 0)
		e = lookup(s, digest);
	if (!e) {
		s->misses++;
		return NULL;
	}
	s->hits++;
	list_unlink(&s->lru, e);
	list_push(&s->lru, e);
	return e;
}

void wb_store_pin(struct wb_store_entry *e)
{
	e->pins++;
}

void wb_store_unpin(struct wb_store *s, struct wb_store_entry *e)
{
	if (--e->pins > 0 || e->listed)
		return;
	list_unlink(&s->limbo, e);
	release(s, e);
}

int wb_store_entry_fd(const struct wb_store_entry *e)
{
	return e->fd;
}

uint64_t wb_store_entry_size(const struct wb_store_entry *e)
{
	return e->size;
}

int wb_store_drop(struct wb_store *s, const char *ref)
{
	unsigned char digest[DIGEST_LEN];
	struct wb_store_entry *e;

	if (parse_ref(ref, digest) < 0 || !(e = lookup(s, digest)))
		return -ENOENT;
	unlist(s, e);
	return 0;
}

void wb_store_stats(const struct wb_store *s, struct wb_store_stats *st)
{
	*st = (struct wb_store_stats){
		.entries = s->entries, .bytes = s->bytes, .max_bytes = s->max_bytes,
		.hits = s->hits, .misses = s->misses, .evictions = s->evictions,
	};
}

void wb_store_free(struct wb_store *s)
{
	if (!s)
		return;
	while (s->limbo.newest) {
		struct wb_store_entry *e = s->limbo.newest;

		s->limbo.newest = e->older;
		close(e->fd);
		free(e);
	}
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (s->bucket[i]) {
			struct wb_store_entry *e = s->bucket[i];

			s->bucket[i] = e->chain;
			close(e->fd);
			free(e);
		}
	}
	free(s);
}
