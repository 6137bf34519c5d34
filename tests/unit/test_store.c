/* test_store.c: the daemon's file store (daemon/store.c): refs are SHA-256
 * of the bytes, entries are sealed, eviction is least recently used and
 * spares what jobs pin, drop waits for the pins, the figures add up. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "daemon/store.h"
#include "check.h"

static bool same_bytes(struct wb_store_entry *e, const void *data, size_t len)
{
	char buf[256];

	if (!e || wb_store_entry_size(e) != len || len > sizeof(buf))
		return false;
	return pread(wb_store_entry_fd(e), buf, sizeof(buf), 0) == (ssize_t)len && memcmp(buf, data, len) == 0;
}

static void known_digests(void)
{
	struct wb_store *s;
	char ref[WB_REF_LEN + 1], again[WB_REF_LEN + 1];
	const unsigned char bin[] = {0, 1, 2, 255, 0, 10, 13};

	CHECK(wb_store_new(1 << 20, &s) == 0);
	CHECK(wb_store_put(s, "abc", 3, ref) == 0);
	CHECK(strcmp(ref, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	CHECK(wb_store_put(s, "", 0, ref) == 0);
	CHECK(strcmp(ref, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
	CHECK(same_bytes(wb_store_find(s, ref), "", 0));
	CHECK(wb_store_put(s, bin, sizeof(bin), ref) == 0);
	CHECK(wb_store_put(s, bin, sizeof(bin), again) == 0);
	CHECK(strcmp(ref, again) == 0);
	CHECK(same_bytes(wb_store_find(s, ref), bin, sizeof(bin)));
	struct wb_store_stats st;
	wb_store_stats(s, &st);
	CHECKF(st.entries == 3 && st.bytes == 3 + 0 + sizeof(bin) && st.max_bytes == 1 << 20,
	       "entries %llu bytes %llu", (unsigned long long)st.entries, (unsigned long long)st.bytes);
	CHECKF(st.hits == 2 && st.misses == 0, "hits %llu misses %llu",
	       (unsigned long long)st.hits, (unsigned long long)st.misses);
	wb_store_free(s);
}

static void sealed(void)
{
	struct wb_store *s;
	struct wb_store_entry *e;
	char ref[WB_REF_LEN + 1];
	int fd;

	CHECK(wb_store_new(1 << 20, &s) == 0);
	CHECK(wb_store_put(s, "judge data", 10, ref) == 0);
	e = wb_store_find(s, ref);
	CHECK(e != NULL);
	if (!e) {
		wb_store_free(s);
		return;
	}
	CHECK(pwrite(wb_store_entry_fd(e), "X", 1, 0) < 0 && errno == EPERM);
	CHECK(ftruncate(wb_store_entry_fd(e), 2) < 0 && errno == EPERM);
	/* Another descriptor of the same file, opened for writing, is no
	 * way around the seals. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", wb_store_entry_fd(e));
	fd = open(path, O_WRONLY);
	CHECK(fd < 0 || (write(fd, "X", 1) < 0 && errno == EPERM));
	if (fd >= 0)
		close(fd);
	CHECK(same_bytes(e, "judge data", 10));
	wb_store_free(s);
}

static void misses(void)
{
	struct wb_store *s;
	struct wb_store_stats st;

	CHECK(wb_store_new(1 << 20, &s) == 0);
	CHECK(wb_store_find(s, "sha256:0000000000000000000000000000000000000000000000000000000000000000") == NULL);
	CHECK(wb_store_find(s, "sha256:ABC") == NULL);
	CHECK(wb_store_find(s, "md5:00") == NULL);
	CHECK(wb_store_find(s, "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD") == NULL);
	CHECK(wb_store_drop(s, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == -ENOENT);
	wb_store_stats(s, &st);
	CHECK(st.misses == 4 && st.hits == 0 && st.entries == 0);
	wb_store_free(s);
}

static void eviction(void)
{
	struct wb_store *s;
	struct wb_store_stats st;
	char a[40], b[40], c[40], d[40], big[101];
	char ra[WB_REF_LEN + 1], rb[WB_REF_LEN + 1], rc[WB_REF_LEN + 1], rd[WB_REF_LEN + 1];
	struct wb_store_entry *ea, *ec;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	memset(d, 'd', sizeof(d));
	memset(big, 'x', sizeof(big));
	CHECK(wb_store_new(100, &s) == 0);
	CHECK(wb_store_put(s, big, sizeof(big), rd) == -EFBIG);
	CHECK(wb_store_put(s, a, sizeof(a), ra) == 0);
	CHECK(wb_store_put(s, b, sizeof(b), rb) == 0);
	/* a used last: b is the least recently used, and goes for c. */
	CHECK(wb_store_find(s, ra) != NULL);
	CHECK(wb_store_put(s, c, sizeof(c), rc) == 0);
	CHECK(wb_store_find(s, rb) == NULL);
	ea = wb_store_find(s, ra);
	ec = wb_store_find(s, rc);
	CHECK(same_bytes(ea, a, sizeof(a)) && same_bytes(ec, c, sizeof(c)));
	wb_store_stats(s, &st);
	CHECKF(st.entries == 2 && st.bytes == 80 && st.evictions == 1, "entries %llu bytes %llu evictions %llu",
	       (unsigned long long)st.entries, (unsigned long long)st.bytes, (unsigned long long)st.evictions);
	if (!ea || !ec) {
		wb_store_free(s);
		return;
	}
	/* Both pinned by jobs: d does not fit, and nothing is evicted. */
	wb_store_pin(ea);
	wb_store_pin(ec);
	CHECK(wb_store_put(s, d, sizeof(d), rd) == -ENOSPC);
	CHECK(same_bytes(wb_store_find(s, ra), a, sizeof(a)) && same_bytes(wb_store_find(s, rc), c, sizeof(c)));
	/* c's job ends: c can go for d; a stays, pinned. */
	wb_store_unpin(s, ec);
	CHECK(wb_store_put(s, d, sizeof(d), rd) == 0);
	CHECK(wb_store_find(s, rc) == NULL);
	CHECK(same_bytes(wb_store_find(s, ra), a, sizeof(a)));
	wb_store_unpin(s, ea);
	wb_store_stats(s, &st);
	CHECK(st.entries == 2 && st.bytes == 80 && st.evictions == 2);
	wb_store_free(s);
}

static void drop(void)
{
	struct wb_store *s;
	struct wb_store_stats st;
	struct wb_store_entry *e;
	char ra[WB_REF_LEN + 1], rb[WB_REF_LEN + 1];

	CHECK(wb_store_new(1000, &s) == 0);
	CHECK(wb_store_put(s, "first", 5, ra) == 0);
	CHECK(wb_store_put(s, "second", 6, rb) == 0);
	CHECK(wb_store_drop(s, ra) == 0);
	CHECK(wb_store_find(s, ra) == NULL);
	CHECK(wb_store_drop(s, ra) == -ENOENT);
	wb_store_stats(s, &st);
	CHECK(st.entries == 1 && st.bytes == 6);
	/* A dropped entry a job still needs keeps its bytes for that job. */
	e = wb_store_find(s, rb);
	CHECK(e != NULL);
	if (!e) {
		wb_store_free(s);
		return;
	}
	wb_store_pin(e);
	CHECK(wb_store_drop(s, rb) == 0);
	CHECK(wb_store_find(s, rb) == NULL);
	CHECK(same_bytes(e, "second", 6));
	wb_store_stats(s, &st);
	CHECK(st.entries == 0 && st.bytes == 6);
	wb_store_unpin(s, e);
	wb_store_stats(s, &st);
	CHECK(st.entries == 0 && st.bytes == 0);
	/* Freed with a dropped entry still pinned: nothing leaks (ASan). */
	CHECK(wb_store_put(s, "third", 5, ra) == 0);
	e = wb_store_find(s, ra);
	if (e)
		wb_store_pin(e);
	CHECK(wb_store_drop(s, ra) == 0);
	wb_store_free(s);
}

int main(void)
{
	known_digests();
	sealed();
	misses();
	eviction();
	drop();
	return check_report("test_store");
}
