/* fuzz_ndjson.c: libFuzzer target for wb_ndjson_next, the daemon's line
 * framing, fed every split of a client's bytes into reads. It checks the
 * promises: a line ends at its '\n' (a '\r' before it dropped), never reads
 * past len, and scanning resumed from an earlier call's NEED_MORE agrees
 * with a scan from the start. */
#include "core/ndjson.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the line limit, the rest is the stream; a copy
	 * of exactly its length, so any read past it is ASan's to catch. */
	size_t max = size ? 1 + data[0] % 64 : 1, len = size ? size - 1 : 0, off = 0;
	char *buf = malloc(len ? len : 1);

	if (!buf)
		return 0;
	memcpy(buf, data + (size ? 1 : 0), len);
	while (off < len) {
		size_t ll = 0, ll2 = 0, half = (len - off) / 2;
		ssize_t n = wb_ndjson_next(buf + off, len - off, 0, max, &ll);
		ssize_t n2 = WB_NDJSON_NEED_MORE;

		/* The same line seen in two reads: the first half, then all. */
		if (wb_ndjson_next(buf + off, half, 0, max, &ll2) == WB_NDJSON_NEED_MORE)
			n2 = wb_ndjson_next(buf + off, len - off, half, max, &ll2);
		else
			n2 = wb_ndjson_next(buf + off, len - off, 0, max, &ll2);
		if (n != n2 || (n > 0 && ll != ll2))
			abort();
		if (n == WB_NDJSON_NEED_MORE) {
			if (memchr(buf + off, '\n', len - off) || len - off > max + 1)
				abort();
			break;
		}
		if (n == WB_NDJSON_TOO_LONG)
			break;
		if (n <= 0 || (size_t)n > len - off || buf[off + (size_t)n - 1] != '\n' ||
		    memchr(buf + off, '\n', (size_t)n - 1) || ll > max ||
		    (ll != (size_t)n - 1 && !(ll == (size_t)n - 2 && buf[off + ll] == '\r')))
			abort();
		off += (size_t)n;
	}
	free(buf);
	return 0;
}
