/* base64.h: RFC 4648 base64 with padding, strict on decode.
 * Used for file contents, stdin and output that is not UTF-8. */
#ifndef WB_BASE64_H
#define WB_BASE64_H

#include <stddef.h>

/* Returns a malloc'd NUL-terminated string, or NULL on ENOMEM. */
char *wb_base64_encode(const unsigned char *data, size_t len);

/* Writes the encoding of len bytes (4 per started 3, no NUL) at dst, which
 * has room for them; returns how many it wrote. Encoding a long input in
 * pieces of a multiple of 3 bytes gives the same text. */
size_t wb_base64_encode_into(char *dst, const unsigned char *data, size_t len);

/* Decodes into a malloc'd buffer; -EINVAL on bad input, -ENOMEM. */
int wb_base64_decode(const char *text, unsigned char **out, size_t *outlen);

#endif
