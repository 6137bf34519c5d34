/* test_args.c: the option values every subcommand parses (cli/args.c):
 * numbers and sizes, with the signs, blanks, suffixes and overflows a
 * careless or hostile command line may hold. */
#include <stdint.h>

#include "check.h"
#include "cli/cli.h"

static void test_u64(void)
{
	uint64_t v = 7;

	CHECK(wb_cli_parse_u64("0", &v) == 0 && v == 0);
	CHECK(wb_cli_parse_u64("1500", &v) == 0 && v == 1500);
	CHECK(wb_cli_parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX);
	v = 7;
	CHECK(wb_cli_parse_u64("18446744073709551616", &v) < 0 && v == 7);
	CHECK(wb_cli_parse_u64("", &v) < 0);
	CHECK(wb_cli_parse_u64("-1", &v) < 0);
	CHECK(wb_cli_parse_u64("+1", &v) < 0);
	CHECK(wb_cli_parse_u64(" 1", &v) < 0);
	CHECK(wb_cli_parse_u64("1 ", &v) < 0);
	CHECK(wb_cli_parse_u64("1K", &v) < 0);
	CHECK(wb_cli_parse_u64("0x10", &v) < 0);
	CHECK(v == 7);
}

static void test_size(void)
{
	uint64_t b = 7;

	CHECK(wb_cli_parse_size("4096", 1, &b) == 0 && b == 4096);
	CHECK(wb_cli_parse_size("4", 1024, &b) == 0 && b == 4096);
	CHECK(wb_cli_parse_size("4K", 1, &b) == 0 && b == 4096);
	CHECK(wb_cli_parse_size("4k", 1, &b) == 0 && b == 4096);
	CHECK(wb_cli_parse_size("3M", 1, &b) == 0 && b == 3ull << 20);
	CHECK(wb_cli_parse_size("2g", 1024, &b) == 0 && b == 2ull << 30);
	CHECK(wb_cli_parse_size("0", 1024, &b) == 0 && b == 0);
	b = 7;
	CHECK(wb_cli_parse_size("4T", 1, &b) < 0);
	CHECK(wb_cli_parse_size("4KB", 1, &b) < 0);
	CHECK(wb_cli_parse_size("K", 1, &b) < 0);
	CHECK(wb_cli_parse_size("", 1, &b) < 0);
	CHECK(wb_cli_parse_size("-1M", 1, &b) < 0);
	CHECK(wb_cli_parse_size("1.5M", 1, &b) < 0);
	/* 2^34 G is 2^64 bytes: one past what fits. */
	CHECK(wb_cli_parse_size("17179869183G", 1, &b) == 0 && b == 17179869183ull << 30);
	b = 7;
	CHECK(wb_cli_parse_size("17179869184G", 1, &b) < 0);
	CHECK(wb_cli_parse_size("18446744073709551615", 1024, &b) < 0);
	CHECK(b == 7);
}

static void test_size_kb(void)
{
	uint64_t kb = 7;

	CHECK(wb_cli_parse_size_kb("512", &kb) == 0 && kb == 512);
	CHECK(wb_cli_parse_size_kb("512K", &kb) == 0 && kb == 512);
	CHECK(wb_cli_parse_size_kb("64M", &kb) == 0 && kb == 65536);
	CHECK(wb_cli_parse_size_kb("1G", &kb) == 0 && kb == 1048576);
	kb = 7;
	CHECK(wb_cli_parse_size_kb("1 M", &kb) < 0 && kb == 7);
}

int main(void)
{
	test_u64();
	test_size();
	test_size_kb();
	return check_report("test_args");
}
