/* ndjson.c: line framing for the daemon protocol. */
#include "core/ndjson.h"

#include <string.h>

ssize_t wb_ndjson_next(const char *buf, size_t len, size_t from, size_t max, size_t *line_len)
{
	size_t scan = len < max + 1 ? len : max + 1;
	const char *nl = from < scan ? memchr(buf + from, '\n', scan - from) : NULL;
	size_t n;

	if (!nl)
		return len > max ? WB_NDJSON_TOO_LONG : WB_NDJSON_NEED_MORE;
	n = (size_t)(nl - buf);
	if (n > max)
		return WB_NDJSON_TOO_LONG;
	*line_len = n > 0 && buf[n - 1] == '\r' ? n - 1 : n;
	return (ssize_t)n + 1;
}
