/* store.h: the daemon's content-addressed file store (SPEC "File store"):
 * bytes held once in sealed memfds, named by their SHA-256, bounded in size,
 * evicted least recently used unless a queued or running job pins them. */
#ifndef WB_STORE_H
#define WB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"

struct wb_store;
struct wb_store_entry;

struct wb_store_stats {
	uint64_t entries, bytes, max_bytes;
	uint64_t hits, misses, evictions;
};

/* An empty store of at most max_bytes. 0 or -ENOMEM. */
int wb_store_new(uint64_t max_bytes, struct wb_store **out);
/* Frees every entry; pinned ones included (the jobs that pinned them are
 * gone by then). */
void wb_store_free(struct wb_store *s);

/* Stores len bytes (or finds them stored) and writes their ref, NUL
 * included, to ref[WB_REF_LEN + 1]. Unpinned entries are evicted,
 * least recently used first, to make room. 0; -EFBIG when the bytes
 * could never fit (over max_bytes); -ENOSPC when they do not fit beside
 * what is pinned; another -errno. */
int wb_store_put(struct wb_store *s, const void *data, size_t len, char *ref);

/* The entry ref names, made the most recently used, or NULL. Counts a hit
 * or a miss. */
struct wb_store_entry *wb_store_find(struct wb_store *s, const char *ref);

/* A job that needs the entry pins it until it ends: it is then never
 * evicted, and a drop only unlists it. */
void wb_store_pin(struct wb_store_entry *e);
void wb_store_unpin(struct wb_store *s, struct wb_store_entry *e);

/* The entry's sealed memfd (no write, grow or shrink is possible through
 * any descriptor of it) and its size. */
int wb_store_entry_fd(const struct wb_store_entry *e);
uint64_t wb_store_entry_size(const struct wb_store_entry *e);

/* Unlists ref; its bytes go at once, or when the last job pinning it ends.
 * 0 or -ENOENT. */
int wb_store_drop(struct wb_store *s, const char *ref);

void wb_store_stats(const struct wb_store *s, struct wb_store_stats *st);

#endif
