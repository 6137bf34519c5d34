/* hostport.h: the HOST:PORT syntax every address option takes (--listen,
 * --metrics, --connect, --redis): split only; resolving is the caller's. */
#ifndef WB_HOSTPORT_H
#define WB_HOSTPORT_H

#include <stddef.h>

/* "HOST:PORT", "[IPv6]:PORT" or "PORT" alone (host 127.0.0.1): the host,
 * brackets removed, into host; *port points at the port's text in spec.
 * 0, or -EINVAL for an empty host or one that does not fit. */
int wb_hostport_split(const char *spec, char *host, size_t hostlen, const char **port);

#endif
