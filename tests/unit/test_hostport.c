/* test_hostport.c: the HOST:PORT syntax of --listen, --metrics, --connect
 * and --redis: host and port split, brackets off an IPv6 host, the
 * default host, and what is refused. */
#include "core/hostport.h"
#include "check.h"

#include <string.h>

static void ok(int line, const char *spec, const char *host, const char *port)
{
	char h[64];
	const char *p = NULL;
	int rc = wb_hostport_split(spec, h, sizeof(h), &p);

	CHECKF(rc == 0 && strcmp(h, host) == 0 && p && strcmp(p, port) == 0, "line %d: %s: rc %d, host %s, port %s",
	       line, spec, rc, rc == 0 ? h : "-", p ? p : "-");
}

static void bad(int line, const char *spec, size_t hostlen)
{
	char h[64];
	const char *p;

	CHECKF(wb_hostport_split(spec, h, hostlen, &p) < 0, "line %d: %s accepted", line, spec);
}

int main(void)
{
	ok(__LINE__, "127.0.0.1:7070", "127.0.0.1", "7070");
	ok(__LINE__, "7070", "127.0.0.1", "7070");
	ok(__LINE__, "[::1]:9464", "::1", "9464");
	ok(__LINE__, "redis.example:6379", "redis.example", "6379");
	ok(__LINE__, "host:", "host", "");
	bad(__LINE__, ":6379", 64);
	bad(__LINE__, "[]:6379", 64);
	bad(__LINE__, "averylonghostname:1", 8);
	return check_report("test_hostport");
}
