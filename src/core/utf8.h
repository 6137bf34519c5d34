/* utf8.h: well-formed UTF-8 (RFC 3629), for the request text the job parser
 * accepts and the output the result writes as a string. No I/O. */
#ifndef WB_UTF8_H
#define WB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the well-formed sequence at s (n >= 1 bytes available): 1 to 4,
 * or 0 when it is not one (overlong, surrogate, above U+10FFFF, cut). */
size_t wb_utf8_seq(const unsigned char *s, size_t n);

bool wb_utf8_valid(const unsigned char *s, size_t n);

#endif
