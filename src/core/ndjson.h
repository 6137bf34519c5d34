/* ndjson.h: newline-delimited JSON framing: where the next line ends.
 * Pure: takes bytes, does no I/O (picohttpparser's convention). */
#ifndef WB_NDJSON_H
#define WB_NDJSON_H

#include <stddef.h>
#include <sys/types.h>

#define WB_NDJSON_NEED_MORE (-2)
#define WB_NDJSON_TOO_LONG (-1)

/* Looks for the end of the first line in buf[0..len), whose first `from`
 * bytes are known to hold no '\n' (what an earlier call that needed more
 * saw: a long line arriving in many reads is then scanned once, not once per
 * read). Returns the bytes the line takes including its '\n' (*line_len:
 * without it, and without a '\r' before it), WB_NDJSON_NEED_MORE when there
 * is no '\n' yet, or WB_NDJSON_TOO_LONG when the line already passes max
 * bytes. */
ssize_t wb_ndjson_next(const char *buf, size_t len, size_t from, size_t max, size_t *line_len);

#endif
