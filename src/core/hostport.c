/* hostport.c: HOST:PORT split at its last colon, so an IPv6 address
 * stands in brackets. */
#include "core/hostport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int wb_hostport_split(const char *spec, char *host, size_t hostlen, const char **port)
{
	const char *colon = strrchr(spec, ':');
	size_t hlen;

	if (!colon) {
		*port = spec;
		return snprintf(host, hostlen, "127.0.0.1") < (int)hostlen ? 0 : -EINVAL;
	}
	hlen = (size_t)(colon - spec);
	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hostlen)
		return -EINVAL;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	*port = colon + 1;
	return 0;
}
