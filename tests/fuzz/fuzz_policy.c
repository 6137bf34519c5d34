/* fuzz_policy.c: libFuzzer target for wb_policy_parse, which reads the
 * operator's policy files and compiles them with libseccomp. A parsed
 * policy has a filter; a refused one is left empty with a one-line message
 * that fits the buffer. */
#include "policy/policy.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wb_policy zero;
	char err[256];
	size_t errlen = size % 5 == 0 ? 1 + size % 11 : sizeof err;
	struct wb_policy p;
	int r;

	memset(err, 'x', sizeof err);
	r = wb_policy_parse("fuzz", (const char *)data, size, &p, err, errlen);
	if (r == 0) {
		if (!p.bpf || p.bpf_len == 0 || !p.binds || !p.description)
			abort();
		wb_policy_free(&p);
		return 0;
	}
	if (memcmp(&p, &zero, sizeof p) != 0)
		abort();
	if (strnlen(err, errlen) >= errlen || strchr(err, '\n'))
		abort();
	return 0;
}
