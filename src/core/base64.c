/* base64.c: RFC 4648 base64 (standard alphabet, '=' padding). */
#include "core/base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t wb_base64_encode_into(char *dst, const unsigned char *data, size_t len)
{
	char *p = dst;
	size_t i;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
		*p++ = alphabet[v >> 18];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = alphabet[(v >> 6) & 63];
		*p++ = alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)data[i] << 16;
		*p++ = alphabet[v >> 18];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = '=';
		*p++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
		*p++ = alphabet[v >> 18];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = alphabet[(v >> 6) & 63];
		*p++ = '=';
	}
	return (size_t)(p - dst);
}

char *wb_base64_encode(const unsigned char *data, size_t len)
{
	size_t groups = len / 3 + (len % 3 != 0);
	char *out;

	if (groups > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(groups * 4 + 1);
	if (!out)
		return NULL;
	out[wb_base64_encode_into(out, data, len)] = '\0';
	return out;
}

/* The sextet of each byte, -1 for bytes outside the alphabet. */
static const signed char sextets[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int sextet(unsigned char c)
{
	return sextets[c];
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Decodes one complete quantum; npad is how many '=' ended it (0..2). */
static int decode_quad(const unsigned char q[4], unsigned char *out, size_t *n)
{
	int s[4], npad = 0, i;

	for (i = 0; i < 4; i++) {
		if (q[i] == '=') {
			s[i] = 0;
			npad++;
			continue;
		}
		/* A data character after '=' means the padding was not at the end. */
		if (npad)
			return -EINVAL;
		s[i] = sextet(q[i]);
		if (s[i] < 0)
			return -EINVAL;
	}
	if (npad > 2)
		return -EINVAL;
	/* Non-zero bits under the padding would make two encodings decode to the
	 * same bytes; rejecting them keeps the decoder strictly one-to-one. */
	if ((npad == 1 && (s[2] & 3)) || (npad == 2 && (s[1] & 15)))
		return -EINVAL;
	out[(*n)++] = (unsigned char)(s[0] << 2 | s[1] >> 4);
	if (npad < 2)
		out[(*n)++] = (unsigned char)((s[1] & 15) << 4 | s[2] >> 2);
	if (npad < 1)
		out[(*n)++] = (unsigned char)((s[2] & 3) << 6 | s[3]);
	return npad;
}

int wb_base64_decode(const char *text, unsigned char **out, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned char q[4], *buf;
	size_t n = 0, len;
	int nq = 0, padded = 0, r;

	*out = NULL;
	*outlen = 0;
	for (len = 0; p[len]; len++)
		;
	/* Whitespace only shrinks the output, so this bound is safe; the extra
	 * byte keeps the result non-NULL for empty input. */
	buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	for (; *p; p++) {
		/* Fast path: a whole quantum of alphabet characters at once,
		 * the common case for unwrapped base64. */
		if (nq == 0 && !padded && len - (size_t)(p - (const unsigned char *)text) >= 4) {
			int a0 = sextets[p[0]], a1 = sextets[p[1]], a2 = sextets[p[2]], a3 = sextets[p[3]];

			if ((a0 | a1 | a2 | a3) >= 0) {
				uint32_t v = (uint32_t)a0 << 18 | (uint32_t)a1 << 12 | (uint32_t)a2 << 6 | (uint32_t)a3;

				buf[n++] = (unsigned char)(v >> 16);
				buf[n++] = (unsigned char)(v >> 8);
				buf[n++] = (unsigned char)v;
				p += 3;
				continue;
			}
		}
		if (is_space(*p))
			continue;
		if (padded)
			goto invalid;
		q[nq++] = *p;
		if (nq < 4)
			continue;
		nq = 0;
		r = decode_quad(q, buf, &n);
		if (r < 0)
			goto invalid;
		padded = r > 0;
	}
	if (nq != 0)
		goto invalid;
	*out = buf;
	*outlen = n;
	return 0;
invalid:
	free(buf);
	return -EINVAL;
}
