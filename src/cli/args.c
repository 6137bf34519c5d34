/* args.c: the numbers and sizes the subcommands' options take, parsed one
 * way for all of them: decimal, no sign, no overflow, optional K/M/G. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>

/* The leading number: digits only (strtoull would take a sign and leading
 * blanks, which an option value may not have), no overflow. */
static int leading_number(const char *s, unsigned long long *n, char **end)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*n = strtoull(s, end, 10);
	return errno ? -EINVAL : 0;
}

int wb_cli_parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (leading_number(s, &n, &end) < 0 || *end)
		return -EINVAL;
	*v = n;
	return 0;
}

int wb_cli_parse_size(const char *s, uint64_t plain_unit, uint64_t *bytes)
{
	char *end;
	unsigned long long n;
	uint64_t unit = plain_unit;

	if (leading_number(s, &n, &end) < 0)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'K': case 'k': unit = 1ull << 10; end++; break;
	case 'M': case 'm': unit = 1ull << 20; end++; break;
	case 'G': case 'g': unit = 1ull << 30; end++; break;
	default: return -EINVAL;
	}
	if (*end || n > UINT64_MAX / unit)
		return -EINVAL;
	*bytes = n * unit;
	return 0;
}

int wb_cli_parse_size_kb(const char *s, uint64_t *kb)
{
	uint64_t bytes;
	int rc = wb_cli_parse_size(s, 1024, &bytes);

	if (rc < 0)
		return rc;
	*kb = bytes >> 10;
	return 0;
}
