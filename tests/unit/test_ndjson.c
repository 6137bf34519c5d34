/* test_ndjson.c: line framing, including a line that ends exactly at a
 * guard page so that any read past the buffer crashes. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "core/ndjson.h"

static void test_basic(void)
{
	size_t ll = 99;

	CHECK(wb_ndjson_next("abc\n", 4, 0, 100, &ll) == 4 && ll == 3);
	CHECK(wb_ndjson_next("abc\r\nx", 6, 0, 100, &ll) == 5 && ll == 3);
	CHECK(wb_ndjson_next("\n", 1, 0, 100, &ll) == 1 && ll == 0);
	CHECK(wb_ndjson_next("abc", 3, 0, 100, &ll) == WB_NDJSON_NEED_MORE);
	CHECK(wb_ndjson_next("", 0, 0, 100, &ll) == WB_NDJSON_NEED_MORE);
	/* A line of exactly max bytes is fine; one byte more is not, with
	 * or without its newline seen yet. */
	CHECK(wb_ndjson_next("abcd\n", 5, 0, 4, &ll) == 5 && ll == 4);
	CHECK(wb_ndjson_next("abcde\n", 6, 0, 4, &ll) == WB_NDJSON_TOO_LONG);
	CHECK(wb_ndjson_next("abcde", 5, 0, 4, &ll) == WB_NDJSON_TOO_LONG);
	CHECK(wb_ndjson_next("abcd", 4, 0, 4, &ll) == WB_NDJSON_NEED_MORE);
	/* Bytes already known to hold no newline are not scanned again; the
	 * line still starts at buf. */
	CHECK(wb_ndjson_next("abcdef\n", 7, 3, 100, &ll) == 7 && ll == 6);
	CHECK(wb_ndjson_next("abcdef", 6, 6, 100, &ll) == WB_NDJSON_NEED_MORE);
	CHECK(wb_ndjson_next("abcdef", 6, 6, 4, &ll) == WB_NDJSON_TOO_LONG);
	/* Two lines: only the first is taken. */
	CHECK(wb_ndjson_next("a\nbb\n", 5, 0, 100, &ll) == 2 && ll == 1);
}

static void test_guard_page(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t ll;

	CHECK(map != MAP_FAILED);
	if (map == MAP_FAILED)
		return;
	CHECK(mprotect(map + page, (size_t)page, PROT_NONE) == 0);
	memcpy(map + page - 6, "{\"a\":1", 6);
	/* No newline up to the guard: must stop at len, not search on. */
	CHECK(wb_ndjson_next(map + page - 6, 6, 0, 1 << 20, &ll) == WB_NDJSON_NEED_MORE);
	map[page - 1] = '\n';
	CHECK(wb_ndjson_next(map + page - 6, 6, 0, 1 << 20, &ll) == 6 && ll == 5);
	munmap(map, (size_t)page * 2);
}

int main(void)
{
	test_basic();
	test_guard_page();
	return check_report("test_ndjson");
}
